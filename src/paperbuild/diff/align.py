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

from paperbuild.ast import Node, stringify
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
    count = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            if v.get("t") == "Str":
                count += any(ch.isalnum() for ch in v["c"])
            elif "c" in v:
                stack.append(v["c"])
    return count


def notes_in(value: Any) -> int:
    """Return the number of footnotes in an AST value."""
    text = json.dumps(value)
    return text.count('"t": "Note"')


def similarity(a: Node, b: Node) -> float:
    """Return how alike two blocks are (shared words over all words), 0 to 1."""
    wa, wb = _words(a), _words(b)
    if not wa and not wb:
        return 1.0 if a.get("t") == b.get("t") else 0.0
    return 2 * len(wa & wb) / (len(wa) + len(wb))


def _words(block: Node) -> set[str]:
    found: set[str] = set()
    stack: list[Any] = [block]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            if v.get("t") == "Str":
                found.add(v["c"].lower())
            elif "c" in v:
                stack.append(v["c"])
    return found


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
        return {"t": "Span", "c": [["", [kind], attrs], marked]}

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
            inlines = block["c"][2] if t == "Header" else block["c"]
            spanned = [self.span(kind, inlines)] if inlines else []
            if t == "Header":
                ident = block["c"][1][0] if kind == INSERT else ""
                new = {"t": "Header", "c": [block["c"][0], [ident, *block["c"][1][1:]], spanned]}
            else:
                new = {"t": t, "c": spanned}
            self.marks += 1
            return [{"t": "Div", "c": [[f"{MARK_PREFIX}{kind}-{self.marks}", [], []], [new]]}]
        if t == "CodeBlock":
            code = {"t": "Code", "c": [block["c"][0], block["c"][1]]}
            return self._mark_one({"t": "Para", "c": [code]}, kind)
        if t in ("BlockQuote",):
            return [{"t": t, "c": self.mark(block["c"], kind)}]
        if t == "Div":
            return [{"t": "Div", "c": [block["c"][0], self.mark(block["c"][1], kind)]}]
        if t == "BulletList":
            return [{"t": t, "c": [self.mark(item, kind) for item in block["c"]]}]
        if t == "OrderedList":
            return [{"t": t, "c": [block["c"][0], [self.mark(i, kind) for i in block["c"][1]]]}]
        if t == "DefinitionList":
            return [
                {
                    "t": t,
                    "c": [
                        [[self.span(kind, term)], [self.mark(d, kind) for d in defs]]
                        for term, defs in block["c"]
                    ],
                }
            ]
        if t == "Table":
            return [self._map_cells(block, lambda blocks: self.mark(blocks, kind))]
        if t == "Figure":
            short, caption = block["c"][1]
            marked_caption = [short, self.mark(caption, kind)]
            return [{"t": t, "c": [block["c"][0], marked_caption, self.mark(block["c"][2], kind)]}]
        if t == "LineBlock":
            return self._mark_one({"t": "Para", "c": _join_lines(block["c"])}, kind)
        # raw blocks and rules carry no words: an inserted one is kept, a deleted one dropped
        return [block] if kind == INSERT else []

    @staticmethod
    def _map_cells(table: Node, fn: Any) -> Node:
        attr, caption, specs, head, bodies, foot = table["c"]

        def rows(rs: list[Any]) -> list[Any]:
            return [[r[0], [[c[0], c[1], c[2], c[3], fn(c[4])] for c in r[1]]] for r in rs]

        new_head = [head[0], rows(head[1])]
        new_bodies = [[b[0], b[1], rows(b[2]), rows(b[3])] for b in bodies]
        new_foot = [foot[0], rows(foot[1])]
        new_caption = [caption[0], fn(caption[1])]
        return {"t": "Table", "c": [attr, new_caption, specs, new_head, new_bodies, new_foot]}

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
        if a["t"] != b["t"] or (a["t"] == "Header" and a["c"][0] != b["c"][0]):
            return 0.0
        if a["t"] == "Table" and _shape(a) != _shape(b):
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
        if t in ("Para", "Plain"):
            result: Node = {"t": t, "c": self.inlines(old["c"], new["c"])}
        elif t == "Header":
            result = {
                "t": t,
                "c": [new["c"][0], new["c"][1], self.inlines(old["c"][2], new["c"][2])],
            }
        elif t == "BlockQuote":
            result = {"t": t, "c": self.blocks(old["c"], new["c"])}
        elif t == "Div":
            result = {"t": t, "c": [new["c"][0], self.blocks(old["c"][1], new["c"][1])]}
        elif t == "BulletList":
            result = {"t": t, "c": self.items(old["c"], new["c"])}
        elif t == "OrderedList":
            result = {"t": t, "c": [new["c"][0], self.items(old["c"][1], new["c"][1])]}
        elif t == "Table" and _shape(old) == _shape(new):
            result = self._cells(old, new)
        elif t == "Figure":
            caption = self.blocks(old["c"][1][1], new["c"][1][1])
            content = self.blocks(old["c"][2], new["c"][2])
            result = {"t": t, "c": [new["c"][0], [new["c"][1][0], caption], content]}
        elif t == "DefinitionList":
            result = {"t": t, "c": self.definitions(old["c"], new["c"])}
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

        Differ._map_cells(old, collect)
        it = iter(olds)
        return Differ._map_cells(new, lambda blocks: self.blocks(next(it), blocks))

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
        if a["t"] in ("Span", "Link", "Quoted"):
            return key(a["c"][0]) == key(b["c"][0]) and (
                a["t"] != "Link" or key(a["c"][2]) == key(b["c"][2])
            )
        return True

    def _inside(self, old: Node, new: Node) -> Node:
        t = new["t"]
        if t == "Note":
            return {"t": "Note", "c": self.blocks(old["c"], new["c"])}
        if t in ("Span", "Quoted"):
            return {"t": t, "c": [new["c"][0], self.inlines(old["c"][1], new["c"][1])]}
        if t == "Link":
            return {"t": t, "c": [new["c"][0], self.inlines(old["c"][1], new["c"][1]), new["c"][2]]}
        return {"t": t, "c": self.inlines(old["c"], new["c"])}


def _notes_marked(inlines: list[Node], kind: str, attrs: list[list[str]]) -> list[Node]:
    """Return inlines whose notes have their text marked too (an inserted note's words are)."""
    out: list[Node] = []
    for node in inlines:
        if node.get("t") == "Note":
            out.append({"t": "Note", "c": [_block_marked(b, kind, attrs) for b in node["c"]]})
        elif node.get("t") in ("Emph", "Strong", "Underline", "SmallCaps", "Strikeout"):
            out.append({"t": node["t"], "c": _notes_marked(node["c"], kind, attrs)})
        else:
            out.append(node)
    return out


def _block_marked(block: Node, kind: str, attrs: list[list[str]]) -> Node:
    """Return a note's paragraph with its words in one tracked-change span."""
    if block.get("t") in ("Para", "Plain") and block["c"]:
        return {"t": block["t"], "c": [{"t": "Span", "c": [["", [kind], attrs], block["c"]]}]}
    return block


def _fields_as_text(inlines: list[Node]) -> list[Node]:
    """Return inlines with caption numbers as plain text: a Word field cannot be tracked."""
    out: list[Node] = []
    for node in inlines:
        if node.get("t") == "Span" and "pb-caption-label" in node["c"][0][1]:
            out.extend(node["c"][1])
        else:
            out.append(node)
    return out


def _shape(table: Node) -> tuple[Any, ...]:
    """Return a table's structure: column count and each row's cell count."""
    _, _, specs, head, bodies, foot = table["c"]
    rows = head[1] + [r for b in bodies for r in b[2] + b[3]] + foot[1]
    return (len(specs), tuple(len(r[1]) for r in rows))


def _join_lines(lines: list[list[Node]]) -> list[Node]:
    out: list[Node] = []
    for i, line in enumerate(lines):
        if i:
            out.append({"t": "LineBreak"})
        out.extend(line)
    return out
