"""Queries to the committee still open in the sources, listed where they are (info)."""

from __future__ import annotations

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import Facts
from paperbuild.load.project import Project
from paperbuild.parse import parse


def check(project: Project, facts: dict[str, Facts]) -> list[Diagnostic]:
    """Return one `open-query` per query in the chapters, at its question in the source."""
    found = []
    for chapter in project.chapters:
        seen: dict[str, int] = {}
        for text in facts.get(chapter.path, Facts()).queries:
            nth = seen[text] = seen.get(text, -1) + 1
            where = chapter.find(text[:40], nth) if text else None
            line, col = where or chapter.find(".query", nth) or (1, 1)
            shown = f"“{text}”" if text else "with no question= written"
            found.append(
                diag(
                    "open-query",
                    f"query to the committee: {shown}",
                    chapter.path,
                    line,
                    col,
                    "the drafts show it as a comment (DOCX) and a margin note (PDF); "
                    "`build --final` leaves it out",
                )
            )
    return found


def open_queries(project: Project) -> int:
    """Return how many queries to the committee the chapters hold."""
    return sum(len(f.queries) for f in parse(project).facts.values())


def query_places(project: Project) -> dict[str, tuple[str, int]]:
    """Return each query's question (spaces folded) and where it is: (chapter, line)."""
    facts = parse(project).facts
    places: dict[str, tuple[str, int]] = {}
    for chapter in project.chapters:
        for text in facts.get(chapter.path, Facts()).queries:
            where = chapter.find(text[:40]) if text else None
            places.setdefault(text, (chapter.path, where[0] if where else 1))
    return places
