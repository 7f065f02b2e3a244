"""Tables' column widths, the same in both formats: each column at least its longest word."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.pandoc_ast import Node, rewrite
from paperbuild.render.ooxml import EMU_PER_CM, EMU_PER_TWIP
from paperbuild.render.style import TABLE_INSET, TABLE_SIZE, TEXT_WIDTH_CM

TWIPS_PER_CHAR = 118  # a wide character of the 9.5 pt table text (bold in headers), in twips
CELL_MARGINS = 2 * 115  # Word's default left and right cell margins
TEXT_WIDTH = int(TEXT_WIDTH_CM * EMU_PER_CM) // EMU_PER_TWIP  # twips, as the DOCX sizes them


Spanning = list[tuple[int, int, str]]  # a cell across columns: its first, how many, its text
# A table whose longest words do not fit the text width is set smaller, text and cell margins
# alike, down to this share of the table text's size (9.5 pt → 5.5 pt); its last columns ran
# off the page in both drafts (30 short columns: the last five were not on the page).
LEAST_SCALE = 0.58
LEAST_SIZE = int(2 * TABLE_SIZE * LEAST_SCALE + 0.5) / 2  # (points, to a half point: 5.5)


def fitting(widths: Sequence[int], width: int) -> list[int]:
    """Return the column widths made narrower alike to fit the text width, where they do not
    (at the least text size, a word may then break in its cell: it stays on the page)."""
    total = sum(widths)
    return list(widths) if total <= width else [w * width // total for w in widths]


def table_scale(widths: Sequence[int], width: int) -> float:
    """Return the share of its size a table's text is set at for its columns to fit the text
    width: 1 when they do, else as much smaller as needed (to a half point, at least
    LEAST_SCALE)."""
    total = sum(widths)
    if total <= width:
        return 1.0
    return max(int(2 * TABLE_SIZE * width / total) / 2, LEAST_SIZE) / TABLE_SIZE


def column_widths(
    texts: list[list[str]],
    width: int,
    spanning: Sequence[tuple[int, int, str]] = (),
    indents: Sequence[int] = (),
) -> list[int]:
    """Return column widths (twips): each at least its longest word, the rest by text length;
    then a cell across columns has room for its longest word too, the columns widened alike.
    `indents`: per column, what its cells' text is indented by (a list's items), in twips."""
    widths = _widths(texts, width, indents)
    for first, across, text in spanning:
        short = _least([text]) - sum(widths[first : first + across])
        for i in range(first, min(first + across, len(widths))) if short > 0 else ():
            widths[i] += short // across + (i - first < short % across)
    return widths


def _least(column: list[str]) -> int:
    """Return the width (twips) a column's longest word needs."""
    longest = max((_ems(word) for text in column for word in text.split()), default=1.0)
    return int(longest * TWIPS_PER_CHAR) + CELL_MARGINS


def _widths(texts: list[list[str]], width: int, indents: Sequence[int] = ()) -> list[int]:
    """Return column widths (twips): each at least its longest word and indent, the rest by
    text length."""
    indented = [*indents, *[0] * (len(texts) - len(indents))]
    least = [_least(column) + indent for column, indent in zip(texts, indented, strict=True)]
    wanted = [
        int(max((_ems(text) for text in column), default=1.0) * TWIPS_PER_CHAR)
        + CELL_MARGINS
        + indent
        for column, indent in zip(texts, indented, strict=True)
    ]
    if sum(wanted) <= width:  # everything fits on one line: as wide as the text, no wider
        return wanted
    if sum(least) >= width:  # too many columns: the longest words decide
        return least
    spare = width - sum(least)
    extra = [w - m for w, m in zip(wanted, least, strict=True)]
    total = sum(extra) or 1
    return [m + spare * e // total for m, e in zip(least, extra, strict=True)]


WIDE = frozenset("mwMWOQDGHNU@%&")


def _ems(text: str) -> float:
    """Return a text's width in average characters: capitals and m or w count more."""
    return sum(1.35 if ch in WIDE else 1.15 if ch.isupper() else 1.0 for ch in text)


COLUMN_WIDTH_MARK = b'{"t":"ColWidth","c":'  # (pandoc JSON: a column given a width)
NOTES = frozenset(("Note",))


def cell_texts(table: Node) -> tuple[list[list[str]], Spanning, list[int]]:
    """Return each column's cells' texts, notes left out, as the DOCX's sizing takes them: a
    cell in the grid column it stands in (after the cells spanning down from rows above); the
    cells across columns apart; and each column's list indent (`list_indent`)."""
    _, _, specs, head, bodies, foot = pa.table_parts(table)
    parts = [head[1], *(part for b in bodies for part in (b[2], b[3])), foot[1]]
    texts: list[list[str]] = [[] for _ in specs]
    indents = [0] * len(specs)
    spanning: Spanning = []
    for rows in parts:
        placed, _ = pa.table_grid([[(max(1, c[2]), max(1, c[3])) for c in row[1]] for row in rows])
        for row, at in zip(rows, placed, strict=True):
            for cell, (column, _, across) in zip(row[1], at, strict=True):
                if column < len(texts):
                    kept = pa.stringify(rewrite(pa.copy_tree(cell[4]), lambda _: [], NOTES))
                    if across == 1:
                        texts[column].append(kept)
                        indents[column] = max(indents[column], list_indent(cell[4]))
                    else:
                        spanning.append((column, across, kept))
    return texts, spanning, indents


LIST_INDENT = 720  # twips a list's level is indented by in the DOCX (pandoc's numbering)
LISTS = frozenset(("BulletList", "OrderedList"))


def list_indent(blocks: list[Node]) -> int:
    """Return how far the deepest list item in a cell's blocks is indented in the DOCX
    (twips; 0: no list), so the column has room for its words beside the bullet."""
    deepest = 0
    stack = [(block, 0) for block in blocks]
    while stack:
        node, depth = stack.pop()
        if pa.kind(node) in LISTS:
            deepest = max(deepest, depth + 1)
            stack += [(b, depth + 1) for item in pa.items(node) for b in item]
        else:
            stack += [(b, depth) for b in pa.blocks(node)]
    return deepest * LIST_INDENT


def fitted(table: Node) -> Node | list[Node] | None:
    """Return a table whose columns pandoc gave widths (a line of its Markdown longer than the
    reader's 80 columns, or a grid table) with widths sized as the DOCX's are, as shares of the
    text width, and one too wide for the page set smaller (`table_scale`) in a Typst scope of
    its own, as the DOCX sets it; None for a table whose columns Typst sizes by their content."""
    a, caption, specs, head, bodies, foot = pa.table_parts(table)
    given = any(spec[1].get("t") == "ColWidth" for spec in specs)
    if not given and len(specs) * LEAST_COLUMN <= TEXT_WIDTH:  # (it fits: no need to look)
        return None
    texts, spanning, indents = cell_texts(table)
    widths = column_widths(texts, TEXT_WIDTH, spanning, indents)
    scale = table_scale(widths, TEXT_WIDTH)
    if not given and scale == 1.0:
        return None
    shares = [{"t": "ColWidth", "c": w / TEXT_WIDTH} for w in fitting(widths, TEXT_WIDTH)]
    new = [[spec[0], share] for spec, share in zip(specs, shares, strict=True)]
    fitted = {"t": "Table", "c": [a, caption, new, head, bodies, foot]}
    if scale == 1.0:
        return fitted
    size = f"{TABLE_SIZE * scale:g}pt"
    inset = f"(x: {TABLE_INSET[0] * scale:.2f}pt, y: {TABLE_INSET[1] * scale:.2f}pt)"
    opening = f"#[#show table: set text(size: {size})\n#set table(inset: {inset})"
    return [pa.raw_block("typst", opening), fitted, pa.raw_block("typst", "]")]


LEAST_COLUMN = 3 * TWIPS_PER_CHAR // 2 + CELL_MARGINS  # (the narrowest a column can be)


def fitted_tables(blocks: Any) -> Any:
    """Return the blocks with each table given widths refitted (`fitted`), in place."""
    return rewrite(blocks, fitted, frozenset(("Table",)))
