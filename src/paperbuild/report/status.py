"""`paperbuild status`: progress per section (words, points, notes, citations, last change)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from paperbuild.checks import CheckResult, run_checks
from paperbuild.diagnostics import counts
from paperbuild.load.outline import WordRange
from paperbuild.load.project import Project
from paperbuild.references import csl_path, format_references
from paperbuild.util.git import git


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
    """Where the whole paper stands, and the works it cites (formatted by pandoc's citeproc)."""

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


def _git(root: Path, *args: str) -> str | None:
    """Return git's output for args run in root, or None when git fails or is missing."""
    out = git(root, *args)
    return out.stdout if out is not None and out.returncode == 0 else None


def last_changes(root: Path, paths: list[str]) -> dict[str, str | None]:
    """Return each file's last commit date, or its last save for a file changed since (ISO).

    Two git calls serve every chapter: one log, newest first, and one diff against HEAD.
    """
    committed: dict[str, str] = {}
    log = _git(root, "log", "--format=%x00%cs", "--name-only", "--relative", "--", *paths)
    date = ""
    for line in (log or "").splitlines():
        if line.startswith("\0"):
            date = line[1:]
        elif line.strip():
            committed.setdefault(line.strip(), date)
    changed = set(
        (_git(root, "diff", "--name-only", "--relative", "HEAD", "--", *paths) or "").split()
    )
    result: dict[str, str | None] = {}
    for rel in paths:
        if rel in committed and rel not in changed:
            result[rel] = committed[rel]
            continue
        try:
            stamp = (root / rel).stat().st_mtime
        except OSError:
            result[rel] = None
            continue
        result[rel] = dt.datetime.fromtimestamp(stamp, dt.UTC).date().isoformat()
    return result


def _section(
    project: Project, result: CheckResult, section_id: str, changes: dict[str, str | None]
) -> SectionStatus:
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
        last_change=changes.get(path) if path else None,
    )


def status(project: Project, result: CheckResult | None = None) -> Status:
    """Return the paper's status: per section progress and the works cited."""
    result = result or run_checks(project)
    changes = last_changes(project.root, sorted(result.parsed.assignment.values()))
    sections = tuple(_section(project, result, s.id, changes) for s in project.outline.sections)
    cited = dict.fromkeys(
        [*(k for f in result.parsed.facts.values() for k in f.citations), *project.listed_uncited]
    )
    entries = [e for e in project.bibliography.entries if e.key in cited]
    if project.bibliography.oversized:  # (the check reports it; pandoc would build it in memory)
        entries = []
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
        works_cited=tuple(
            format_references(entries, csl_path(project), project.outline.document.lang)
        ),
        references_total=len(project.bibliography.entries),
    )
