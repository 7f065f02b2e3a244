"""The typed AST layer on literal pandoc JSON: accessors, copies, walk, rewrite."""

from __future__ import annotations

from paperbuild import pandoc_ast as pa

ATTR = ["fig:a", ["wide"], [["points", "1.1"], ["width", "50%"]]]


def words(text: str) -> list[dict]:
    return pa.str_inlines(text)


def header() -> dict:
    return {"t": "Header", "c": [2, ["h", ["x"], []], words("A heading")]}


def table(cells: list[str], caption: str = "Counts") -> dict:
    """Return a one-row table, one cell per text."""
    row = [
        ["", [], []],
        [[["", [], []], {"t": "AlignDefault"}, 1, 1, [pa.plain(words(t))]] for t in cells],
    ]
    specs = [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}] for _ in cells]
    return {
        "t": "Table",
        "c": [
            ["tbl:a", [], []],
            [None, [pa.plain(words(caption))]],
            specs,
            [["", [], []], []],
            [[["", [], []], 0, [], [row]]],
            [["", [], []], []],
        ],
    }


def test_attributes_of_every_element_that_has_one():
    image = {"t": "Image", "c": [ATTR, words("alt"), ["a.png", "t"]]}
    assert pa.attr(image) == pa.Attr("fig:a", ["wide"], [["points", "1.1"], ["width", "50%"]])
    assert pa.attr(image).get("width") == "50%" and pa.attr(image).get("none", "-") == "-"
    assert pa.ident(header()) == "h" and pa.has_class(header(), "x")
    assert pa.attr(pa.para(words("x"))) is None and pa.ident(pa.para([])) == ""
    assert pa.ident(table(["a"])) == "tbl:a"
    assert pa.with_attr(header(), pa.Attr("new"))["c"][0] == 2  # level kept
    assert pa.ident(pa.with_attr(header(), pa.Attr("new"))) == "new"


def test_content_accessors_read_where_each_element_keeps_it():
    quoted = {"t": "Quoted", "c": [{"t": "DoubleQuote"}, words("said")]}
    link = pa.link(pa.Attr(), words("here"), "#sec", "title")
    assert pa.stringify(pa.inlines(header())) == "A heading"
    assert pa.stringify(pa.inlines(quoted)) == "said" and pa.double_quoted(quoted)
    assert pa.target(link) == ("#sec", "title") and pa.stringify(pa.inlines(link)) == "here"
    assert pa.target(pa.with_target(link, "#other")) == ("#other", "title")
    assert pa.blocks(pa.note([pa.para(words("n"))]))[0]["t"] == "Para"
    assert pa.text(pa.math("x^2", display=True)) == "x^2" and pa.math_display(
        pa.math("x", display=True)
    )
    assert pa.text(pa.raw_block("openxml", "<w:p/>")) == "<w:p/>"
    assert pa.raw_format(pa.raw_inline("HTML", "<b>")) == "HTML"
    assert pa.level(header()) == 2
    assert pa.inlines(pa.str_node("x")) == [] and pa.blocks(pa.para([])) == []
    ordered = {
        "t": "OrderedList",
        "c": [[1, {"t": "Decimal"}, {"t": "Period"}], [[pa.para(words("i"))]]],
    }
    assert pa.stringify(pa.items(ordered)) == "i"
    assert pa.items(pa.with_items(ordered, [])) == [] and pa.with_items(ordered, [])["c"][0][0] == 1


def test_copies_leave_the_original_alone():
    h = header()
    new = pa.with_inlines(h, words("Other"))
    assert pa.stringify(h) == "A heading" and pa.stringify(new) == "Other"
    tree = [h]
    copied = pa.copy_tree(tree)
    pa.set_text(pa.inlines(copied[0])[0], "Changed")
    assert pa.stringify(tree) == "A heading"


def test_map_block_lists_reaches_every_container_and_nothing_else():
    def shout(blocks: list[dict]) -> list[dict]:
        return [pa.para(words(pa.stringify(b).upper())) for b in blocks]

    inner = [pa.para(words("quiet"))]
    for node in (
        pa.div(pa.Attr("d"), inner),
        pa.element("BlockQuote", inner),
        pa.element("BulletList", [inner, inner]),
        {"t": "DefinitionList", "c": [[words("term"), [inner]]]},
    ):
        assert "QUIET" in pa.stringify(pa.map_block_lists(node, shout)), node["t"]
        assert "QUIET" not in pa.stringify(node)  # the original is not changed
    para = pa.para(words("quiet"))
    assert pa.map_block_lists(para, shout) is para
    assert pa.ident(pa.map_block_lists(pa.div(pa.Attr("d"), inner), shout)) == "d"


def test_map_cells_visits_cells_in_order_then_the_caption():
    seen: list[str] = []

    def note(blocks: list[dict]) -> list[dict]:
        seen.append(pa.stringify(blocks))
        return blocks

    t = table(["one", "two"])
    assert pa.map_cells(t, note) == t
    assert seen == ["one", "two", "Counts"]
    assert pa.table_shape(t) == (2, (2,)) and pa.table_shape(table(["a"])) == (1, (1,))


def test_walk_yields_elements_in_document_order_and_can_stay_outside():
    doc = [
        pa.para([*words("a"), pa.note([pa.para(words("in note"))]), *words("b")]),
        header(),
    ]
    strs = [pa.text(n) for n in pa.walk(doc) if n["t"] == "Str"]
    assert strs == ["a", "in", "note", "b", "A", "heading"]
    outside = [pa.text(n) for n in pa.walk(doc, into=lambda n: n["t"] != "Note") if n["t"] == "Str"]
    assert outside == ["a", "b", "A", "heading"]
    cite = pa.cite([{"citationId": "k", "citationPrefix": words("see")}], words("[@k]"))
    assert [n["t"] for n in pa.walk(cite)] == ["Cite", "Str"]  # the record is not entered


def test_rewrite_keeps_replaces_and_splices_bottom_up():
    doc = [pa.para([pa.span(pa.Attr(), words("x y")), pa.space(), *words("z")])]

    def unwrap(node: dict) -> list[dict] | None:
        return pa.inlines(node)

    assert pa.stringify(pa.rewrite(pa.copy_tree(doc), unwrap, frozenset({"Span"}))) == "x y z"
    out = pa.rewrite(pa.copy_tree(doc), unwrap, frozenset({"Span"}))
    assert [n["t"] for n in pa.inlines(out[0])] == ["Str", "Space", "Str", "Space", "Str"]

    def upper(node: dict) -> dict | None:
        return pa.str_node(pa.text(node).upper()) if pa.text(node) != "y" else None

    assert pa.stringify(pa.rewrite(pa.copy_tree(doc), upper, frozenset({"Str"}))) == "X y Z"


def test_stringify_reads_as_a_reader_does():
    para = pa.para(
        [
            {"t": "Quoted", "c": [{"t": "SingleQuote"}, words("it")]},
            pa.space(),
            pa.code(pa.Attr(), "x = 1"),
            pa.note([pa.para(words("hidden"))]),
        ]
    )
    assert pa.stringify(para) == "‘it’ x = 1"
    assert pa.image_targets([pa.para([{"t": "Image", "c": [ATTR, [], ["a.png", ""]]}])]) == [
        "a.png"
    ]


def test_chained_steps_give_what_one_walk_per_step_gives():
    def unwrap(node: dict) -> list[dict] | None:
        return pa.inlines(node) if pa.has_class(node, "x") else None

    def upper(node: dict) -> dict:
        return pa.str_node(pa.text(node).upper())

    def tag_links(node: dict) -> dict:
        return pa.with_target(node, "#tagged")

    def doc() -> list[dict]:
        inner = [pa.link(pa.Attr(), words("go"), "#a"), pa.space(), *words("on")]
        return [
            pa.para([pa.span(pa.Attr("", ["x"]), inner), pa.span(pa.Attr("", ["y"]), words("k"))])
        ]

    steps = [
        (unwrap, frozenset({"Span"})),
        (upper, frozenset({"Str"})),
        (tag_links, frozenset({"Link"})),
    ]
    one_by_one = doc()
    for fn, kinds in steps:
        one_by_one = pa.rewrite(one_by_one, fn, kinds)
    assert pa.rewrite(doc(), *pa.chained(*steps)) == one_by_one
    assert pa.stringify(one_by_one) == "GO ONK"  # (no space between the two spans)
    assert pa.target(pa.inlines(one_by_one[0])[0]) == ("#tagged", "")


def merged(inlines: list[dict]) -> list[dict]:
    """Return the inlines after merged_words, read back."""
    import json

    return json.loads(pa.merged_words(pa.dumps(inlines)))


def test_merged_words_joins_what_pandocs_docx_writer_joins_and_nothing_else():
    note = {"t": "Note", "c": [pa.para(words("a note here"))]}
    emph = pa.element("Emph", words("b c"))
    inlines = [*words("one two"), pa.str_node("x"), note, pa.space(), *words("after it"), emph]
    assert merged(inlines) == [
        pa.str_node("one twox"),  # Str Space Str and Str Str
        {"t": "Note", "c": [pa.para([pa.str_node("a note here")])]},  # inside, too
        pa.space(),  # a Space after a non-Str stays a run of its own
        pa.str_node("after it"),
        pa.element("Emph", [pa.str_node("b c")]),
    ]
    soft = [pa.str_node("a"), {"t": "SoftBreak"}, pa.str_node("b"), pa.space()]
    assert merged(soft) == soft  # only Space is merged, and only between two Strs


def test_merged_words_keeps_a_task_box_and_escapes_whole():
    box = [pa.str_node("☐"), pa.space(), *words('say "hi" \\ now')]
    assert merged(box) == [pa.str_node("☐"), pa.space(), pa.str_node('say "hi" \\ now')]
    assert merged([pa.str_node("☒"), pa.space(), pa.str_node("x")])[0] == pa.str_node("☒")


def _nested(depth: int) -> list[object]:
    value: list[object] = [pa.str_node("deep")]
    for _ in range(depth):
        value = [{"t": "BlockQuote", "c": value}]
    return value


def test_json_round_trips_what_orjson_writes_and_what_it_refuses():
    tree = [{"t": "Para", "c": [pa.str_node("Andrés — 東京 ☐"), {"t": "Space"}]}]
    assert (
        pa.dumps(tree)
        == '[{"t":"Para","c":[{"t":"Str","c":"Andrés — 東京 ☐"},{"t":"Space"}]}]'.encode()
    )
    assert pa.loads(pa.dumps(tree)) == tree
    # orjson stops at 254 levels and at a lone surrogate; json writes them, as it always did
    deep = _nested(400)
    assert pa.loads(pa.dumps(deep)) == deep
    assert pa.dumps(["\ud800"]) == b'["\\ud800"]' and pa.loads(b'["\\ud800"]') == ["\ud800"]
    assert pa.copy_tree(deep) == deep and pa.copy_tree(deep) is not deep


def test_json_too_deep_for_both_readers_is_a_recursion_error_and_not_json_a_value_error():
    import pytest

    with pytest.raises(RecursionError):
        pa.loads(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError):
        pa.loads(b'{"t": "Str", "c": ')


def test_image_targets_finds_images_anywhere_and_none_in_words_that_look_like_one():
    looks_like = pa.para([pa.str_node('{"t":"Image","c":[["",[],[]],[],["fake.png",""]]}')])
    assert pa.image_targets([looks_like]) == []
    image = {"t": "Image", "c": [ATTR, [], ["deep.png", ""]]}
    nested = {
        "t": "BlockQuote",
        "c": [{"t": "Div", "c": [ATTR, [pa.para([pa.note([pa.para([image])])])]]}],
    }
    assert pa.image_targets([looks_like, nested, pa.para([image])]) == ["deep.png", "deep.png"]
    assert pa.image_targets([*_nested(300), pa.para([image])]) == ["deep.png"]  # (json's text)


def test_each_blocks_json_is_held_in_no_more_than_its_size():
    """A draft keeps each block's JSON for its renderers: orjson's short outputs each hold a
    4 KB buffer, which the large bench paper's 4,000 blocks made 16 MB."""
    import tracemalloc

    blocks = [pa.para(pa.str_inlines(f"A short paragraph, number {i}.")) for i in range(1000)]
    tracemalloc.start()
    try:
        each = pa.dumps_each(blocks)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert each == [pa.dumps(b) for b in blocks]
    assert held < sum(len(x) + 100 for x in each)
