"""Where a reviewer's remark belongs: the section, the chapter file and the line of its source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from paperbuild.feedback.read import Paragraph, Review
from paperbuild.feedback.source import Unit, plain, units
from paperbuild.load.project import Project
from paperbuild.parse import assign

SECTION_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\s")
MIN_MATCH = 0.5


@dataclass(frozen=True, kw_only=True)
class Place:
    """A paragraph of the reviewed draft placed in the current sources."""

    section: str | None
    path: str | None
    first_line: int | None  # first line of the matching source paragraph
    lines: tuple[str, ...] = ()  # the source paragraph's lines
    score: float = 0.0


def words(text: str) -> list[str]:
    """Return the words of a text, lower-cased, punctuation and quotes dropped."""
    return re.findall(r"[^\W_]+", text.lower())


def _similar(a: list[str], b: list[str]) -> float:
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass
class Locator:
    """Places reviewed paragraphs in the project's current chapters."""

    project: Project

    def __post_init__(self) -> None:
        self.assignment, _ = assign(self.project)
        self.units: dict[str, list[tuple[Unit, list[str]]]] = {
            chapter.path: [(u, words(plain(u.text))) for u in units(chapter.text)]
            for chapter in self.project.chapters
        }

    def sections_of(self, review: Review) -> dict[int, str]:
        """Return body paragraph index -> section id, following the draft's level-1 headings."""
        current: str | None = None
        found: dict[int, str] = {}
        ids = {s.id for s in self.project.outline.sections}
        for i, para in enumerate(review.body):
            if para.style in ("Heading1", "heading1", "Heading 1"):
                match = SECTION_HEADING.match(para.old)
                current = match.group(1) if match and match.group(1) in ids else None
            if current is not None:
                found[i] = current
        return found

    def place(self, para: Paragraph, section: str | None) -> Place:
        """Return the best matching source paragraph of the section's chapter."""
        path = self.assignment.get(section) if section else None
        if path is None:
            return Place(section=section, path=None, first_line=None)
        target = words(para.old)
        best: tuple[float, Unit | None] = (0.0, None)
        for candidate, unit_words in self.units.get(path, []):
            score = _similar(target, unit_words)
            if score > best[0]:
                best = (score, candidate)
        score, unit = best
        if score < MIN_MATCH or unit is None:
            return Place(section=section, path=path, first_line=None, score=score)
        return Place(
            section=section, path=path, first_line=unit.first_line, lines=unit.lines, score=score
        )

    def line_of(self, place: Place, anchor: str) -> int | None:
        """Return the source line (in the placed paragraph) where anchor's words start."""
        if place.first_line is None:
            return None
        wanted = words(anchor)[:4]
        if not wanted:
            return place.first_line
        for i, line in enumerate(place.lines):
            joined = words(plain(" ".join(place.lines[i:])))
            if joined[: len(wanted)] == wanted or _contains(words(plain(line)), wanted[:2]):
                return place.first_line + i
        return place.first_line


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))
