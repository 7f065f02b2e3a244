"""Inline HTML that pandoc keeps raw, read as what it means (`<sup>2</sup>`, `<br>`, `<img>`).

Manuscripts that passed through a web editor or GitHub carry such tags. pandoc's DOCX and Typst
writers drop raw HTML, so `H<sub>2</sub>O` would read as "H2O" and an `<img>` would vanish; a
matched pair of tags becomes the element itself, a line break a line break, an image an image.
Tags left unmatched stay raw (the check reports them: `dropped-raw`).
"""

from __future__ import annotations

import html
import re

from paperbuild import pandoc_ast as pa
from paperbuild.pandoc_ast import INLINES_AT, Node, rewrite

TAG = re.compile(r"^<\s*(/)?\s*([A-Za-z][A-Za-z0-9]*)\b([^<>]*?)(/)?\s*>$", re.S)
ATTRIBUTE = re.compile(r"""([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
WRAPPING = {
    "sup": "Superscript",
    "sub": "Subscript",
    "u": "Underline",
    "ins": "Underline",
    "b": "Strong",
    "strong": "Strong",
    "i": "Emph",
    "em": "Emph",
    "s": "Strikeout",
    "del": "Strikeout",
    "strike": "Strikeout",
    "a": "Link",
}
MARK = re.compile(r"<\s*/?\s*(?:br|img|" + "|".join(WRAPPING) + r")\b", re.I)
HOLDERS = frozenset(INLINES_AT) - {"Image"}


def has_inline_html(text: str) -> bool:
    """Return whether a chapter's text may hold one of the tags read here (a quick test)."""
    return MARK.search(text) is not None


def read_inline_html(blocks: list[Node]) -> list[Node]:
    """Return the blocks with matched inline HTML tags, `<br>` and `<img>` made elements."""
    folded: list[Node] = rewrite(blocks, _fold_element, HOLDERS)
    return folded


def _fold_element(node: Node) -> Node | None:
    inlines = pa.inlines(node)
    if not any(pa.kind(n) == "RawInline" for n in inlines):
        return None
    folded = _fold(inlines)
    return pa.with_inlines(node, folded) if folded != inlines else None


def _tag(node: Node) -> tuple[str, bool, dict[str, str]] | None:
    """Return (tag name, closing?, attributes) of a raw HTML inline that is one tag."""
    if pa.kind(node) != "RawInline" or pa.raw_format(node).lower() not in ("html", "html5"):
        return None
    m = TAG.match(pa.text(node).strip())
    if m is None:
        return None
    attributes = {
        k.lower(): html.unescape(next(v for v in vs if v is not None))
        for k, *vs in ATTRIBUTE.findall(m.group(3))
    }
    return m.group(2).lower(), bool(m.group(1)), attributes


def _fold(inlines: list[Node]) -> list[Node]:
    out: list[Node] = []
    opened: list[tuple[str, int, dict[str, str]]] = []  # (tag, where in out, attributes)
    for node in inlines:
        tag = _tag(node)
        if tag is None:
            out.append(node)
            continue
        name, closing, attributes = tag
        if name == "br" and not closing:
            out.append(pa.element("LineBreak"))
        elif name == "img" and not closing and attributes.get("src"):
            alt = pa.str_inlines(attributes.get("alt", ""))
            out.append(pa.image(pa.Attr(), alt, attributes["src"], attributes.get("title", "")))
        elif name in WRAPPING and not closing:
            opened.append((name, len(out), attributes))
            out.append(node)
        elif name in WRAPPING and opened and opened[-1][0] == name:
            _, start, attributes = opened.pop()
            content = out[start + 1 :]
            del out[start:]
            out.append(_wrapped(name, content, attributes))
        else:
            out.append(node)
    return out


def _wrapped(name: str, content: list[Node], attributes: dict[str, str]) -> Node:
    """Return the element a matched pair of tags means, around content."""
    kind = WRAPPING[name]
    if kind == "Link":
        href = attributes.get("href", "")
        if not href:
            return pa.span(pa.Attr(), content)
        return pa.link(pa.Attr(), content, href, attributes.get("title", ""))
    return pa.element(kind, content)
