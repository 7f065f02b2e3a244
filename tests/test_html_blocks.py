"""Block-level HTML in a chapter (a web editor's or a converter's export) is what it means in
both drafts: pandoc's Markdown reader leaves the tags raw around their text, which the DOCX
and Typst writers drop, so a list's items, an HTML heading and the paragraph after it ran
together into one line of the PDF."""

from __future__ import annotations

import copy

import pytest

from paperbuild import pandoc
from paperbuild.build import BuildOptions, build
from paperbuild.checks import run_checks
from paperbuild.load.project import load_project
from paperbuild.pandoc_ast import stringify
from paperbuild.rawhtml import MOST_NESTED, has_html_blocks, read_html_blocks, read_inline_html
from tests.render.readers import pandoc_docx_json, pdf_pages, text_of, walk
from tests.test_manuscripts import one_chapter


def read(source: str) -> list:
    """Return the blocks pandoc reads from the Markdown, HTML made elements (as parse does)."""
    assert has_html_blocks(source)
    return read_html_blocks(read_inline_html(pandoc.parse_chapters([("t.md", source)])[0]))


def built_clean(tmp_path, name: str, text: str) -> dict:
    """Return the drafts of a one-chapter project, once its check finds no raw HTML dropped
    and no link leading nowhere."""
    title = name.split(".")[0].title()
    root = one_chapter(tmp_path, title, title, name, text)
    found = run_checks(load_project(root)).diagnostics
    assert [d for d in found if d.rule in ("dropped-raw", "dead-link")] == [], found
    return {p.suffix[1:]: p for p in build(root, BuildOptions()).outputs}


def kinds(blocks: list) -> list[str]:
    return [b["t"] for b in blocks]


def test_paragraphs_headings_and_lists_are_elements():
    blocks = read(
        '<p>One <b>bold</b> paragraph.</p>\n\n<h3 id="own">A heading</h3>\n\n'
        "<h2>Made id</h2>\n\n<ul>\n<li>first</li>\n<li>second</li>\n</ul>\n\n"
        '<ol start="3" type="a"><li>three</li><li>four</li></ol>\n\nAfter.\n'
    )
    assert kinds(blocks) == ["Para", "Header", "Header", "BulletList", "OrderedList", "Para"]
    heading, made = blocks[1]["c"], blocks[2]["c"]
    assert (heading[0], heading[1][0], text_of(heading[2])) == (3, "own", "A heading")
    assert (made[0], made[1][0]) == (2, "made-id")  # (the id pandoc's reader would give)
    assert [text_of(item).strip() for item in blocks[3]["c"]] == ["first", "second"]
    shape, items = blocks[4]["c"]
    assert shape[0] == 3 and shape[1]["t"] == "LowerAlpha" and len(items) == 2


def test_quotations_code_rules_definitions_figures_and_sections():
    blocks = read(
        "<blockquote>Quoted words.</blockquote>\n\n<hr>\n\n"
        "<pre><code>x &lt; 1\n  indented</code></pre>\n\n"
        "<dl><dt>Term</dt><dd>First sense.</dd><dd>Second sense.</dd></dl>\n\n"
        '<figure id="fig:map"><img src="map.png" alt="Map"><figcaption>The map</figcaption>'
        "</figure>\n\n<section><h2>Inside</h2><p>Held.</p></section>\n"
    )
    assert kinds(blocks) == [
        "BlockQuote",
        "HorizontalRule",
        "CodeBlock",
        "DefinitionList",
        "Figure",
        "Header",
        "Para",
    ]
    assert blocks[2]["c"][1] == "x < 1\n  indented"
    ((term, senses),) = blocks[3]["c"]
    assert text_of(term) == "Term" and [text_of(s).strip() for s in senses] == [
        "First sense.",
        "Second sense.",
    ]
    attr, (_, caption), body = blocks[4]["c"]
    assert attr[0] == "fig:map" and text_of(caption).strip() == "The map"
    assert [n["t"] for n in walk(body) if isinstance(n, dict)].count("Image") == 1


def test_tags_html_closes_itself_and_an_element_left_open():
    blocks = read(
        "<ul><li>one<li>two</ul>\n\n<p>open\n\n<p>again\n\n<section>\n\n"
        "<ul><li>ended by its section\n\n</section>\n\nAfter.\n\n<ul><li>never closed\n"
    )
    assert kinds(blocks) == ["BulletList", "Para", "Para", "BulletList", "Para", "RawBlock", "Para"]
    assert len(blocks[0]["c"]) == 2
    assert [stringify(b) for b in blocks[1:5]] == [
        "open",
        "again",
        "ended by its section",
        "After.",
    ]
    assert blocks[5]["c"] == ["html", "<ul>"]  # (left raw, and reported; its words kept)
    assert stringify(blocks[6]) == "never closed"


@pytest.mark.parametrize(
    "source",
    [
        '<iframe src="https://example.org"></iframe>\n',  # not a block element read here
        "<p>x</p>\n\n</blockquote>\n",  # a closing tag of nothing open
        "<video>\n<p>x</p>\n</video>\n",  # around a tag that is not read
    ],
)
def test_tags_not_read_stay_raw(source):
    raw = pandoc.parse_chapters([("t.md", source)])[0]
    unread = [b for b in walk(raw) if b.get("t") == "RawBlock" and "p>" not in b["c"][1]]
    left = [b for b in walk(read_html_blocks(copy.deepcopy(raw))) if b.get("t") == "RawBlock"]
    assert unread and left == unread


def test_a_web_export_reads_as_written_in_both_drafts(tmp_path):
    chapter = (
        "# Findings\n\n<p>Opening paragraph.</p>\n\n<h2>Sources</h2>\n\n"
        "<ul>\n<li>Court records</li>\n<li>Interviews</li>\n</ul>\n\n"
        "<blockquote><p>A quoted survivor.</p></blockquote>\n\n"
        "<p>Closing paragraph.</p>\n\n<aside>Not closed\n"
    )
    root = one_chapter(tmp_path, "Findings", "Findings", "findings.md", chapter)
    dropped = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "dropped-raw"]
    assert [(d.line, "<aside>" in d.message) for d in dropped] == [(16, True)]
    out = {p.suffix[1:]: p for p in build(root, BuildOptions(force=True)).outputs}
    blocks = pandoc_docx_json(out["docx"])["blocks"]
    headings = [text_of(b["c"][2]) for b in blocks if b["t"] == "Header"]
    assert "1.1 Sources" in headings or "Sources" in headings
    lists = [b for b in walk(blocks) if b.get("t") == "BulletList"]
    assert [[text_of(i).strip() for i in b["c"]] for b in lists] == [
        ["Court records", "Interviews"]
    ]
    assert any(b["t"] == "BlockQuote" for b in blocks)
    lines = [" ".join(line.split()) for page in pdf_pages(out["pdf"]) for line in page.splitlines()]
    for line in ("Opening paragraph.", "1.1 Sources", "• Court records", "• Interviews"):
        assert line in lines, line  # each on a line of its own, not run together
    assert "Not closed" in lines


def test_elements_nested_past_a_depth_stay_raw_tags_and_the_draft_is_written(tmp_path):
    deep = "<blockquote>" * 300 + "Deep words." + "</blockquote>" * 300 + "\n"
    blocks = read(deep)
    found = [b["t"] for b in walk(blocks)]
    assert found.count("BlockQuote") == MOST_NESTED and "Deep words." in stringify(blocks)
    root = one_chapter(tmp_path, "Deep", "Deep", "deep.md", "# Deep\n\n" + deep)
    out = {p.suffix[1:]: p for p in build(root, BuildOptions(force=True)).outputs}
    assert "Deep words." in text_of(pandoc_docx_json(out["docx"]))


def test_a_whole_web_page_reads_as_its_body_its_tables_and_its_notes_links(tmp_path):
    # (a document exported as HTML: its head's title had been printed, a table whose cells hold
    # paragraphs stayed raw, and the notes' links to and fro, by `id`, led nowhere and failed
    # the PDF: Typst had no label for them)
    page = (
        '<html><head><meta charset="utf-8"><style>p { color: red; }</style>'
        "<title>Exported title</title></head><body>\n"
        '<h1 id="h.1">Web</h1>\n<p class="c1"><span>An exported paragraph.</span></p>\n'
        "<table><tr><td><p>Year</p></td><td><p>Cases</p></td></tr>\n"
        "<tr><td><p>2003</p></td><td><p>12</p></td></tr></table>\n"
        '<p>Said so.<sup><a href="#ftnt1" id="ftnt_ref1">[1]</a></sup></p>\n'
        '<hr><div><p><a href="#ftnt_ref1" id="ftnt1">[1]</a> The note.</p></div>\n</body></html>\n'
    )
    out = built_clean(tmp_path, "web.md", page)
    blocks = pandoc_docx_json(out["docx"])["blocks"]
    (table,) = [b for b in walk(blocks) if b.get("t") == "Table"]
    assert "Year" in text_of(table) and "12" in text_of(table)
    text = " ".join(" ".join(page.split()) for page in pdf_pages(out["pdf"]))
    assert "An exported paragraph." in text and "The note." in text
    assert "Exported title" not in text and "color: red" not in text


def test_words_html_anchors_by_name_are_link_targets_too(tmp_path):
    # (Word's "Save as Web Page" anchors its notes with `<a name=…>`, not `id`)
    page = (
        "<h1>Word</h1>\n"
        '<p>Said so.<a href="#_ftn1" name="_ftnref1"><sup>[1]</sup></a></p>\n'
        '<div><p><a href="#_ftnref1" name="_ftn1">[1]</a> The note.</p></div>\n'
    )
    out = built_clean(tmp_path, "word.md", page)
    assert "The note." in " ".join(pdf_pages(out["pdf"]))
