"""Terminal renderings of the outline and of progress tables."""

from __future__ import annotations

import textwrap

from paperbuild.outline import Outline


def outline_table(outline: Outline, *, width: int = 100) -> str:
    """Return the outline as a three-column text table: section, title, points."""
    title_w = max(20, min(36, width // 3))
    points_w = max(20, width - title_w - 10)
    head = f"{'§':>3}  {'Title':<{title_w}}  Points"
    lines = [outline.document.title, f"{outline.document.status}", "", head,
             "─" * min(width, 3 + 2 + title_w + 2 + points_w)]  # fmt: skip
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
