"""HTML tables in a chapter (exported from a spreadsheet or a web editor) are tables in both
drafts: pandoc's Markdown reader leaves their tags raw around the cells' text, which the DOCX
and Typst writers drop, so the cells ran together as loose lines."""

from __future__ import annotations

import copy

import pytest

from paperbuild import pandoc
from paperbuild.build import BuildOptions, build
from paperbuild.checks import run_checks
from paperbuild.load.project import load_project
from paperbuild.rawhtml import read_html_tables
from tests.render.readers import pandoc_docx_json, text_of, walk
from tests.test_manuscripts import docx_text, one_chapter, pdf_text


def read(source: str) -> list:
    """Return the blocks pandoc reads from the Markdown, HTML tables made tables."""
    return read_html_tables(pandoc.parse_chapters([("t.md", source)])[0])


def cells(table: dict) -> list[list[tuple[str, int, int, str]]]:
    """Return each row's cells as (text, row span, column span, alignment), head to foot."""
    _, _, _, head, bodies, foot = table["c"]
    rows = head[1] + [r for body in bodies for r in body[3]] + foot[1]
    return [[(text_of(c[4]).strip(), c[2], c[3], c[1]["t"]) for c in row[1]] for row in rows]


def test_header_body_and_foot_rows_spans_and_alignments():
    (table,) = read(
        '<table id="tbl:cases">\n<caption>Cases, *by year*</caption>\n'
        '<thead><tr><th>Year</th><th align="right">Cases</th></tr></thead>\n'
        '<tbody><tr><td rowspan="2">2003</td><td style="text-align: center">12</td></tr>\n'
        "<tr><td>13</td></tr></tbody>\n"
        '<tfoot><tr><td colspan="2">Total: **25**</td></tr></tfoot>\n</table>\n'
    )
    assert table["t"] == "Table"
    attr, caption, colspecs, head, _, foot = table["c"]
    assert attr[0] == "tbl:cases" and len(colspecs) == 2
    assert text_of(caption[1]).strip() == "Cases, by year"
    assert [c["t"] for c in walk(caption[1]) if isinstance(c, dict)].count("Emph") == 1
    assert len(head[1]) == 1 and len(foot[1]) == 1
    assert cells(table) == [
        [("Year", 1, 1, "AlignDefault"), ("Cases", 1, 1, "AlignRight")],
        [("2003", 2, 1, "AlignDefault"), ("12", 1, 1, "AlignCenter")],
        [("13", 1, 1, "AlignDefault")],
        [("Total: 25", 1, 2, "AlignDefault")],
    ]


def test_rows_of_header_cells_lead_and_unclosed_cells_close_as_in_html():
    (table,) = read("<table>\n<tr><th>A<th>B\n<tr><td>1<td>2\n<tr><td>3<td>4<td>5\n</table>\n")
    _, _, colspecs, head, bodies, _ = table["c"]
    assert len(colspecs) == 3  # the widest row
    assert len(head[1]) == 1 and len(bodies[0][3]) == 2
    assert [[c[0] for c in row] for row in cells(table)] == [
        ["A", "B", ""],  # (rows filled with empty cells to the table's width: pandoc's
        ["1", "2", ""],  # writers stop at a short row)
        ["3", "4", "5"],
    ]


def test_spans_past_the_tables_edges_are_cut_as_browsers_cut_them():
    (table,) = read(
        '<table>\n<tr><td rowspan="50">tall</td><td colspan="3">wide</td></tr>\n'
        "<tr><td>a</td></tr>\n</table>\n"
    )
    assert cells(table) == [
        [("tall", 2, 1, "AlignDefault"), ("wide", 1, 3, "AlignDefault")],
        [("a", 1, 1, "AlignDefault"), ("", 1, 1, "AlignDefault"), ("", 1, 1, "AlignDefault")],
    ]


@pytest.mark.parametrize(
    "source",
    [
        "<table><tr><td><table><tr><td>x</td></tr></table></td></tr></table>\n",  # nested
        "<table>\n<tr><td>x</td></tr>\n",  # never closed
        "<table>\nLoose words.\n<tr><td>x</td></tr>\n</table>\n",  # text outside the cells
        "<table>\n<tr><td>x</td></tr>\n<div>y</div>\n</table>\n",  # another tag
    ],
)
def test_a_table_that_is_not_well_formed_is_left_as_it_was(source):
    raw = pandoc.parse_chapters([("t.md", source)])[0]
    assert read_html_tables(copy.deepcopy(raw)) == raw


def test_an_html_table_is_a_numbered_table_in_both_drafts_and_no_raw_html(tmp_path):
    chapter = (
        "# Results\n\nAs @tbl:cases shows.\n\n::: {.wide}\n"
        '<table id="tbl:cases">\n<caption>Cases by year</caption>\n'
        "<tr><th>Year</th><th>Cases</th></tr>\n"
        "<tr><td>2003</td><td>12</td></tr>\n"
        '<tr><td colspan="2">Total: 12</td></tr>\n</table>\n:::\n\nAfter.\n\n'
        '<table><tr><td rowspan="9">tall</td><td colspan="4">wide</td></tr>\n'
        "<tr><td>short</td></tr><tr></tr></table>\n"
    )
    root = one_chapter(tmp_path, "Tables", "Results", "results.md", chapter)
    problems = [d.rule for d in run_checks(load_project(root)).diagnostics]
    assert "dropped-raw" not in problems and "unknown-crossref" not in problems
    out = {p.suffix[1:]: p for p in build(root, BuildOptions()).outputs}
    table, _ = [b for b in walk(pandoc_docx_json(out["docx"])["blocks"]) if b.get("t") == "Table"]
    assert cells(table)[-1] == [("Total: 12", 1, 2, "AlignDefault")]
    for text in (docx_text(out["docx"]), pdf_text(out["pdf"])):
        assert "As table 1 shows." in text and "Table 1: Cases by year" in text
    assert "Year Cases 2003 12 Total: 12" in " ".join(pdf_text(out["pdf"]).split())
