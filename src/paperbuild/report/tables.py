"""Terminal renderings of the outline and of progress tables."""

from __future__ import annotations

import textwrap

from paperbuild.load.outline import Outline
from paperbuild.report.status import SectionStatus, Status


def outline_table(outline: Outline, *, width: int = 100) -> str:
    """Return the outline as a three-column text table: section, title, points."""
    title_w = max(20, min(36, width // 3))
    points_w = max(20, width - title_w - 10)
    head = f"{'§':>3}  {'Title':<{title_w}}  Points"
    lines = [
        outline.document.title,
        f"{outline.document.status}",
        "",
        head,
        "─" * min(width, 3 + 2 + title_w + 2 + points_w),
    ]
    for s in outline.sections:
        left = textwrap.wrap(s.title, title_w) or [""]
        right: list[str] = []
        for p in s.points:
            right += textwrap.wrap(f"{p.id}  {p.text}", points_w, subsequent_indent=" " * 5)
        right = right or ["(no points)"]
        for i in range(max(len(left), len(right))):
            num = s.id if i == 0 else ""
            lt = left[i] if i < len(left) else ""
            rt = right[i] if i < len(right) else ""
            lines.append(f"{num:>3}  {lt:<{title_w}}  {rt}".rstrip())
        lines.append("")
    total = len(outline.points)
    lines.append(f"{len(outline.sections)} sections, {total} points")
    return "\n".join(lines)


def _target(s: SectionStatus) -> str:
    if s.words_min is None and s.words_max is None:
        return ""
    if s.words_min is not None and s.words_max is not None:
        return f"{s.words_min}–{s.words_max}"
    return f"≥{s.words_min}" if s.words_min is not None else f"≤{s.words_max}"


def status_table(st: Status, *, width: int = 100) -> str:
    """Return the status as a terminal table, an overall line and the works cited."""
    title_w = max(16, min(40, width - 62))
    head = (
        f"{'§':>3}  {'Section':<{title_w}}  {'words':>6} {'target':>11}  {'points':>6}  "
        f"{'notes':>5} {'cites':>5}  last change"
    )
    lines = [f"{st.title} — version {st.version}", "", head, "─" * min(width, len(head) + 2)]
    for s in st.sections:
        title = s.title if len(s.title) <= title_w else s.title[: title_w - 1] + "…"
        if s.chapter is None:
            title = (
                (title[: title_w - 12] + " (no chapter)")
                if len(title) > title_w - 12
                else (title + " (no chapter)")
            )
        points = f"{s.points_covered}/{s.points_total}"
        lines.append(
            f"{s.id:>3}  {title:<{title_w}}  {s.words:>6} {_target(s):>11}  {points:>6}  "
            f"{s.footnotes:>5} {s.citations:>5}  {s.last_change or ''}".rstrip()
        )
    share = st.points_covered / st.points_total if st.points_total else 1.0
    lines += [
        "",
        f"{st.words} words; {st.points_covered}/{st.points_total} points covered "
        f"({share:.0%}); {st.errors} errors, {st.warnings} warnings",
    ]
    lines += ["", f"Works cited ({len(st.works_cited)} of {st.references_total} entries):"]
    lines += [
        textwrap.fill(text, width, initial_indent="  ", subsequent_indent="    ")
        for _, text in st.works_cited
    ] or ["  (none)"]
    return "\n".join(lines)
