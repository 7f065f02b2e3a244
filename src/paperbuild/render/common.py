"""What the DOCX and PDF renderers share: options, templates, the document as pandoc reads it."""

from __future__ import annotations

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
    blocks: list[dict[str, Any]] | None = None,
    *,
    target: str | None = None,
    meta: dict[str, Any] | None = None,
    queries: bool = True,
) -> bytes:
    """Return the pandoc JSON of the document's blocks (or of the given blocks) and metadata.

    With a target ("docx" or "typst"), caption numbers and equations take that format's form,
    on a copy read back from the JSON (the document is shared by every renderer), and only
    when the document has any.
    """
    chosen = document.blocks if blocks is None else blocks
    payload = {"pandoc-api-version": pandoc.api_version(), "meta": meta or {}, "blocks": chosen}
    data = pa.dumps(payload)
    finish = target is not None and any(mark in data for mark in FINISHED_MARKS)
    ask = target is not None and QUERY_MARK in data
    quote = target == "docx" and QUOTED_MARK in data
    short = target == "typst" and NOTE_MARK in data and _noted_titles(chosen)
    sized = target == "typst" and COLUMN_WIDTH_MARK in data
    if not finish and not ask and not quote and not short and not sized:
        return data
    copy = pa.loads(data)
    if quote:
        copy["blocks"] = rewrite(copy["blocks"], _quoted(document.meta.lang), QUOTED)
    if finish and target is not None:
        copy["blocks"] = rewrite(copy["blocks"], FINISHERS[target], FINISHED_KINDS)
    if ask:
        copy["blocks"] = rewrite(copy["blocks"], _query_form(document, target, queries), SPANS)
    if short:
        copy["blocks"] = rewrite(copy["blocks"], _outlined_without_notes, NOTED)
    if sized:  # (the DOCX's tables are sized by its furniture, `docx.fit_table`)
        copy["blocks"] = fitted_tables(copy["blocks"])
    return pa.dumps(copy)


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
