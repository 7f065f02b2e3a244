"""Alignment of two drafts: blocks, then words inside changed blocks, as tracked-change spans.

The output is pandoc AST in which every change is a Span of class `insertion` or `deletion`
(author and date as attributes; pandoc's DOCX writer makes them w:ins / w:del). A whole inserted
or deleted paragraph is also wrapped in a Div whose id starts with `pbchange-` so that the DOCX
step can track its paragraph mark. Accepting every change gives the new draft; rejecting every
change gives the old one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.pandoc_ast import Node, stringify
from paperbuild.render.tracked import MARK_PREFIX

INSERT, DELETE = "insertion", "deletion"
SAMPLES = 3  # changes quoted per section in the summary's details
TEXT_BLOCKS = ("Para", "Plain", "Header")
CONTAINERS = (
    "Emph",
    "Strong",
    "Underline",
    "Strikeout",
    "Superscript",
    "Subscript",
    "SmallCaps",
    "Span",
    "Quoted",
    "Link",
)
WINDOW = 8  # how far ahead a changed block looks for its counterpart


@dataclass
class Stats:
    """What changed in one part of the document."""

    words_added: int = 0
    words_removed: int = 0
    paragraphs_changed: int = 0
    notes_added: int = 0
    notes_removed: int = 0

    def add(self, other: Stats) -> None:
        """Add another part's counts to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def changed(self) -> bool:
        """Return True when anything changed."""
        return any(getattr(self, name) for name in self.__dataclass_fields__)


def key(value: Any) -> str:
    """Return a comparison key for an AST value (whitespace kinds folded)."""
    if isinstance(value, dict) and value.get("t") in ("Space", "SoftBreak"):
        return " "
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def opcodes(old: list[Any], new: list[Any]) -> Sequence[tuple[str, int, int, int, int]]:
    """Return difflib's edit script turning old into new, elements compared by key()."""
    matcher = SequenceMatcher(None, [key(v) for v in old], [key(v) for v in new], autojunk=False)
    return matcher.get_opcodes()


def words_in(value: Any) -> int:
    """Return the number of words (Str with a letter or digit) in an AST value."""
    return sum(
        1 for n in pa.walk(value) if n["t"] == "Str" and any(ch.isalnum() for ch in pa.text(n))
    )


def notes_in(value: Any) -> int:
    """Return the number of footnotes in an AST value."""
    return sum(1 for n in pa.walk(value) if n["t"] == "Note")


def similarity(a: Node, b: Node) -> float:
    """Return how alike two blocks are (shared words over all words), 0 to 1."""
    wa, wb = _words(a), _words(b)
    if not wa and not wb:
        return 1.0 if pa.kind(a) == pa.kind(b) else 0.0
    return 2 * len(wa & wb) / (len(wa) + len(wb))


def _words(block: Node) -> set[str]:
    """Return the distinct words of a block, in lower case."""
    return {pa.text(n).lower() for n in pa.walk(block) if n["t"] == "Str"}


@dataclass
class Differ:
    """Produces redline AST for pairs of block lists, counting what changed."""

    author: str
    date: str
    stats: Stats = field(default_factory=Stats)
    marks: int = 0
    samples: list[tuple[str, str]] = field(default_factory=list)  # the first changes: (kind, text)

    def span(self, kind: str, inlines: list[Node]) -> Node:
        """Return a tracked-change span holding inlines."""
        if kind == INSERT:
            self.stats.words_added += words_in(inlines)
            self.stats.notes_added += notes_in(inlines)
        else:
            self.stats.words_removed += words_in(inlines)
            self.stats.notes_removed += notes_in(inlines)
        if len(self.samples) < SAMPLES:
            text = " ".join(stringify(inlines).split())
            if text:
                self.samples.append((kind, text))
        attrs = [["author", self.author], ["date", self.date]]
        marked = _notes_marked(_fields_as_text(inlines), kind, attrs)
        return pa.span(pa.Attr("", [kind], attrs), marked)

    # ----- whole blocks -------------------------------------------------------------------

    def mark(self, blocks: list[Node], kind: str) -> list[Node]:
        """Return blocks wholly inserted or deleted, every paragraph (and its mark) tracked."""
        out: list[Node] = []
        for block in blocks:
            out.extend(self._mark_one(block, kind))
        return out

    def _mark_one(self, block: Node, kind: str) -> list[Node]:
        t = block["t"]
        if t in TEXT_BLOCKS:
            self.stats.paragraphs_changed += 1
            inlines = pa.inlines(block)
            spanned = [self.span(kind, inlines)] if inlines else []
            new = pa.with_inlines(block, spanned)
            if t == "Header" and kind != INSERT:  # a deleted heading gives up its identifier
                new = pa.with_attr(new, (pa.attr(block) or pa.Attr())._replace(ident=""))
            self.marks += 1
            return [pa.div(pa.Attr(f"{MARK_PREFIX}{kind}-{self.marks}"), [new])]
        if t == "CodeBlock":
            code = pa.code(pa.attr(block) or pa.Attr(), pa.text(block))
            return self._mark_one(pa.para([code]), kind)
        if t == "DefinitionList":
            marked = [
                ([self.span(kind, term)], [self.mark(d, kind) for d in defs])
                for term, defs in pa.definitions(block)
            ]
            return [pa.with_definitions(block, marked)]
        if t in ("BlockQuote", "Div", "BulletList", "OrderedList"):
            return [pa.map_block_lists(block, lambda blocks: self.mark(blocks, kind))]
        if t == "Table":
            return [pa.map_cells(block, lambda blocks: self.mark(blocks, kind))]
        if t == "Figure":
            caption = self.mark(pa.caption(block)[1], kind)
            return [
                pa.with_blocks(pa.with_caption(block, caption), self.mark(pa.blocks(block), kind))
            ]
        if t == "LineBlock":
            return self._mark_one(pa.para(_join_lines(pa.lines(block))), kind)
        # raw blocks and rules carry no words: an inserted one is kept, a deleted one dropped
        return [block] if kind == INSERT else []

    # ----- sequences of blocks ------------------------------------------------------------

    def blocks(self, old: list[Node], new: list[Node]) -> list[Node]:
        """Return the redline of two block lists."""
        out: list[Node] = []
        for tag, i1, i2, j1, j2 in opcodes(old, new):
            if tag == "equal":
                out.extend(new[j1:j2])
            elif tag == "delete":
                out.extend(self.mark(old[i1:i2], DELETE))
            elif tag == "insert":
                out.extend(self.mark(new[j1:j2], INSERT))
            else:
                out.extend(self._pair(old[i1:i2], new[j1:j2]))
        return out

    def _pair(self, olds: list[Node], news: list[Node]) -> list[Node]:
        """Return the redline of a changed run: alike blocks diffed word by word, others marked."""
        out: list[Node] = []
        j = 0
        for block in olds:
            window = range(j, min(len(news), j + WINDOW))
            best = max(window, key=lambda k: self._pairable(block, news[k]), default=None)
            if best is None or self._pairable(block, news[best]) < 0.4:
                out.extend(self.mark([block], DELETE))
                continue
            out.extend(self.mark(news[j:best], INSERT))
            out.extend(self.block(block, news[best]))
            j = best + 1
        out.extend(self.mark(news[j:], INSERT))
        return out

    @staticmethod
    def _pairable(a: Node, b: Node) -> float:
        if a["t"] != b["t"] or (a["t"] == "Header" and pa.level(a) != pa.level(b)):
            return 0.0
        if a["t"] == "Table" and pa.table_shape(a) != pa.table_shape(b):
            return 0.0
        return similarity(a, b) if a["t"] in TEXT_BLOCKS else max(0.5, similarity(a, b))

    # ----- one block against its counterpart ------------------------------------------------

    def block(self, old: Node, new: Node) -> list[Node]:
        """Return the redline of two blocks of the same kind."""
        t = new["t"]
        before = (
            self.stats.words_added,
            self.stats.words_removed,
            self.stats.notes_added,
            self.stats.notes_removed,
        )
        if t in ("Para", "Plain", "Header"):
            result = pa.with_inlines(new, self.inlines(pa.inlines(old), pa.inlines(new)))
        elif t in ("BlockQuote", "Div"):
            result = pa.with_blocks(new, self.blocks(pa.blocks(old), pa.blocks(new)))
        elif t in ("BulletList", "OrderedList"):
            result = pa.with_items(new, self.items(pa.items(old), pa.items(new)))
        elif t == "Table" and pa.table_shape(old) == pa.table_shape(new):
            result = self._cells(old, new)
        elif t == "Figure":
            caption = self.blocks(pa.caption(old)[1], pa.caption(new)[1])
            content = self.blocks(pa.blocks(old), pa.blocks(new))
            result = pa.with_blocks(pa.with_caption(new, caption), content)
        elif t == "DefinitionList":
            result = pa.with_definitions(
                new, self.definitions(pa.definitions(old), pa.definitions(new))
            )
        else:
            return self.mark([old], DELETE) + self.mark([new], INSERT)
        after = (
            self.stats.words_added,
            self.stats.words_removed,
            self.stats.notes_added,
            self.stats.notes_removed,
        )
        if t in TEXT_BLOCKS and after != before:
            self.stats.paragraphs_changed += 1
        return [result]

    def items(self, old: list[list[Node]], new: list[list[Node]]) -> list[list[Node]]:
        """Return the redline of two lists' items."""
        return self._aligned(old, new, self.blocks, self.mark)

    def definitions(self, old: list[Any], new: list[Any]) -> list[Any]:
        """Return the redline of two definition lists, term by term."""

        def pair(a: Any, b: Any) -> Any:
            return [self.inlines(a[0], b[0]), self.items(a[1], b[1])]

        def mark(item: Any, kind: str) -> Any:
            return [[self.span(kind, item[0])], [self.mark(d, kind) for d in item[1]]]

        return self._aligned(old, new, pair, mark)

    @staticmethod
    def _aligned(old: list[Any], new: list[Any], pair: Any, mark: Any) -> list[Any]:
        """Return items aligned: equal kept, replaced paired in order, the rest marked."""
        out: list[Any] = []
        for tag, i1, i2, j1, j2 in opcodes(old, new):
            if tag == "equal":
                out.extend(new[j1:j2])
                continue
            pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            out.extend(pair(old[i1 + k], new[j1 + k]) for k in range(pairs))
            out.extend(mark(item, DELETE) for item in old[i1 + pairs : i2])
            out.extend(mark(item, INSERT) for item in new[j1 + pairs : j2])
        return out

    def _cells(self, old: Node, new: Node) -> Node:
        olds: list[list[Node]] = []

        def collect(blocks: list[Node]) -> list[Node]:
            olds.append(blocks)
            return blocks

        pa.map_cells(old, collect)
        it = iter(olds)
        return pa.map_cells(new, lambda blocks: self.blocks(next(it), blocks))

    # ----- inlines ------------------------------------------------------------------------

    def inlines(self, old: list[Node], new: list[Node]) -> list[Node]:
        """Return the redline of two inline lists, word by word."""
        out: list[Node] = []
        for tag, i1, i2, j1, j2 in opcodes(old, new):
            if tag == "equal":
                out.extend(new[j1:j2])
            elif tag == "delete":
                out.append(self.span(DELETE, old[i1:i2]))
            elif tag == "insert":
                out.append(self.span(INSERT, new[j1:j2]))
            elif i2 - i1 == 1 and j2 - j1 == 1 and self._same_container(old[i1], new[j1]):
                out.append(self._inside(old[i1], new[j1]))
            else:
                out.append(self.span(DELETE, old[i1:i2]))
                out.append(self.span(INSERT, new[j1:j2]))
        return out

    @staticmethod
    def _same_container(a: Node, b: Node) -> bool:
        if a["t"] != b["t"]:
            return False
        if a["t"] == "Note":
            return True
        if a["t"] not in CONTAINERS:
            return False
        if a["t"] == "Quoted":
            return pa.double_quoted(a) == pa.double_quoted(b)
        if a["t"] in ("Span", "Link"):
            return pa.attr(a) == pa.attr(b) and (a["t"] != "Link" or pa.target(a) == pa.target(b))
        return True

    def _inside(self, old: Node, new: Node) -> Node:
        t = new["t"]
        if t == "Note":
            return pa.with_blocks(new, self.blocks(pa.blocks(old), pa.blocks(new)))
        return pa.with_inlines(new, self.inlines(pa.inlines(old), pa.inlines(new)))


def _notes_marked(inlines: list[Node], kind: str, attrs: list[list[str]]) -> list[Node]:
    """Return inlines whose notes have their text marked too (an inserted note's words are)."""
    out: list[Node] = []
    for node in inlines:
        if pa.kind(node) == "Note":
            out.append(pa.note([_block_marked(b, kind, attrs) for b in pa.blocks(node)]))
        elif pa.kind(node) in ("Emph", "Strong", "Underline", "SmallCaps", "Strikeout"):
            out.append(pa.with_inlines(node, _notes_marked(pa.inlines(node), kind, attrs)))
        else:
            out.append(node)
    return out


def _block_marked(block: Node, kind: str, attrs: list[list[str]]) -> Node:
    """Return a note's paragraph with its words in one tracked-change span."""
    if pa.kind(block) in ("Para", "Plain") and pa.inlines(block):
        return pa.with_inlines(block, [pa.span(pa.Attr("", [kind], attrs), pa.inlines(block))])
    return block


def _fields_as_text(inlines: list[Node]) -> list[Node]:
    """Return inlines with caption numbers as plain text: a Word field cannot be tracked."""
    out: list[Node] = []
    for node in inlines:
        if pa.kind(node) == "Span" and pa.has_class(node, "pb-caption-label"):
            out.extend(pa.inlines(node))
        else:
            out.append(node)
    return out


def _join_lines(lines: list[list[Node]]) -> list[Node]:
    out: list[Node] = []
    for i, line in enumerate(lines):
        if i:
            out.append(pa.element("LineBreak"))
        out.extend(line)
    return out
