"""Notes an editor would pass: markers never run together, and "ibid." only where it is right."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from paperbuild.cli import cli
from tests.render.readers import note_texts, notes_after, pandoc_docx_json, text_of, walk

BIB = (
    "@book{smith2020, author = {Smith, Jane}, title = {Apples}, year = {2020},"
    " publisher = {Orchard Press}}\n"
    "@book{roe2021, author = {Roe, Tim}, title = {Pears}, year = {2021},"
    " publisher = {Vale Press}}\n"
)


def build(mini, chapter: str, extra_outline: str = "") -> dict:
    root = mini({"paper/02-second.md": chapter, "references.bib": BIB})
    if extra_outline:
        outline = root / "outline.yaml"
        outline.write_text(outline.read_text() + extra_outline)
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx", "--force"])
    assert result.exit_code == 0, result.output
    return pandoc_docx_json(root / "build/a-small-paper-1.0.docx")


HEAD = '---\nsection: 2\n---\n\n# Second section\n\n[Pears.]{points="2.1"}\n\n'


def test_a_citation_beside_the_authors_note_joins_it(mini):
    doc = build(
        mini,
        HEAD + "Grown in the valley [@roe2021].[^1] Sold in town.[^2] [@roe2021, p. 4]\n\n"
        "[^1]: The author's remark.\n[^2]: Another remark.\n",
    )
    assert notes_after(doc, "Grown in the valley") == [
        "Tim Roe, Pears (Vale Press, 2021). The author’s remark.",
        "Ibid., 4. Another remark.",
    ]
    para = next(p for p in walk(doc["blocks"]) if p["t"] == "Para" and "valley" in text_of(p))
    assert "valley." in text_of(para)  # no space left where the citation stood


def test_a_citation_after_a_cross_reference_joins_the_note_beside_it(mini):
    # pandoc reads `@sec:x [@key, p. 4]` as one Cite of two citations; the reference is
    # rendered, and the citation left beside the note still joins it
    doc = build(
        mini,
        HEAD + "## Valley {#sec:valley}\n\nAs in @sec:valley [@roe2021, p. 4].[^1] And "
        "[see @sec:valley; @smith2020].[^2]\n\n[^1]: The author's remark.\n[^2]: Another.\n",
    )
    assert notes_after(doc, "As in section") == [
        "Tim Roe, Pears (Vale Press, 2021), 4. The author’s remark.",
        "Smith, Apples. Another.",  # (chapter 1 cited it first)
    ]
    para = next(p for p in walk(doc["blocks"]) if p["t"] == "Para" and "As in" in text_of(p))
    assert "section 2.1." in text_of(para) and "see section 2.1." in text_of(para)


def test_a_citation_the_author_writes_in_a_note_reads_as_a_note_citation(mini):
    doc = build(
        mini,
        HEAD + "One.[^1] Two.[^2]\n\n[^1]: As @roe2021 [p. 3] says.\n"
        "[^2]: See @roe2021 [p. 5], and compare [@smith2020].\n",
    )
    notes = note_texts(doc)
    second = next(n for n in notes if n.startswith("See"))
    assert second == "See ibid., 5, and compare Smith, Apples.", notes
    assert "Roe, ibid." not in " ".join(notes) and "(" not in second


def test_ibid_never_points_back_past_a_note_that_cites_something_else_or_nothing(mini):
    doc = build(
        mini,
        HEAD + "A [@roe2021, p. 1]. B.[^1] C [@roe2021, p. 2]. D [@roe2021, p. 3].\n\n"
        "[^1]: A remark that cites nothing.\n",
    )
    notes = note_texts(doc)
    roe = [n for n in notes if "Roe" in n or "Ibid" in n]
    assert roe[1].startswith("Roe, Pears, 2"), notes  # the short form: a note stands between
    assert roe[2] == "Ibid., 3.", notes  # right after a note citing the same work


def test_author_date_styles_keep_citations_in_the_text(mini, tmp_path):
    style = Path(__file__).parents[2] / "src/paperbuild/render/templates/chicago-notes.csl"
    text = style.read_text().replace('class="note"', 'class="in-text"', 1)
    chapter = HEAD + "Grown in the valley [@roe2021].[^1]\n\n[^1]: The author's remark.\n"
    root = mini({"paper/02-second.md": chapter, "references.bib": BIB, "style.csl": text})
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "csl: style.csl\n")
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx", "--force"])
    assert result.exit_code == 0, result.output
    doc = pandoc_docx_json(root / "build/a-small-paper-1.0.docx")
    assert notes_after(doc, "Grown in the valley") == ["The author’s remark."]


def test_a_date_in_the_bibliography_never_breaks_and_entries_hang(mini):
    bib = BIB + (
        "@misc{un, author = {{United Nations}}, title = {Protocol}, date = {2000-11-15}}\n"
    )
    root = mini({"paper/02-second.md": HEAD + "Adopted [@un].\n", "references.bib": bib})
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"])
    assert result.exit_code == 0, result.output
    doc = pandoc_docx_json(root / "build/a-small-paper-1.0.docx")
    text = text_of(doc)
    assert "15\u00a0November\u00a02000" in text  # no-break spaces: the date stays on one line
    import zipfile

    xml = zipfile.ZipFile(root / "build/a-small-paper-1.0.docx").read("word/styles.xml").decode()
    style = xml[xml.index('w:styleId="Bibliography"') :]
    style = style[: style.index("</w:style>")]
    assert 'w:hanging="' in style  # a hanging indent


def test_a_citation_in_a_heading_stays_out_of_the_contents(mini):
    """The heading keeps its note; its entry in the contents reads as the plain heading."""
    import re

    from tests.render.readers import pdf_pages

    root = mini(
        {
            "paper/02-second.md": HEAD
            + "## Pears, as Smith saw them [@smith2020]\n\nText.\n"
            + "\n## More on @sec:first-section and pears\n\nText.\n",
            "references.bib": BIB,
        }
    )
    assert CliRunner().invoke(cli, ["-C", str(root), "build", "--force"]).exit_code == 0
    docx = text_of(pandoc_docx_json(root / "build/a-small-paper-1.0.docx"))
    assert "[@smith2020]" not in docx and "2.1 Pears, as Smith saw them" in docx
    # a cross-reference in a heading reads in its entry as in the heading
    assert docx.count("2.2 More on section 1 and pears") == 2, docx
    contents = " ".join(pdf_pages(root / "build/a-small-paper-1.0.pdf")[1].split())
    assert re.search(r"Pears, as Smith saw them \.", contents), contents  # no note number


@pytest.mark.slow
def test_works_nocite_lists_are_in_the_bibliography_though_no_chapter_cites_them(mini):
    from paperbuild.checks import run_checks
    from paperbuild.load.project import load_project

    def bibliography(root) -> str:
        result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"])
        assert result.exit_code == 0, result.output
        text = text_of(pandoc_docx_json(root / "build/a-small-paper-1.0.docx"))
        return text[text.rindex("References") :]

    root = mini({"references.bib": BIB})  # the chapters cite smith2020 only
    outline = root / "outline.yaml"
    plain = outline.read_text()
    assert "Pears" not in bibliography(root)
    outline.write_text(plain + 'nocite: ["@roe2021"]\n')
    assert "Roe, Tim. Pears" in bibliography(root) and "Smith, Jane. Apples" in bibliography(root)
    rules = [d.rule for d in run_checks(load_project(root)).diagnostics]
    assert "unused-reference" not in rules
    outline.write_text(plain + "nocite: '@*'\n")
    assert "Roe, Tim. Pears" in bibliography(root)
    outline.write_text(plain + "nocite: [roe2021, nobody]\n")
    found = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "unknown-citation"]
    assert [(d.path, d.line, d.message) for d in found] == [
        ("outline.yaml", 17, "nocite lists 'nobody', which is not in references.bib")
    ]


def test_the_bundled_style_is_known_as_a_note_style_without_reading_it():
    from lxml import etree

    from paperbuild.cite import is_note_style
    from paperbuild.references import DEFAULT_CSL

    # the shortcut must say what the style itself says
    assert etree.parse(str(DEFAULT_CSL)).getroot().get("class") == "note"
    assert is_note_style(DEFAULT_CSL)
