"""The DOCX draft, read back with pandoc's DOCX reader and python-docx."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import docx
import pytest

from paperbuild.load.outline import parse_outline
from tests.conftest import REPO
from tests.render.readers import docx_part, headers, notes_after, pandoc_docx_json, text_of

OUTLINE = parse_outline((REPO / "outline.yaml").read_text(encoding="utf-8"))


def test_file_name_is_slug_and_version(bundled_build):
    assert bundled_build["docx"].name == "child-trafficking-0.1.docx"


def test_eleven_sections_in_outline_order_then_references(bundled_build):
    doc = pandoc_docx_json(bundled_build["docx"])
    expected = [f"{s.id} {s.title}" for s in OUTLINE.sections] + ["References"]
    got = [h.replace("’", "'").replace("‘", "'") for h in headers(doc) if h != "Contents"]
    assert got == expected


def test_subheadings_are_numbered_below_their_section(bundled_build):
    doc = pandoc_docx_json(bundled_build["docx"])
    assert "3.2 Specialist training and child-friendly procedures" in headers(doc, 2)
    assert "8.2 International cooperation" in headers(doc, 2)


def test_running_header_has_title_and_status_after_the_title_page(bundled_build):
    d = docx.Document(str(bundled_build["docx"]))
    section = d.sections[0]
    assert section.different_first_page_header_footer
    header = "\n".join(p.text for p in section.header.paragraphs)
    assert "Child Trafficking for Sexual Purposes" in header
    assert "First draft submitted to the Congress Coordinating Committee" in header
    assert "".join(p.text for p in section.first_page_header.paragraphs).strip() == ""


def test_footer_has_real_page_fields_and_the_version(bundled_build):
    footers = [docx_part(bundled_build["docx"], n) for n in _parts(bundled_build["docx"], "footer")]
    joined = "".join(footers)
    assert " PAGE " in joined and " NUMPAGES " in joined
    d = docx.Document(str(bundled_build["docx"]))
    assert "Version 0.1" in d.sections[0].footer.paragraphs[0].text


def _parts(path, prefix):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist() if n.startswith(f"word/{prefix}")]


def test_title_page_and_properties(bundled_build):
    d = docx.Document(str(bundled_build["docx"]))
    first = [p.text for p in d.paragraphs[:8]]
    assert first[0] == "Child Trafficking for Sexual Purposes"
    assert "First draft submitted to the Congress Coordinating Committee" in first
    assert "Commissioned by ECPAT International" in first
    assert any(t.startswith("Version 0.1 · ") for t in first)
    props = d.core_properties
    assert props.title == "Child Trafficking for Sexual Purposes"
    assert props.author.startswith("Mike Dottridge")
    assert props.version == "0.1"
    assert props.subject == "First draft submitted to the Congress Coordinating Committee"


def test_contents_lists_the_sections_with_page_references(bundled_build):
    d = docx.Document(str(bundled_build["docx"]))
    entries = [
        p.text.rstrip("\t") for p in d.paragraphs if p.style.name.startswith("Contents Entry")
    ]
    assert (
        entries[0]
        == "1\tPatterns of child trafficking for sexual purposes and changes reported since 2001"
    )
    assert "3.1\tNew laws on trafficking" in entries
    assert entries[-1] == "References"
    xml = docx_part(bundled_build["docx"], "word/document.xml")
    # each entry's page is a PAGEREF to the heading's bookmark, over a dot leader; Word fills
    # them on opening (updateFields), LibreOffice as it lays the pages out
    refs = re.findall(r"PAGEREF (\S+) \\h", xml)
    assert len(refs) == len(entries)
    bookmarks = set(re.findall(r'<w:bookmarkStart [^>]*w:name="([^"]+)"', xml))
    assert set(refs) <= bookmarks
    assert "TOC \\o" not in xml  # not a TOC field: Word would rebuild it in its own styles
    styles = docx_part(bundled_build["docx"], "word/styles.xml")
    assert 'w:leader="dot"' in styles
    settings = docx_part(bundled_build["docx"], "word/settings.xml")
    assert '<w:updateFields w:val="true"/>' in settings
    assert '<w:autoHyphenation w:val="true"/>' in settings


def test_footnotes_are_real_word_footnotes_with_their_texts(bundled_build):
    xml = docx_part(bundled_build["docx"], "word/document.xml")
    assert "w:footnoteReference" in xml
    assert "w:endnoteReference" not in xml
    doc = pandoc_docx_json(bundled_build["docx"])
    notes = notes_after(doc, "The UN adopted the Optional Protocol to the CRC in May 2000")
    assert notes[0].startswith("Optional Protocol to the Convention on the Rights of the Child")
    assert notes[1].endswith("Entered into force on 26 December 2003.")
    care = notes_after(doc, "outside their country of origin")
    assert any("39th session, 17 May to 3 June 2005" in n for n in care)


def test_no_local_paths_leak_into_the_file(bundled_build):
    import zipfile

    with zipfile.ZipFile(bundled_build["docx"]) as z:
        everything = b"".join(z.read(n) for n in z.namelist())
    assert str(bundled_build["docx"].parent.parent).encode() not in everything
    assert b"site-packages" not in everything and b"/src/paperbuild" not in everything
    custom = docx_part(bundled_build["docx"], "docProps/custom.xml")
    assert "paperbuild-version" in custom and "<vt:lpwstr>0.1</vt:lpwstr>" in custom


def test_footnote_numbering_runs_through_the_document(bundled_build):
    xml = docx_part(bundled_build["docx"], "word/document.xml")
    assert 'w:numRestart w:val="eachSect"' not in xml


def test_same_note_id_in_two_chapters_keeps_each_text(mini_build):
    doc = pandoc_docx_json(mini_build["docx"])
    # the citation beside the note joins it (markers never run together)
    assert notes_after(doc, "Apples grow in orchards") == [
        "Jane Smith, Apples (Orchard Press, 2020). First note."
    ]
    assert notes_after(doc, "Pears too.") == ["Second note."]


def test_citations_become_notes_and_the_bibliography_lists_them(bundled_build):
    doc = pandoc_docx_json(bundled_build["docx"])
    text = " ".join(text_of(doc["blocks"]).split())
    refs = text[text.rindex("References") :]
    for title in (
        "Recommended Principles and Guidelines on Human Rights and Human Trafficking",
        "Guidelines on the Protection of the Rights of Child Victims of Trafficking",
        "Trafficking in Persons Report",
        "Regional Guidelines for Special Protection in Cases of the Repatriation",
    ):
        assert title in refs
    notes = notes_after(doc, "The US Trafficking in Persons report")
    assert any("Trafficking in Persons Report" in n for n in notes)
    assert "[@" not in text and "@un-trafficking-protocol" not in text


def test_coverage_markers_leave_no_trace(bundled_build):
    xml = docx_part(bundled_build["docx"], "word/document.xml")
    assert "points" not in xml.replace("Suspects", "")
    assert 'points="' not in text_of(pandoc_docx_json(bundled_build["docx"])["blocks"])


def test_line_numbers_restart_each_page_when_asked(bundled_build, reviewed_build):
    assert "w:lnNumType" not in docx_part(bundled_build["docx"], "word/document.xml")
    xml = docx_part(reviewed_build["docx"], "word/document.xml")
    assert '<w:lnNumType w:countBy="1" w:restart="newPage"' in xml
    # the body's lines only: title page, contents, header, footer and notes are left out
    styles = docx_part(reviewed_build["docx"], "word/styles.xml")
    for style in ("Title", "Author", "ContentsEntry1", "RunningHeader", "FootnoteText"):
        block = styles[styles.index(f'w:styleId="{style}"') :]
        assert "<w:suppressLineNumbers/>" in block[: block.index("</w:style>")], style
    body = styles[styles.index('w:styleId="BodyText"') :]
    assert "suppressLineNumbers" not in body[: body.index("</w:style>")]


def test_watermark_when_asked(reviewed_build):
    headers_xml = "".join(
        docx_part(reviewed_build["docx"], n) for n in _parts(reviewed_build["docx"], "header")
    )
    assert 'string="DRAFT"' in headers_xml
    docx.Document(str(reviewed_build["docx"]))  # still opens


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_byte_identical_under_source_date_epoch(tmp_path, fmt):
    """Two builds give the same bytes: one of this format alone, one of both formats (where the
    DOCX is rendered while Typst compiles)."""
    import shutil

    outputs = []
    for n, formats in enumerate([fmt, "docx,pdf"]):
        root = tmp_path / f"copy{n}"
        shutil.copytree(REPO / "paper", root / "paper")
        shutil.copy(REPO / "outline.yaml", root)
        shutil.copy(REPO / "references.bib", root)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
        subprocess.run(
            [sys.executable, "-m", "paperbuild", "-C", str(root), "-q", "build", "--to", formats],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append((root / "build" / f"child-trafficking-0.1.{fmt}").read_bytes())
    assert outputs[0] == outputs[1]


def test_the_bundled_bibliography_keeps_a_publisher_whole(bundled_build):
    text = " ".join(text_of(pandoc_docx_json(bundled_build["docx"])).split())
    assert "Office to Monitor and Combat Trafficking in Persons" in text
    assert "Monitor; Combat" not in text


def test_one_serif_family_throughout(bundled_build):
    styles = docx_part(bundled_build["docx"], "word/styles.xml")
    assert "asciiTheme" not in styles  # the theme's sans no longer sets the headings
    families = set(re.findall(r'<w:rFonts [^>]*w:ascii="([^"]+)"', styles))
    assert families == {"Liberation Serif", "Consolas"}  # and code's monospace


@pytest.mark.slow
def test_an_earlier_drafts_line_numbers_and_watermark_do_not_pass_on(mini):
    """pandoc takes a reference document's section properties and headers: a draft built with
    --line-numbers --watermark, used as one, must not number or mark the next draft."""
    import zipfile

    from click.testing import CliRunner

    from paperbuild.cli import cli

    def parts(path) -> str:
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))

    root = mini()
    base = ["-C", str(root), "build", "--to", "docx"]
    assert (
        CliRunner().invoke(cli, [*base, "--line-numbers", "--watermark", "SECRET"]).exit_code == 0
    )
    (marked,) = (root / "build").glob("*-secret.docx")
    (root / "house.docx").write_bytes(marked.read_bytes())
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: house.docx\n")
    assert CliRunner().invoke(cli, [*base, "--version", "2.0"]).exit_code == 0
    clean = parts(next((root / "build").glob("*-2.0.docx")))
    assert "lnNumType" not in clean and "SECRET" not in clean and "PaperbuildWatermark" not in clean
    assert CliRunner().invoke(cli, ["-C", str(root), "outline", "--to", "docx"]).exit_code == 0
    note = parts(next((root / "build").glob("*-concept-note.docx")))  # the same reference
    assert "lnNumType" not in note and "SECRET" not in note
    args = [*base, "--version", "3.0", "--line-numbers", "--watermark", "AGAIN"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    again = parts(next((root / "build").glob("*-3.0-again.docx")))
    assert again.count("<w:lnNumType") == 1 and "SECRET" not in again
    assert again.count('string="AGAIN"') == again.count("PaperbuildWatermark") >= 2


MIXED_MARKDOWN = """\
# A heading with *emphasis* and `code`

Plain words, "quoted words", [a link](https://example.org/x) and a note.[^n] After
a soft break, ~~struck~~ and [marked]{.mark} text, [inserted]{.insertion author="A"}
and [deleted]{.deletion author="B"} runs, H~2~O and x^2^, 中文 混合 text, a soft\u00adhyphen
and a\ttab. Display maths $$x = y$$ mid-paragraph, then [custom]{custom-style="Emphasis"}.

- [ ] an open task with several words
- [x] a done task

A paragraph with a box ☐ later, and ☒ one more.

| Left col | Right col |
|----------|-----------|
| a b c    | d e f     |

: A caption with words

| Narrow | A column wide enough that pandoc gives the table relative widths |
|--------|-------------------------------------------------------------------------------|
| x      | y                                                                             |

![An image's alt text](missing.png)

Term words
:   Definition words here.

[^n]: The note's own words, "quoted".
"""


def test_pandocs_writer_gives_the_same_docx_from_merged_words(tmp_path, monkeypatch):
    from paperbuild import pandoc
    from paperbuild import pandoc_ast as pa

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    parsed = pa.dumps(
        json.loads(pandoc.run(["-f", "markdown", "-t", "json"], MIXED_MARKDOWN.encode()))
    )
    smaller = pa.merged_words(parsed)
    assert len(smaller) < len(parsed) * 0.8  # (words were merged)
    plain, merged = (
        pandoc.run(["-f", "json", "-t", "docx"], d, cwd=tmp_path) for d in (parsed, smaller)
    )
    assert plain == merged


def test_pandocs_writer_gives_the_same_docx_from_orjsons_text_as_from_jsons(tmp_path, monkeypatch):
    """pa.dumps writes UTF-8 and orjson's numbers (1e-05 as 0.00001); json wrote \\u escapes."""
    from paperbuild import pandoc
    from paperbuild import pandoc_ast as pa

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    value = json.loads(pandoc.run(["-f", "markdown", "-t", "json"], MIXED_MARKDOWN.encode()))
    ascii_text = json.dumps(value, separators=(",", ":")).encode()
    ours = pa.dumps(value)
    assert b"\\u" in ascii_text and "中文".encode() in ours and b'"ColWidth","c":0.' in ours
    assert ours != ascii_text
    written = [
        pandoc.run(["-f", "json", "-t", "docx"], d, cwd=tmp_path)
        for d in (ascii_text, ours, pa.merged_words(ascii_text), pa.merged_words(ours))
    ]
    assert all(w == written[0] for w in written)


def test_no_module_a_build_loads_imports_python_docx_before_pandoc_works():
    """python-docx (45 ms to import) is imported while pandoc runs, so the wait hides it."""
    code = (
        "import sys, paperbuild.build, paperbuild.render.docx, paperbuild.cite; "
        "print('docx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


BROKEN_REFERENCES = {
    "not a zip": b"plain text, not a Word document",
    "no styles": None,  # a zip that is not a Word document (built below)
}


@pytest.mark.parametrize("case", sorted(BROKEN_REFERENCES))
def test_a_reference_document_that_cannot_be_used_stops_the_build_saying_so(mini, case):
    """The reference document is built while citeproc works (the chapters cite a work): one
    that cannot be used still stops the build with its path and what to do, exit 2, and no
    draft."""
    import io
    import zipfile

    from tests.conftest import run

    data = BROKEN_REFERENCES[case]
    if data is None:
        packed = io.BytesIO()
        with zipfile.ZipFile(packed, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("word/document.xml", "<not-word/>")
        data = packed.getvalue()
    root = mini()
    (root / "house.docx").write_bytes(data)
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: house.docx\n")
    result = run(root, "build", "--to", "docx", "--force")  # (past the check that names it)
    assert result.exit_code == 2, result.output
    assert "house.docx" in result.output and "hint: save it again" in result.output
    assert "Traceback" not in result.output
    assert not list((root / "build").glob("*.docx"))
