"""Queries to the committee: `[the passage]{.query question="…"}` in a chapter.

The passage reads as ordinary text in the source and in every draft. The DOCX carries the
question as a Word comment by the document's author, anchored on the passage; the PDF prints it
in the margin beside the passage; a final build (`build --final`) and a redline leave it out.
"""

from __future__ import annotations

from collections.abc import Callable

from paperbuild import pandoc_ast as pa
from paperbuild.pandoc_ast import Node, rewrite, str_inlines

QUERY = "query"
QUERY_MARK = b'"query"'


def is_query(node: Node) -> bool:
    """Return whether an element is a query span."""
    return pa.kind(node) == "Span" and pa.has_class(node, QUERY)


def question(node: Node) -> str:
    """Return a query span's question ("" when it has none)."""
    a = pa.attr(node)
    return " ".join(a.get("question").split()) if a else ""


def strip(node: Node) -> list[Node] | None:
    """Return a query's passage alone (None for any other element)."""
    return pa.inlines(node) if is_query(node) else None


def as_comments(author: str, date: str) -> Callable[[Node], list[Node] | None]:
    """Return a rewrite turning each query into a Word comment on its passage (pandoc's spans)."""
    ids = iter(range(10**6))
    initials = "".join(word[0] for word in author.split() if word[:1].isalpha())[:4]

    def comment(node: Node) -> list[Node] | None:
        if not is_query(node):
            return None
        cid = str(next(ids))
        attrs = [["id", cid], ["author", author], ["date", date], ["initials", initials]]
        text = str_inlines(question(node) or "(no question written)")
        return [
            pa.span(pa.Attr("", ["comment-start"], attrs), text),
            *pa.inlines(node),
            pa.span(pa.Attr("", ["comment-end"], [["id", cid]]), []),
        ]

    return comment


def as_margin_notes(node: Node) -> list[Node] | None:
    """Return a query as the template's `#pbquery[passage][question]` (a margin note)."""
    if not is_query(node):
        return None
    return [
        pa.raw_inline("typst", "#pbquery["),
        *pa.inlines(node),
        pa.raw_inline("typst", "]["),
        *pa.str_inlines(question(node) or "(no question written)"),
        pa.raw_inline("typst", "]"),
    ]


def without_queries(blocks: list[Node]) -> list[Node]:
    """Return a copy of blocks with every query reduced to its passage."""
    copied: list[Node] = pa.copy_tree(blocks)
    result: list[Node] = rewrite(copied, strip, SPANS)
    return result


SPANS = frozenset(("Span",))
