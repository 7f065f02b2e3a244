"""Footnotes, chapter by chapter: undefined, unused, duplicate and empty notes."""

from __future__ import annotations

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import Facts
from paperbuild.load.chapters import Chapter
from paperbuild.load.project import Project


def check_chapter(chapter: Chapter, facts: Facts | None = None) -> list[Diagnostic]:
    """Return the footnote problems of one chapter (ids are local to it).

    The source scan gives positions; pandoc's parse (the facts) says which references really
    lack a note: one inside code of any kind is text, not a reference.
    """
    problems: list[Diagnostic] = []
    scan = chapter.scan
    defined: dict[str, int] = {}
    for d in scan.note_defs:
        if d.name in defined:
            problems.append(
                diag(
                    "duplicate-footnote",
                    f"footnote [^{d.name}] is defined twice (first at line {defined[d.name]})",
                    chapter.path,
                    d.line,
                    d.column,
                    "give the second note its own id; pandoc would silently keep only one",
                )
            )
        else:
            defined[d.name] = d.line
        if not d.extra.strip():
            problems.append(
                diag(
                    "empty-footnote",
                    f"footnote [^{d.name}] has no text",
                    chapter.path,
                    d.line,
                    d.column,
                )
            )
    referenced = {r.name for r in scan.note_refs}
    literal = None if facts is None else set(facts.literal_notes)
    for r in scan.note_refs:
        if r.name not in defined and (literal is None or r.name in literal):
            problems.append(
                diag(
                    "undefined-footnote",
                    f"footnote [^{r.name}] has no definition in this chapter",
                    chapter.path,
                    r.line,
                    r.column,
                    f"add a line '[^{r.name}]: …' to this chapter (notes are chapter-local)",
                )
            )
    seen = set()
    for d in scan.note_defs:
        if d.name not in referenced and d.name not in seen:
            seen.add(d.name)
            problems.append(
                diag(
                    "unused-footnote",
                    f"footnote [^{d.name}] is defined but never referenced",
                    chapter.path,
                    d.line,
                    d.column,
                )
            )
    return problems


def check(project: Project, facts: dict[str, Facts] | None = None) -> list[Diagnostic]:
    """Return the footnote problems of every chapter."""
    known = facts or {}
    return [d for c in project.chapters for d in check_chapter(c, known.get(c.path))]
