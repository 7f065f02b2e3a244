"""`paperbuild check`: every rule over a loaded project, collected into one result."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild import ast as ast_module
from paperbuild import crossref as crossref_module
from paperbuild import pandoc
from paperbuild.ast import Facts, chapter_facts
from paperbuild.checks import (
    citations,
    coverage,
    crossrefs,
    footnotes,
    queries,
    resources,
    sections,
)
from paperbuild.diagnostics import Diagnostic, configure, counts
from paperbuild.fsutil import write_atomic
from paperbuild.project import Project
from paperbuild.safety import output_dir


@dataclass(frozen=True, kw_only=True)
class Parsed:
    """A project with each chapter's facts (and blocks), and the section each chapter serves."""

    project: Project
    blocks: dict[str, list[dict[str, Any]]]  # filled only when asked for (the build needs them)
    facts: dict[str, Facts]
    assignment: dict[str, str]  # section id -> chapter path
    mapping_problems: tuple[Diagnostic, ...] = ()


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


def parse(project: Project, *, with_blocks: bool = False) -> Parsed:
    """Return the project's chapter facts (and ASTs when asked), through the per-chapter cache."""
    cache = output_dir(project.root, project.cache_dir)
    keys = [pandoc.cache_key(c.text) for c in project.chapters]
    facts: list[Facts | None] = [_read_facts(cache, k) for k in keys]
    blocks: dict[str, list[dict[str, Any]]] = {}
    if with_blocks or None in facts:
        items = [(c.path, c.text) for c in project.chapters]
        for i, chapter_blocks in enumerate(pandoc.parse_chapters(items, cache, keys)):
            blocks[project.chapters[i].path] = chapter_blocks
            if facts[i] is None:
                facts[i] = found = chapter_facts(chapter_blocks)
                _write_facts(cache, keys[i], found)
    by_path = {c.path: f for c, f in zip(project.chapters, facts, strict=True) if f is not None}
    if with_blocks:  # only the drafts need links between chapters; a check reads facts
        _link_across_chapters(project, blocks, by_path, cache)
    assignment, problems = sections.assign(project)
    return Parsed(
        project=project,
        blocks=blocks,
        facts=by_path,
        assignment=assignment,
        mapping_problems=tuple(problems),
    )


BRACKETED = re.compile(r"(?<![!\]^\\\w])\[([^\[\]\n^@][^\[\]\n]*)\](?!\(|:|\{|\[[^\]])")


def _normal(text: str) -> str:
    """Return a link label as pandoc compares them: case and spacing ignored, markup dropped."""
    return " ".join(re.sub(r"[*_`]", "", text).lower().split())


def cross_chapter_definitions(project: Project, facts: dict[str, Facts]) -> dict[str, str]:
    """Return, per chapter, reference definitions for `[Heading]` links to other chapters.

    pandoc resolves an implicit header reference only inside the text it parses, and each
    chapter is parsed on its own: `See [Method].` with `# Method` in another chapter would stay
    literal. A definition `[Method]: #method {data-chapter=…}` appended to the chapter's text
    lets pandoc link it; assemble maps the identifier to the document's.
    """
    headings = {path: f.headings for path, f in facts.items()}
    found: dict[str, str] = {}
    for chapter in project.chapters:
        own = {_normal(t) for t, _ in headings.get(chapter.path, ())}
        wanted = {_normal(m): m for m in BRACKETED.findall(chapter.text)}
        lines: list[str] = []
        for other, entries in headings.items():
            for text, ident in entries:
                label = _normal(text)
                if other != chapter.path and label in wanted and label not in own and ident:
                    own.add(label)
                    lines.append(f'[{wanted[label]}]: #{ident} {{data-chapter="{other}"}}')
        if lines:
            found[chapter.path] = "\n\n" + "\n".join(lines) + "\n"
    return found


def _link_across_chapters(
    project: Project, blocks: dict[str, list[dict[str, Any]]], facts: dict[str, Facts], cache: Path
) -> None:
    """Re-read (through the cache) the chapters that link to other chapters' headings."""
    extra = cross_chapter_definitions(project, facts)
    if not extra:
        return
    items = [(c.path, c.text + extra[c.path]) for c in project.chapters if c.path in extra]
    keys = [pandoc.cache_key(text) for _, text in items]
    for (path, _), parsed in zip(items, pandoc.parse_chapters(items, cache, keys), strict=True):
        blocks[path] = parsed


@functools.cache
def _facts_version() -> str:
    """Return a digest of the code that computes facts, so a change to it invalidates them."""
    h = hashlib.sha256(Path(ast_module.__file__).read_bytes())
    h.update(Path(crossref_module.__file__).read_bytes())
    return h.hexdigest()[:12]


def _facts_path(cache: Path, key: str) -> Path:
    return cache / f"{key}.{_facts_version()}.facts.json"


def _read_facts(cache: Path, key: str) -> Facts | None:
    try:
        return Facts.from_json(json.loads(_facts_path(cache, key).read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_facts(cache: Path, key: str, facts: Facts) -> None:
    with contextlib.suppress(OSError):
        write_atomic(_facts_path(cache, key), json.dumps(facts.to_json()).encode("utf-8"))


def run_checks(project: Project, *, strict: bool = False, with_blocks: bool = False) -> CheckResult:
    """Return every diagnostic for the project, with project severities applied."""
    parsed = parse(project, with_blocks=with_blocks)
    assignment = parsed.assignment
    found: list[Diagnostic] = [*project.problems, *parsed.mapping_problems]
    found += sections.title_drift(project, parsed.facts, assignment)
    cov = coverage.check(project, parsed.facts, assignment, strict=strict)
    found += cov.diagnostics
    found += footnotes.check(project, parsed.facts)
    found += crossrefs.check(project, parsed.facts, assignment)
    found += citations.check(project, parsed.facts)
    found += resources.check(project, parsed.facts)
    found += queries.check(project, parsed.facts)
    diagnostics = configure(found, project.outline.rules)
    return CheckResult(
        diagnostics=tuple(diagnostics),
        parsed=parsed,
        covered_ids=cov.covered_ids,
        points_total=len(project.outline.points),
        sections_with_chapter=sum(1 for s in project.outline.sections if s.id in assignment),
        sections_total=len(project.outline.sections),
    )
