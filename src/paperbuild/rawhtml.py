"""Inline HTML that pandoc keeps raw, read as what it means (`<sup>2</sup>`, `<br>`, `<img>`).

Manuscripts that passed through a web editor or GitHub carry such tags. pandoc's DOCX and Typst
writers drop raw HTML, so `H<sub>2</sub>O` would read as "H2O" and an `<img>` would vanish; a
matched pair of tags becomes the element itself, a line break a line break, an image an image.
Tags left unmatched stay raw (the check reports them: `dropped-raw`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.crossref import auto_identifier, unused_identifier
from paperbuild.pandoc_ast import INLINES_AT, Node, rewrite

TAG = re.compile(r"^<\s*(/)?\s*([A-Za-z][A-Za-z0-9]*)\b([^<>]*?)(/)?\s*>$", re.S)
ATTRIBUTE = re.compile(r"""([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
WRAPPING = {
    "sup": "Superscript",
    "sub": "Subscript",
    "u": "Underline",
    "ins": "Underline",
    "b": "Strong",
    "strong": "Strong",
    "i": "Emph",
    "em": "Emph",
    "s": "Strikeout",
    "del": "Strikeout",
    "strike": "Strikeout",
    "a": "Link",
    "mark": "Mark",  # (pandoc's `[text]{.mark}`: highlighted in both drafts)
    "kbd": "Code",
    "code": "Code",
    "samp": "Code",
    "tt": "Code",
    "cite": "Emph",  # (a work's title, set in italic as browsers set it)
    "var": "Emph",
    "dfn": "Emph",
    "q": "Quoted",
    "abbr": "Span",  # (the words kept, the tags' attributes not)
    "small": "Span",
    "big": "Span",
    "font": "Span",
}
MARK = re.compile(r"<\s*/?\s*(?:br|img|" + "|".join(WRAPPING) + r")\b", re.I)
HOLDERS = frozenset(INLINES_AT) - {"Image"}


def has_inline_html(text: str) -> bool:
    """Return whether a chapter's text may hold one of the tags read here (a quick test)."""
    return MARK.search(text) is not None


def read_inline_html(blocks: list[Node]) -> list[Node]:
    """Return the blocks with matched inline HTML tags, `<br>` and `<img>` made elements."""
    folded: list[Node] = rewrite(blocks, _fold_element, HOLDERS)
    return folded


def _fold_element(node: Node) -> Node | None:
    inlines = pa.inlines(node)
    if not any(pa.kind(n) == "RawInline" for n in inlines):
        return None
    folded = _fold(inlines)
    return pa.with_inlines(node, folded) if folded != inlines else None


def _tag(node: Node) -> tuple[str, bool, dict[str, str]] | None:
    """Return (tag name, closing?, attributes) of a raw HTML inline that is one tag."""
    if pa.kind(node) != "RawInline" or pa.raw_format(node).lower() not in ("html", "html5"):
        return None
    m = TAG.match(pa.text(node).strip())
    if m is None:
        return None
    return m.group(2).lower(), bool(m.group(1)), _attributes(m.group(3))


def _attributes(source: str) -> dict[str, str]:
    """Return a tag's attributes by lower-cased name, their values unescaped."""
    return {
        k.lower(): html.unescape(next(v for v in vs if v is not None))
        for k, *vs in ATTRIBUTE.findall(source)
    }


def _fold(inlines: list[Node]) -> list[Node]:
    out: list[Node] = []
    opened: list[tuple[str, int, dict[str, str]]] = []  # (tag, where in out, attributes)
    for node in inlines:
        tag = _tag(node)
        if tag is None:
            out.append(node)
            continue
        name, closing, attributes = tag
        if name == "br" and not closing:
            out.append(pa.element("LineBreak"))
        elif name == "img" and not closing and attributes.get("src"):
            alt = pa.str_inlines(attributes.get("alt", ""))
            out.append(pa.image(pa.Attr(), alt, attributes["src"], attributes.get("title", "")))
        elif name in WRAPPING and not closing:
            opened.append((name, len(out), attributes))
            out.append(node)
        elif name in WRAPPING and opened and opened[-1][0] == name:
            _, start, attributes = opened.pop()
            content = out[start + 1 :]
            del out[start:]
            out.append(_wrapped(name, content, attributes))
        else:
            out.append(node)
    return out


def _wrapped(name: str, content: list[Node], attributes: dict[str, str]) -> Node:
    """Return the element a matched pair of tags means, around content."""
    kind = WRAPPING[name]
    if kind == "Link":  # (its `id` kept, on a span, which both writers anchor: a converter's
        href = attributes.get("href", "")  # notes link by it; Word's HTML names it `name`)
        ident = attributes.get("id") or attributes.get("name", "")
        if href:
            content = [pa.link(pa.Attr(), content, href, attributes.get("title", ""))]
        return pa.span(pa.Attr(ident), content) if ident or not href else content[0]
    if kind == "Mark":
        return pa.span(pa.Attr("", ["mark"]), content)
    if kind == "Span":
        return pa.span(pa.Attr(), content)
    if kind == "Code":
        return pa.code(pa.Attr(), pa.stringify(content))
    if kind == "Quoted":
        return {"t": "Quoted", "c": [{"t": "DoubleQuote"}, content]}
    return pa.element(kind, content)


# --- tables --------------------------------------------------------------------------------

TABLE_TAGS = frozenset(
    {"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col"}
)
TAGS = re.compile(r"\s*(<[^<>]*>)\s*")
ALIGN = {"left": "AlignLeft", "right": "AlignRight", "center": "AlignCenter"}


def _no_attr() -> list[Any]:
    """Return an empty pandoc Attr, a list of its own (later stages may change one in place)."""
    return ["", [], []]


def has_html_table(text: str) -> bool:
    """Return whether a chapter's text may hold an HTML table (a quick test)."""
    return re.search(r"<\s*table\b", text, re.I) is not None


def read_html_tables(blocks: list[Node]) -> list[Node]:
    """Return the blocks with each HTML table pandoc left as raw tags around the cells' text
    made a table (caption, header, body and footer rows, column and row spans, alignments);
    a table read otherwise (nested, unclosed, text outside its cells) stays as it was.

    The lists are changed in place (`pandoc_ast.rewrite_lists`).
    """
    pa.rewrite_lists(blocks, lambda v: _tables_in(v) if any(map(_opens_table, v)) else None)
    return blocks


def _opens_table(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and _is_html(node)
        and re.match(r"\s*<\s*table\b", pa.text(node), re.I) is not None
    )


def _tables_in(blocks: list[Node]) -> list[Node]:
    """Return the block list with each well-formed run from `<table>` to `</table>` a Table."""
    out: list[Node] = []
    i = 0
    while i < len(blocks):
        end = _table_end(blocks, i) if _opens_table(blocks[i]) else None
        if end is None:
            out.append(blocks[i])
            i += 1
            continue
        table = _table(blocks[i : end + 1])  # (a table inside it: None, all of it kept raw)
        out += [table] if table is not None else blocks[i : end + 1]
        i = end + 1
    return out


def _is_html(node: Node) -> bool:
    return node.get("t") == "RawBlock" and pa.raw_format(node).lower() in ("html", "html5")


def _table_end(blocks: list[Node], start: int) -> int | None:
    """Return the index of the block that closes the table opened at start (None: none)."""
    depth = 0
    for j in range(start, len(blocks)):
        for tag in TAGS.findall(pa.text(blocks[j])) if _is_html(blocks[j]) else ():
            found = _tag_of(tag)
            if found is not None and found[0] == "table":
                depth += -1 if found[1] else 1
                if depth == 0:
                    return j
    return None


@dataclass
class _Reading:
    """A table being read: its rows by part, the cell and caption being filled."""

    attrs: dict[str, str]
    caption: list[Node] | None = None
    rows: dict[str, list[list[Any]]] = field(
        default_factory=lambda: {"thead": [], "tbody": [], "tfoot": []}
    )
    part: str = "tbody"
    row: list[Any] | None = None
    cell: list[Node] | None = None
    in_caption: bool = False


def _table(run: list[Node]) -> Node | None:
    """Return the table the run of raw tags and cell blocks makes, else None."""
    reading: _Reading | None = None
    for node in run:
        if _is_html(node):
            source = pa.text(node)
            tags = TAGS.findall(source)
            if "".join(TAGS.sub("", source).split()) or not tags:
                return None  # something besides tags
            for tag in tags:
                found = _tag_of(tag)
                if found is None:
                    return None
                name, closing, attributes = found
                if name == "table" and not closing:
                    if reading is not None:
                        return None  # a table inside a table
                    reading = _Reading(attrs=attributes)
                elif reading is None or not _step(reading, name, closing, attributes):
                    return None
        elif reading is not None and reading.cell is not None:
            reading.cell.append(node)
        elif reading is not None and reading.in_caption:
            reading.caption = (reading.caption or []) + pa.inlines(node)
        else:
            return None  # text outside every cell
    return _made(reading) if reading is not None and reading.row is None else None


def _tag_of(tag: str) -> tuple[str, bool, dict[str, str]] | None:
    """Return a table tag's name, whether it closes, and its attributes (None: not one)."""
    m = TAG.match(tag)
    if m is None or m.group(2).lower() not in TABLE_TAGS:
        return None
    return m.group(2).lower(), bool(m.group(1)), _attributes(m.group(3))


def _step(reading: _Reading, name: str, closing: bool, attributes: dict[str, str]) -> bool:
    """Read one tag into the table; return False where the tags do not make one."""
    if name in ("col", "colgroup"):
        return reading.cell is None
    if name == "caption":
        if reading.cell is not None or reading.row is not None:
            return False
        reading.in_caption = not closing
        return True
    if name in ("thead", "tbody", "tfoot"):
        reading.cell = None
        if reading.row is not None:  # (an unclosed row ends with its part)
            reading.rows[reading.part].append(reading.row)
            reading.row = None
        reading.part = "tbody" if closing else name
        return True
    if name == "tr":
        reading.cell = None  # (a row's start or end closes its last cell, as HTML does)
        if closing and reading.row is None:
            return False
        if reading.row is not None:  # (and the start of a row the row before)
            reading.rows[reading.part].append(reading.row)
        reading.row = None if closing else []
        return True
    if name in ("th", "td"):
        if reading.row is None:
            return False
        if closing and reading.cell is None:
            return False
        reading.cell = None  # (an unclosed cell is closed by the next, as HTML does)
        if closing:
            return True
        reading.cell = []
        reading.row.append([name, attributes, reading.cell])
        return True
    if name == "table" and closing:
        reading.cell = None
        if reading.row is not None:
            reading.rows[reading.part].append(reading.row)
            reading.row = None
        return True
    return False


def _span(attributes: dict[str, str], name: str) -> int:
    value = attributes.get(name, "1").strip()
    return max(1, min(int(value), 1000)) if value.isdigit() else 1


def _cell(name: str, attributes: dict[str, str], content: list[Node]) -> list[Any]:
    """Return a pandoc cell (spans 1 by 1: `_placed` sets them)."""
    style = attributes.get("style", "")
    found = re.search(r"text-align\s*:\s*(\w+)", style)
    align = ALIGN.get((attributes.get("align") or (found.group(1) if found else "")).lower())
    return [_no_attr(), {"t": align or "AlignDefault"}, 1, 1, content]


Grid = list[list[tuple[list[Any], int, int]]]  # per row: (cell, row span, column span)


def _grid(part: list[list[Any]]) -> tuple[Grid, int]:
    """Return a part's rows with each cell's spans as laid out (a row span cut at the part's
    last row, a column span at a cell from a row above), and how many columns the part fills."""
    spans = [
        [(min(_span(a, "rowspan"), len(part) - r), _span(a, "colspan")) for _, a, _ in row]
        for r, row in enumerate(part)
    ]
    placed, taken = pa.table_grid(spans)
    grid: Grid = [
        [(_cell(*cell), down, across) for cell, (_, down, across) in zip(row, at, strict=True)]
        for row, at in zip(part, placed, strict=True)
    ]
    width = max((c for _, c in taken), default=-1) + 1
    return _without_covered_rows(grid, taken, width), width


def _without_covered_rows(grid: Grid, taken: set[tuple[int, int]], width: int) -> Grid:
    """Return the grid without the rows cells from above cover whole, their spans shortened
    (a row with no cell of its own: pandoc's Typst writer makes it a syntax error)."""
    covered = [
        r
        for r, placed in enumerate(grid)
        if not placed and all((r, c) in taken for c in range(width))
    ]
    if not covered:
        return grid
    kept: Grid = []
    for r, placed in enumerate(grid):
        if r in covered:
            continue
        kept.append(
            [
                (cell, down - sum(r < x < r + down for x in covered), across)
                for cell, down, across in placed
            ]
        )
    return kept


def _rows(grid: Grid, columns: int) -> list[Any]:
    """Return a part's pandoc rows, each filled to the table's columns with empty cells (the
    writers index a table's grid: a short row or a span past its edge stops them)."""
    _, taken = pa.table_grid([[(down, across) for _, down, across in row] for row in grid])
    rows = []
    for r, placed in enumerate(grid):
        cells = [[*cell[:2], down, across, cell[4]] for cell, down, across in placed]
        cells += [
            [_no_attr(), {"t": "AlignDefault"}, 1, 1, []]
            for c in range(columns)
            if (r, c) not in taken
        ]
        rows.append([_no_attr(), cells])
    return rows


def _made(reading: _Reading) -> Node | None:
    """Return the pandoc Table of what was read (None when it has no cells)."""
    head, body, foot = (reading.rows[p] for p in ("thead", "tbody", "tfoot"))
    if not head:  # leading rows of header cells only are the header, as browsers show them
        while body and body[0] and all(name == "th" for name, _, _ in body[0]):
            head.append(body.pop(0))
    grids = [_grid(part) for part in (head, body, foot)]
    columns = max(width for _, width in grids)
    if not columns:
        return None
    (head_grid, _), (body_grid, _), (foot_grid, _) = grids
    ident = reading.attrs.get("id", "")
    caption = [pa.plain(reading.caption)] if reading.caption else []
    return {
        "t": "Table",
        "c": [
            [ident, [], []],
            [None, caption],
            [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}] for _ in range(columns)],
            [_no_attr(), _rows(head_grid, columns)],
            [[_no_attr(), 0, [], _rows(body_grid, columns)]],
            [_no_attr(), _rows(foot_grid, columns)],
        ],
    }


# --- blocks --------------------------------------------------------------------------------

HEADINGS = {f"h{n}": n for n in range(1, 7)}
CONTAINERS = frozenset(
    {"section", "article", "main", "header", "footer", "aside", "nav", "address", "center"}
    | {"div", "figure", "figcaption", "hgroup", "details", "summary", "html", "body"}
)
BLOCK_TAGS = frozenset(
    {"p", "ul", "ol", "li", "blockquote", "dl", "dt", "dd", "head", *HEADINGS, *CONTAINERS}
)
ENDS_OPEN_P = BLOCK_TAGS | {"hr", "pre", "table"}  # (HTML closes a <p> before any of these)
IMPLIED = {"p": ENDS_OPEN_P, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}}
LIST_STYLES = {
    "1": "Decimal",
    "a": "LowerAlpha",
    "A": "UpperAlpha",
    "i": "LowerRoman",
    "I": "UpperRoman",
}
MOST_NESTED = 40  # HTML elements read one inside another; one deeper stays a raw tag
PRE = re.compile(r"\s*<pre\b[^<>]*>(.*)</pre>\s*", re.S | re.I)
HTML_BLOCK = re.compile(r"<\s*(?:" + "|".join(sorted(BLOCK_TAGS | {"hr", "pre"})) + r")\b", re.I)


def has_html_blocks(text: str) -> bool:
    """Return whether a chapter's text may hold a block-level HTML tag (a quick test)."""
    return HTML_BLOCK.search(text) is not None


def read_html_blocks(blocks: list[Node]) -> list[Node]:
    """Return the blocks with block-level HTML that pandoc left as raw tags around its text
    made the elements it means: `<p>` a paragraph, `<h2>` a heading, `<ul>`/`<ol>`/`<li>` a
    list, `<dl>` a definition list, `<blockquote>` a quotation, `<pre>` code, `<hr>` a rule,
    `<figure>` a figure, `<section>` and its kin a division.

    A web editor's or a converter's export carries such tags; pandoc's writers drop them, so a
    list's items ran together into one line. A tag that does not nest (an element left open, a
    closing tag of nothing open) stays raw, and the check reports it; what it held is read as
    if it were not there. A `<p>` or `<li>` closes where HTML closes it. The lists are changed
    in place (`pandoc_ast.rewrite_lists`).
    """
    used = {pa.ident(h) for h in pa.walk(blocks) if pa.kind(h) == "Header"}

    def read(value: list[Any]) -> list[Node] | None:
        if any(isinstance(v, dict) and _opens_block(v) for v in value):
            return _Blocks(used).read(value)
        return None

    pa.rewrite_lists(blocks, read)
    return blocks


def _opens_block(node: Node) -> bool:
    return _block_tags(node) is not None or _code(node) is not None


def _code(node: Node) -> Node | None:
    """Return the code block a raw `<pre>` block holds (its tags dropped), else None."""
    found = PRE.fullmatch(pa.text(node)) if _is_html(node) else None
    if found is None:
        return None
    return pa.code_block(pa.Attr(), html.unescape(re.sub(r"<[^<>]*>", "", found.group(1))))


def _block_tags(node: Node) -> list[tuple[str, bool, dict[str, str], str]] | None:
    """Return the block tags a raw HTML block is made of (None: not only such tags)."""
    if not _is_html(node):
        return None
    source = pa.text(node)
    tags = TAGS.findall(source)
    if not tags or "".join(TAGS.sub("", source).split()):
        return None
    found = []
    for tag in tags:
        m = TAG.match(tag)
        name = m.group(2).lower() if m else ""
        if m is None or name not in BLOCK_TAGS | {"hr"}:
            return None
        found.append((name, bool(m.group(1)), _attributes(m.group(3)), tag))
    return found


@dataclass
class _Open:
    """An element being read: its tag, attributes and the blocks inside it so far."""

    name: str
    attributes: dict[str, str]
    tag: str = ""  # (as written: an element left open is left as this raw tag)
    children: list[Any] = field(default_factory=list)


class _Blocks:
    """Reads one block list's raw block tags into elements (`used`: the heading ids taken)."""

    def __init__(self, used: set[str]) -> None:
        self.used = used
        self.stack = [_Open("", {})]  # (at most MOST_NESTED deep)

    def read(self, blocks: list[Node]) -> list[Node]:
        """Return the blocks with their tags made elements."""
        for node in blocks:
            tags = _block_tags(node)
            if tags is None:
                self.stack[-1].children.append(_code(node) or node)
            for tag in tags or ():
                self._tag(*tag)
        while len(self.stack) > 1:  # an open paragraph or item ends with its list; another
            if self.stack[-1].name in IMPLIED:  # element left open stays a raw tag (reported)
                self._close()
            else:
                left = self.stack.pop()
                self.stack[-1].children += [pa.raw_block("html", left.tag), *left.children]
        return _flat(self.stack[0].children)

    def _tag(self, name: str, closing: bool, attributes: dict[str, str], source: str) -> None:
        if not closing:
            while name in IMPLIED.get(self.stack[-1].name, ()):
                self._close()
            if name == "hr":
                self.stack[-1].children.append(pa.element("HorizontalRule"))
            elif len(self.stack) > MOST_NESTED:  # (left raw: the drafts' JSON has a depth)
                self.stack[-1].children.append(pa.raw_block("html", source))
            else:
                self.stack.append(_Open(name, attributes, source))
            return
        if all(o.name != name for o in self.stack[1:]):  # (closing nothing open: raw, reported)
            self.stack[-1].children.append(pa.raw_block("html", f"</{name}>"))
            return
        while self.stack[-1].name != name:  # (what is open inside it ends with it, as in HTML)
            self._close()
        self._close()

    def _close(self) -> None:
        """Make the innermost open element what it means, in the element around it."""
        done = self.stack.pop()
        self.stack[-1].children += self._made(done)

    def _made(self, done: _Open) -> list[Any]:
        """Return what an element read whole stands for: blocks, or an item as a tuple."""
        children = done.children
        ident = done.attributes.get("id", "")
        if done.name in ("li", "dt", "dd"):
            return [(done.name, _flat(children))]
        blocks = _flat(children)
        if done.name == "p":  # (one left open holds what follows it: those blocks stay)
            return [_as_para(b) for b in blocks]
        if done.name in HEADINGS:
            if len(blocks) != 1 or not _only_text(blocks):
                return blocks
            inlines = pa.inlines(blocks[0])
            ident = ident or unused_identifier(auto_identifier(pa.stringify(inlines)), self.used)
            classes = done.attributes.get("class", "").split()
            return [pa.header(HEADINGS[done.name], pa.Attr(ident, classes), inlines)]
        if done.name in ("ul", "ol"):
            return [_list(done)]
        if done.name == "dl":
            return [pa.element("DefinitionList", _definitions(children))]
        if done.name == "blockquote":
            return [pa.element("BlockQuote", [_as_para(b) for b in blocks])]
        if done.name == "figure":
            return [_figure(ident, blocks)]
        if done.name == "head":  # (a whole web page's: its title, styles and scripts, unshown)
            return []
        if done.name == "figcaption":  # (the figure around it takes it as its caption)
            return [pa.div(pa.Attr("", ["figcaption"]), blocks)]
        held = [_as_para(b) for b in blocks]
        if done.name != "div" and not ident:  # (`<section>`, `<article>`: what they hold)
            return held
        return [pa.div(pa.Attr(ident, done.attributes.get("class", "").split()), held)]


def _list(done: _Open) -> Node:
    """Return the bullet or numbered list a `<ul>` or `<ol>` read whole makes."""
    items = [content for kind, content in _items(done.children) if kind == "li"]
    if done.name == "ul":
        return pa.element("BulletList", items)
    start = done.attributes.get("start", "1").strip()
    style = LIST_STYLES.get(done.attributes.get("type", "1"), "Decimal")
    first = int(start) if start.isdigit() and len(start) <= 9 else 1  # (as Markdown's)
    return pa.element("OrderedList", [[first, {"t": style}, {"t": "DefaultDelim"}], items])


def _flat(children: list[Any]) -> list[Node]:
    """Return the blocks read, an item outside its list (`<li>` alone) as its blocks."""
    return [b for c in children for b in (c[1] if isinstance(c, tuple) else [c])]


def _only_text(blocks: list[Node]) -> bool:
    return bool(blocks) and all(pa.kind(b) in ("Plain", "Para") for b in blocks)


def _inlines_of(blocks: list[Node]) -> list[Node]:
    """Return the inlines of text blocks, one line break between two."""
    out: list[Node] = []
    for b in blocks:
        if out:
            out.append(pa.element("SoftBreak"))
        out += pa.inlines(b)
    return out


def _as_para(block: Node) -> Node:
    return pa.para(pa.inlines(block)) if pa.kind(block) == "Plain" else block


def _items(children: list[Any]) -> list[tuple[str, list[Node]]]:
    """Return a list's items; text between them is an item of its own (as browsers show it)."""
    return [c if isinstance(c, tuple) else ("li", [c]) for c in children]


def _definitions(children: list[Any]) -> list[Any]:
    """Return a definition list's entries: each term with the definitions after it."""
    entries: list[Any] = []
    for kind, content in _items(children):
        if kind == "dt" or not entries:
            entries.append([_inlines_of(content) if kind == "dt" else [], []])
        if kind != "dt":
            entries[-1][1].append(content)
    return entries


def _figure(ident: str, blocks: list[Node]) -> Node:
    """Return a figure: its body, and its caption from the `<figcaption>` inside."""
    captions = [b for b in blocks if pa.kind(b) == "Div" and pa.has_class(b, "figcaption")]
    body = [b for b in blocks if not any(b is c for c in captions)]
    caption = [block for c in captions for block in pa.blocks(c)]
    caption = [pa.plain(_inlines_of(caption))] if _only_text(caption) else caption
    return pa.figure(pa.Attr(ident), None, caption, body)
