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
    if literal:  # (pandoc read some reference as text: one inside another note, say)
        problems += _nested(chapter, defined, literal)
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


def _nested(chapter: Chapter, defined: dict[str, int], literal: set[str]) -> list[Diagnostic]:
    """Return an error for each reference to a defined note that stands inside a note's
    definition (its line or an indented line after it) and that pandoc read as text: pandoc
    puts no note inside a note, so the drafts would show `[^x]` and lose the note."""
    lines = chapter.text.splitlines()
    inside: dict[int, str] = {}  # line -> the note whose definition it is part of
    for d in chapter.scan.note_defs:
        inside[d.line] = d.name
        for number in range(d.line + 1, len(lines) + 1):
            text = lines[number - 1]
            if text.strip() and not text.startswith(("    ", "\t")):
                break
            inside[number] = d.name
    found = []
    for r in chapter.scan.note_refs:
        outer = inside.get(r.line)
        escaped = r.column > 1 and lines[r.line - 1][r.column - 2 : r.column - 1] == "\\"
        if outer is None or outer == r.name or escaped:
            continue
        if r.name in defined and r.name in literal:
            found.append(
                diag(
                    "nested-footnote",
                    f"footnote [^{r.name}] stands inside the note [^{outer}]: pandoc puts no "
                    f"note inside a note, so the drafts would show '[^{r.name}]' as text and "
                    "lose its note",
                    chapter.path,
                    r.line,
                    r.column,
                    f"move [^{r.name}] out of [^{outer}] into the text, or write its words into "
                    f"[^{outer}]",
                )
            )
    return found


def check(project: Project, facts: dict[str, Facts] | None = None) -> list[Diagnostic]:
    """Return the footnote problems of every chapter."""
    known = facts or {}
    return [d for c in project.chapters for d in check_chapter(c, known.get(c.path))]
