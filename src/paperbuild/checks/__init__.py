"""`paperbuild check`: every rule over a loaded project, collected into one result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paperbuild.checks import (
    bibtex,
    citations,
    coverage,
    crossrefs,
    footnotes,
    glyphs,
    maths,
    queries,
    resources,
    sections,
)
from paperbuild.diagnostics import Diagnostic, configure, counts
from paperbuild.load.project import Project
from paperbuild.parse import Parsed, parse


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """All diagnostics of a check run, and the coverage summary."""

    diagnostics: tuple[Diagnostic, ...]
    parsed: Parsed
    covered_ids: frozenset[str]
    points_total: int
    sections_with_chapter: int
    sections_total: int

    @property
    def points_covered(self) -> int:
        """Return how many outline points are covered."""
        return len(self.covered_ids)

    @property
    def coverage_line(self) -> str:
        """Return e.g. `38/41 points covered, 11/11 sections`."""
        return (
            f"{self.points_covered}/{self.points_total} points covered, "
            f"{self.sections_with_chapter}/{self.sections_total} sections"
        )

    def summary(self) -> dict[str, Any]:
        """Return the JSON summary: counts and coverage."""
        return {
            **counts(self.diagnostics),
            "points_covered": self.points_covered,
            "points_total": self.points_total,
            "sections_with_chapter": self.sections_with_chapter,
            "sections_total": self.sections_total,
        }


def run_checks(project: Project, *, strict: bool = False, with_blocks: bool = False) -> CheckResult:
    """Return every diagnostic for the project, with project severities applied."""
    parsed = parse(project, with_blocks=with_blocks)
    assignment = parsed.assignment
    found: list[Diagnostic] = [
        *project.outline.warnings,
        *project.problems,
        *parsed.mapping_problems,
    ]
    found += sections.title_drift(project, parsed.facts, assignment)
    cov = coverage.check(project, parsed.facts, assignment, strict=strict)
    found += cov.diagnostics
    found += footnotes.check(project, parsed.facts)
    found += crossrefs.check(project, parsed.facts, assignment)
    found += citations.check(project, parsed.facts)
    found += bibtex.check(project)
    found += resources.check(project, parsed.facts)
    found += queries.check(project, parsed.facts)
    found += glyphs.check(project)
    found += glyphs.control_characters(project)
    found += maths.check(project, parsed.facts)
    diagnostics = configure(found, project.outline.rules)
    return CheckResult(
        diagnostics=tuple(diagnostics),
        parsed=parsed,
        covered_ids=cov.covered_ids,
        points_total=len(project.outline.points),
        sections_with_chapter=sum(1 for s in project.outline.sections if s.id in assignment),
        sections_total=len(project.outline.sections),
    )
