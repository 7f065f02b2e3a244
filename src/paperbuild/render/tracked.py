"""Tracked-change details pandoc's DOCX writer leaves out: paragraph marks and unique ids."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paperbuild.render.oxml import OxmlElement, qn

MARK_PREFIX = "pbchange-"
KINDS = {"insertion": "w:ins", "deletion": "w:del"}


def track_paragraph_marks(doc: Any) -> None:
    """Track the paragraph mark of every wholly inserted or deleted paragraph.

    The redline wraps such paragraphs in a div whose id starts with `pbchange-`; pandoc writes it
    as a bookmark around them. Here each of those paragraphs gets w:pPr/w:rPr/w:ins (or w:del),
    so that rejecting (or accepting) every change leaves no empty paragraph, and the bookmark
    goes away.
    """
    body = doc.element.body
    for start in list(body.iter(qn("w:bookmarkStart"))):
        name = start.get(qn("w:name")) or ""
        if not name.startswith(MARK_PREFIX):
            continue
        kind = KINDS[name[len(MARK_PREFIX) :].split("-")[0]]
        mark_id = start.get(qn("w:id"))
        change = _first_change(start)
        node = start.getnext()
        while node is not None and not _is_end(node, mark_id):
            if node.tag == qn("w:p"):
                _mark_paragraph(node, kind, change)
            node = node.getnext()
        if node is not None:
            node.getparent().remove(node)
        start.getparent().remove(start)


def _is_end(node: Any, mark_id: str | None) -> bool:
    return bool(node.tag == qn("w:bookmarkEnd") and node.get(qn("w:id")) == mark_id)


def _first_change(start: Any) -> dict[str, str]:
    """Return author and date of the first tracked run after the bookmark."""
    node = start.getnext()
    while node is not None:
        for tag in ("w:ins", "w:del"):
            found = node.find(f".//{qn(tag)}")
            if found is not None:
                return {
                    "author": found.get(qn("w:author")) or "paperbuild",
                    "date": found.get(qn("w:date")) or "",
                }
        node = node.getnext()
    return {"author": "paperbuild", "date": ""}


def _mark_paragraph(p: Any, kind: str, change: dict[str, str]) -> None:
    ppr = p.find(qn("w:pPr"))
    if ppr is None:
        ppr = OxmlElement("w:pPr")
        p.insert(0, ppr)
    rpr = ppr.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        successor = next((c for c in ppr if c.tag in (qn("w:sectPr"), qn("w:pPrChange"))), None)
        if successor is not None:
            successor.addprevious(rpr)
        else:
            ppr.append(rpr)
    mark = OxmlElement(kind)
    mark.set(qn("w:id"), "0")
    mark.set(qn("w:author"), change["author"])
    if change["date"]:
        mark.set(qn("w:date"), change["date"])
    rpr.insert(0, mark)


TRACKED_PARTS = re.compile(r"^word/(document|footnotes|header\d*|footer\d*)\.xml$")
CHANGE_ID = re.compile(rb"<w:(ins|del)( [^>]*?)?w:id=\"\d+\"")


def renumber_changes(parts: Mapping[str, bytes]) -> dict[str, bytes]:
    """Return the document, note, header and footer parts with every change given its own id."""
    counter = iter(range(1_000_000, 10_000_000))
    replaced: dict[str, bytes] = {}
    for name, data in parts.items():
        if not TRACKED_PARTS.match(name):
            continue
        replaced[name] = CHANGE_ID.sub(
            lambda m: (
                m.group(0)[: m.group(0).rindex(b'w:id="')] + f'w:id="{next(counter)}"'.encode()
            ),
            data,
        )
    return replaced
