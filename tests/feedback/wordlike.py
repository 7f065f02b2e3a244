"""Reviewing a DOCX as Word does: comments (with replies), insertions and deletions by name."""

from __future__ import annotations

import copy
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
DATE = "2026-12-01T10:00:00Z"


def q(tag: str, ns: str = W) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class Comment:
    paragraph: str  # text the paragraph contains
    anchor: str  # the commented words
    author: str
    text: str
    replies: list[tuple[str, str]] = field(default_factory=list)  # (author, text)
    resolved: bool = False
    part: str = "word/document.xml"


@dataclass
class Change:
    paragraph: str
    old: str  # words deleted ("" for a pure insertion)
    new: str  # words inserted ("" for a pure deletion)
    author: str
    after: str = ""  # for a pure insertion: the words it follows ("" for the paragraph's start)
    part: str = "word/document.xml"


def _text(run) -> str:
    return "".join(t.text or "" for t in run.iter(q("t")))


def _find_paragraph(root, needle: str):
    for p in root.iter(q("p")):
        if needle in "".join(t.text or "" for t in p.iter(q("t"))):
            return p
    raise AssertionError(f"no paragraph contains {needle!r}")


def _isolate(p, text: str) -> list:
    """Return the direct runs of p that hold exactly `text`, splitting runs at its edges."""
    runs = [r for r in p if r.tag == q("r")]
    joined = "".join(_text(r) for r in runs)
    start = joined.index(text)
    end = start + len(text)
    pos, chosen = 0, []
    for run in runs:
        t = _text(run)
        a, b = pos, pos + len(t)
        pos = b
        if b <= start or a >= end or not t:
            continue
        if a < start:  # split off the head
            head = copy.deepcopy(run)
            head.find(q("t")).text = t[: start - a]
            run.addprevious(head)
            t = t[start - a :]
            run.find(q("t")).text = t
            a = start
        if b > end:  # split off the tail
            tail = copy.deepcopy(run)
            tail.find(q("t")).text = t[end - a :]
            run.addnext(tail)
            run.find(q("t")).text = t[: end - a]
        for t_el in run.iter(q("t")):
            t_el.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        chosen.append(run)
    return chosen


class Reviewer:
    """Applies comments and tracked changes to a DOCX, writing the XML as Word does."""

    def __init__(self, source: Path) -> None:
        self.zip = zipfile.ZipFile(source)
        self.parts = {n: self.zip.read(n) for n in self.zip.namelist()}
        self.trees = {}
        self.next_id = 900
        self.para = 0x10000000

    def tree(self, name: str):
        if name not in self.trees:
            self.trees[name] = etree.fromstring(self.parts[name])
        return self.trees[name]

    def _id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def change(self, c: Change) -> None:
        p = _find_paragraph(self.tree(c.part), c.paragraph)
        if c.old:
            runs = _isolate(p, c.old)
            wrapper = etree.Element(q("del"))
            wrapper.set(q("id"), self._id())
            wrapper.set(q("author"), c.author)
            wrapper.set(q("date"), DATE)
            runs[0].addprevious(wrapper)
            for run in runs:
                for t in run.iter(q("t")):
                    t.tag = q("delText")
                wrapper.append(run)
            anchor = wrapper
        elif c.after:
            anchor = _isolate(p, c.after)[-1]
        else:  # at the start of the paragraph: before its first run of text
            anchor = None
            first = next(r for r in p if r.tag == q("r") and _text(r))
        if c.new:
            ins = etree.Element(q("ins"))
            ins.set(q("id"), self._id())
            ins.set(q("author"), c.author)
            ins.set(q("date"), DATE)
            run = etree.SubElement(ins, q("r"))
            t = etree.SubElement(run, q("t"))
            t.text = c.new if c.old else f" {c.new}" if c.after else f"{c.new} "
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            if anchor is None:
                first.addprevious(ins)
            else:
                anchor.addnext(ins)

    def comment(self, c: Comment) -> None:
        p = _find_paragraph(self.tree(c.part), c.paragraph)
        runs = _isolate(p, c.anchor)
        cid = self._id()
        start = etree.Element(q("commentRangeStart"))
        start.set(q("id"), cid)
        runs[0].addprevious(start)
        end = etree.Element(q("commentRangeEnd"))
        end.set(q("id"), cid)
        runs[-1].addnext(end)
        ref_run = etree.Element(q("r"))
        ref = etree.SubElement(ref_run, q("commentReference"))
        ref.set(q("id"), cid)
        end.addnext(ref_run)
        parent = self._comment_part(cid, c.author, c.text)
        self._extended(parent, None, c.resolved)
        for author, text in c.replies:
            child = self._comment_part(self._id(), author, text)
            self._extended(child, parent, False)

    def reply(self, to: str, author: str, text: str, resolve: bool = False) -> None:
        """Reply to the comment whose text is `to` (as Word does, giving it a paraId if none)."""
        comments = self.tree("word/comments.xml")
        parent = next(
            c
            for c in comments.iter(q("comment"))
            if "".join(t.text or "" for t in c.iter(q("t"))) == to
        )
        last = list(parent.iter(q("p")))[-1]
        if last.get(q("paraId", W14)) is None:
            self.para += 1
            last.set(q("paraId", W14), f"{self.para:08X}")
        parent_id = last.get(q("paraId", W14))
        self._extended(parent_id, None, resolve)
        child = self._comment_part(self._id(), author, text)
        self._extended(child, parent_id, False)

    def _comment_part(self, cid: str, author: str, text: str) -> str:
        comments = self.tree("word/comments.xml")
        el = etree.SubElement(comments, q("comment"))
        el.set(q("id"), cid)
        el.set(q("author"), author)
        el.set(q("date"), DATE)
        el.set(q("initials"), "".join(w[0] for w in author.split()))
        p = etree.SubElement(el, q("p"))
        self.para += 1
        para_id = f"{self.para:08X}"
        p.set(q("paraId", W14), para_id)
        r = etree.SubElement(p, q("r"))
        etree.SubElement(r, q("t")).text = text
        return para_id

    def _extended(self, para_id: str, parent: str | None, done: bool) -> None:
        name = "word/commentsExtended.xml"
        if name not in self.parts:
            self.parts[name] = f'<w15:commentsEx xmlns:w15="{W15}"/>'.encode()
            rels = etree.fromstring(self.parts["word/_rels/document.xml.rels"])
            rel = etree.SubElement(rels, f"{{{REL}}}Relationship")
            rel.set("Id", "rIdCommentsEx")
            rel.set(
                "Type", "http://schemas.microsoft.com/office/2011/relationships/commentsExtended"
            )
            rel.set("Target", "commentsExtended.xml")
            self.parts["word/_rels/document.xml.rels"] = etree.tostring(rels)
            types = etree.fromstring(self.parts["[Content_Types].xml"])
            override = etree.SubElement(types, f"{{{CT}}}Override")
            override.set("PartName", "/word/commentsExtended.xml")
            override.set(
                "ContentType",
                "application/vnd.openxmlformats-officedocument."
                "wordprocessingml.commentsExtended+xml",
            )
            self.parts["[Content_Types].xml"] = etree.tostring(types)
        ext = self.tree(name)
        ex = etree.SubElement(ext, q("commentEx", W15))
        ex.set(q("paraId", W15), para_id)
        if parent:
            ex.set(q("paraIdParent", W15), parent)
        ex.set(q("done", W15), "1" if done else "0")

    def save(self, target: Path) -> Path:
        for name, tree in self.trees.items():
            self.parts[name] = etree.tostring(
                tree, xml_declaration=True, encoding="UTF-8", standalone=True
            )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.parts.items():
                z.writestr(name, data)
        target.write_bytes(out.getvalue())
        return target
