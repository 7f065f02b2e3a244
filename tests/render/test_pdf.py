"""The PDF draft, read back with pypdf."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from paperbuild.load.outline import parse_outline
from tests.conftest import REPO, run
from tests.render.readers import pdf_pages

OUTLINE = parse_outline((REPO / "outline.yaml").read_text(encoding="utf-8"))
STATUS = "First draft submitted to the Congress Coordinating Committee"


def flat(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("-\n", "")
    return " ".join(text.split())


def test_title_page_then_status_line_and_page_x_of_y_on_every_other_page(bundled_build):
    pages = pdf_pages(bundled_build["pdf"])
    assert len(pages) >= 5
    assert "Child Trafficking for Sexual Purposes" in pages[0]
    assert "Commissioned by ECPAT International" in flat(pages[0])
    assert "page 1 of" not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert STATUS in flat(text), number
        assert f"page {number} of {len(pages)}" in flat(text), number


def test_sections_in_outline_order(bundled_build):
    body = flat(" ".join(pdf_pages(bundled_build["pdf"])[2:]))
    positions = [body.find(f"{s.id} {s.title}") for s in OUTLINE.sections]
    assert all(p >= 0 for p in positions), [
        s.id for s, p in zip(OUTLINE.sections, positions, strict=False) if p < 0
    ]
    assert positions == sorted(positions)
    assert body.rfind("References") > positions[-1]


def test_contents_page_lists_sections_with_page_numbers(bundled_build):
    contents = flat(pdf_pages(bundled_build["pdf"])[1])
    assert "Contents" in contents
    assert re.search(r"3 Law enforcement[ .]*\d", contents)


def test_every_footnote_text_is_there(bundled_build):
    text = flat(" ".join(pdf_pages(bundled_build["pdf"])))
    for note in (
        "Entered into force on 18 January 2002.",
        "Entered into force on 26 December 2003.",
        "Adopted during the Committee's 39th session, 17 May to 3 June 2005.",
        "The report has been published every year since 2001.",
    ):
        assert note in text, note


def test_bibliography(bundled_build):
    text = flat(" ".join(pdf_pages(bundled_build["pdf"])))
    refs = text[text.rindex("References") :]
    assert "Recommended Principles and Guidelines on Human Rights and Human Trafficking" in refs
    assert "Trafficking in Persons Report" in refs


def test_fonts_are_embedded_and_metadata_set(bundled_build):
    reader = PdfReader(str(bundled_build["pdf"]))
    fonts = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            desc = desc.get_object()
            fonts[str(font["/BaseFont"])] = any(
                k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    assert fonts and all(fonts.values()), fonts
    assert reader.metadata.title == "Child Trafficking for Sexual Purposes"
    assert reader.metadata.author.startswith("Mike Dottridge")


def test_same_note_id_in_two_chapters_keeps_each_text(mini_build):
    text = flat(" ".join(pdf_pages(mini_build["pdf"])))
    assert "First note." in text and "Second note." in text


def test_watermark_and_line_numbers(reviewed_build, bundled_build):
    pages = pdf_pages(reviewed_build["pdf"])
    assert all("DRAFT" in p for p in pages)
    tokens = set(pages[2].split())
    assert {str(n) for n in range(1, 30)} <= tokens
    plain = set(pdf_pages(bundled_build["pdf"])[2].split())
    assert not {str(n) for n in range(1, 30)} <= plain
    # the body's pages only: the title page and the contents read as the plain draft's do
    # (compared with it, since the title page's date may itself be "1 December")
    plain_pages = pdf_pages(bundled_build["pdf"])
    for page in (0, 1):
        numbered = [t for t in pages[page].split() if t != "DRAFT"]
        assert sorted(numbered) == sorted(plain_pages[page].split()), page


def _pdf_build_of_second_chapter(mini, text: str):
    """Return (project, CLI result) of a PDF build whose second chapter's body is text."""
    from click.testing import CliRunner

    from paperbuild.cli import cli

    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n" + text})
    return root, CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "pdf"])


def test_typst_failure_names_the_chapter_and_line(mini):
    root, result = _pdf_build_of_second_chapter(
        mini, '# Second section\n\n[Pears.]{points="2.1"}\n\n```{=typst}\n#let x = (\n```\n'
    )
    assert result.exit_code == 2
    assert "Typst could not compile the draft: unclosed delimiter" in result.output
    assert "paper/02-second.md:10: #let x = (" in result.output
    assert "Traceback" not in result.output
    assert not list((root / "build").glob("*.pdf"))


def test_typst_failure_before_a_chapters_heading_names_that_chapter(mini):
    """Raw Typst above a chapter's first heading comes after the previous chapter's heading."""
    _, result = _pdf_build_of_second_chapter(
        mini, '```{=typst}\n#let y = (\n```\n\n# Second section\n\n[Pears.]{points="2.1"}\n'
    )
    assert result.exit_code == 2
    assert "paper/02-second.md:6: #let y = (" in result.output


def test_missing_pdf_engine_says_how_to_install_it(mini, monkeypatch):
    from click.testing import CliRunner

    from paperbuild.cli import cli

    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(
        cli, ["-C", str(mini()), "build", "--to", "pdf", "--pdf-engine", "libreoffice"]
    )
    assert result.exit_code == 2
    assert "LibreOffice, which was not found" in result.output
    assert "apt-get install libreoffice-writer" in result.output


def test_a_pdf_builds_from_a_worker_thread(mini):
    """Typst compiles in a forked child; a build started off the main thread (as an editor's
    plugin or a test runner may) still gets its PDF."""
    import threading

    from paperbuild.build import BuildOptions, build

    root = mini()
    out: dict[str, object] = {}

    def work() -> None:
        try:
            out["paths"] = build(root, BuildOptions(formats=("pdf",))).outputs
        except Exception as exc:  # reported below
            out["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=120)
    assert "error" not in out, out
    (path,) = out["paths"]  # type: ignore[misc]
    assert "Second note." in " ".join(pdf_pages(path))


def test_an_author_with_typst_markup_characters_is_kept_as_written(mini):
    """The author goes into a Typst string (the PDF's metadata): nothing is escaped twice."""
    from paperbuild.build import BuildOptions, build

    author = 'Anna #1 $x_y* \\\\ ~Ölm "Q"'
    root = mini()
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text().replace("author: A. Author", f"author: '{author}'"))
    (pdf,) = build(root, BuildOptions(formats=("pdf",))).outputs
    assert PdfReader(str(pdf)).metadata.author == author
    assert author in flat(pdf_pages(pdf)[0])


def test_a_language_tag_with_a_script_or_a_numeric_region_builds_both_drafts(mini):
    # (Typst takes a two-letter region only: `zh-Hant-TW` had given it "HANT", `es-419` "419")
    for lang in ("zh-Hant-TW", "es-419"):
        outline = (mini() / "outline.yaml").read_text(encoding="utf-8")
        root = mini({"outline.yaml": outline.replace("  version:", f"  lang: {lang}\n  version:")})
        result = run(root, "build", "--force")
        assert result.exit_code == 0, result.output
        pdf = next((root / "build").glob("*.pdf"))
        assert "Apples grow in orchards" in " ".join(pdf_pages(pdf))


def test_small_capitals_are_drawn_in_the_pdf_as_in_the_docx(mini):
    # (Liberation Serif has no small capitals: Typst's smallcaps set the text unchanged)
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        '::: {points="1.1"}\nApples grow in orchards, [Small Caps for UNICEF]{.smallcaps}.\n:::\n'
    )
    root = mini({"paper/01-first.md": chapter})
    result = run(root, "build", "--to", "pdf")
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_pages(root / "build/a-small-paper-1.0.pdf"))
    assert "SMALL CAPS FOR UNICEF" in text.replace("\n", " "), text


def test_a_long_run_with_nowhere_to_break_stays_inside_the_margin(mini):
    # (a hash, a URL's path without a slash, a key in code: Typst breaks only where Unicode
    # allows, so each ran past the right margin and was cut off at the page's edge)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the words' places unread")
    run_of = "3f9a8b7c6d5e4f3a2b1c0d9e" * 6
    path = "https://example.org/" + "DocumentDownloadHandlerRecordIdentifier" * 3
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        f'::: {{points="1.1"}}\nThe digest {run_of} was kept. See <{path}>.\n\n'
        f"The key `{run_of}` too.\n:::\n"
    )
    root = mini({"paper/01-first.md": chapter})
    result = run(root, "build", "--to", "pdf")
    assert result.exit_code == 0, result.output
    pdf = root / "build/a-small-paper-1.0.pdf"
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    width = float(re.search(r'<page width="([\d.]+)"', boxes).group(1))
    right = width - 2 * 28.35  # (the text block's right edge, at most: 2 cm from the edge)
    words = re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)<', boxes)
    assert [w for x, w in words if float(x) > right] == [], right
    shown = "".join(pdf_pages(pdf)).replace("\u200b", "")
    shown = "".join(shown.split())  # (every character shown, none cut off the page)
    assert shown.count(run_of) == 2 and path in shown


def test_block_quotes_nested_past_typsts_depth_are_set_as_the_deepest_it_indents(mini):
    # (Typst stops at the depth of its show rules: 17 quotes one inside another failed the PDF)
    chapter = "---\nsection: 1\n---\n\n# First section\n\n" + "> " * 30 + "Deep words.\n"
    root = mini({"paper/01-first.md": chapter})
    result = run(root, "build", "--to", "pdf", "--force")
    assert result.exit_code == 0, result.output
    assert "Deep words." in " ".join(pdf_pages(root / "build/a-small-paper-1.0.pdf"))


def test_a_tight_definitions_paragraphs_stay_apart_in_the_pdf_as_in_the_docx(mini):
    # (pandoc reads them as two Plain blocks; its Typst writer ran the second on from the first)
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        "Term\n: First paragraph of the sense.\n\n    Second paragraph of the sense.\n"
    )
    root = mini({"paper/01-first.md": chapter})
    result = run(root, "build", "--to", "pdf", "--force")
    assert result.exit_code == 0, result.output
    lines = [
        " ".join(line.split())
        for page in pdf_pages(root / "build/a-small-paper-1.0.pdf")
        for line in page.splitlines()
    ]
    assert "First paragraph of the sense." in lines and "Second paragraph of the sense." in lines
