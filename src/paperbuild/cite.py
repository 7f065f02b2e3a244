"""Citations resolved once, by pandoc's citeproc, into the AST that every output shares."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperbuild import citecontext, pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.assemble import IMAGES, Document, resources_rewrite
from paperbuild.furniture import ENGLISH, words_for
from paperbuild.load.project import Project
from paperbuild.pandoc_ast import Node, rewrite
from paperbuild.references import DEFAULT_CSL, accents_composed, citation_args, csl_path
from paperbuild.safety import cache_dir, read_input
from paperbuild.util.fsutil import keep_alone, kept_bytes


def resolve_citations(
    document: Document, project: Project, meanwhile: Callable[[], object] | None = None
) -> Document:
    """Return the document with citations rendered (notes) and the bibliography appended
    (`meanwhile` run while pandoc's citeproc works, when it runs).

    With a note style, a citation right beside one of the author's notes joins that note, so
    two note markers never run together ("origin.¹²" becomes "origin.¹"); and a citation the
    author wrote inside a note (`See @key [art. 3]`) is rendered as the style renders a note
    citation, "ibid." included ("See ibid., art. 3", not "See Author, ibid., art. 3").

    The document's blocks are numbered in place: callers pass a fresh assembly, which a copy of
    the whole paper would only double in memory.
    """
    if not document.cited:
        return document
    csl = csl_path(project)  # (checked once: a style of the author's is parsed to be checked)
    blocks = document.blocks
    held = number_notes(blocks, note_style=is_note_style(csl))
    out, blocks = _citeproc(blocks, held, project, csl, meanwhile)
    whole = _dates_kept_whole(document.meta.lang)
    blocks = rewrite(blocks, _finisher(whole), CITES_AND_NOTES)
    _bibliography_dates(blocks, whole)
    if b'"Image"' in out:  # a bibliography field may hold one (\\includegraphics{…}): hold it
        images = resources_rewrite(project.root, project.outline.bibliographies[0])
        blocks = rewrite(blocks, images, IMAGES)
    return dataclasses.replace(document, blocks=blocks)


def _citeproc(
    blocks: list[Node],
    held: list[int],
    project: Project,
    csl: Path,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[bytes, list[Node]]:
    """Return pandoc's citeproc output and the blocks with their citations rendered.

    Only the blocks that hold a citation (or the bibliography's `#refs` div) are sent: citeproc
    reads each citation's note number from the citation itself (`number_notes`), and changes
    nothing outside the blocks it holds, so the others need not make the trip. Of those
    blocks, only each citation's context is sent (`citecontext`): the rest is put back into
    citeproc's output. What is sent, with the bibliography, the style and pandoc, keys a cache
    in build/.cache/: a rebuild after an edit that touches no citation's context runs no
    citeproc at all.
    """
    sent = [blocks[i] for i in held]
    context, plan = citecontext.reduced(sent)
    out, rendered = _rendered(context, project, csl, CITEPROC_CACHE, meanwhile)
    whole = citecontext.restored(sent, rendered[: len(sent)], plan)
    if whole is None:  # (citeproc's output could not be cut as its input was: send all)
        out, rendered = _rendered(sent, project, csl, WHOLE_CACHE, None)
        whole = rendered[: len(sent)]
    merged = list(blocks)
    for i, block in zip(held, whole, strict=False):
        merged[i] = block
    return out, merged + rendered[len(sent) :]  # the bibliography, appended at the end


def _rendered(
    sent: list[Node],
    project: Project,
    csl: Path,
    cache_name: str,
    meanwhile: Callable[[], object] | None,
) -> tuple[bytes, list[Node]]:
    """Return citeproc's output for these blocks and its blocks, from the cache when it holds
    them (a cached output that cannot be read as blocks is made again)."""
    args = ["--sandbox", "-f", "json", "-t", "json", *citation_args(project, csl)]
    payload = {"pandoc-api-version": pandoc.api_version(), "meta": _nocite(project), "blocks": sent}
    data = pa.dumps(payload)
    key = _citeproc_key(args, data, project)
    cache = cache_dir(project.root, "ast")  # (None: git brought build/.cache; parse said so)
    out = _cached(cache, cache_name, key) if cache else None
    rendered = _blocks_of(out) if out is not None else None
    if out is None or rendered is None:
        out = pandoc.run(args, data, cwd=project.root, meanwhile=meanwhile, heap=pandoc.OWN_HEAP)
        rendered = pa.loads(accents_composed(out))["blocks"]
        if cache:
            _keep(cache, cache_name, key, out)
    return out, rendered


def _blocks_of(out: bytes) -> list[Node] | None:
    """Return the blocks of citeproc's cached output, or None if it cannot be read as such."""
    try:
        blocks = pa.loads(accents_composed(out))["blocks"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return blocks if isinstance(blocks, list) else None


CITEPROC_CACHE = "citeproc-{key}.json"
WHOLE_CACHE = "whole-citeproc-{key}.json"  # (the blocks sent whole: see _citeproc)


def _nocite(project: Project) -> dict[str, Any]:
    """Return citeproc's `nocite` metadata: the works outline.yaml lists though none cites them."""
    keys = [key for key, _, _ in project.outline.nocite]
    if not keys:
        return {}
    records = [
        {
            "citationId": key,
            "citationPrefix": [],
            "citationSuffix": [],
            "citationMode": {"t": "NormalCitation"},
            "citationNoteNum": 0,
            "citationHash": 0,
        }
        for key in dict.fromkeys(keys)
    ]
    return {"nocite": pa.meta_inlines([pa.cite(records, [pa.str_node("@nocite")])])}


def _citeproc_key(args: list[str], data: bytes, project: Project) -> str:
    """Return the citeproc cache's key: pandoc, its arguments and the files they name."""
    h = hashlib.sha256(pandoc.toolchain_id())
    for before, arg in zip(["", *args], args, strict=False):
        h.update(arg.encode("utf-8") + b"\0")
        if before in ("--csl", "--bibliography"):  # the style and the bibliography themselves
            named = Path(arg)
            h.update(
                named.read_bytes() if named == DEFAULT_CSL else read_input(named, project.root)
            )
    h.update(data)
    return h.hexdigest()[:32]


def _cached(cache: Path, name: str, key: str) -> bytes | None:
    """Return citeproc's cached output for this key, or None."""
    return kept_bytes(cache / name.format(key=key))


def _keep(cache: Path, name: str, key: str, out: bytes) -> None:
    """Cache citeproc's output under its key, the earlier one removed (one draft, one entry)."""
    keep_alone(cache / name.format(key=key), out, name.format(key="*"))


@functools.cache
def is_note_style(csl: Path) -> bool:
    """Return whether a CSL style puts citations in notes (class="note")."""
    if csl == DEFAULT_CSL:
        return True  # (the bundled Chicago notes style; a rebuild need not import lxml to know)
    from lxml import etree

    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return bool(etree.parse(str(csl), parser).getroot().get("class") == "note")
    except (OSError, etree.XMLSyntaxError):
        return False


PUNCTUATION = frozenset(".,;:!?")


def _join_in(inlines: list[Any]) -> None:
    """Move citations into the notes beside them, in one list of inlines (in place).

    `[@key].[^1]` and `text.[^1] [@key]` both read "….¹", the note opening with the citation
    and going on with the author's words (as Chicago 14.37 combines them); only punctuation may
    stand between the two. At a note's start pandoc renders a citation as a note citation (in
    the note's running text it would put it in parentheses).
    """
    i = 0
    while i < len(inlines):
        node = inlines[i]
        if isinstance(node, dict) and node.get("t") == "Cite":
            j = _skip_punctuation(inlines, i + 1)
            if j < len(inlines) and inlines[j].get("t") == "Note":
                _prepend(inlines[j], node)
                del inlines[i]
                if i > 0 and inlines[i - 1].get("t") == "Space":  # a note marker has none before
                    del inlines[i - 1]
                continue
            k = _before_punctuation(inlines, i - 1)
            if k >= 0 and inlines[k].get("t") == "Note":
                _prepend(inlines[k], node)
                del inlines[i]
                if i > 0 and inlines[i - 1].get("t") == "Space":
                    del inlines[i - 1]
                continue
        i += 1


def _skip_punctuation(inlines: list[Any], j: int) -> int:
    while j < len(inlines) and _is_punctuation(inlines[j]):
        j += 1
    return j


def _before_punctuation(inlines: list[Any], k: int) -> int:
    if k >= 0 and inlines[k].get("t") == "Space":
        k -= 1
    while k >= 0 and _is_punctuation(inlines[k]):
        k -= 1
    return k


def _is_punctuation(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and pa.kind(node) == "Str"
        and bool(pa.text(node))
        and set(pa.text(node)) <= PUNCTUATION
    )


def _prepend(note: Node, cite: Node) -> None:
    """Open the note with the citation: 'Smith, Apples, 12. The author's note…'."""
    blocks = pa.blocks(note)
    lead = [cite, pa.str_node("."), pa.space()]
    if blocks and pa.kind(blocks[0]) in ("Para", "Plain"):
        pa.inlines(blocks[0])[:0] = lead
    else:
        blocks.insert(0, pa.para(lead[:2]))


def number_notes(blocks: list[Node], *, note_style: bool = False) -> list[int]:
    """Give every citation the number of its note, counted over the whole paper; return the
    indexes of the blocks that hold a citation or the bibliography's place (a `#refs` div).

    Chapters are read one by one, so pandoc numbered notes per chapter; citeproc decides
    "ibid." from these numbers, so a count that restarts (or that skips the author's own notes)
    would point "ibid." past notes that cite something else, or nothing. As pandoc's reader
    counts: each of the author's notes is one, and so is each citation outside a note. With a
    note style, in the same walk, a citation beside a note first joins it (`_join_in`) and a
    citation inside a note is marked as `_in_note` says.
    """
    count = 0
    held: set[int] = set()
    # (value, number of the note it is in, index of the block it is in)
    stack: list[tuple[Any, int, int]] = [(b, 0, i) for i, b in reversed(list(enumerate(blocks)))]
    while stack:
        value, note, top = stack.pop()
        if type(value) is list:
            # (the type tests inline, not through pa.kind: this loop sees every element)
            if note_style and any(type(v) is dict and v.get("t") == "Note" for v in value):
                _join_in(value)
            stack.extend(
                (v, note, top)
                for v in reversed(value)
                if type(v) is not dict or v.get("t") not in pa.LEAVES
            )
        elif type(value) is dict:
            t = pa.kind(value)
            if t == "Note" and not note:
                count += 1
                stack.append((pa.blocks(value), count, top))
            elif t == "Cite":
                held.add(top)
                if not note:
                    count += 1
                elif note_style:
                    _in_note(value)
                for citation in pa.citations(value):
                    citation["citationNoteNum"] = note or count
            else:
                if t == "Div" and pa.ident(value) == "refs":
                    held.add(top)
                if pa.content(value) is not None:
                    stack.append((pa.content(value), note, top))
    return sorted(held)


NBSP = "\u00a0"


def _dates_kept_whole(lang: str) -> Callable[[list[Any]], None]:
    """Return a function that joins the words of dates in what it is given (in place).

    "15 November 2000" never breaks across lines: its spaces become no-break spaces.
    """
    months = {m.lower() for m in (*words_for(lang).months, *ENGLISH.months)}

    def is_day(text: str) -> bool:
        return text.isdigit() and len(text) <= 2

    def is_month(text: str) -> bool:
        return text.rstrip(".,;:").lower() in months

    def is_year(text: str) -> bool:
        return text[:4].isdigit() and (len(text) == 4 or not text[4].isalnum())

    def join(value: list[Any]) -> None:
        stack: list[Any] = [value]
        while stack:
            value = stack.pop()
            if isinstance(value, list):
                _join_dates(value, is_day, is_month, is_year)
                stack.extend(value)
            elif isinstance(value, dict) and isinstance(pa.content(value), list):
                stack.append(pa.content(value))

    return join


def _join_dates(
    inlines: list[Any],
    is_day: Callable[[str], bool],
    is_month: Callable[[str], bool],
    is_year: Callable[[str], bool],
) -> None:
    """Join 'day month' and 'month year' across a Space, in one list of inlines (in place)."""
    i = 0
    while i + 2 < len(inlines):
        a, gap, b = inlines[i : i + 3]
        if (
            isinstance(a, dict)
            and pa.kind(a) == "Str"
            and pa.kind(gap) == "Space"
            and pa.kind(b) == "Str"
            and (
                (is_day(pa.text(a)) and is_month(pa.text(b)))
                or (
                    is_month(pa.text(a).rsplit(NBSP, 1)[-1])
                    and pa.text(a)[-1] not in ".,;:"
                    and is_year(pa.text(b))
                )
            )
        ):
            inlines[i : i + 3] = [pa.str_node(pa.text(a) + NBSP + pa.text(b))]
            continue
        i += 1


IN_NOTE = 7_000_000  # citationHash given to an in-text citation the author wrote in a note


def _in_note(cite: Node) -> None:
    """Mark a citation in a note to be rendered as the style's note citation.

    pandoc renders `@key [p. 3]` in a note as "Author, ibid., 3" and `[@key]` in parentheses;
    as a normal citation, marked here and unwrapped of its parentheses afterwards, either reads
    as the style's note citation ("ibid., 3", or the full or short form).
    """
    for n, citation in enumerate(pa.citations(cite)):
        if citation["citationMode"]["t"] == "AuthorInText":
            citation["citationMode"] = {"t": "NormalCitation"}
        citation["citationHash"] = IN_NOTE + n


CITES_AND_NOTES = frozenset(("Cite", "Note"))


def _finisher(whole: Callable[[list[Any]], None]) -> Callable[[Node], Node | None]:
    """Return the rewrite after citeproc: citations as spans (dates whole), notes capitalised."""

    def finish(node: Node) -> Node | None:
        if pa.kind(node) == "Note":
            _capitalise_note(node)
            return None
        span = _cite_to_span(node)
        whole(pa.inlines(span))
        return span

    return finish


def _bibliography_dates(blocks: list[Node], whole: Callable[[list[Any]], None]) -> None:
    """Keep the dates of the bibliography's entries whole (its Div, wherever it stands)."""
    stack = list(blocks)
    while stack:
        block = stack.pop()
        if pa.kind(block) != "Div":
            continue
        if pa.ident(block) == "refs":
            whole(pa.blocks(block))
        else:
            stack.extend(pa.blocks(block))


def _cite_to_span(node: Node) -> Node:
    """Return a rendered citation as a span (writers would cite natively), keeping its keys."""
    keys = " ".join(c["citationId"] for c in pa.citations(node))
    inlines = pa.inlines(node)
    if any(c.get("citationHash", 0) >= IN_NOTE for c in pa.citations(node)):
        inlines = _unwrap(inlines)
    return pa.span(pa.Attr("", ["citation"], [["data-cites", keys]]), inlines)


def _capitalise_note(note: Node) -> None:
    """Capitalise a note that opens with a citation ("Ibid., 4. The author's remark.")."""
    blocks = pa.blocks(note)
    if not blocks or pa.kind(blocks[0]) not in ("Para", "Plain") or not pa.inlines(blocks[0]):
        return
    first = pa.inlines(blocks[0])[0]
    if pa.kind(first) != "Span" or not pa.has_class(first, "citation"):
        return
    word = _edge_str(pa.inlines(first), 0)
    if word is not None and pa.text(word)[:1].islower():
        pa.set_text(word, pa.text(word)[0].upper() + pa.text(word)[1:])


def _edge_str(inlines: list[Node], end: int) -> Node | None:
    """Return the first (end 0) or last (end -1) Str of inlines, looking into spans and emphasis.

    None when something else (a note, a link, a space) stands at that end.
    """
    while inlines:
        node = inlines[end]
        if pa.kind(node) == "Str":
            return node
        if pa.kind(node) in ("Span", "Emph", "Strong", "SmallCaps"):
            inlines = pa.inlines(node)
        else:
            return None
    return None


def _unwrap(inlines: list[Node]) -> list[Node]:
    """Return rendered citation inlines without the parentheses pandoc put around them."""
    first, last = _edge_str(inlines, 0), _edge_str(inlines, -1)
    if (
        first is None
        or last is None
        or not pa.text(first).startswith("(")
        or not pa.text(last).endswith(")")
    ):
        return inlines
    pa.set_text(first, pa.text(first)[1:])
    pa.set_text(last, pa.text(last)[:-1])
    return inlines
