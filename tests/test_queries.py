"""Queries to the committee: asked in the Markdown, a Word comment and a margin note in the
drafts, left out of final drafts and redlines, listed by check, warned of at release, and their
replies read back by feedback."""

from __future__ import annotations

import zipfile

import pytest

from tests.conftest import run
from tests.feedback.wordlike import Reviewer
from tests.render.readers import pandoc_docx_json, pdf_text, pdf_words, text_of, walk

QUESTION = "Which regions? Give two examples."
CHAPTER = (
    "---\nsection: 2\n---\n\n# Second section\n\n"
    '[Pears too.]{points="2.1"}[^1] They grow in\n'
    f'[several regions]{{.query question="{QUESTION}"}} of the country.\n\n[^1]: Second note.\n'
)


def test_check_lists_an_open_query_where_it_is(mini):
    root = mini({"paper/02-second.md": CHAPTER})
    result = run(root, "check", "--strict")
    assert result.exit_code == 0, result.output  # a query is information, not a problem
    assert f"paper/02-second.md:8:36: info[open-query] query to the committee: “{QUESTION}”" in (
        result.output
    )


def test_the_docx_asks_in_a_comment_and_the_pdf_in_the_margin(mini):
    root = mini({"paper/02-second.md": CHAPTER})
    result = run(root, "build")
    assert result.exit_code == 0, result.output
    docx = root / "build/a-small-paper-1.0.docx"
    spans = [
        n
        for n in walk(pandoc_docx_json(docx, "all")["blocks"])
        if n["t"] == "Span" and "comment-start" in n["c"][0][1]
    ]
    assert len(spans) == 1
    attrs = dict(spans[0]["c"][0][2])
    assert attrs["author"] == "A. Author" and text_of(spans[0]["c"][1]).strip() == QUESTION
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode()
    start, end = xml.index("<w:commentRangeStart"), xml.index("<w:commentRangeEnd")
    assert "several regions" in xml[start:end]  # anchored on the passage
    text = pdf_text(root / "build/a-small-paper-1.0.pdf")
    assert "They grow in several regions" in text and "of the country." in text
    note = text.replace("\xad ", "").replace("­ ", "")  # soft hyphens where the note wraps
    assert "Query: Which regions? Give two ex" in note, text


@pytest.mark.slow
def test_a_final_build_and_a_redline_leave_queries_out(mini):
    root = mini({"paper/02-second.md": CHAPTER})
    assert run(root, "build", "--final").exit_code == 0
    docx = root / "build/a-small-paper-1.0.docx"
    assert "word/comments.xml" not in zipfile.ZipFile(docx).namelist() or QUESTION not in (
        zipfile.ZipFile(docx).read("word/comments.xml").decode()
    )
    assert "several regions" in text_of(pandoc_docx_json(docx))
    text = pdf_text(root / "build/a-small-paper-1.0.pdf")
    assert "several regions" in text and "Query:" not in text
    assert run(root, "release").exit_code == 0
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text().replace('"1.0"', '"1.1"'))
    chapter = root / "paper/02-second.md"
    chapter.write_text(chapter.read_text().replace("of the country", "of the whole country"))
    assert run(root, "build").exit_code == 0
    assert run(root, "diff", "1.0", "1.1", "--to", "docx").exit_code == 0
    redline = root / "build/diff/1.0..1.1.docx"
    assert "Which regions" not in text_of(pandoc_docx_json(redline, "all"))


def test_release_warns_of_open_queries(mini):
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    quiet = run(root, "release")
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text().replace('"1.0"', '"1.1"'))
    (root / "paper/02-second.md").write_text(CHAPTER)
    assert run(root, "build", "--to", "docx").exit_code == 0
    result = run(root, "release")
    assert result.exit_code == 0
    assert "warning: 1 query to the committee still open in the sources" in result.stderr


def test_feedback_shows_the_replies_under_the_query_at_its_line(mini, tmp_path):
    root = mini({"paper/02-second.md": CHAPTER})
    assert run(root, "build", "--to", "docx").exit_code == 0
    draft = root / "build/a-small-paper-1.0.docx"
    first = Reviewer(draft)
    first.reply(QUESTION, "Jane Reviewer", "West Africa and the Balkans.")
    second = Reviewer(draft)
    second.reply(QUESTION, "Omar Reviewer", "Also South-East Asia.", resolve=True)
    files = [first.save(tmp_path / "jane.docx"), second.save(tmp_path / "omar.docx")]
    result = run(root, "feedback", *map(str, files))
    assert result.exit_code == 0, result.output
    assert (
        f"paper/02-second.md:8: query “{QUESTION}” on “several regions” / reply by Jane "
        "Reviewer: West Africa and the Balkans. / reply by Omar Reviewer: Also South-East Asia. "
        "(resolved)" in result.output
    )
    assert "comment by A. Author" not in result.output


def test_a_query_in_a_heading_is_asked_in_the_text_not_in_the_contents(mini):
    heading = f'\n## A [contested]{{.query question="{QUESTION}"}} heading\n\nText.\n'
    root = mini({"paper/02-second.md": CHAPTER + heading})
    assert run(root, "build", "--to", "pdf").exit_code == 0
    pages = pdf_words(root / "build/a-small-paper-1.0.pdf")
    contents = pages[1]
    assert "2.1 A contested heading" in contents and "Query" not in contents, contents
    assert sum(p.count("Query:") for p in pages[2:]) == 2  # asked in the text, both times
