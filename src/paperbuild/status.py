"""`paperbuild status`: progress per section (words, points, notes, citations, last change)."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from paperbuild.checks import CheckResult, run_checks
from paperbuild.diagnostics import counts
from paperbuild.outline import WordRange
from paperbuild.project import Project
from paperbuild.references import format_references
from paperbuild.render.common import csl_path


@dataclass(frozen=True, kw_only=True)
class SectionStatus:
    """Where one section stands."""

    id: str
    title: str
    chapter: str | None
    words: int
    words_min: int | None
    words_max: int | None
    points_covered: int
    points_total: int
    footnotes: int
    citations: int
    last_change: str | None


@dataclass(frozen=True, kw_only=True)
class Status:
    """Where the whole paper stands, and the works it cites (formatted by citeproc-py)."""

    title: str
    version: str
    sections: tuple[SectionStatus, ...]
    words: int
    points_covered: int
    points_total: int
    errors: int
    warnings: int
    works_cited: tuple[tuple[str, str], ...]
    references_total: int

    def as_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready data."""
        data = asdict(self)
        data["works_cited"] = [{"key": k, "reference": t} for k, t in self.works_cited]
        return data


def last_change(root: Path, rel: str) -> str | None:
    """Return the date of the chapter's last commit, else of its last save (ISO date)."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%cs", "--", rel],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            committed = out.stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--", rel],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            if not dirty.stdout.strip():
                return committed
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        stamp = (root / rel).stat().st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(stamp, dt.UTC).date().isoformat()


def _section(project: Project, result: CheckResult, section_id: str) -> SectionStatus:
    section = project.outline.section(section_id)
    assert section is not None
    path = result.parsed.assignment.get(section_id)
    facts = result.parsed.facts.get(path) if path else None
    covered = sum(1 for p in section.points if p.id in result.covered_ids)
    target = section.words or WordRange()
    return SectionStatus(
        id=section.id,
        title=section.title,
        chapter=path,
        words=facts.words if facts else 0,
        words_min=target.min,
        words_max=target.max,
        points_covered=covered,
        points_total=len(section.points),
        footnotes=facts.notes if facts else 0,
        citations=len(facts.citations) if facts else 0,
        last_change=last_change(project.root, path) if path else None,
    )


def status(project: Project, result: CheckResult | None = None) -> Status:
    """Return the paper's status: per section progress and the works cited."""
    result = result or run_checks(project)
    sections = tuple(_section(project, result, s.id) for s in project.outline.sections)
    cited = dict.fromkeys(k for f in result.parsed.facts.values() for k in f.citations)
    entries = [e for e in project.bibliography.entries if e.key in cited]
    c = counts(result.diagnostics)
    return Status(
        title=project.outline.document.title,
        version=project.outline.document.version,
        sections=sections,
        words=sum(s.words for s in sections),
        points_covered=result.points_covered,
        points_total=result.points_total,
        errors=c["error"],
        warnings=c["warning"],
        works_cited=tuple(format_references(entries, csl_path(project))),
        references_total=len(project.bibliography.entries),
    )
