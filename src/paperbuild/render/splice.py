"""A DOCX rewritten where one edit fell: pandoc writes only the chapters the edit touched, and
its output is spliced into the previous draft's, ids renumbered as the whole draft's write
would number them. Where that cannot be shown to give the whole write's very bytes, the caller
writes the whole draft (`spliced` answers None)."""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.pandoc_ast import Node
from paperbuild.util.fsutil import keep_alone, kept_bytes

# What pandoc's DOCX writer numbers across the whole draft (notes, bookmarks, lists, links,
# comments and tracked changes): each value is renamed as the previous draft shows it named,
# a value of one kind apart from the same value of another (a list 1001, a note 1001).
_ID = re.compile(rb'(w:id="|r:id="|r:embed="|<w:numId w:val=")([^"]*)"')
_NOTE_REF = re.compile(rb'<w:footnoteReference w:id="([^"]*)"')
_FOOTNOTE = re.compile(rb'<w:footnote w:id="([^"]*)"')
_BODY = re.compile(rb"<w:body>\s*")
_END = re.compile(rb"\s*(?:<w:sectPr[ >]|</w:body>)")

# The elements that change nothing pandoc keeps from one block to the next: a region of the
# draft that differs from before only in these writes the same ids, lists and links as before.
_PLAIN = frozenset(
    (
        *("Str", "Space", "SoftBreak", "LineBreak", "Para", "Plain", "Emph", "Strong"),
        *("Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps", "Quoted"),
    )
)
_PARTS = ("word/document.xml", "word/footnotes.xml")


@dataclass(frozen=True)
class Sent:
    """The JSON pandoc is given for a DOCX, in pieces: what precedes its blocks
    (`{"pandoc-api-version":…,"meta":…,"blocks":[`) and each block's JSON."""

    head: bytes
    blocks: tuple[bytes, ...]

    @cached_property
    def whole(self) -> bytes:
        """Return the JSON document."""
        return joined(self.head, self.blocks)

    def cuts(self) -> bytes:
        """Return, as JSON, the length of the head and of each block's JSON."""
        return pa.dumps([len(self.head), *map(len, self.blocks)])

    @classmethod
    def of(cls, data: bytes) -> Sent:
        """Return a JSON document in pieces (read and written again: compact)."""
        value = pa.loads(data)
        head = pa.dumps({**value, "blocks": []})[: -len(b"]}")]
        return cls(head, tuple(pa.dumps_each(value["blocks"])))


def joined(head: bytes, blocks: Sequence[bytes]) -> bytes:
    """Return a JSON document from what precedes its blocks and each block's JSON."""
    return pa.joined(blocks, head, b"]}")


def cut(data: bytes, cuts: bytes) -> Sent | None:
    """Return the JSON document cut where `Sent.cuts` says, or None unless the cuts fall
    between its blocks (they are read from a kept file)."""
    try:
        lengths = pa.loads(cuts)
    except (ValueError, RecursionError):
        return None
    if type(lengths) is not list or not lengths or any(type(n) is not int for n in lengths):
        return None
    if sum(lengths) + max(len(lengths) - 2, 0) + len(b"]}") != len(data) or min(lengths) < 1:
        return None
    head, at = data[: lengths[0]], lengths[0]
    blocks = []
    for n in lengths[1:]:
        blocks.append(data[at : at + n])
        at += n + 1  # (and the comma)
    sent = Sent(head, tuple(blocks))
    return sent if sent.whole == data and head.endswith(b'"blocks":[') else None


@dataclass(frozen=True)
class Edit:
    """The chapters an edit touched: blocks [start, old_end) of the previous draft became
    blocks [start, new_end) of this one; both begin at a top-level level-1 heading and end
    before one (or at the draft's end)."""

    start: int
    old_end: int
    new_end: int
    same: bool = True  # (the same skeleton; else they differ in their notes alone)


def edit(old: Sequence[bytes], new: Sequence[bytes]) -> Edit | None:
    """Return the chapters in which two drafts' blocks (each block's JSON) differ, or None if
    they do not, or differ otherwise than in whole chapters of the same shape (`skeleton`)."""
    n = min(len(old), len(new))
    first = next((i for i in range(n) if old[i] != new[i]), n)
    if first == len(old) == len(new):
        return None
    same_end = 0
    while same_end < n - first and old[len(old) - 1 - same_end] == new[len(new) - 1 - same_end]:
        same_end += 1
    both = (i for i in range(first, -1, -1) if _chapter_start(old, i) and _chapter_start(new, i))
    start = next(both, None)
    if start is None:
        return None
    old_end = _chapter_end(old, len(old) - same_end)
    new_end = _chapter_end(new, len(new) - same_end)
    if len(old) - old_end != len(new) - new_end:
        return None
    shapes = skeleton(_read(old[start:old_end])), skeleton(_read(new[start:new_end]))
    if shapes[0] == shapes[1]:
        return Edit(start, old_end, new_end)
    if [s for s in shapes[0] if s[0] != "Note"] == [s for s in shapes[1] if s[0] != "Note"]:
        return Edit(start, old_end, new_end, same=False)
    return None


def _read(blocks: Sequence[bytes]) -> list[Node]:
    """Return the blocks read from their JSON (ValueError unless each is one element's)."""
    read = [pa.loads(block) for block in blocks]
    if any(type(block) is not dict or "t" not in block for block in read):
        raise ValueError("not a block's JSON")
    return read


_CHAPTER = b'{"t":"Header","c":[1,["'  # (a level-1 heading's JSON, up to its identifier)


def _chapter_start(blocks: Sequence[bytes], i: int) -> bool:
    """Return whether block i is a top-level level-1 heading with an identifier."""
    if i >= len(blocks) or not blocks[i].startswith(_CHAPTER):
        return False
    return blocks[i][len(_CHAPTER) : len(_CHAPTER) + 1] != b'"'


def _chapter_end(blocks: Sequence[bytes], end: int) -> int:
    """Return the index of the first chapter heading at or after `end`, else the blocks' end."""
    return next((i for i in range(end, len(blocks)) if _chapter_start(blocks, i)), len(blocks))


def skeleton(value: Any) -> list[Any]:
    """Return what of the blocks pandoc's DOCX writer numbers or keeps: every element but
    text, paragraphs and emphasis, in order, with its attributes and targets (its content
    left out, as `_shape` does)."""
    found: list[Any] = []
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(reversed(v))
        elif type(v) is dict:
            t = v.get("t")
            if "c" not in v:
                continue  # (a space, a quotation's or a table cell's alignment, …)
            if t not in _PLAIN:
                found.append((t, _shape(v["c"])))
            stack.append(v["c"])
    return found


def _shape(value: Any) -> Any:
    """Return value with each list of elements as "…" (a Header's level and attributes, a
    Link's target, a Table's rows and cells are kept)."""
    if type(value) is list:
        if all(type(v) is dict and "t" in v for v in value):
            return "…"
        return [_shape(v) for v in value]
    if type(value) is dict and "t" in value:
        return value["t"] if "c" not in value else "…"
    return value


Write = Callable[[bytes], bytes]  # pandoc's DOCX of a JSON document

SENT = "paperbuild/sent.json"  # (in a kept DOCX: the JSON pandoc was given for it)
CUTS = "paperbuild/sent-cuts.json"  # (and where its blocks begin and end: `Sent.cuts`)


def written(sent: Sent, write: Write, kept: Path | None) -> bytes:
    """Return pandoc's DOCX of `sent`: the one kept in `kept` (the previous draft's, with the
    JSON it was written from) if that JSON is `sent`, else spliced into it where `spliced` can,
    else written whole; what is returned is kept for the next draft."""
    # (a kept file that is missing, cannot be read or is not sealed here costs a whole write)
    before = _parts(kept_bytes(kept) or b"") if kept is not None else None
    old_json = before.pop(SENT, None) if before is not None else None
    old_cuts = before.pop(CUTS, None) if before is not None else None
    parts = None
    if before is not None and old_json == sent.whole:
        return _zipped(before)
    if before is not None and old_json is not None and old_cuts is not None:
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError, RecursionError):
            old = cut(old_json, old_cuts)
            parts = None if old is None else spliced(old, before, sent, write)
    if parts is None:
        docx = write(sent.whole)
        if kept is not None:
            keep_alone(kept, _with_sent(docx, sent), KEPT)
        return docx
    if kept is not None:
        keep_alone(kept, _zipped({**parts, SENT: sent.whole, CUTS: sent.cuts()}), KEPT)
    return _zipped(parts)


KEPT = "written-*.zip"  # (the files `written` keeps: one, the last draft's)


def _zipped(parts: dict[str, bytes]) -> bytes:
    """Return the parts as a zip, stored (python-docx reads it next; the draft's own zip is
    made afterwards, from python-docx's parts)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def _with_sent(docx: bytes, sent: Sent) -> bytes:
    """Return pandoc's DOCX with the JSON it was written from, and its cuts, added."""
    out = io.BytesIO(docx)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_STORED) as z:
        z.writestr(SENT, sent.whole)
        z.writestr(CUTS, sent.cuts())
    return out.getvalue()


def spliced(old: Sent, parts: dict[str, bytes], new: Sent, write: Write) -> dict[str, bytes] | None:
    """Return the parts of pandoc's DOCX of `new`, made from `parts` (its DOCX of `old`) and
    `write`'s DOCX of only the chapters the edit touched, as they were and as they are; or
    None when that is not sure to give what `write(new.whole)` would.

    Only the edited chapters' JSON is read: the rest is compared, and sent, as it stands."""
    if _has_images(new.whole) or any(p not in parts for p in _PARTS):
        return None
    if old.head != new.head:  # (the metadata)
        return None
    region = edit(old.blocks, new.blocks)
    if region is None:
        return None
    before = old.blocks[region.start : region.old_end]
    after = new.blocks[region.start : region.new_end]
    following = new.blocks[region.new_end : region.new_end + 1]  # (its heading: where to cut)
    _read(following)  # (a block's JSON whole, as the chapters' are: ValueError if not)
    if not region.same:
        return renumbered(parts, new.head, (before, after, following), write)
    written = _rewritten(write, joined(new.head, (*before, *after, *following)))
    return None if written is None else _joined(parts, written, bool(following))


def _rewritten(write: Write, document: bytes) -> dict[str, bytes] | None:
    """Return the parts of pandoc's DOCX of the edited chapters' rewrite, or None if it lacks
    a part the splice needs or has a comment (its words are in a part not spliced)."""
    written = _parts(write(document))
    if written is None or any(p not in written for p in _PARTS):
        return None
    return None if b"<w:comment " in written.get("word/comments.xml", b"") else written


def _has_images(sent: bytes) -> bool:
    """Return whether the draft shows an image (its file, not in the JSON, may have changed).

    (`pa.dumps` writes no spaces, and a quotation mark in a string is escaped.)"""
    return b'"t":"Image"' in sent


def _parts(docx: bytes) -> dict[str, bytes] | None:
    """Return a DOCX's parts by name in its order, or None if it is not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            return {name: z.read(name) for name in z.namelist()}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return None


@dataclass(frozen=True)
class _Rewrite:
    """The rewrite of the edited chapters, cut: as they were, as they are (document part and
    notes each), and the bookmark names of their first heading and of the next chapter's."""

    old: bytes
    new: bytes
    first: bytes
    following: bytes | None


def _joined(
    parts: dict[str, bytes], written: dict[str, bytes], following: bool
) -> dict[str, bytes] | None:
    """Return the previous draft's parts with the edited chapters' body and notes replaced by
    the rewritten ones, renamed as the previous draft names what they number; None if the
    rewrite of the chapters as they were does not match the previous draft byte for byte."""
    rewrite = _cut(written["word/document.xml"], following)
    document, footnotes = parts["word/document.xml"], parts["word/footnotes.xml"]
    span = _region(document, rewrite.first, rewrite.following) if rewrite else None
    if rewrite is None or span is None:
        return None
    names = _renaming(rewrite.old, document[span[0] : span[1]])
    notes = _notes(written["word/footnotes.xml"], rewrite.old, rewrite.new)
    old_notes = _note_span(footnotes, _NOTE_REF.findall(document[span[0] : span[1]]))
    if names is None or notes is None or old_notes is None:
        return None
    names = _renaming(notes[0], footnotes[old_notes[0] : old_notes[1]], names)
    if names is None:
        return None
    order = _renaming_by_place(rewrite.old + notes[0], rewrite.new + notes[1], names)
    if order is None:
        return None
    out = dict(parts)
    out["word/document.xml"] = (
        document[: span[0]] + _renamed(rewrite.new, order) + document[span[1] :]
    )
    out["word/footnotes.xml"] = (
        footnotes[: old_notes[0]] + _renamed(notes[1], order) + footnotes[old_notes[1] :]
    )
    return out


_START = re.compile(rb'<w:bookmarkStart w:id="[^"]*" w:name="([^"]*)" />')


def _body(document: bytes) -> bytes | None:
    """Return what a document part's body holds before its section properties."""
    start = _BODY.search(document)
    end = _END.search(document, start.end()) if start else None
    return document[start.end() : end.start()] if start and end else None


def _cut(document: bytes, following: bool) -> _Rewrite | None:
    """Return the rewrite's body cut where the second copy of the first heading begins and
    where the next chapter's heading (the last one, when `following`) begins."""
    body = _body(document)
    if body is None:
        return None
    marks = list(_START.finditer(body))
    if not marks or marks[0].start() != 0:
        return None
    first = marks[0].group(1)
    copies = [m.start() for m in marks if m.group(1) == first]
    last = marks[-1] if following else None
    if len(copies) != 2 or (last is not None and last.start() <= copies[1]):
        return None
    stop = last.start() if last is not None else len(body)
    return _Rewrite(
        old=body[: copies[1]].rstrip(),
        new=body[copies[1] : stop].rstrip(),
        first=first,
        following=last.group(1) if last is not None else None,
    )


def _region(document: bytes, first: bytes, following: bytes | None) -> tuple[int, int] | None:
    """Return where, in the previous draft's document part, the edited chapters stand: from
    the bookmark of their first heading to the next chapter's, else to the body's end."""
    marks = [(m.group(1), m.start()) for m in _START.finditer(document)]
    begin = [i for name, i in marks if name == first]
    if len(begin) != 1:
        return None
    if following is None:
        end = _END.search(document, begin[0])
        return (begin[0], end.start()) if end else None
    stop = [i for name, i in marks if name == following]
    if len(stop) != 1 or stop[0] <= begin[0]:
        return None
    return begin[0], begin[0] + len(document[begin[0] : stop[0]].rstrip())


Numbered = tuple[bytes, bytes]  # (what numbers it, as `_ID` reads it; the number)


def _ids(xml: bytes) -> list[Numbered]:
    """Return the values pandoc numbered in a piece of XML, in order."""
    return [(m.group(1), m.group(2)) for m in _ID.finditer(xml)]


def _renaming(
    mine: bytes, theirs: bytes, names: dict[Numbered, bytes] | None = None
) -> dict[Numbered, bytes] | None:
    """Return the renaming of numbered values that makes `mine` read as `theirs` byte for
    byte (extending `names`), or None if no one renaming does."""
    names = dict(names or {})
    back = {(kind, v): k for (kind, k), v in names.items()}
    a, b = _ID.split(mine), _ID.split(theirs)  # (text, kind, value, text, kind, value, …)
    if len(a) != len(b) or any(a[i] != b[i] for i in range(len(a)) if i % 3 != 2):
        return None
    for i in range(2, len(a), 3):
        kind, x, y = a[i - 1], a[i], b[i]
        if names.setdefault((kind, x), y) != y or back.setdefault((kind, y), x) != x:
            return None
    return names


def _renaming_by_place(
    old: bytes, new: bytes, names: dict[Numbered, bytes]
) -> dict[Numbered, bytes] | None:
    """Return the renaming for the rewritten chapters as they are now: the value numbered in
    each place takes the name its place had before (the two have the same `skeleton`)."""
    return _placed(_ids(old), _ids(new), names)


def _placed(
    a: list[Numbered], b: list[Numbered], names: dict[Numbered, bytes]
) -> dict[Numbered, bytes] | None:
    """Return each value of `b` renamed as the value in the same place of `a` is named, or
    None unless that is one renaming of one kind to the same kind, one-to-one."""
    if len(a) != len(b):
        return None
    order: dict[Numbered, bytes] = {}
    back: dict[Numbered, Numbered] = {}
    for x, y in zip(a, b, strict=True):
        name = names.get(x)
        if name is None or x[0] != y[0]:
            return None
        if order.setdefault(y, name) != name or back.setdefault((y[0], name), y) != y:
            return None
    return order


def _renamed(xml: bytes, names: dict[Numbered, bytes]) -> bytes:
    """Return xml with each numbered value renamed."""
    return _ID.sub(lambda m: m.group(1) + names[(m.group(1), m.group(2))] + b'"', xml)


def _notes(footnotes: bytes, old: bytes, new: bytes) -> tuple[bytes, bytes] | None:
    """Return the notes of the chapters before and after the edit, from the rewrite's part."""
    spans = [_note_span(footnotes, _NOTE_REF.findall(half)) for half in (old, new)]
    if spans[0] is None or spans[1] is None:
        return None
    return footnotes[spans[0][0] : spans[0][1]], footnotes[spans[1][0] : spans[1][1]]


def _note_span(footnotes: bytes, ids: Sequence[bytes]) -> tuple[int, int] | None:
    """Return where the notes with these ids stand, together, in a footnotes part."""
    wanted = set(ids)
    found = [m for m in _FOOTNOTE.finditer(footnotes) if m.group(1) in wanted]
    if not found:
        end = footnotes.rfind(b"</w:footnotes>")
        return (end, end) if end >= 0 else None
    close = footnotes.find(b"</w:footnote>", found[-1].start())
    return (found[0].start(), close + len(b"</w:footnote>")) if close >= 0 else None


# --- an edit that adds or takes away notes: what follows it renumbered --------------------

# pandoc numbers notes, bookmarks and links with one counter, in the order it writes them (a
# section's bookmark after its content); lists have numbers of their own. A chapter with one
# note more takes one number more, and every number after it is one higher.
_COUNTED = re.compile(rb'(w:id="|r:id="rId|Id="rId)(-?\d+)"')
_PROBE = "paperbuild_splice_probe"  # (a heading of no words between the rewritten chapters)
_CHANGES = (b"<w:ins ", b"<w:del ")  # (a tracked change's ids are numbered apart)


def renumbered(
    parts: dict[str, bytes],
    head: bytes,
    chapters: tuple[Sequence[bytes], Sequence[bytes], Sequence[bytes]],
    write: Write,
) -> dict[str, bytes] | None:
    """Return the new draft's parts where the edited chapters differ in their notes alone:
    the chapters (as they were, as they are, and the next one's heading; each block's JSON)
    rewritten as in `spliced`, and every number pandoc counted after them moved by as many as
    the chapters now take more (or fewer); None where that cannot be shown."""
    document, footnotes = parts["word/document.xml"], parts["word/footnotes.xml"]
    if any(c in document or c in footnotes for c in _CHANGES):
        return None
    if b"<w:comment " in parts.get("word/comments.xml", b""):
        return None  # (a comment's id is the author's, not counted: it must not be moved)
    before, after, following = chapters
    probe = pa.dumps(pa.header(1, pa.Attr(_PROBE), []))
    blocks = joined(head, (probe, *before, probe, *after, probe, *following))
    if blocks.count(_PROBE.encode()) != 3:  # (the author's own identifier)
        return None
    written = _rewritten(write, blocks)
    if written is None:
        return None
    halves = _probed(written["word/document.xml"], bool(following))
    if halves is None or b'r:id="' in halves.old + halves.new + written["word/footnotes.xml"]:
        return None  # (a link: the rewrite counts it where the draft may not, written before)
    span = _region(document, halves.first, halves.following)
    if span is None:
        return None
    return _moved(parts, written["word/footnotes.xml"], halves, span)


@dataclass(frozen=True)
class _Probed:
    """The rewrite of the edited chapters between probes: as they were, as they are, the
    counter's value where each begins, how many values each took, and the bookmark names of
    the first heading and of the next chapter's."""

    old: bytes
    new: bytes
    old_start: int
    new_start: int
    old_count: int
    new_count: int
    first: bytes
    following: bytes | None


_PROBED = re.compile(rb'<w:bookmarkStart w:id="(\d+)" w:name="_?' + _PROBE.encode() + rb'" />')


def _probed(document: bytes, following: bool) -> _Probed | None:
    """Return the rewrite cut at its three probes (and the next chapter's heading)."""
    body = _body(document)
    if body is None:
        return None
    probes = list(_PROBED.finditer(body))
    if len(probes) != 3 or probes[0].start() != 0:
        return None
    ids = [int(m.group(1)) for m in probes]
    cut = [
        body.find(b'<w:bookmarkEnd w:id="%d" />' % i, m.end())
        for i, m in zip(ids, probes, strict=True)
    ]
    if any(c < 0 for c in cut):
        return None
    after = [c + len(b'<w:bookmarkEnd w:id="%d" />' % i) for c, i in zip(cut, ids, strict=True)]
    old = body[after[0] : probes[1].start()].strip()
    new = body[after[1] : probes[2].start()].strip()
    firsts = [_START.match(old), _START.match(new)]
    last = list(_START.finditer(body, after[2]))[-1:] if following else []
    if firsts[0] is None or firsts[1] is None or firsts[0].group(1) != firsts[1].group(1):
        return None
    if following and not last:
        return None
    return _Probed(
        old=old,
        new=new,
        old_start=ids[0] + 1,
        new_start=ids[1] + 1,
        old_count=ids[1] - ids[0] - 1,
        new_count=ids[2] - ids[1] - 1,
        first=firsts[0].group(1),
        following=last[0].group(1) if last else None,
    )


def _moved(
    parts: dict[str, bytes], rewritten_notes: bytes, halves: _Probed, span: tuple[int, int]
) -> dict[str, bytes] | None:
    """Return the parts with the chapters as they are in their place and every number counted
    after them moved; None unless the chapters as they were, rewritten, read as the last draft
    has them with every counted number moved by one amount (and their lists renamed)."""
    document, footnotes = parts["word/document.xml"], parts["word/footnotes.xml"]
    old_notes = _counted_span(rewritten_notes, halves.old_start, halves.old_count)
    new_notes = _counted_span(rewritten_notes, halves.new_start, halves.new_count)
    was = halves.old + rewritten_notes[old_notes[0] : old_notes[1]]
    shift = _shift(halves.old, document[span[0] : span[1]])
    if shift is None:
        return None
    begin = halves.old_start + shift[0]  # (where the chapters' numbers began in the last draft)
    notes = _counted_span(footnotes, begin, halves.old_count)
    if _shift(was, document[span[0] : span[1]] + footnotes[notes[0] : notes[1]]) != shift:
        return None
    now = halves.new + rewritten_notes[new_notes[0] : new_notes[1]]
    lists = _by_place(was, now, _LIST, shift[1])
    if lists is None:
        return None
    delta, into = halves.new_count - halves.old_count, begin - halves.new_start

    def later(n: int) -> int | None:  # (a number of the last draft, in the new one)
        if n < begin:
            return n
        return n + delta if n >= begin + halves.old_count else None

    def moved(xml: bytes, number: Callable[[int], int | None], mine: bool = False) -> bytes | None:
        return _recounted(xml, number, lists if mine else {})

    pieces = [
        moved(halves.new, lambda n: n + into, mine=True),
        moved(document[span[1] :], later),
        moved(rewritten_notes[new_notes[0] : new_notes[1]], lambda n: n + into, mine=True),
        moved(footnotes[notes[1] :], later),
    ]
    rels = [
        n for n in ("word/_rels/document.xml.rels", "word/_rels/footnotes.xml.rels") if n in parts
    ]
    relinked = [moved(parts[n], later) for n in rels]
    if any(p is None for p in pieces + relinked):
        return None
    region, tail, added, rest = (p or b"" for p in pieces)
    out = dict(parts)
    out["word/document.xml"] = document[: span[0]] + region + tail
    out["word/footnotes.xml"] = footnotes[: notes[0]] + added + rest
    out.update({n: r or b"" for n, r in zip(rels, relinked, strict=True)})
    return out


def _counted_span(footnotes: bytes, start: int, count: int) -> tuple[int, int]:
    """Return where the notes counted from `start`, `count` numbers, stand in a footnotes part
    (which has them in the order counted): from the first of them to the first after them."""
    end = footnotes.rfind(b"</w:footnotes>")
    marks = [(int(m.group(1)), m.start()) for m in _FOOTNOTE.finditer(footnotes)]
    first = next((i for n, i in marks if n >= start), end)
    after = next((i for n, i in marks if n >= start + count), end)
    return first, after


def _shift(mine: bytes, theirs: bytes) -> tuple[int, dict[Numbered, bytes]] | None:
    """Return (the one amount by which every counted number of `mine` is moved in `theirs`,
    the renaming of every number), or None if `mine` does not read so as `theirs`."""
    names = _renaming(mine, theirs)
    if names is None:
        return None
    moves = {_number(y) - _number(x) for (kind, x), y in names.items() if kind != _LIST}
    return (moves.pop(), names) if len(moves) == 1 else None


_LIST = b'<w:numId w:val="'


def _number(value: bytes) -> int:
    """Return a counted number: a note's or bookmark's, or a link's (`rId12`)."""
    return int(value[3:]) if value.startswith(b"rId") else int(value)


def _by_place(
    was: bytes, now: bytes, kind: bytes, names: dict[Numbered, bytes]
) -> dict[bytes, bytes] | None:
    """Return, for one kind of number, each of `now`'s values renamed as the value in the
    same place of `was` is in the last draft (the lists, the links: the same in both)."""
    a = [n for n in _ids(was) if n[0] == kind]
    b = [n for n in _ids(now) if n[0] == kind]
    order = _placed(a, b, names)
    return None if order is None else {value: name for (_, value), name in order.items()}


def _recounted(
    xml: bytes, number: Callable[[int], int | None], lists: dict[bytes, bytes]
) -> bytes | None:
    """Return xml with each counted number moved by `number` and each list renamed (None if
    a number has nowhere to go)."""
    lost = False

    def counted(m: re.Match[bytes]) -> bytes:
        nonlocal lost
        n = number(int(m.group(2)))
        lost = lost or n is None
        return m.group(1) + str(n).encode() + b'"'

    out = _COUNTED.sub(counted, xml)
    if lists:
        out = re.sub(
            rb'(<w:numId w:val=")(\d+)"',
            lambda m: m.group(1) + lists.get(m.group(2), m.group(2)) + b'"',
            out,
        )
    return None if lost else out
