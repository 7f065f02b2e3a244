"""What citeproc is sent of the blocks that cite: each citation with the words around it that
pandoc's citeproc reads, the rest left out, and put back into citeproc's output afterwards.

pandoc's citeproc changes a document in four ways, and each reads only what is near a citation
(pandoc's `Text.Pandoc.Citeproc`): it renders each citation from the citations before it (their
order and note numbers, which `cite.number_notes` has written into them); `mvPunct` moves a
note citation past the punctuation that follows it, reading the two elements before the
citation and the punctuation after it; `deNote` turns a citation inside an author's note into
a parenthesised or comma-joined one, reading the note's shape (one paragraph that opens with
the citation, or not) and, after an author-in-text citation, the first word after it; and it
fills the bibliography's `#refs` div. So in each list of inlines that holds a citation, what is
sent is the citation's window: three elements before it, and after it every element up to the
first space or word, the word after that space, and one more. An element outside every window
that holds a citation deeper down (an author's note, an emphasis) is sent with its own lists
so cut. Everything else is left out: a block with no citation becomes an empty `Plain` (a
note's number of blocks is kept), and a run of inlines with none is left out of its list.
Between the parts sent from one list stands a marker span, so that citeproc's output can be cut
at the same places and the words left out put back between the parts.

A cited paragraph of the medium benchmark paper is sent as a tenth of its JSON, and citeproc
takes 0.23 s instead of 0.38. A test compares, on generated paragraphs of every kind of
context, what citeproc makes of the blocks sent whole and of the blocks so cut and put back.
Where the output cannot be cut as the input was (a marker lost or added), `restored` says so
and the caller sends the blocks whole.
"""

from __future__ import annotations

from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.pandoc_ast import Node

INLINE_KINDS = frozenset(
    "Str Emph Underline Strong Strikeout Superscript Subscript SmallCaps Quoted Cite Code Space "
    "SoftBreak LineBreak Math RawInline Link Image Note Span".split()
)
BLOCK_KINDS = frozenset(
    "Plain Para LineBlock CodeBlock RawBlock BlockQuote OrderedList BulletList DefinitionList "
    "Header HorizontalRule Table Figure Div".split()
)
BEFORE = 3  # elements sent before a citation (mvPunct reads two)
AFTER = 1  # elements sent after the first word that follows a citation's punctuation
# spans that citeproc rewrites wherever they stand, as it does a citation
CITEPROC_CLASSES = (["csl-note"], ["csl-quoted"])
MARKER = "pb\ue000cited "  # a marker span's identifier: no Markdown attribute can write it

WHOLE = ("whole",)  # citeproc's output stands: a citation, the bibliography's div, a heading
Plan = tuple[Any, ...]


class _Mismatch(Exception):
    """citeproc's output is not cut as its input was."""


def reduced(blocks: list[Node]) -> tuple[list[Node], Plan]:
    """Return what citeproc is sent of these blocks and the plan that `restored` follows (all
    of them, where they nest too deeply to be cut)."""
    try:
        sent, plan = _Cutter().blocks(blocks)
    except RecursionError:
        return blocks, WHOLE
    return sent, plan or WHOLE


def restored(blocks: list[Node], rendered: list[Node], plan: Plan) -> list[Node] | None:
    """Return the blocks as citeproc would have made them whole, from its output for what was
    sent (`rendered`, the bibliography left off), or None where that output cannot be cut."""
    try:
        found: list[Node] = _restored(blocks, rendered, plan)
    except (_Mismatch, RecursionError):
        return None
    return found


def _seen(node: Node) -> bool:
    """Return whether citeproc rewrites this element wherever it stands."""
    t = pa.kind(node)
    if t == "Cite":
        return True
    if t != "Span":
        return False
    a = pa.attr(node)
    return a is not None and not a.ident and not a.pairs and a.classes in CITEPROC_CLASSES


def _is_refs(node: Node) -> bool:
    """Return whether the element is the bibliography's place (citeproc fills it)."""
    ident = pa.ident(node) if pa.kind(node) == "Div" else ""
    return ident == "refs" or ident.endswith("__refs")


def _decisive(node: Node) -> bool:
    """Return whether the element ends the run of punctuation after a citation: a space or
    a word (a letter or digit first: never punctuation in any Unicode version)."""
    t = pa.kind(node)
    if t in pa.SPACES:
        return True
    return t == "Str" and pa.text(node)[:1].isalnum()


def _marker(n: int) -> Node:
    """Return the n-th marker span: where something was left out, or between two parts."""
    return pa.span(pa.Attr(f"{MARKER}{n}"), [pa.str_node("\ue000")])


def _is_marker(node: Any) -> bool:
    """Return whether the element is one of the marker spans."""
    return pa.kind(node) == "Span" and pa.ident(node).startswith(MARKER)


class _Cutter:
    """Cuts a tree into what citeproc is sent (each value: what is sent, and its plan; a
    plan of None: nothing in it that citeproc changes)."""

    def __init__(self) -> None:
        self.markers = 0

    def value(self, value: Any) -> tuple[Any, Plan | None]:
        if type(value) is dict:
            return self.node(value)
        if type(value) is list and value:
            first = pa.kind(value[0])
            if first in INLINE_KINDS:
                return self.inlines(value)
            if first in BLOCK_KINDS:
                return self.blocks(value)
            parts = [self.value(v) for v in value]  # (a part with no plan is sent as it is)
            if all(p is None for _, p in parts):
                return value, None
            return [s for s, _ in parts], ("list", [p for _, p in parts])
        return value, None

    def node(self, node: Node) -> tuple[Any, Plan | None]:
        t = pa.kind(node)
        if t in pa.LEAVES:
            return node, None
        if _seen(node) or _is_refs(node):
            return node, WHOLE
        inner = pa.content(node)
        if inner is None:
            return node, None
        sent, plan = self.value(inner)
        if plan is None:
            return node, None
        return pa.element(t, sent), ("node", plan)

    def blocks(self, blocks: list[Node]) -> tuple[list[Node], Plan | None]:
        parts = [self.value(b) for b in blocks]
        if all(p is None for _, p in parts):
            return blocks, None
        sent: list[Node] = []
        plans: list[Plan | None] = []
        for block, (cut, plan) in zip(blocks, parts, strict=True):
            if plan is None and pa.kind(block) == "Header":  # (a heading makes a section)
                plan = WHOLE
            sent.append(cut if plan is not None else pa.plain([]))
            plans.append(plan)
        return sent, ("blocks", plans)

    def inlines(self, inlines: list[Node]) -> tuple[list[Node], Plan | None]:
        parts = [
            (v, None) if pa.kind(v) in pa.LEAVES else self.node(v) if type(v) is dict else (v, None)
            for v in inlines
        ]
        if all(p is None for _, p in parts):
            return inlines, None
        kept = _windows(inlines, [p is WHOLE for _, p in parts])
        if all(kept):
            return inlines, WHOLE
        sent: list[Node] = []
        segments: list[tuple[str, int, int, Plan | None]] = []
        i, n = 0, len(inlines)
        while i < n:
            j = i + 1
            if kept[i]:
                while j < n and kept[j]:
                    j += 1
                segment: tuple[str, int, int, Plan | None] = ("window", i, j, None)
            elif parts[i][1] is not None:
                segment = ("island", i, j, parts[i][1])
            else:
                while j < n and not kept[j] and parts[j][1] is None:
                    j += 1
                segment = ("left", i, j, None)
            if segments:
                self.markers += 1
                sent.append(_marker(self.markers))
            if segment[0] == "window":
                sent.extend(inlines[i:j])
            elif segment[0] == "island":
                sent.append(parts[i][0])
            segments.append(segment)
            i = j
        return sent, ("inlines", segments)


def _windows(inlines: list[Node], cites: list[bool]) -> list[bool]:
    """Return, for each element, whether it stands in a citation's window."""
    n = len(inlines)
    kept = [False] * n
    for i in (i for i, c in enumerate(cites) if c):
        for k in range(max(0, i - BEFORE), i + 1):
            kept[k] = True
        j = i + 1
        while j < n and not _decisive(inlines[j]):  # the punctuation mvPunct may move
            j += 1
        if j < n and pa.kind(inlines[j]) == "Space":  # deNote reads the word after the space
            j += 1
            while j < n and pa.kind(inlines[j]) == "Space":
                j += 1
        for k in range(i + 1, min(n, j + 1 + AFTER)):
            kept[k] = True
    return kept


def _restored(original: Any, out: Any, plan: Plan | None) -> Any:
    if plan is None:
        return original
    if plan is WHOLE:
        return out
    tag, inner = plan
    if tag == "node":
        if pa.kind(out) != pa.kind(original):
            raise _Mismatch
        return pa.element(pa.kind(out), _restored(pa.content(original), pa.content(out), inner))
    if type(out) is not list:
        raise _Mismatch
    if tag == "inlines":
        return _restored_inlines(original, out, inner)
    if len(out) != len(original):
        raise _Mismatch
    if tag == "list":  # (what was sent whole in a list stands as citeproc gave it back)
        pairs = zip(original, out, inner, strict=True)
        return [v if p is None else _restored(o, v, p) for o, v, p in pairs]
    return [_restored(o, v, p) for o, v, p in zip(original, out, inner, strict=True)]


def _restored_inlines(
    original: list[Node], out: list[Node], segments: list[tuple[str, int, int, Plan | None]]
) -> list[Node]:
    pieces: list[list[Node]] = [[]]
    for v in out:
        if _is_marker(v):
            pieces.append([])
        else:
            pieces[-1].append(v)
    if len(pieces) != len(segments):
        raise _Mismatch
    whole: list[Node] = []
    for piece, (kind, start, end, plan) in zip(pieces, segments, strict=True):
        if kind == "window":
            whole.extend(piece)
        elif kind == "left":
            if piece:
                raise _Mismatch
            whole.extend(original[start:end])
        else:
            if len(piece) != 1:
                raise _Mismatch
            whole.append(_restored(original[start], piece[0], plan))
    return whole
