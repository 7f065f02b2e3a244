"""Chapters to one Document: outline order, section numbers, markers removed, ids made unique."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild.ast import ATTR_AT, CROSSREF_PREFIXES, attr, rewrite, stringify
from paperbuild.checks import Parsed
from paperbuild.clock import build_datetime
from paperbuild.outline import DocumentMeta, Section
from paperbuild.project import resolve_resource

Node = dict[str, Any]
MARKER_KEY = "points"
MARKED_KINDS = frozenset(ATTR_AT)


@dataclass(frozen=True, kw_only=True)
class TocEntry:
    """One heading for the table of contents."""

    level: int
    number: str
    title: str
    anchor: str
    chapter: str | None = None


@dataclass(frozen=True, kw_only=True)
class Document:
    """The assembled paper: pandoc blocks in outline order, and what the furniture needs."""

    meta: DocumentMeta
    blocks: list[Node]
    toc: tuple[TocEntry, ...]
    date: dt.date
    version: str
    cited: tuple[str, ...] = ()

    @property
    def display_date(self) -> str:
        """Return the draft's date as a reader writes it (e.g. 28 November 2026)."""
        return f"{self.date.day} {self.date.strftime('%B %Y')}"


def build_date(meta: DocumentMeta) -> dt.date:
    """Return the draft's date: outline.yaml's, else the build clock's (SOURCE_DATE_EPOCH)."""
    if meta.date:
        try:
            return dt.date.fromisoformat(meta.date[:10])
        except ValueError:
            pass
    return build_datetime().date()


def _str_inlines(text: str) -> list[Node]:
    out: list[Node] = []
    for i, word in enumerate(text.split()):
        if i:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


def _strip_markers(node: Node) -> Node | list[Node] | None:
    """Remove coverage markers; unwrap a div or span that only carried one."""
    a = attr(node)
    if not a or not any(k == MARKER_KEY for k, _ in a[2]):
        return None
    kept = [[k, v] for k, v in a[2] if k != MARKER_KEY]
    bare = not a[0] and not a[1] and not kept
    if node["t"] in ("Div", "Span") and bare:
        contents: list[Node] = node["c"][1]
        return contents
    new_attr = [a[0], a[1], kept]
    if node["t"] == "Header":
        return {"t": "Header", "c": [node["c"][0], new_attr, node["c"][2]]}
    return {"t": node["t"], "c": [new_attr, *node["c"][1:]]}


class _Numberer:
    """Numbers headings below each section and keeps identifiers unique in the document."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.toc: list[TocEntry] = []
        self.anchors: dict[str, tuple[str, str]] = {}  # author id -> (number, anchor), for @sec:

    def unique(self, ident: str, fallback: str) -> str:
        base = ident or fallback
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        return candidate

    def chapter(self, section: Section, blocks: list[Node], path: str | None) -> list[Node]:
        counters = [0, 0, 0, 0, 0, 0]
        out: list[Node] = []
        first = next((i for i, b in enumerate(blocks) if b["t"] == "Header"), None)
        if first is None or blocks[first]["c"][0] != 1:
            blocks = [{"t": "Header", "c": [1, ["", [], []], _str_inlines(section.title)]}, *blocks]
            first = 0
        for i, block in enumerate(blocks):
            if block["t"] != "Header":
                out.append(block)
                continue
            level, (ident, classes, kvs), inlines = block["c"]
            if i == first:
                number, depth = section.id, 1
            else:
                depth = max(2, level)
                counters[depth - 2] += 1
                for j in range(depth - 1, len(counters)):
                    counters[j] = 0
                number = ".".join([section.id, *[str(c) for c in counters[: depth - 1] if c]])
            anchor = self.unique(ident, f"section-{number.replace('.', '-')}")
            if ident:
                self.anchors.setdefault(ident, (number, anchor))
            title = stringify(inlines)
            self.toc.append(
                TocEntry(level=depth, number=number, title=title, anchor=anchor, chapter=path)
            )
            numbered = [{"t": "Str", "c": number}, {"t": "Space"}, *inlines]
            out.append({"t": "Header", "c": [depth, [anchor, classes, kvs], numbered]})
        return out


def _crossrefs(numberer: _Numberer) -> Any:
    def fix(node: Node) -> Node | None:
        if node["t"] != "Cite":
            return None
        cites = node["c"][0]
        if not all(c["citationId"].startswith(CROSSREF_PREFIXES) for c in cites):
            return None
        parts: list[Node] = []
        for c in cites:
            target = c["citationId"].split(":", 1)[1]
            label, anchor = numberer.anchors.get(target, ("??", target))
            if parts:
                parts.append({"t": "Str", "c": ", "})
            parts.append(
                {
                    "t": "Link",
                    "c": [
                        ["", [], []],
                        [{"t": "Str", "c": f"section {label}"}],
                        [f"#{anchor}", ""],
                    ],
                }
            )
        return {"t": "Span", "c": [["", [], []], parts]}

    return fix


IMAGES = frozenset(("Image",))


def _resources(root: Path, chapter: str) -> Callable[[Node], Node | None]:
    """Return a rewrite that points images at project files, or shows a placeholder instead."""

    def fix(node: Node) -> Node | None:
        target = node["c"][2][0]
        usable, problem = resolve_resource(root, chapter, target)
        if usable is not None:
            return {"t": "Image", "c": [node["c"][0], node["c"][1], [usable, node["c"][2][1]]]}
        why = {"remote": "not fetched", "outside": "outside the project"}.get(
            problem or "", "missing"
        )
        return {"t": "Emph", "c": _str_inlines(f"[image {why}: {target}]")}

    return fix


def _copy(blocks: list[Node]) -> list[Node]:
    """Return a deep copy of JSON data (a JSON round trip is several times faster than deepcopy)."""
    copied: list[Node] = json.loads(json.dumps(blocks))
    return copied


def assemble(parsed: Parsed, *, version: str | None = None) -> Document:
    """Return the Document: each section's chapter in outline order, numbered and cleaned."""
    outline = parsed.project.outline
    numberer = _Numberer()
    blocks: list[Node] = []
    for section in outline.sections:
        path = parsed.assignment.get(section.id)
        chapter_blocks = parsed.blocks.get(path, []) if path else []
        if not chapter_blocks:
            chapter_blocks = [
                {
                    "t": "Para",
                    "c": [
                        {"t": "Emph", "c": _str_inlines("This section has not been written yet.")}
                    ],
                }
            ]
        cleaned = rewrite(_copy(chapter_blocks), _strip_markers, MARKED_KINDS)
        if path:
            cleaned = rewrite(cleaned, _resources(parsed.project.root, path), IMAGES)
        blocks.extend(numberer.chapter(section, cleaned, path))
    blocks = rewrite(blocks, _crossrefs(numberer), frozenset(("Cite",)))
    meta = outline.document
    return Document(
        meta=meta,
        blocks=blocks,
        toc=tuple(numberer.toc),
        date=build_date(meta),
        version=version or meta.version,
        cited=tuple(dict.fromkeys(k for f in parsed.facts.values() for k in f.citations)),
    )


def document_to_json(document: Document) -> dict[str, Any]:
    """Return the document as JSON data (for snapshots)."""
    return {
        "meta": dataclasses.asdict(document.meta),
        "blocks": document.blocks,
        "toc": [dataclasses.asdict(e) for e in document.toc],
        "date": document.date.isoformat(),
        "version": document.version,
        "cited": list(document.cited),
    }


def document_from_json(data: dict[str, Any]) -> Document:
    """Return the document stored by document_to_json."""
    meta = dict(data["meta"])
    meta["questions"] = tuple(meta.get("questions") or ())
    meta["period"] = tuple(meta["period"]) if meta.get("period") else None
    return Document(
        meta=DocumentMeta(**meta),
        blocks=data["blocks"],
        toc=tuple(TocEntry(**e) for e in data["toc"]),
        date=dt.date.fromisoformat(data["date"]),
        version=data["version"],
        cited=tuple(data.get("cited") or ()),
    )


@dataclass(frozen=True, kw_only=True)
class Part:
    """One section's share of the document's blocks."""

    id: str
    title: str
    blocks: list[Node]


BIBLIOGRAPHY_IDS = ("bibliography", "refs")


def parts(document: Document) -> list[Part]:
    """Return the document's blocks split by section (the bibliography as part 'references')."""
    starts = {e.anchor: e for e in document.toc if e.level == 1 and e.number}
    found: list[Part] = []
    for block in document.blocks:
        ident = (
            block["c"][1][0]
            if block["t"] == "Header"
            else (block["c"][0][0] if block["t"] == "Div" else "")
        )
        if ident in starts:
            found.append(Part(id=starts[ident].number, title=starts[ident].title, blocks=[]))
        elif ident in BIBLIOGRAPHY_IDS and not (found and found[-1].id == "references"):
            found.append(Part(id="references", title="References", blocks=[]))
        elif not found:
            found.append(Part(id="front", title="", blocks=[]))
        found[-1].blocks.append(block)
    return found
