"""`paperbuild check`: every rule over a loaded project, collected into one result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paperbuild import pandoc
from paperbuild.checks import citations, coverage, footnotes, sections
from paperbuild.diagnostics import Diagnostic, configure, counts
from paperbuild.project import Project


@dataclass(frozen=True, kw_only=True)
class Parsed:
    """A project with each chapter's pandoc blocks and the section each chapter serves."""

    project: Project
    blocks: dict[str, list[dict[str, Any]]]
    assignment: dict[str, str]  # section id -> chapter path
    mapping_problems: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """All diagnostics of a check run, and the coverage summary."""

    diagnostics: tuple[Diagnostic, ...]
    parsed: Parsed
    points_covered: int
    points_total: int
    sections_with_chapter: int
    sections_total: int
    summary_extra: dict[str, Any] = field(default_factory=dict)

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


def parse(project: Project) -> Parsed:
    """Return the project with each chapter parsed (through the per-chapter cache)."""
    items = [(c.path, c.text) for c in project.chapters]
    parsed = pandoc.parse_chapters(items, project.cache_dir)
    assignment, problems = sections.assign(project)
    return Parsed(
        project=project,
        blocks={c.path: b for c, b in zip(project.chapters, parsed, strict=True)},
        assignment=assignment,
        mapping_problems=tuple(problems),
    )


def run_checks(project: Project, *, strict: bool = False) -> CheckResult:
    """Return every diagnostic for the project, with project severities applied."""
    parsed = parse(project)
    assignment = parsed.assignment
    found: list[Diagnostic] = [*project.problems, *parsed.mapping_problems]
    found += sections.title_drift(project, parsed.blocks, assignment)
    cov = coverage.check(project, parsed.blocks, assignment, strict=strict)
    found += cov.diagnostics
    found += footnotes.check(project)
    found += citations.check(project, parsed.blocks)
    diagnostics = configure(found, project.outline.rules, strict=strict)
    return CheckResult(
        diagnostics=tuple(diagnostics),
        parsed=parsed,
        points_covered=cov.covered,
        points_total=len(project.outline.points),
        sections_with_chapter=sum(1 for s in project.outline.sections if s.id in assignment),
        sections_total=len(project.outline.sections),
    )
