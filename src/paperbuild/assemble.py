"""Chapters to one Document: outline order, section numbers, markers removed, ids made unique."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.crossref import (
    Listed,
    Numbering,
    Target,
    bibliography_ids,
    document_ids,
    label_equations,
    plain_text,
    render_refs,
    unused_identifier,
)
from paperbuild.facts import openxml_problem, page_break, tex_equation
from paperbuild.furniture import Words, words_for
from paperbuild.load.chapters import CONTROL, without_controls
from paperbuild.load.outline import DocumentMeta, Section, heading_shift
from paperbuild.load.project import is_file_link, linked_chapter, resolve_resource
from paperbuild.pandoc_ast import ATTR_AT, Node, rewrite
from paperbuild.parse import Parsed
from paperbuild.util.clock import build_datetime

MARKER_KEY = "points"
MARKED_KINDS = frozenset(ATTR_AT)
UNNUMBERED = "unnumbered"  # pandoc's class for `{-}` and `{.unnumbered}`: no number
UNLISTED = "unlisted"  # pandoc's class for a heading left out of the contents


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
    listed: tuple[Listed, ...] = ()  # the figures and tables the outline asks to list

    @functools.cached_property
    def block_json(self) -> tuple[bytes, ...]:
        """Return each block's JSON, written once for every use of a built document (its
        images looked for, its DOCX, its snapshot): a document's blocks are not changed once
        it is built (a renderer changes a copy)."""
        return tuple(pa.dumps_each(self.blocks))

    @property
    def display_date(self) -> str:
        """Return the draft's date as the paper's language writes it (e.g. 28 November 2026)."""
        return words_for(self.meta.lang).date(self.date)


def build_date(meta: DocumentMeta) -> dt.date:
    """Return the draft's date: outline.yaml's, else the build clock's (SOURCE_DATE_EPOCH)."""
    if meta.date:
        try:
            return dt.date.fromisoformat(meta.date[:10])
        except ValueError:
            pass
    return build_datetime().date()


def _strip_markers(node: Node) -> Node | list[Node] | None:
    """Remove coverage markers; unwrap a div or span that only carried one."""
    a = pa.attr(node)
    if not a or not any(k == MARKER_KEY for k, _ in a.pairs):
        return None
    kept = [[k, v] for k, v in a.pairs if k != MARKER_KEY]
    if not a.ident and not a.classes and not kept:  # a div or span that only carried markers
        if pa.kind(node) == "Div":
            return pa.blocks(node)
        if pa.kind(node) == "Span":
            return pa.inlines(node)
    return pa.with_attr(node, a._replace(pairs=kept))


class _Numberer:
    """Numbers headings below each section, with identifiers as pandoc would give them."""

    def __init__(self, numbering: Numbering) -> None:
        self.numbering = numbering
        self.toc: list[TocEntry] = []
        self.unnumbered = 0  # headings left unnumbered so far (each needs an anchor of its own)
        self.anchors: set[str] = set()  # the headings' anchors so far

    def chapter(
        self, section: Section, blocks: list[Node], path: str | None, ids: dict[str, str]
    ) -> list[Node]:
        counters = [0, 0, 0, 0, 0, 0]
        out: list[Node] = []
        first = next((i for i, b in enumerate(blocks) if pa.kind(b) == "Header"), None)
        headings = [b for b in blocks if pa.kind(b) == "Header"]
        shift = heading_shift(
            [pa.level(h) for h in headings],
            pa.stringify(pa.inlines(headings[0])) if headings else None,
            section.title,
        )
        if first is None or pa.level(blocks[first]) - shift != 1:
            blocks = [pa.header(1, pa.Attr(), pa.str_inlines(section.title)), *blocks]
            first = 0
        last = 1  # (a heading is at most one level below the one before: `#` then `###`
        # had numbered the `###` 3.1, and the `##` after it 3.1 again)
        for i, block in enumerate(blocks):
            if pa.kind(block) != "Header":
                out.append(block)
                continue
            depth = min(max(2, pa.level(block) - shift), last + 1)
            if i == first:
                out.append(self._heading(block, 1, section.id, path, ids))
            elif pa.has_class(block, UNNUMBERED):  # `{-}` or `{.unnumbered}`: counts nothing
                out.append(self._heading(block, depth, "", path, ids))
            else:
                last = depth
                counters[depth - 2] += 1
                counters[depth - 1 :] = [0] * (len(counters) - depth + 1)
                number = ".".join([section.id, *[str(c) for c in counters[: depth - 1] if c]])
                out.append(self._heading(block, depth, number, path, ids))
        return out

    def _heading(
        self, block: Node, depth: int, number: str, path: str | None, ids: dict[str, str]
    ) -> Node:
        """Return the heading numbered (or not), its anchor its document id; note its entry."""
        a, inlines = pa.attr(block) or pa.Attr(), pa.inlines(block)
        if not number:
            self.unnumbered += 1
        fallback = f"pb-section-{number.replace('.', '-')}" if number else None
        anchor = self._unused(ids.get(a.ident) or fallback or f"pb-heading-{self.unnumbered}")
        title = "" if number else pa.stringify(inlines)  # what a reference to it reads
        self.numbering.add(
            anchor, Target(kind="section", number=number, anchor=anchor, title=title)
        )
        if UNLISTED not in a.classes:  # titled once its references are rendered (_titled)
            self.toc.append(
                TocEntry(level=depth, number=number, title="", anchor=anchor, chapter=path)
            )
        shown = [pa.str_node(number), pa.space(), *inlines] if number else inlines
        return pa.header(depth, a._replace(ident=anchor), shown)

    def _unused(self, anchor: str) -> str:
        """Return the anchor, or (a second heading labelled alike: `duplicate-label`, built with
        --force) the first of anchor-1, anchor-2, … not taken, so each heading has its own."""
        return unused_identifier(anchor, self.anchors)


def _references(targets: dict[str, Target], words: Words, keys: frozenset[str]) -> Any:
    """Return a rewrite that renders cross-references (a citation stays a Cite for citeproc)."""

    def fix(node: Node) -> list[Node] | None:
        return render_refs(node, targets, words, keys)

    return fix


WRITTEN_TARGET = re.compile(r"(?:\]\(|^ {0,3}\[[^\]]+\]:)[ \t]*<?#([^\s)>]+)", re.M)


def written_targets(text: str) -> set[str]:
    """Return the #ids an author wrote as link targets (`[x](#id)`, `[x]: #id`) in a chapter."""
    return set(WRITTEN_TARGET.findall(text))


@dataclass(frozen=True, kw_only=True)
class _Chapters:
    """What links between chapters resolve against: each chapter's ids and first heading."""

    paths: tuple[str, ...]  # every chapter of the project, in the draft or not
    maps: dict[str, dict[str, str]]  # chapter path -> {chapter's identifier: document's}
    starts: dict[str, str]  # chapter path -> the document identifier of its first heading
    known: Callable[[], set[str]]  # every identifier in the document, found when first asked

    def document_id(self, chapter: str, fragment: str) -> str:
        """Return the document id of a chapter's identifier, or of its first heading ("")."""
        if chapter not in self.maps:
            return ""  # a chapter the draft leaves out
        return self.maps[chapter].get(fragment, fragment) if fragment else self.starts[chapter]


def _links(
    chapters: _Chapters, path: str | None, written: set[str]
) -> Callable[[Node], Node | list[Node] | None]:
    """Return a rewrite that points internal links at document ids, or unlinks dead ones.

    A target the author wrote (`(#results-1)`) means the document's identifier, as pandoc
    gives the whole paper; one pandoc resolved inside the chapter (`[Results]`) means the
    chapter's own heading, whose identifier may have changed in the document. A link to a
    chapter's file (`results.md#method`, `results.md`) means that chapter's heading.
    """
    maps = chapters.maps
    local = maps.get(path, {}) if path else {}

    def fix(node: Node) -> Node | list[Node] | None:
        url = pa.target(node)[0]
        a = pa.attr(node) or pa.Attr()
        if not url.startswith("#"):
            if path is None or not is_file_link(url):
                return None  # a URL
            found = linked_chapter(path, url, chapters.paths)
            ident = chapters.document_id(*found) if found else ""  # a file: no use in a draft
        else:
            ident = url[1:]
            other = next((v for k, v in a.pairs if k == "data-chapter"), None)
            if other is not None:
                ident = maps.get(other, {}).get(ident, ident)
            elif ident not in written:
                ident = local.get(ident, ident)
        if ident in chapters.known():
            kept = [[k, v] for k, v in a.pairs if k != "data-chapter"]
            return pa.with_attr(pa.with_target(node, f"#{ident}"), a._replace(pairs=kept))
        return pa.inlines(node)  # a dead link reads as its text (the check reports it)

    return fix


def _linking(found: list[str]) -> Callable[[Node], None]:
    """Return a rewrite step that notes each link `_links` resolves against the document's
    identifiers (internal, or to a file) in `found`, and changes nothing.

    Links are made only by the reader (and rawhtml, on reading) and by cross-references, which
    `_links` does not see: a draft whose chapters have no such link as parsed asks for none."""

    def note(node: Node) -> None:
        url = pa.target(node)[0]
        if url.startswith("#") or is_file_link(url):
            found.append(url)

    return note


IMAGES = frozenset(("Image",))


def resources_rewrite(root: Path, chapter: str) -> Callable[[Node], Node | None]:
    """Return a rewrite that points images at project files, or shows a placeholder instead."""

    def fix(node: Node) -> Node | None:
        target = pa.target(node)[0]
        usable, problem = resolve_resource(root, chapter, target)
        if usable is not None:
            return pa.with_target(node, usable)
        why = {"remote": "not fetched", "outside": "outside the project"}.get(
            problem or "", "missing"
        )
        return image_placeholder(node, why, target if problem == "remote" else Path(target).name)

    return fix


def image_placeholder(image: Node, why: str, shown: str) -> Node:
    """Return what a draft shows for an image it cannot: `[image missing: cat.png]`."""
    placeholder = pa.element("Emph", pa.str_inlines(f"[image {why}: {shown}]"))
    return pa.span(pa.Attr(pa.ident(image), ["pb-placeholder"]), [placeholder])


def all_ids(blocks: list[Node]) -> set[str]:
    """Return every identifier in the blocks (headings, figures, tables, divs, spans, …)."""
    found: set[str] = set()

    def note(node: Node) -> None:
        if pa.ident(node):
            found.add(pa.ident(node))

    rewrite(blocks, note, MARKED_KINDS)
    return found


def _first_ids_only(taken: set[str]) -> pa.Step:
    """Return a rewrite step that clears an identifier a heading or a bibliography entry has, or
    an element before it had: a label given twice (`duplicate-label`, built with --force) is
    then the first element's, as its references are, and no renderer sees it twice (Typst
    fails on a label given twice)."""
    seen = set(taken)

    def first(node: Node) -> Node | None:
        a = pa.attr(node)
        if a is None or not a.ident:
            return None
        if a.ident in seen:
            return pa.with_attr(node, a._replace(ident=""))
        seen.add(a.ident)
        return None

    return first, MARKED_KINDS - {"Header"}


def _copy(blocks: list[Node]) -> list[Node]:
    """Return a deep copy of a chapter's blocks, which the rewrites then change in place."""
    copied: list[Node] = pa.copy_tree(blocks)
    return copied


def assemble(parsed: Parsed, *, version: str | None = None) -> Document:
    """Return the Document: each section's chapter in outline order, numbered and cleaned.

    The chapters' parsed blocks become the draft's: they are changed in place, not copied (a
    copy of every chapter cost a tenth of a rebuild), and `parsed.blocks` is emptied, so no
    caller can take what is left of them for the chapters as parsed.
    """
    outline = parsed.project.outline
    words = words_for(outline.document.lang)
    numbering = Numbering(words=words, within_section=outline.numbering == "section")
    chapters: list[tuple[Section, str | None, list[Node]]] = []
    uses = Counter(parsed.assignment.get(s.id) for s in outline.sections)
    linking: list[str] = []  # (an internal link or one to a file, as parsed: `_linking`)
    for section in outline.sections:
        path = parsed.assignment.get(section.id)
        chapter_blocks = parsed.blocks.get(path, []) if path else []
        if uses[path] > 1:  # (one chapter for two sections: each gets its own copy)
            chapter_blocks = _copy(chapter_blocks)
        if not chapter_blocks:
            chapter_blocks = [pa.para([pa.element("Emph", pa.str_inlines(words.not_written))])]
        steps: list[pa.Step] = [
            (_linking(linking), LINKS),
            (_strip_markers, MARKED_KINDS),
            (_raw_tex, RAW | SHORTCODE),
            (_callouts(words), DIVS),
        ]
        source = parsed.project.chapter(path) if path else None
        if source and ESCAPE_OPEN in source.text:
            steps.append((_shown_shortcodes, SHOWN))
        if source and CONTROL.search(source.text):  # (reported: control-character)
            steps.append((_without_controls, TEXTS))
        if path:
            steps.append((resources_rewrite(parsed.project.root, path), IMAGES))
        if path and parsed.facts[path].broken_raw:  # reported (invalid-raw): left out
            steps.append((_drop_broken_openxml, RAW))
        cleaned = rewrite(chapter_blocks, *pa.chained(*steps))
        chapters.append((section, path, label_equations(cleaned)))
    id_maps = document_ids(
        [
            [(pa.stringify(pa.inlines(b)), pa.ident(b)) for b in blocks if pa.kind(b) == "Header"]
            for _, _, blocks in chapters
        ]
    )
    numberer = _Numberer(numbering)
    numbered: list[list[Node]] = []
    for (section, path, blocks), ids in zip(chapters, id_maps, strict=True):
        numbering.start_section(section.id)
        numbered.append(numberer.chapter(section, numbering.blocks(blocks), path, ids))
    cited = [
        *dict.fromkeys(k for f in parsed.facts.values() for k in f.citations),
        *parsed.project.listed_uncited,
    ]
    entry_ids = bibliography_ids(cited)
    known = functools.cache(lambda: set().union(entry_ids, *(all_ids(b) for b in numbered)))
    if linking:  # (else no link asks: the large bench paper's walk, 55 ms, is not made)
        known()
    blocks = []
    linked = _Chapters(
        paths=tuple(c.path for c in parsed.project.chapters),
        maps={path: ids for (_, path, _), ids in zip(chapters, id_maps, strict=True) if path},
        starts={
            path: pa.ident(next(b for b in chapter_blocks if pa.kind(b) == "Header"))
            for (_, path, _), chapter_blocks in zip(chapters, numbered, strict=True)
            if path
        },
        known=known,
    )
    references = (
        _references(numbering.targets, words, frozenset(parsed.project.bibliography.keys)),
        CITES,
    )
    entries = {f"ref-{key}" for key in cited}  # (citeproc's; `#refs` is the author's to place)
    once = _first_ids_only(numberer.anchors | entries)
    for (_, path, _), chapter_blocks in zip(chapters, numbered, strict=True):
        source = parsed.project.chapter(path) if path else None
        written = written_targets(source.text) if source else set()
        links = (_links(linked, path, written), LINKS)
        blocks += rewrite(chapter_blocks, *pa.chained(once, links, references))
    parsed.blocks.clear()
    meta = outline.document
    return Document(
        meta=meta,
        blocks=blocks,
        toc=_titled(numberer.toc, blocks, words),
        date=build_date(meta),
        version=version or meta.version,
        cited=tuple(dict.fromkeys(cited)),
        listed=tuple(e for e in numbering.listed if f"{e.kind}s" in outline.lists),
    )


def _titled(toc: list[TocEntry], blocks: list[Node], words: Words) -> tuple[TocEntry, ...]:
    """Return the contents' entries titled by their headings as the draft has them.

    Cross-references are rendered by then ("See Section 2"); citations and notes are left out.
    A numbered heading's first two inlines are the number paperbuild gave it and a space.
    """
    headings = {pa.ident(b): pa.inlines(b) for b in blocks if pa.kind(b) == "Header"}

    def title(entry: TocEntry) -> str:
        inlines = headings.get(entry.anchor, [])
        return plain_text(inlines[2:] if entry.number else inlines, words.quotes)

    return tuple(dataclasses.replace(e, title=title(e)) for e in toc)


RAW = frozenset(("RawBlock", "RawInline"))


PAGE_BREAKS = [  # each writer keeps its own format's and drops the other's
    pa.raw_block("openxml", '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'),
    pa.raw_block("typst", "#pagebreak(weak: true)"),
]


SHORTCODE = frozenset(("Para",))
SHOWN = frozenset(("Para", "Plain"))
DIVS = frozenset(("Div",))
CALLOUT_STYLE = "Callout"  # the DOCX paragraph style of a callout's text (render/reference.py)
CALLOUT_OPEN = pa.raw_block(
    "typst", "#block(stroke: (left: 1.5pt + ink), inset: (left: 9pt, y: 3pt), width: 100%)["
)


def _callouts(words: Words) -> Callable[[Node], Node | None]:
    """Return a rewrite that sets Quarto's callouts (`::: {.callout-note}`) off from the text:
    a title (its `title=`, its first heading, else 'Note', 'Warning', … in the paper's
    language) over the text, with a rule at the left in both formats."""

    def fix(node: Node) -> Node | None:
        a = pa.attr(node) or pa.Attr()
        kind = next((c[len("callout-") :] for c in a.classes if c.startswith("callout-")), None)
        if kind is None:
            return None
        content = pa.blocks(node)
        title: list[Node] = pa.str_inlines(a.get("title")) if a.get("title") else []
        if not title and content and pa.kind(content[0]) == "Header":
            title, content = pa.inlines(content[0]), content[1:]
        title = title or pa.str_inlines(words.callout(kind) or kind.capitalize())
        heading = pa.div(
            pa.Attr("", [], [["custom-style", f"{CALLOUT_STYLE} Title"]]),
            [pa.para([pa.element("Strong", title)])],
        )
        kept = [[k, v] for k, v in a.pairs if k != "title"] + [["custom-style", CALLOUT_STYLE]]
        body = [CALLOUT_OPEN, heading, *content, pa.raw_block("typst", "]")]
        return pa.div(a._replace(pairs=kept), pa.copy_tree(body))

    return fix


ESCAPE_OPEN, ESCAPE_CLOSE = "{{{<", ">}}}"  # Quarto's way to show a shortcode as written


def _shown_shortcodes(node: Node) -> None:
    """Show a shortcode written with three braces (`{{{< var x >}}}`) as Quarto does, with two
    (`{{< var x >}}`): an opening Str loses a brace, and so does the closing one after it."""
    words = [i for i in pa.inlines(node) if pa.kind(i) == "Str"]
    for n, item in enumerate(words):
        if not pa.text(item).startswith(ESCAPE_OPEN):
            continue
        rest = [(item, pa.text(item).find(ESCAPE_CLOSE, len(ESCAPE_OPEN)))] + [
            (w, pa.text(w).find(ESCAPE_CLOSE)) for w in words[n + 1 :]
        ]
        closing = next(((w, at) for w, at in rest if at >= 0), None)
        if closing is None:
            continue
        w, at = closing
        w["c"] = pa.text(w)[:at] + ">}}" + pa.text(w)[at + len(ESCAPE_CLOSE) :]
        item["c"] = pa.text(item)[1:]


TEXTS = frozenset(("Str", "Code", "CodeBlock", "Math"))


def _without_controls(node: Node) -> None:
    """Take the control characters out of a word, code or maths (in place)."""
    content = node["c"]
    if isinstance(content, str):
        node["c"] = without_controls(content)
    elif isinstance(content, list) and content and isinstance(content[-1], str):
        content[-1] = without_controls(content[-1])


def _raw_tex(node: Node) -> Node | list[Node] | None:
    """Return raw LaTeX that both formats can have in their form: a page break (`\\newpage`,
    Quarto's `{{< pagebreak >}}`), a maths environment as display maths (labelled as
    `$$ … $$ {#eq:x}` is, for label_equations)."""
    if pa.kind(node) == "Para":
        first = pa.inlines(node)[:1]
        if first and pa.text(first[0]) == "{{<" and pa.stringify(node) == "{{< pagebreak >}}":
            return [pa.copy_tree(b) for b in PAGE_BREAKS]
        return None
    fmt, code = pa.raw_format(node), pa.text(node)
    block = pa.kind(node) == "RawBlock"
    if block and page_break(fmt, code):
        return [pa.copy_tree(b) for b in PAGE_BREAKS]
    equation = tex_equation(fmt, code)
    if equation is None:
        return None
    maths, label = equation
    inlines = [pa.math(maths, display=True)]
    if label:
        inlines += [pa.space(), pa.str_node(f"{{#{label}}}")]
    return pa.para(inlines) if block else inlines


def _drop_broken_openxml(node: Node) -> list[Node] | None:
    """Return nothing for raw OpenXML that is not well-formed (it would break the DOCX)."""
    openxml = pa.raw_format(node).lower() == "openxml"
    return [] if openxml and openxml_problem(pa.text(node)) else None


LINKS = frozenset(("Link",))
CITES = frozenset(("Cite",))


def document_to_json(document: Document) -> dict[str, Any]:
    """Return the document as JSON data (for snapshots)."""
    return {"meta": dataclasses.asdict(document.meta), "blocks": document.blocks, **_rest(document)}


def _rest(document: Document) -> dict[str, Any]:
    """Return what a snapshot keeps of the document after its blocks."""
    return {
        "toc": [dataclasses.asdict(e) for e in document.toc],
        "date": document.date.isoformat(),
        "version": document.version,
        "cited": list(document.cited),
        "listed": [dataclasses.asdict(e) for e in document.listed],
    }


def document_json_bytes(document: Document) -> bytes:
    """Return `document_to_json`'s JSON, compact, from the blocks' JSON written once."""
    meta = pa.dumps({"meta": dataclasses.asdict(document.meta)})
    rest = pa.dumps(_rest(document))
    before, after = meta[: -len(b"}")] + b',"blocks":[', b"]," + rest[len(b"{") :]
    return pa.joined(document.block_json, before, after)


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
        listed=tuple(Listed(**e) for e in data.get("listed") or ()),
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
        ident = pa.ident(block) if pa.kind(block) in ("Header", "Div") else ""
        if ident in starts:
            found.append(Part(id=starts[ident].number, title=starts[ident].title, blocks=[]))
        elif ident in BIBLIOGRAPHY_IDS and not (found and found[-1].id == "references"):
            found.append(Part(id="references", title="References", blocks=[]))
        elif not found:
            found.append(Part(id="front", title="", blocks=[]))
        found[-1].blocks.append(block)
    return found
