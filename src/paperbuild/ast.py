"""Small helpers over pandoc's JSON AST: walking, text, citations, markers, word counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Node = dict[str, Any]

ATTR_AT = {"Header": 1, "Div": 0, "Span": 0, "CodeBlock": 0, "Code": 0, "Link": 0, "Image": 0,
           "Table": 0, "Figure": 0}  # fmt: skip
CROSSREF_PREFIXES = ("sec:", "fig:", "tbl:", "eq:", "lst:")


def walk(value: Any) -> Iterator[Node]:
    """Yield every element (dict with a 't') below value, depth first, in document order."""
    if isinstance(value, dict):
        if "t" in value:
            yield value
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def attr(node: Node) -> list[Any] | None:
    """Return the element's [id, classes, key-values] attribute, if it has one."""
    index = ATTR_AT.get(node.get("t", ""))
    if index is None:
        return None
    content = node["c"]
    if node["t"] == "Header":
        return list(content[1])
    a = content[index] if isinstance(content, list) else None
    return list(a) if isinstance(a, list) and len(a) == 3 and isinstance(a[1], list) else None


def stringify(value: Any) -> str:
    """Return the plain text of an element or list of elements (notes left out)."""
    parts: list[str] = []
    _text(value, parts)
    return "".join(parts).strip()


def _text(value: Any, parts: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _text(item, parts)
        return
    if not isinstance(value, dict):
        return
    t = value.get("t")
    if t == "Str":
        parts.append(value["c"])
    elif t in ("Space", "SoftBreak", "LineBreak"):
        parts.append(" ")
    elif t == "Note":
        return
    elif t in ("Code", "Math"):
        parts.append(value["c"][1])
    elif t == "Quoted":
        q = "“”" if value["c"][0]["t"] == "DoubleQuote" else "‘’"
        parts.append(q[0])
        _text(value["c"][1], parts)
        parts.append(q[1])
    elif t == "Cite":
        _text(value["c"][1], parts)
    elif t == "Header":
        _text(value["c"][2], parts)
    elif "c" in value:
        _text(value["c"], parts)
    if t in ("Para", "Plain", "Header"):
        parts.append(" ")


def citation_ids(blocks: Any) -> list[str]:
    """Return the bibliography keys cited in blocks, in order (cross-references left out)."""
    return [
        c["citationId"]
        for node in walk(blocks)
        if node["t"] == "Cite"
        for c in node["c"][0]
        if not c["citationId"].startswith(CROSSREF_PREFIXES)
    ]


def marked_points(blocks: Any) -> list[str]:
    """Return the point ids named by `points` attributes in blocks."""
    ids: list[str] = []
    for node in walk(blocks):
        a = attr(node)
        if a:
            for key, value in a[2]:
                if key == "points":
                    ids.extend(value.replace(",", " ").split())
    return ids


def count_words(blocks: Any) -> int:
    """Return the words a reader reads: body text and footnotes, not headings, markup or code."""
    count = 0
    stack: list[Any] = [blocks]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            t = value.get("t")
            if t == "Str":
                count += any(ch.isalnum() for ch in value["c"])
            elif t in ("Header", "CodeBlock", "RawBlock", "RawInline", "Cite", "Code", "Math"):
                continue
            elif "c" in value:
                stack.append(value["c"])
    return count


def transform(value: Any, fn: Callable[[Node], Node | list[Node] | None]) -> Any:
    """Return value with fn applied bottom-up to each element (None keeps it, a list splices)."""
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            new = transform(item, fn)
            if isinstance(item, dict) and "t" in item and isinstance(new, list):
                out.extend(new)
            else:
                out.append(new)
        return out
    if isinstance(value, dict):
        copy = {k: transform(v, fn) for k, v in value.items()}
        if "t" in copy:
            result = fn(copy)
            return copy if result is None else result
        return copy
    return value
