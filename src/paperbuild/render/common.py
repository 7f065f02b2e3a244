"""What the DOCX and PDF renderers share: options, templates, the document as pandoc reads it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild import crossref, pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.assemble import Document
from paperbuild.furniture import words_for
from paperbuild.load.project import Project
from paperbuild.pandoc_ast import Node, rewrite
from paperbuild.queries import QUERY_MARK, SPANS, as_comments, as_margin_notes, strip
from paperbuild.render.tables import COLUMN_WIDTH_MARK, fitted_tables

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, kw_only=True)
class Previous:
    """For a redline: the draft it is compared with, and who marks the changes when."""

    version: str
    date: str  # as the draft printed it
    author: str
    when: str  # the changes' timestamp


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """How a draft is rendered."""

    line_numbers: bool = False
    watermark: str | None = None
    queries: bool = True  # queries to the committee shown (False: a final draft)
    previous: Previous | None = None  # set for a redline: its furniture shows the change
    report: Callable[[str], None] | None = None  # told what a draft shows otherwise than asked


Renderer = Callable[[Document, Project, RenderOptions], bytes]  # a format's: the draft's bytes


FINISHERS = {
    "docx": crossref.for_docx,
    "typst": crossref.for_typst,
}
FINISHED_KINDS = frozenset(("Span", "Div", "Figure"))


FINISHED_MARKS = (b'"pb-caption-label"', b'"pb-equation"')


def document_json(
    document: Document,
    *,
    target: str | None = None,
    meta: dict[str, Any] | None = None,
    queries: bool = True,
) -> bytes:
    """Return the pandoc JSON of the document's blocks and metadata (`document_pieces`,
    joined)."""
    head, pieces = document_pieces(document, target=target, meta=meta, queries=queries)
    return pa.joined(pieces, head, b"]}")


def document_pieces(
    document: Document,
    front: list[Node] | None = None,
    *,
    target: str | None = None,
    meta: dict[str, Any] | None = None,
    queries: bool = True,
) -> tuple[bytes, list[bytes]]:
    """Return the pandoc JSON of the document's blocks (the `front` blocks first, when given)
    and metadata, in pieces: what precedes the blocks (`{"pandoc-api-version":…,"blocks":[`)
    and each block's JSON.

    With a target ("docx" or "typst"), caption numbers and equations take that format's form,
    on a copy read back from the JSON (the document is shared by every renderer), and only
    when the document has any.
    """
    chosen = document.blocks if not front else front + document.blocks
    head = _head(meta or {})
    pieces = [*pa.dumps_each(front or ()), *document.block_json]
    data = pa.joined(pieces)  # (the blocks' list)
    finish = target is not None and any(mark in data for mark in FINISHED_MARKS)
    ask = target is not None and QUERY_MARK in data
    quote = target == "docx" and QUOTED_MARK in data
    short = target == "typst" and NOTE_MARK in data and _noted_titles(chosen)
    sized = target == "typst" and COLUMN_WIDTH_MARK in data
    unbroken = target == "typst" and UNBROKEN_BYTES.search(data) is not None
    quotes = target == "typst" and data.count(b'"BlockQuote"') > QUOTE_DEPTH
    plains = target == "typst" and PLAIN_AFTER_BLOCK in data
    if not (finish or ask or quote or short or sized or unbroken or quotes or plains):
        return head, pieces
    copy: list[Node] = pa.loads(data)
    del data  # (the copy's JSON is written anew: the large paper's 15 MB let go)
    if quote:
        copy = rewrite(copy, _quoted(document.meta.lang), QUOTED)
    if finish and target is not None:
        copy = rewrite(copy, FINISHERS[target], FINISHED_KINDS)
    if ask:
        copy = rewrite(copy, _query_form(document, target, queries), SPANS)
    if short:
        copy = rewrite(copy, _outlined_without_notes, NOTED)
    if sized:  # (the DOCX's tables are sized by its furniture, `docx.fit_table`)
        copy = fitted_tables(copy)
    if unbroken:
        copy = rewrite(copy, _breakable, TEXTS)
    if quotes:
        _quotes_within(copy, QUOTE_DEPTH)
    if plains:
        _plain_runs_apart(copy)
    return head, pa.dumps_each(copy)


def _head(meta: dict[str, Any]) -> bytes:
    """Return what a document's JSON has before its first block."""
    empty = pa.dumps({"pandoc-api-version": pandoc.api_version(), "meta": meta, "blocks": []})
    return empty[: -len(b"]}")]


PLAIN_AFTER_BLOCK = b'},{"t":"Plain"'  # (in the JSON: a Plain after a block in one list)


def _plain_runs_apart(blocks: list[Node]) -> None:
    """Make Plain blocks that follow one another paragraphs (in place): pandoc's Typst writer
    joins them into one paragraph, where the DOCX sets each apart (a tight definition's second
    paragraph ran on from its first in the PDF)."""

    def apart(value: list[Any]) -> None:
        for i in range(1, len(value)):
            if pa.kind(value[i]) == "Plain" and pa.kind(value[i - 1]) == "Plain":
                value[i - 1] = pa.para(pa.inlines(value[i - 1]))
                value[i] = pa.para(pa.inlines(value[i]))

    pa.rewrite_lists(blocks, apart)


# Block quotes one inside another that the PDF indents, each deeper one set as the last of
# them: Typst stops at the depth of its show rules (a quote 17 deep failed the whole PDF).
QUOTE_DEPTH = 8


def _quotes_within(blocks: list[Node], most: int) -> None:
    """Set each block quote nested deeper than `most` as its content (in place)."""
    stack: list[tuple[Any, int]] = [(blocks, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, list):
            while depth >= most and any(pa.kind(v) == "BlockQuote" for v in value):
                value[:] = [b for v in value for b in _unquoted(v)]
            stack.extend((v, depth) for v in value)
        elif isinstance(value, dict):
            inner = depth + (pa.kind(value) == "BlockQuote")
            stack.extend((v, inner) for v in value.values() if isinstance(v, (list, dict)))


def _unquoted(block: Node) -> list[Node]:
    return pa.blocks(block) if pa.kind(block) == "BlockQuote" else [block]


# A run of this many characters with nowhere to break (a hash, a key, a URL's path without a
# slash) ran past the PDF's right margin, or out of its table cell: Typst breaks lines only
# where Unicode allows, and hyphenates words of the paper's language. Word and LibreOffice
# break such a run at the margin themselves.
UNBROKEN = 40
BREAK_EVERY = 5  # characters between the places the PDF may break such a run
_RUN = r"[!#-,.0-\[\]-~]{" + str(UNBROKEN) + ",}"  # printable ASCII but '"', '-', '/' and '\\'
UNBROKEN_TEXT = re.compile(_RUN)
UNBROKEN_BYTES = re.compile(_RUN.encode())  # (the same, in the JSON: '"' and '\\' end a run)
ZERO_WIDTH_SPACE = "\u200b"  # a place to break, unseen
TEXTS = frozenset(("Str", "Code"))


def _breakable(node: Node) -> Node | None:
    """Return a Str or Code whose long runs may break every few characters, else None.

    Typst would hyphenate the pieces of a word so cut (a URL's "Recor-dId"), so a Str's run
    is written as Typst text that is not hyphenated; code never is.
    """
    text = pa.text(node)
    if len(text) < UNBROKEN or not UNBROKEN_TEXT.search(text):
        return None
    if pa.kind(node) == "Code":
        return pa.with_text(node, UNBROKEN_TEXT.sub(_spaced, text))
    pieces: list[Node] = []
    start = 0
    for run in UNBROKEN_TEXT.finditer(text):
        if run.start() > start:
            pieces.append(pa.str_node(text[start : run.start()]))
        # (a Typst string holds the run as written: it has no '"' and no '\\')
        pieces.append(pa.raw_inline("typst", f'#text(hyphenate: false, "{_spaced(run)}")'))
        start = run.end()
    if start < len(text):
        pieces.append(pa.str_node(text[start:]))
    return pa.span(pa.Attr(), pieces)


def _spaced(run: re.Match[str]) -> str:
    text = run.group(0)
    return ZERO_WIDTH_SPACE.join(
        text[i : i + BREAK_EVERY] for i in range(0, len(text), BREAK_EVERY)
    )


NOTED = frozenset(("Header", "Figure", "Table"))
NOTE_MARK = b'"Note"'


def _outlined_without_notes(node: Node) -> Node | None:
    """Return a heading or caption whose notes are each wrapped in Typst's `#pbnoted[…]`.

    Typst sets a note in the contents or a list of figures wherever its heading or caption is
    listed (a show rule hides the marker, not the note); `pbnoted` leaves it out there. The
    heading's PDF bookmark still reads its words.
    """
    if pa.kind(node) == "Header":
        inlines = pa.inlines(node)
        return pa.with_inlines(node, _noted(inlines)) if _has_note(inlines) else None
    _, caption = pa.caption(node)
    if not caption or pa.kind(caption[0]) not in ("Plain", "Para"):
        return None
    inlines = pa.inlines(caption[0])
    if not _has_note(inlines):
        return None
    return pa.with_caption(node, [pa.with_inlines(caption[0], _noted(inlines)), *caption[1:]])


NOT_ENTERED = NOTED | {"Para", "Plain", "LineBlock", "CodeBlock", "RawBlock", "HorizontalRule"}


def _noted_titles(blocks: list[Node]) -> bool:
    """Return whether a heading or a caption holds a note (the paragraphs are not read)."""
    for node in pa.walk(blocks, into=lambda n: pa.kind(n) not in NOT_ENTERED):
        kind = pa.kind(node)
        if kind == "Header" and _has_note(pa.inlines(node)):
            return True
        if kind in ("Figure", "Table") and _has_note(pa.caption(node)[1]):
            return True
        if kind == "Figure" and _noted_titles(pa.blocks(node)):  # (its sub-figures)
            return True
    return False


def _has_note(value: list[Node]) -> bool:
    return any(pa.kind(n) == "Note" for n in pa.walk(value))


def _noted(inlines: list[Node]) -> list[Node]:
    def wrap(note: Node) -> list[Node]:
        return [pa.raw_inline("typst", "#pbnoted["), note, pa.raw_inline("typst", "]")]

    noted: list[Node] = rewrite(pa.copy_tree(inlines), wrap, frozenset(("Note",)))
    return noted


QUOTED = frozenset(("Quoted",))
QUOTED_MARK = b'"Quoted"'


def _quoted(lang: str) -> Callable[[Node], list[Node]]:
    """Return a rewrite that sets quotations in the paper's language's marks ("«\u00a0…\u00a0»").

    pandoc's DOCX writer always writes English marks; Typst is given the same marks as these.
    """
    double_open, double_close, single_open, single_close = words_for(lang).quotes

    def marks(node: Node) -> list[Node]:
        opening, closing = (
            (double_open, double_close) if pa.double_quoted(node) else (single_open, single_close)
        )
        return [pa.str_node(opening), *pa.inlines(node), pa.str_node(closing)]

    return marks


def _query_form(
    document: Document, target: str | None, shown: bool
) -> Callable[[dict[str, Any]], list[dict[str, Any]] | None]:
    """Return how queries appear: a Word comment, a margin note, or (final drafts) not at all."""
    if not shown:
        return strip
    if target == "docx":
        return as_comments(document.meta.author, f"{document.date.isoformat()}T00:00:00Z")
    return as_margin_notes
