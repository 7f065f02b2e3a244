"""What the DOCX and PDF renderers share: options, templates, the document as pandoc reads it."""

from __future__ import annotations

import json
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
    if not finish and not ask and not quote:
        return data
    copy = json.loads(data)
    if quote:
        copy["blocks"] = rewrite(copy["blocks"], _quoted(document.meta.lang), QUOTED)
    if finish and target is not None:
        copy["blocks"] = rewrite(copy["blocks"], FINISHERS[target], FINISHED_KINDS)
    if ask:
        copy["blocks"] = rewrite(copy["blocks"], _query_form(document, target, queries), SPANS)
    return pa.dumps(copy)


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
