"""Reading a reviewed DOCX: paragraphs with their original and proposed text, changes, comments."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from paperbuild.errors import PaperbuildError
from paperbuild.safety import docx_part, open_docx, read_input

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
DC = "http://purl.org/dc/elements/1.1/"


def q(tag: str, ns: str = W) -> str:
    """Return the Clark name of a WordprocessingML tag."""
    return f"{{{ns}}}{tag}"


@dataclass(frozen=True, kw_only=True)
class Change:
    """One tracked change: deleted and/or inserted text at an offset of the original text."""

    author: str
    date: str
    old: str
    new: str
    offset: int  # where in the paragraph's original text


@dataclass(frozen=True, kw_only=True)
class Comment:
    """A reviewer's comment, with its replies and resolved state."""

    id: str
    author: str
    date: str
    text: str
    replies: tuple[tuple[str, str, str], ...] = ()  # (author, date, text)
    resolved: bool = False


@dataclass(kw_only=True)
class Paragraph:
    """A paragraph of the reviewed draft: original text, accepted text, and what was done to it."""

    part: str  # "body" or "footnote"
    style: str
    old: str = ""
    new: str = ""
    changes: list[Change] = field(default_factory=list)
    comments: list[tuple[str, int, int]] = field(default_factory=list)  # (id, start, end)
    notes: list[str] = field(default_factory=list)  # footnote ids referenced
    note_id: str | None = None  # for a footnote paragraph, its footnote's id


@dataclass(frozen=True, kw_only=True)
class Review:
    """Everything read from one reviewed DOCX."""

    path: Path
    version: str | None
    paperbuild: bool
    body: tuple[Paragraph, ...]
    footnotes: tuple[Paragraph, ...]
    comments: dict[str, Comment]


def _open(path: Path) -> zipfile.ZipFile:
    return open_docx(read_input(path), path)


def _xml(archive: zipfile.ZipFile, name: str) -> Any:
    data = docx_part(archive, name, Path(archive.filename or ""))
    if data is None:
        return None
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise PaperbuildError(f"{name} inside the document is damaged: {exc}") from exc


class _Walker:
    """Builds a Paragraph from a w:p, run by run."""

    def __init__(self, paragraph: Paragraph) -> None:
        self.p = paragraph

    def text(self, run: Any, deleted: bool) -> str:
        parts = []
        for child in run:
            if child.tag in (q("t"), q("delText")):
                parts.append(child.text or "")
            elif child.tag in (q("tab"), q("br"), q("cr")):
                parts.append(" ")
            elif child.tag == q("footnoteReference") and not deleted:
                self.p.notes.append(child.get(q("id")))
        return "".join(parts)

    def walk(self, element: Any, kind: str | None = None, who: tuple[str, str] = ("", "")) -> None:
        for child in element:
            tag = child.tag
            if tag == q("r"):
                text = self.text(child, kind == "del")
                if kind == "del":
                    self._change(who, old=text)
                    self.p.old += text
                elif kind == "ins":
                    self._change(who, new=text)
                    self.p.new += text
                else:
                    self.p.old += text
                    self.p.new += text
            elif tag in (q("ins"), q("del")):
                who = (child.get(q("author")) or "unknown reviewer", _date(child.get(q("date"))))
                self.walk(child, "ins" if tag == q("ins") else "del", who)
            elif tag == q("commentRangeStart"):
                self.p.comments.append((child.get(q("id")), len(self.p.old), -1))
            elif tag == q("commentRangeEnd"):
                cid = child.get(q("id"))
                self.p.comments = [
                    (i, s, len(self.p.old) if i == cid and e < 0 else e)
                    for i, s, e in self.p.comments
                ]
            elif tag in (q("hyperlink"), q("smartTag"), q("sdt"), q("sdtContent"), q("fldSimple")):
                self.walk(child, kind, who)

    def _change(self, who: tuple[str, str], old: str = "", new: str = "") -> None:
        if not old and not new:  # an empty change (LibreOffice writes one in a comment's range)
            return
        last = self.p.changes[-1] if self.p.changes else None
        offset = len(self.p.old)
        if last and last.author == who[0] and last.offset + len(last.old) == offset:
            self.p.changes[-1] = Change(
                author=last.author,
                date=last.date,
                old=last.old + old,
                new=last.new + new,
                offset=last.offset,
            )
        else:
            self.p.changes.append(
                Change(author=who[0], date=who[1], old=old, new=new, offset=offset)
            )


DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}")


def _date(value: str | None) -> str:
    """Return a change's or comment's date ("" for none, or an unset one such as 0-00-00)."""
    match = DATE.match(value or "")
    return value or "" if match and int(match.group(1)) > 0 else ""


def _row_of(p: Any) -> Any:
    """Return the table row a paragraph sits in (None outside tables)."""
    parent = p.getparent()
    while parent is not None and parent.tag != q("tr"):
        parent = parent.getparent()
    return parent


def _row(row: Any, part: str) -> Paragraph:
    """Return a table row as one paragraph, its cells joined by ' | ' as a pipe table writes them.

    A cell alone is too short to find in the sources; its row, pipes included, is not.
    """
    para = Paragraph(part=part, style="TableRow")
    walker = _Walker(para)
    for i, cell in enumerate(c for c in row if c.tag == q("tc")):
        if i:
            para.old += " | "
            para.new += " | "
        for j, p in enumerate(cell.iter(q("p"))):
            if j:
                para.old += " "
                para.new += " "
            walker.walk(p)
    return para


def _paragraphs(root: Any, part: str) -> list[Paragraph]:
    found: list[Paragraph] = []
    if root is None:
        return found
    rows: set[Any] = set()
    for p in root.iter(q("p")):
        row = _row_of(p)
        if row is not None:
            if row not in rows:
                rows.add(row)
                para = _row(row, part)
                if para.old.strip(" |") or para.new.strip(" |") or para.comments:
                    found.append(para)
            continue
        style_el = p.find(f"{q('pPr')}/{q('pStyle')}")
        para = Paragraph(part=part, style=style_el.get(q("val")) if style_el is not None else "")
        if part == "footnote":
            note = p.getparent()
            para.note_id = note.get(q("id")) if note.tag == q("footnote") else None
        _Walker(para).walk(p)
        if para.old.strip() or para.new.strip() or para.comments:
            found.append(para)
    return found


def _comments(archive: zipfile.ZipFile) -> dict[str, Comment]:
    root = _xml(archive, "word/comments.xml")
    extended = _xml(archive, "word/commentsExtended.xml")
    if root is None:
        return {}
    meta: dict[str, tuple[str | None, bool]] = {}  # paraId -> (parent paraId, done)
    if extended is not None:
        for ex in extended.iter(q("commentEx", W15)):
            meta[ex.get(q("paraId", W15)) or ""] = (
                ex.get(q("paraIdParent", W15)),
                ex.get(q("done", W15)) == "1",
            )
    raw: list[tuple[str, str, str, str, str | None]] = []  # id, author, date, text, paraId
    for c in root.iter(q("comment")):
        paras = list(c.iter(q("p")))
        para_id = paras[-1].get(q("paraId", W14)) if paras else None
        text = "\n".join("".join(t.text or "" for t in p.iter(q("t"))) for p in paras).strip()
        raw.append(
            (
                c.get(q("id")) or "",
                c.get(q("author")) or "unknown reviewer",
                _date(c.get(q("date"))),
                text,
                para_id,
            )
        )
    by_para = {pid: cid for cid, _, _, _, pid in raw if pid}
    replies: dict[str, list[tuple[str, str, str]]] = {}
    tops = []
    for cid, author, date, text, pid in raw:
        parent = meta.get(pid or "", (None, False))[0]
        if parent and parent in by_para:
            replies.setdefault(by_para[parent], []).append((author, date, text))
        else:
            tops.append((cid, author, date, text, pid))
    return {
        cid: Comment(
            id=cid,
            author=author,
            date=date,
            text=text,
            replies=tuple(replies.get(cid, ())),
            resolved=meta.get(pid or "", (None, False))[1],
        )
        for cid, author, date, text, pid in tops
    }


def read_review(path: Path) -> Review:
    """Return what a reviewed DOCX holds: paragraphs, changes, comments and its draft version."""
    archive = _open(path)
    core = _xml(archive, "docProps/core.xml")
    custom = (docx_part(archive, "docProps/custom.xml", path) or b"").decode("utf-8", "replace")
    version = None
    keywords = ""
    if core is not None:
        v = core.find(q("version", CP))
        version = v.text.strip() if v is not None and v.text else None
        k = core.find(q("keywords", CP))
        keywords = k.text or "" if k is not None else ""
    marked = "paperbuild-version" in custom or "paperbuild draft" in keywords
    return Review(
        path=path,
        version=version if marked else None,
        paperbuild=marked,
        body=tuple(_paragraphs(_xml(archive, "word/document.xml"), "body")),
        footnotes=tuple(_paragraphs(_xml(archive, "word/footnotes.xml"), "footnote")),
        comments=_comments(archive),
    )
