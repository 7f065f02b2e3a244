"""The differ on literal ASTs: what is marked, what is counted, what is left alone."""

from __future__ import annotations

from paperbuild import pandoc_ast as pa
from paperbuild.diff.align import DELETE, INSERT, Differ
from paperbuild.render.tracked import MARK_PREFIX


def para(text: str, *extra: dict) -> dict:
    return pa.para([*pa.str_inlines(text), *extra])


def changes(blocks: list[dict], kind: str) -> list[str]:
    """Return the text of each change span of a kind, in order."""
    return [
        pa.stringify(pa.inlines(n))
        for n in pa.walk(blocks)
        if n["t"] == "Span" and pa.has_class(n, kind)
    ]


def differ() -> Differ:
    return Differ(author="A", date="2026-01-01T00:00:00Z")


def test_a_changed_word_is_one_deletion_and_one_insertion():
    d = differ()
    out = d.blocks([para("the old text stays")], [para("the new text stays")])
    assert changes(out, DELETE) == ["old"] and changes(out, INSERT) == ["new"]
    assert (d.stats.words_added, d.stats.words_removed, d.stats.paragraphs_changed) == (1, 1, 1)
    assert pa.stringify(out).replace("old", "").split() == "the new text stays".split()


def test_identical_blocks_come_back_untouched_and_uncounted():
    d = differ()
    blocks = [para("one"), pa.header(1, pa.Attr("h"), pa.str_inlines("Two"))]
    assert d.blocks(blocks, pa.copy_tree(blocks)) == blocks
    assert not d.stats.changed and d.samples == []


def test_a_deleted_heading_gives_up_its_identifier_an_inserted_one_keeps_it():
    d = differ()
    gone = pa.header(2, pa.Attr("gone"), pa.str_inlines("Old heading"))
    new = pa.header(2, pa.Attr("new"), pa.str_inlines("Fresh title words"))
    out = d.blocks([gone], [new])
    headers = [n for n in pa.walk(out) if n["t"] == "Header"]
    assert sorted(pa.ident(h) for h in headers) == ["", "new"]
    assert all(pa.ident(b).startswith(MARK_PREFIX) for b in out)  # each wrapped: its ¶ marked


def test_a_note_added_inside_a_paragraph_is_counted_and_its_text_marked():
    d = differ()
    note = pa.note([para("a fresh remark")])
    out = d.blocks([para("text here")], [para("text here", note)])
    assert d.stats.notes_added == 1 and d.stats.words_added == 3
    inserted = [n for n in pa.walk(out) if n["t"] == "Span" and pa.has_class(n, INSERT)]
    assert any(n["t"] == "Note" for n in pa.walk(inserted))
    in_note = [pa.stringify(pa.blocks(n)) for n in pa.walk(out) if n["t"] == "Note"]
    assert in_note == ["a fresh remark"]
    assert "a fresh remark" in changes(
        [b for n in pa.walk(out) if n["t"] == "Note" for b in pa.blocks(n)], INSERT
    )


def test_a_table_of_one_shape_is_diffed_cell_by_cell():
    def table(cells: list[str]) -> dict:
        cell = [
            [["", [], []], {"t": "AlignDefault"}, 1, 1, [pa.plain(pa.str_inlines(t))]]
            for t in cells
        ]
        specs = [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}] for _ in cells]
        body = [["", [], []], 0, [], [[["", [], []], cell]]]
        return {
            "t": "Table",
            "c": [["", [], []], [None, []], specs, [["", [], []], []], [body], [["", [], []], []]],
        }

    d = differ()
    out = d.blocks([table(["2003", "old"])], [table(["2003", "new"])])
    assert changes(out, DELETE) == ["old"] and changes(out, INSERT) == ["new"]
    assert pa.table_shape(out[0]) == (2, (2,))


def test_unrelated_blocks_are_marked_whole_not_paired():
    d = differ()
    out = d.blocks([para("apples pears plums")], [para("entirely different words here")])
    assert changes(out, DELETE) == ["apples pears plums"]
    assert changes(out, INSERT) == ["entirely different words here"]
    assert d.samples[0] == (DELETE, "apples pears plums")
