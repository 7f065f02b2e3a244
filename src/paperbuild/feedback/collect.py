"""`paperbuild feedback`: reviewed DOCX files read, merged, placed in the chapters, reported."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild.checks.queries import query_places
from paperbuild.errors import PaperbuildError
from paperbuild.feedback.locate import Locator, Place
from paperbuild.feedback.patch import Edit, apply_edits, edits_for, read_source, unified_diff
from paperbuild.feedback.read import Paragraph, Review, read_review
from paperbuild.load.project import Project
from paperbuild.safety import file_name, output_dir, output_file
from paperbuild.util.fsutil import write_atomic


@dataclass(frozen=True, kw_only=True)
class Item:
    """One reviewer's comment or proposed change, where it belongs in the sources."""

    kind: str  # "comment", "change", or "query" (the author's question, with its replies)
    reviewer: str
    date: str
    section: str | None
    path: str | None
    line: int | None
    anchor: str  # the commented text, or the words just before a change
    text: str = ""  # the comment
    old: str = ""  # the change's deleted text
    new: str = ""  # the change's inserted text
    replies: tuple[tuple[str, str, str], ...] = ()
    resolved: bool = False
    review: str = ""  # the file it came from
    in_patch: bool = False
    conflicts: tuple[tuple[str, str, str], ...] = ()  # other reviewers' (who, old, new) here

    @property
    def key(self) -> tuple[Any, ...]:
        """Return what makes two items the same remark (across reviewers' files)."""
        return (
            self.kind,
            self.reviewer,
            self.text,
            self.old,
            self.new,
            self.path,
            self.line,
            self.anchor,
        )

    def as_json(self) -> dict[str, Any]:
        """Return the item as JSON-ready data."""
        data = dataclasses.asdict(self)
        data["replies"] = [{"reviewer": a, "date": d, "text": t} for a, d, t in self.replies]
        data["conflicts"] = [{"reviewer": r, "old": o, "new": n} for r, o, n in self.conflicts]
        return data


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """All items, sorted by chapter and line, and the patch of the proposed changes."""

    draft: str
    current: str
    items: tuple[Item, ...]
    patch: str
    unplaced_changes: int

    def as_json(self) -> dict[str, Any]:
        """Return the feedback as `feedback --format json` prints it."""
        return {
            "draft": self.draft,
            "current": self.current,
            "items": [i.as_json() for i in self.items],
            "unplaced_changes": self.unplaced_changes,
        }

    def text(self) -> str:
        """Return the items grouped by chapter, as `paperbuild feedback` prints them."""
        lines: list[str] = []
        current: object = object()
        for item in self.items:
            if item.path != current:
                current = item.path
                lines.append(f"\n{item.path or 'not in a chapter'}")
            lines.append(f"  {describe(item)}")
        return "\n".join(lines) if lines else "no comments or tracked changes"

    def warnings(self) -> list[str]:
        """Return what a reviewer's author must do by hand: unplaced and conflicting changes."""
        found = []
        if self.unplaced_changes:
            found.append(
                f"{self.unplaced_changes} change(s) could not be placed in the patch; "
                "apply them by hand"
            )
        clashing = sum(1 for i in self.items if i.conflicts)
        if clashing:
            found.append(
                f"{clashing} change(s) conflict with another reviewer's and are left out of the "
                "patch; choose between them by hand"
            )
        return found


def write_feedback(project: Project, feedback: Feedback, *, patch: bool) -> list[Path]:
    """Return the files written to build/feedback/: the items as Markdown, and the patch."""
    out = output_dir(project.root, project.build_dir / "feedback")
    draft = file_name(feedback.draft, "the reviewed draft's version")
    written = [output_file(out, f"{draft}.md")]
    write_atomic(written[0], markdown(feedback).encode("utf-8"))
    if patch:
        written.append(output_file(out, f"{draft}.patch"))
        write_atomic(written[1], feedback.patch.encode("utf-8"))
    return written


def _items(
    review: Review, locator: Locator, queries: dict[str, tuple[str, int]], author: str
) -> tuple[list[tuple[Item, int]], list[tuple[Place, Paragraph]]]:
    """Return (item, id of its paragraph) for each remark, and the paragraphs with changes."""
    sections = locator.sections_of(review)
    note_section = {n: sections.get(i) for i, p in enumerate(review.body) for n in p.notes}
    found: list[tuple[Item, int]] = []
    changed: list[tuple[Place, Paragraph]] = []
    paras = [(p, sections.get(i)) for i, p in enumerate(review.body)]
    paras += [(p, note_section.get(p.note_id or "")) for p in review.footnotes]
    for para, section in paras:
        if not (para.comments or para.changes):
            continue
        place = locator.place(para, section)
        for cid, start, end in para.comments:
            comment = review.comments.get(cid)
            if comment is None:
                continue  # a reply: shown with its comment
            anchor = para.old[start : end if end >= 0 else len(para.old)].strip()
            question = " ".join(comment.text.split())
            if comment.author == author and question in queries:
                path, line = queries[question]
                query = Item(
                    kind="query",
                    reviewer=comment.author,
                    date=comment.date,
                    section=section,
                    path=path,
                    line=line,
                    anchor=anchor,
                    text=question,
                    replies=comment.replies,
                    resolved=comment.resolved,
                    review=review.path.name,
                )
                found.append((query, id(para)))
                continue
            found.append(
                (
                    Item(
                        kind="comment",
                        reviewer=comment.author,
                        date=comment.date,
                        section=section,
                        path=place.path,
                        line=locator.line_of(place, anchor or para.old),
                        anchor=anchor,
                        text=comment.text,
                        replies=comment.replies,
                        resolved=comment.resolved,
                        review=review.path.name,
                    ),
                    id(para),
                )
            )
        for change in para.changes:
            context = " ".join(para.old[: change.offset].split()[-6:])  # whole words only
            anchor_text = change.old or context.split(" ")[-1] if (change.old or context) else ""
            found.append(
                (
                    Item(
                        kind="change",
                        reviewer=change.author,
                        date=change.date,
                        section=section,
                        path=place.path,
                        line=locator.line_of(place, anchor_text or para.old),
                        anchor=context,
                        old=change.old.strip(),
                        new=change.new.strip(),
                        review=review.path.name,
                    ),
                    id(para),
                )
            )
        if para.changes:
            changed.append((place, para))
    return found, changed


@dataclass(frozen=True, kw_only=True)
class Patch:
    """The unified diff of the placed changes, and what could not go into it."""

    diff: str
    placed: frozenset[int]  # ids of the paragraphs whose changes are in the diff
    conflicts: dict[int, tuple[int, ...]]  # paragraph id -> the other reviewers' paragraph ids
    missed: int  # changes whose place in the source could not be found


def _patch(project: Project, changed: list[tuple[Place, Paragraph]]) -> Patch:
    """Return the patch of every placed change; proposals that clash are all left out."""
    by_unit: dict[tuple[str, int], list[Paragraph]] = {}
    extents: dict[tuple[str, int], int] = {}
    for place, para in changed:
        if place.path and place.first_line:
            by_unit.setdefault((place.path, place.first_line), []).append(para)
            extents[(place.path, place.first_line)] = len(place.lines)
    diff: list[str] = []
    placed: set[int] = set()
    conflicts: dict[int, tuple[int, ...]] = {}
    missed = 0
    for path in sorted({p for p, _ in by_unit}):
        text, newline = read_source(project.root, path)
        lines = text.split("\n")
        for first in sorted((f for p, f in by_unit if p == path), reverse=True):
            start, count = first - 1, extents[(path, first)]
            source = "\n".join(lines[start : start + count])
            edits, done, clashes, not_placed = _unit_edits(source, by_unit[(path, first)])
            missed += not_placed
            placed |= done
            conflicts.update(clashes)
            if edits:
                lines[start : start + count] = apply_edits(source, edits).split("\n")
        after = "\n".join(lines)
        if after != text:
            diff.append(
                unified_diff(path, text.replace("\n", newline), after.replace("\n", newline))
            )
    return Patch(diff="".join(diff), placed=frozenset(placed), conflicts=conflicts, missed=missed)


def _unit_edits(
    source: str, paras: list[Paragraph]
) -> tuple[list[Edit], set[int], dict[int, tuple[int, ...]], int]:
    """Return the edits of one source block from every reviewer's version of its paragraph.

    Identical proposals count once; proposals from different files that touch the same words
    (or insert at the same place) conflict, and none of them is applied.
    """
    proposals: list[tuple[Paragraph, list[Edit]]] = []
    missed = 0
    for para in paras:
        edits, not_placed = edits_for(source, para.old, para.new)
        missed += not_placed
        if edits and not not_placed:
            proposals.append((para, edits))
    clashing: dict[int, set[int]] = {}
    for (a, ea), (b, eb) in itertools.combinations(proposals, 2):
        if any(_clash(x, y) for x in ea for y in eb):
            clashing.setdefault(id(a), set()).add(id(b))
            clashing.setdefault(id(b), set()).add(id(a))
    chosen = [(p, e) for p, e in proposals if id(p) not in clashing]
    edits = sorted(
        {(e.start, e.end, e.text): e for _, es in chosen for e in es}.values(),
        key=lambda e: e.start,
    )
    conflicts = {k: tuple(sorted(v)) for k, v in clashing.items()}
    return edits, {id(p) for p, _ in chosen}, conflicts, missed


def _clash(x: Edit, y: Edit) -> bool:
    """Return whether two edits of one source disagree about the same words or place."""
    if (x.start, x.end, x.text) == (y.start, y.end, y.text):
        return False
    if x.start == x.end or y.start == y.end:  # an insertion: clashes at the same place
        return x.start <= y.end and y.start <= x.end
    return x.start < y.end and y.start < x.end


def collect(project: Project, files: list[Path], against: str | None = None) -> Feedback:
    """Return the merged feedback of reviewed files of one draft, with the patch of changes."""
    reviews = [read_review(f) for f in files]
    versions = {r.version or against for r in reviews}
    for review in reviews:
        if review.version is None and against is None:
            raise PaperbuildError(
                f"{review.path} does not say which draft it was reviewed from"
                + ("" if review.paperbuild else " (it is not a paperbuild draft)"),
                hint="pass --against VERSION to name the draft it was made from",
            )
    if len(versions) > 1:
        raise PaperbuildError(
            f"the files were reviewed from different drafts: "
            f"{', '.join(sorted(v for v in versions if v))}",
            hint="run feedback once per draft",
        )
    locator = Locator(project)
    items: dict[tuple[Any, ...], tuple[Item, int]] = {}
    changed: list[tuple[Place, Paragraph]] = []
    queries = query_places(project)
    author = project.outline.document.author
    for review in reviews:
        found, paras = _items(review, locator, queries, author)
        changed += paras
        for item, para_id in found:
            if item.kind == "query" and item.key in items:  # each reviewer's replies, merged
                first, first_id = items[item.key]
                replies = tuple(dict.fromkeys(first.replies + item.replies))
                merged = dataclasses.replace(
                    first, replies=replies, resolved=first.resolved or item.resolved
                )
                items[item.key] = (merged, first_id)
                continue
            items.setdefault(item.key, (item, para_id))
    patch = _patch(project, changed)
    by_id = {id(p): p for _, p in changed}
    entries = sorted(
        items.values(),
        key=lambda e: (e[0].path is None, e[0].path or "", e[0].line or 0, e[0].kind),
    )
    ordered = [
        dataclasses.replace(
            item,
            in_patch=item.kind == "change" and para_id in patch.placed,
            conflicts=_proposals(patch.conflicts.get(para_id, ()), by_id)
            if item.kind == "change"
            else (),
        )
        for item, para_id in entries
    ]
    draft = versions.pop() or "draft"
    return Feedback(
        draft=draft,
        current=project.outline.document.version,
        items=tuple(ordered),
        patch=patch.diff,
        unplaced_changes=patch.missed,
    )


def _proposals(
    others: tuple[int, ...], paragraphs: dict[int, Paragraph]
) -> tuple[tuple[str, str, str], ...]:
    """Return (reviewer, old, new) of each change in the other paragraphs (a conflict's side)."""
    return tuple(
        (c.author, c.old.strip(), c.new.strip())
        for pid in others
        if pid in paragraphs
        for c in paragraphs[pid].changes
    )


def markdown(feedback: Feedback) -> str:
    """Return the feedback as Markdown, grouped by chapter with path:line."""
    lines = [f"# Feedback on draft {feedback.draft}", ""]
    if feedback.draft != feedback.current:
        lines += [
            f"The sources are now at version {feedback.current}; lines are those of the "
            "current text.",
            "",
        ]
    if not feedback.items:
        return "\n".join([*lines, "No comments or tracked changes.", ""])
    current = object()
    for item in feedback.items:
        if item.path != current:
            current = item.path
            lines += [
                "",
                f"## {item.path or 'Not in a chapter (title page, contents, references)'}",
                "",
            ]
        lines.append(f"- {describe(item)}")
    return "\n".join(lines) + "\n"


def describe(item: Item) -> str:
    """Return one line about an item: where, who, what."""
    where = (
        f"{item.path}:{item.line}"
        if item.path and item.line
        else (f"section {item.section} (text changed beyond recognition)" if item.section else "—")
    )
    who = f"{item.reviewer}" + (f", {item.date[:10]}" if item.date else "")
    if item.kind == "query":
        on = f" on “{_short(item.anchor)}”" if item.anchor else ""
        answers = "".join(f" / reply by {a}: {t}" for a, _, t in item.replies) or " / no reply yet"
        done = " (resolved)" if item.resolved else ""
        return f"{where}: query “{item.text}”{on}{answers}{done}"
    if item.kind == "comment":
        on = f" on “{_short(item.anchor)}”" if item.anchor else ""
        extra = "".join(f" / reply by {a}: {t}" for a, _, t in item.replies)
        done = " (resolved)" if item.resolved else ""
        return f"{where}: comment by {who}{on}: {item.text}{extra}{done}"
    if item.old and item.new:
        what = f"replace “{item.old}” with “{item.new}”"
    elif item.old:
        what = f"delete “{item.old}”"
    else:
        what = f"insert “{item.new}” after “{_tail(item.anchor, 40)}”"
    clash = "".join(
        f" / conflicts with {reviewer}: {_what(old, new)}" for reviewer, old, new in item.conflicts
    )
    left_out = " (neither is in the patch)" if item.conflicts else ""
    return f"{where}: change by {who}: {what}{clash}{left_out}"


def _what(old: str, new: str) -> str:
    """Return a proposal in a few words: replace, delete or insert."""
    if old and new:
        return f"replace “{old}” with “{new}”"
    return f"delete “{old}”" if old else f"insert “{new}”"


def _short(text: str, limit: int = 60) -> str:
    """Return the text's first words within limit characters ('…' where it was cut)."""
    words = text.split()
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > limit - 1:
            break
        kept.append(word)
    shown = " ".join(kept or [words[0][: limit - 1]] if words else [])
    return shown if len(kept) == len(words) else shown + "…"


def _tail(text: str, limit: int) -> str:
    """Return the text's last words within limit characters ('…' where it was cut)."""
    words = text.split()
    kept: list[str] = []
    for word in reversed(words):
        if len(" ".join([word, *kept])) > limit - 1:
            break
        kept.insert(0, word)
    shown = " ".join(kept or ([words[-1][-(limit - 1) :]] if words else []))
    return shown if len(kept) == len(words) else "…" + shown
