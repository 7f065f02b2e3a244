"""A chapter's Markdown as a reviewer's edits see it: leaf blocks, and the markup they never touch.

A unit is one leaf block of the source (a paragraph, a list item, a quoted paragraph, a table
row, a heading, a footnote's paragraph, a caption): the lines a DOCX paragraph comes from. Its
markup (fences, list and quote markers, heading marks, table pipes and rules, attributes,
footnote labels, citations) is protected: an edit that would touch it is not placed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperbuild.load.chapters import fence_step, strip_comments

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")  # any indentation: fences inside list items too
DIV_FENCE = re.compile(r"^[ \t]*:{3,}")
TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(\|[ \t]*:?-*:?[ \t]*)*\|?[ \t]*$")
GRID_RULE = re.compile(r"^[ \t]*\+[-=:+]+\+[ \t]*$")
# what opens a line: indentation, quote marks, then a list, definition or heading marker or a
# footnote label
PREFIX = re.compile(
    r"^[ \t]*(?:>[ \t]?)*[ \t]*"
    r"(?:(?:[-*+]|\d+[.)]|#\.|[:~]|#{1,6})[ \t]+(?:\[[ xX]\][ \t]+)?|\[\^[^\]\s]+\]:[ \t]*)?"
)
STARTS_BLOCK = re.compile(
    r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:(?:[-*+]|\d+[.)]|#\.|[:~]|#{1,6})[ \t]+|\[\^[^\]\s]+\]:|\|)"
)
INLINE_MARKUP = re.compile(
    r"\{[^{}\n]*\}"  # attributes: {#fig:x}, {.mark}, {points="6.2"}
    r"|\[\^[^\]\s]+\]"  # footnote references
    r"|\[-?@[^\]]*\]|(?<![\w.])-?@[\w:.#$%&+?<>~/-]*\w"  # citations and cross-references
    r"|\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"  # a link's target
    r"|\|"  # table pipes
)


@dataclass(frozen=True, kw_only=True)
class Unit:
    """One leaf block of a chapter's source: its first line (1-based) and its lines."""

    first_line: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """Return the unit's source lines joined with newlines."""
        return "\n".join(self.lines)


def units(text: str) -> list[Unit]:
    """Return the leaf blocks of a chapter's source, code blocks and front matter left out."""
    lines = strip_comments(text).split("\n")
    found: list[Unit] = []
    current: list[str] = []
    start = 0
    fence: str | None = None

    def close() -> None:
        nonlocal current
        if current:
            found.append(Unit(first_line=start, lines=tuple(current)))
        current = []

    skip = _front_matter_end(lines)
    for number, line in enumerate(lines, start=1):
        if number <= skip:
            continue
        was_open = fence is not None
        code, fence = fence_step(line, fence, FENCE)
        if code:
            if not was_open:  # a code block begins: the block before it ends
                close()
            continue
        if not line.strip() or DIV_FENCE.match(line) or TABLE_RULE.match(line):
            close()
            continue
        if GRID_RULE.match(line):
            close()
            continue
        if not current or STARTS_BLOCK.match(line) or _is_row(current[-1]):
            close()
            start = number
        current.append(line)
    close()
    return found


def _is_row(line: str) -> bool:
    return line.lstrip(" \t>").startswith("|")


def _front_matter_end(lines: list[str]) -> int:
    """Return the last line of a YAML front matter block at the top (0 when there is none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() in ("---", "..."):
            return number
    return 0


def protected(source: str) -> list[tuple[int, int]]:
    """Return the [start, end) ranges of a unit's source that are markup, not the reader's text."""
    ranges: list[tuple[int, int]] = []
    offset = 0
    for line in source.split("\n"):
        prefix = PREFIX.match(line)
        if prefix and prefix.end():
            ranges.append((offset, offset + prefix.end()))
        for m in INLINE_MARKUP.finditer(line):
            ranges.append((offset + m.start(), offset + m.end()))
        offset += len(line) + 1
    return ranges


def prefix_end(source: str, position: int) -> int:
    """Return where the text of the line holding position starts (after its markers)."""
    line_start = source.rfind("\n", 0, position) + 1
    line_end = source.find("\n", line_start)
    prefix = PREFIX.match(source[line_start : line_end if line_end >= 0 else len(source)])
    return line_start + (prefix.end() if prefix else 0)


def plain(source: str) -> str:
    """Return a unit's source with the markup a reader never sees removed (roughly)."""
    text = "\n".join(PREFIX.sub("", line) for line in source.split("\n"))
    text = INLINE_MARKUP.sub(" ", text)
    return re.sub(r"[\[\]*_`]", " ", text)
