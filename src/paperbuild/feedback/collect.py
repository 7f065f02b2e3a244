"""`paperbuild feedback`: reviewed DOCX files read, merged, placed in the chapters, reported."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild.errors import PaperbuildError
from paperbuild.feedback.locate import Locator, Place
from paperbuild.feedback.patch import apply_edits, edits_for, read_source, unified_diff
from paperbuild.feedback.read import Paragraph, Review, read_review
from paperbuild.project import Project


@dataclass(frozen=True, kw_only=True)
class Item:
    """One reviewer's comment or proposed change, where it belongs in the sources."""

    kind: str  # "comment" or "change"
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
        return data


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """All items, sorted by chapter and line, and the patch of the proposed changes."""

    draft: str
    current: str
    items: tuple[Item, ...]
    patch: str
    unplaced_changes: int


def _items(
    review: Review, locator: Locator
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


def _patch(project: Project, changed: list[tuple[Place, Paragraph]]) -> tuple[str, set[int], int]:
    """Return the unified diff, the ids of placed paragraphs, and the count of unplaced edits."""
    by_file: dict[str, list[tuple[Place, Paragraph]]] = {}
    for place, para in changed:
        if place.path and place.first_line:
            by_file.setdefault(place.path, []).append((place, para))
    diff, placed, missed = [], set(), 0
    for path, entries in sorted(by_file.items()):
        text, newline = read_source(project.root, path)
        lines = text.split("\n")
        for place, para in sorted(entries, key=lambda e: -(e[0].first_line or 0)):
            start = (place.first_line or 1) - 1
            source = "\n".join(lines[start : start + len(place.lines)])
            edits, not_placed = edits_for(source, para.old, para.new)
            missed += not_placed
            if edits and not not_placed:
                placed.add(id(para))
                lines[start : start + len(place.lines)] = apply_edits(source, edits).split("\n")
        after = "\n".join(lines)
        if after != text:
            diff.append(
                unified_diff(path, text.replace("\n", newline), after.replace("\n", newline))
            )
    return "".join(diff), placed, missed


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
    for review in reviews:
        found, paras = _items(review, locator)
        changed += paras
        for item, para_id in found:
            items.setdefault(item.key, (item, para_id))
    patch, placed, missed = _patch(project, changed)
    entries = sorted(
        items.values(),
        key=lambda e: (e[0].path is None, e[0].path or "", e[0].line or 0, e[0].kind),
    )
    ordered = [
        dataclasses.replace(item, in_patch=item.kind == "change" and para_id in placed)
        for item, para_id in entries
    ]
    draft = versions.pop() or "draft"
    return Feedback(
        draft=draft,
        current=project.outline.document.version,
        items=tuple(ordered),
        patch=patch,
        unplaced_changes=missed,
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
    return f"{where}: change by {who}: {what}"


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
