"""Queries to the committee: `[the passage]{.query question="…"}` in a chapter.

The passage reads as ordinary text in the source and in every draft. The DOCX carries the
question as a Word comment by the document's author, anchored on the passage; the PDF prints it
in the margin beside the passage; a final build (`build --final`) and a redline leave it out.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

from paperbuild.crossref import str_inlines

if TYPE_CHECKING:  # ast imports this module
    from paperbuild.ast import Node

QUERY = "query"
QUERY_MARK = b'"query"'


def is_query(node: Node) -> bool:
    """Return whether an element is a query span."""
    return node.get("t") == "Span" and QUERY in node["c"][0][1]


def question(node: Node) -> str:
    """Return a query span's question ("" when it has none)."""
    return " ".join(dict(node["c"][0][2]).get("question", "").split())


def strip(node: Node) -> list[Node] | None:
    """Return a query's passage alone (None for any other element)."""
    return node["c"][1] if is_query(node) else None


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
            {"t": "Span", "c": [["", ["comment-start"], attrs], text]},
            *node["c"][1],
            {"t": "Span", "c": [["", ["comment-end"], [["id", cid]]], []]},
        ]

    return comment


def as_margin_notes(node: Node) -> list[Node] | None:
    """Return a query as the template's `#pbquery[passage][question]` (a margin note)."""
    if not is_query(node):
        return None
    return [
        {"t": "RawInline", "c": ["typst", "#pbquery["]},
        *node["c"][1],
        {"t": "RawInline", "c": ["typst", "]["]},
        *str_inlines(question(node) or "(no question written)"),
        {"t": "RawInline", "c": ["typst", "]"]},
    ]


def without_queries(blocks: list[Node]) -> list[Node]:
    """Return a copy of blocks with every query reduced to its passage."""
    from paperbuild.ast import rewrite

    copied: list[Node] = copy.deepcopy(blocks)
    result: list[Node] = rewrite(copied, strip, SPANS)
    return result


SPANS = frozenset(("Span",))
