"""Outline coverage: points marked in chapters, suggestions for the unmarked, word ranges."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from paperbuild.diagnostics import Diagnostic, Severity, diag
from paperbuild.facts import Facts
from paperbuild.load.chapters import Chapter, strip_comments
from paperbuild.load.outline import OUTLINE_FILE, Point, Section
from paperbuild.load.project import Project

SUGGEST_THRESHOLD = 0.4
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "which",
        "whose",
        "what",
        "when",
        "where",
        "into",
        "about",
        "their",
        "there",
        "these",
        "those",
        "have",
        "been",
        "being",
        "more",
        "most",
        "some",
        "such",
        "than",
        "them",
        "they",
        "will",
        "would",
        "could",
        "should",
        "also",
        "other",
        "others",
        "only",
        "over",
        "under",
        "between",
        "both",
        "each",
        "including",
        "e.g",
        "i.e",
        "not",
        "but",
    ]
)


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """Which points are covered, and the diagnostics about coverage and length."""

    covered_ids: frozenset[str]
    diagnostics: tuple[Diagnostic, ...]


def check(
    project: Project, facts: dict[str, Facts], assignment: dict[str, str], *, strict: bool
) -> Coverage:
    """Return the coverage of the outline's points by the chapters' markers."""
    outline = project.outline
    owner = {p.id: s for s in outline.sections for p in s.points}
    problems: list[Diagnostic] = []
    covered: set[str] = set()
    section_of_chapter = {path: sid for sid, path in assignment.items()}
    for chapter in project.chapters:
        ids = facts[chapter.path].points if chapter.path in facts else ()
        for pid in dict.fromkeys(ids):
            mark = chapter.scan.first("markers", pid)
            line, col = (mark.line, mark.column) if mark else (1, 1)
            if pid not in owner:
                problems.append(
                    diag(
                        "unknown-point",
                        f"marker names point {pid}, which the outline does not have",
                        chapter.path,
                        line,
                        col,
                        _near_ids(pid, list(owner)),
                    )
                )
                continue
            covered.add(pid)
            here = section_of_chapter.get(chapter.path)
            if here is not None and owner[pid].id != here:
                problems.append(
                    diag(
                        "misplaced-point",
                        f"point {pid} belongs to section {owner[pid].id}, but is "
                        f"marked in the chapter of section {here}",
                        chapter.path,
                        line,
                        col,
                    )
                )
    words = {sid: facts[path].words for sid, path in assignment.items() if path in facts}
    for section in outline.sections:
        own = project.chapter(assignment[section.id]) if section.id in assignment else None
        for point in section.points:
            if point.id not in covered:
                problems.extend(_uncovered(section, point, own, strict=strict))
        problems.extend(_length(section, words.get(section.id)))
    if outline.words is not None:
        total = sum(words.values())
        problems.extend(_out_of_range(outline.words, total, "the document", OUTLINE_FILE, 1))
    return Coverage(
        covered_ids=frozenset(covered),
        diagnostics=tuple(problems),
    )


def _near_ids(pid: str, ids: list[str]) -> str | None:
    prefix = pid.split(".")[0] + "."
    same = [i for i in ids if i.startswith(prefix)]
    return f"points of section {pid.split('.')[0]} are {', '.join(same)}" if same else None


def _uncovered(
    section: Section, point: Point, chapter: Chapter | None, *, strict: bool
) -> list[Diagnostic]:
    severity: Severity = "error" if (strict or section.final) else "warning"
    d = diag(
        "uncovered-point",
        f"point {point.id} is not marked as covered: {_short(point.text)}",
        OUTLINE_FILE,
        point.line,
        point.column,
        f'mark the passage that addresses it with {{points="{point.id}"}}',
    )
    result = [dataclasses.replace(d, severity=severity)]
    if chapter is not None:
        best = suggest(point.text, chapter.text)
        if best is not None:
            line, score = best
            result.append(
                diag(
                    "suggested-coverage",
                    f"maybe {chapter.path}:{line} addresses point {point.id} ({score:.0%} of its "
                    "words)",
                    chapter.path,
                    line,
                    1,
                    f'mark it with {{points="{point.id}"}}',
                )
            )
    return result


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def content_words(text: str) -> set[str]:
    """Return the lower-cased content words of text, crudely stemmed."""
    words = re.findall(r"[a-z][a-z\-]{2,}", text.lower())
    return {_stem(w) for w in words if w not in STOPWORDS}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def paragraphs(text: str) -> list[tuple[int, str]]:
    """Return (start line, text) of each prose paragraph of a chapter's source."""
    result: list[tuple[int, str]] = []
    start, lines = 0, list[str]()
    for number, line in enumerate([*strip_comments(text).split("\n"), ""], start=1):
        if line.lstrip().startswith(":::"):  # a div's fence: its content is prose like any
            line = ""
        if line.strip():
            if not lines:
                start = number
            lines.append(line)
        elif lines:
            block = " ".join(lines).strip()
            if not block.startswith(("#", "<!--", "```", "|")):
                result.append((start, block))
            lines = []
    return result


def suggest(point_text: str, chapter_text: str) -> tuple[int, float] | None:
    """Return (line, score) of the paragraph most like the point, if it passes the threshold."""
    wanted = content_words(point_text)
    if not wanted:
        return None
    best: tuple[int, float] | None = None
    for line, para in paragraphs(chapter_text):
        score = len(wanted & content_words(para)) / len(wanted)
        if score >= SUGGEST_THRESHOLD and (best is None or score > best[1]):
            best = (line, score)
    return best


def _length(section: Section, words: int | None) -> list[Diagnostic]:
    if section.words is None or words is None:
        return []
    where = f"section {section.id}"
    return _out_of_range(section.words, words, where, OUTLINE_FILE, section.line)


def _out_of_range(rng: Any, words: int, where: str, path: str, line: int) -> list[Diagnostic]:
    if rng.min is not None and words < rng.min:
        return [
            diag(
                "length",
                f"{where} has {words} words, fewer than {rng.min}",
                path,
                line,
                1,
                f"target: {rng.describe()} words",
            )
        ]
    if rng.max is not None and words > rng.max:
        return [
            diag(
                "length",
                f"{where} has {words} words, more than {rng.max}",
                path,
                line,
                1,
                f"target: {rng.describe()} words",
            )
        ]
    return []
