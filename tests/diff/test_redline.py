"""The redline: accept all = the new draft, reject all = the old one, read by pandoc's reader."""

from __future__ import annotations

import difflib
import json
import re
import subprocess

import docx
import pytest
from click.testing import CliRunner

from paperbuild.cli import cli
from tests.render.readers import docx_part, pandoc_command


def words(path, track: str = "accept") -> list[str]:
    """Return every word pandoc's DOCX reader finds (footnotes included)."""
    out = subprocess.run(
        [
            *pandoc_command(),
            "-f",
            "docx",
            f"--track-changes={track}",
            str(path),
            "-t",
            "plain",
            "--wrap=none",
        ],
        capture_output=True,
        check=True,
    )
    return out.stdout.decode("utf-8").split()


def word_diff(a: list[str], b: list[str]) -> list[str]:
    return [d for d in difflib.ndiff(a, b) if d[:1] in "+-"]


@pytest.fixture(scope="module")
def redline(two_drafts):
    result = CliRunner().invoke(cli, ["-C", str(two_drafts), "diff", "0.1", "0.2"])
    assert result.exit_code == 0, result.output
    return two_drafts / "build" / "diff"


@pytest.mark.slow
def test_accept_all_is_the_new_draft_and_reject_all_the_old(two_drafts, redline):
    red = redline / "0.1..0.2.docx"
    new = two_drafts / "build" / "child-trafficking-0.2.docx"
    old = two_drafts / "build" / "child-trafficking-0.1.docx"
    assert word_diff(words(red, "accept"), words(new)) == []
    assert word_diff(words(red, "reject"), words(old)) == []
    assert words(new) != words(old)


def test_changes_are_native_tracked_changes_with_author_and_date(redline):
    xml = docx_part(redline / "0.1..0.2.docx", "word/document.xml")
    notes = docx_part(redline / "0.1..0.2.docx", "word/footnotes.xml")
    assert '<w:ins w:id="' in xml and '<w:del w:id="' in xml
    assert 'w:author="paperbuild"' in xml and 'w:date="' in xml
    assert "<w:delText" in notes  # "year" became "June" inside a footnote
    ids = [m for m in __import__("re").findall(r'<w:(?:ins|del) [^>]*w:id="(\d+)"', xml + notes)]
    assert len(ids) == len(set(ids)), "every tracked change has its own id"
    docx.Document(str(redline / "0.1..0.2.docx"))  # python-docx opens it


def test_whole_paragraphs_track_their_paragraph_mark(redline):
    d = docx.Document(str(redline / "0.1..0.2.docx"))
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

    def text(p) -> str:  # python-docx's Paragraph.text leaves out runs inside w:ins and w:del
        return "".join(t.text or "" for t in p._p.iter(f"{ns}t", f"{ns}delText"))

    deleted = [p for p in d.paragraphs if text(p).startswith("In one region, Europe")]
    inserted = [p for p in d.paragraphs if text(p).startswith("A new paragraph on referral")]
    assert deleted and deleted[0]._p.find(f"{ns}pPr/{ns}rPr/{ns}del") is not None
    assert inserted and inserted[0]._p.find(f"{ns}pPr/{ns}rPr/{ns}ins") is not None
    assert not [
        b
        for b in d.element.body.iter(f"{ns}bookmarkStart")
        if (b.get(f"{ns}name") or "").startswith("pbchange-")
    ]


def test_title_page_version_change_is_tracked(redline):
    xml = docx_part(redline / "0.1..0.2.docx", "word/document.xml")
    start = xml.index(">Version<")
    first_page = xml[start : start + 1500]
    assert '<w:delText xml:space="preserve">0.1</w:delText>' in first_page
    assert ">0.2</w:t>" in first_page


def test_summary_names_the_changed_sections(two_drafts, redline):
    summary = (redline / "0.1..0.2.md").read_text()
    for section in (
        "| 1 Patterns",
        "| 3 Law enforcement",
        "| 4 Efforts to prevent",
        "| 5 Efforts to protect",
        "| 7 Coordination",
    ):
        assert section in summary
    assert "| 2 Developments" not in summary
    assert "Points now covered: 3.5" in summary
    assert (
        "Citation added: United States Department of State. Trafficking in Persons Report"
        in summary
    )
    result = CliRunner().invoke(
        cli, ["-C", str(two_drafts), "diff", "0.1", "0.2", "--to", "md", "--format", "json"]
    )
    data = json.loads(result.output)
    by_id = {s["id"]: s for s in data["sections"]}
    assert by_id["5"]["words_removed"] >= 30 and by_id["5"]["paragraphs_changed"] == 1
    assert by_id["7"]["words_added"] == 11
    assert by_id["3"]["citations_added"][0]["key"] == "us-tip-report"
    assert data["total"]["words_added"] == sum(s["words_added"] for s in data["sections"])


@pytest.mark.slow
def test_redline_pdf_marks_changes(redline):
    from tests.render.readers import pdf_pages

    text = " ".join(" ".join(pdf_pages(redline / "0.1..0.2.pdf")).split())
    assert "A new paragraph on referral records" in text  # inserted, shown
    assert "In one region, Europe" in text  # deleted, shown struck through
    # and drawn as changes: on the page of each, its colour (insertions #1a5fb4, deletions
    # #c01c28) paints the words, their underline or strike line and the change bars, far more
    # often than the running header's legend does on every page
    pages = pdf_colour_pages(redline / "0.1..0.2.pdf")
    legend = {colour: min(p[1][colour] for p in pages) for colour in (INSERTED, DELETED)}
    for phrase, colour in (("A new paragraph on referral", INSERTED), ("In one region", DELETED)):
        counts = next(c for text, c in pages if phrase in text)
        assert counts[colour] >= legend[colour] + 10, (phrase, counts[colour], legend)


INSERTED, DELETED = (0x1A, 0x5F, 0xB4), (0xC0, 0x1C, 0x28)


def pdf_colour_pages(path) -> list[tuple[str, dict[tuple[int, ...], int]]]:
    """Return each page's text and how often it sets each RGB colour (sc, scn, rg; stroking too)."""
    import collections

    from pypdf import PdfReader

    pages = []
    for page in PdfReader(str(path)).pages:
        data = page.get_contents().get_data().decode("latin-1")
        found: collections.Counter[tuple[int, ...]] = collections.Counter()
        for r, g, b in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (?:rg|RG|scn?|SCN?)\b", data):
            found[tuple(round(float(c) * 255) for c in (r, g, b))] += 1
        pages.append((" ".join((page.extract_text() or "").split()), found))
    return pages


def test_identical_drafts_say_no_changes(two_drafts):
    result = CliRunner().invoke(
        cli, ["-C", str(two_drafts), "diff", "0.2", "0.2", "--to", "docx,md"]
    )
    assert result.exit_code == 0
    assert "no changes" in result.output
    out = two_drafts / "build" / "diff"
    assert "No changes." in (out / "0.2..0.2.md").read_text()
    xml = docx_part(out / "0.2..0.2.docx", "word/document.xml")
    assert "<w:ins " not in xml and "<w:del " not in xml


def test_diff_against_the_working_tree_and_a_folder(two_drafts, tmp_path):
    result = CliRunner().invoke(
        cli, ["-C", str(two_drafts), "diff", "0.1", "--to", "md", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "0.1..paper.md").is_file()


def test_unknown_side_is_a_clear_error(two_drafts):
    result = CliRunner().invoke(cli, ["-C", str(two_drafts), "diff", "0.9", "0.2"])
    assert result.exit_code == 2
    assert "'0.9' is not a recorded version" in result.output
    assert "recorded versions: 0.1, 0.2" in result.output


def test_the_headline_counts_one_paragraph_in_the_singular(two_drafts, tmp_path):
    old, new = tmp_path / "old.md", tmp_path / "new.md"
    old.write_text("# Title\n\nFirst paragraph here.\n\nSecond paragraph here.\n")
    new.write_text("# Title\n\nFirst paragraph here, longer.\n\nSecond paragraph here.\n")
    out = tmp_path / "out"
    args = ["-C", str(two_drafts), "diff", str(old), str(new), "--to", "md", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "words, 1 paragraph changed" in result.output, result.output
    new.write_text("# Title\n\nFirst paragraph here, longer.\n\nSecond paragraph, too.\n")
    result = CliRunner().invoke(cli, args)
    assert re.search(r"words, [2-9] paragraphs changed", result.output), result.output
