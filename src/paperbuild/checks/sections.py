"""Sections to chapters: each section has exactly one chapter, each chapter one section."""

from __future__ import annotations

import re
import unicodedata

from paperbuild.ast import Facts
from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.outline import OUTLINE_FILE
from paperbuild.project import Project


def assign(project: Project) -> tuple[dict[str, str], list[Diagnostic]]:
    """Return (section id -> chapter path, problems in how chapters map to sections)."""
    outline = project.outline
    claims: dict[str, list[str]] = {s.id: [] for s in outline.sections}
    problems: list[Diagnostic] = []
    named = {s.chapter: s for s in outline.sections if s.chapter}
    for section in outline.sections:
        if section.chapter and section.chapter in project.missing_files:
            problems.append(
                diag(
                    "missing-chapter-file",
                    f"section {section.id} names chapter {section.chapter}, which does not exist",
                    OUTLINE_FILE,
                    section.line,
                    section.column,
                    f"create {section.chapter} or correct the 'chapter:' path",
                )
            )
        elif section.chapter and project.chapter(section.chapter):
            claims[section.id].append(section.chapter)
    for chapter in project.chapters:
        claimed = chapter.section_id
        by_outline = named.get(chapter.path)
        if by_outline is not None:
            if claimed is not None and claimed != by_outline.id:
                problems.append(
                    diag(
                        "duplicate-chapter",
                        f"front matter says section {claimed}, but {OUTLINE_FILE} assigns this "
                        f"chapter to section {by_outline.id}",
                        chapter.path,
                        1,
                        1,
                        "make the front matter agree with the outline, or remove it",
                    )
                )
            continue
        if claimed is None:
            problems.append(
                diag(
                    "orphan-chapter",
                    "this chapter maps to no section of the outline",
                    chapter.path,
                    1,
                    1,
                    "add 'section: N' to its front matter, "
                    "or name it in outline.yaml with 'chapter:'",
                )
            )
        elif claimed not in claims:
            problems.append(
                diag(
                    "orphan-chapter",
                    f"front matter names section {claimed}, which the outline does not have",
                    chapter.path,
                    1,
                    1,
                    f"sections are {', '.join(s.id for s in outline.sections)}",
                )
            )
        else:
            claims[claimed].append(chapter.path)
    assignment: dict[str, str] = {}
    for section in outline.sections:
        paths = claims[section.id]
        if paths:
            assignment[section.id] = paths[0]
        if len(paths) > 1:
            for extra in paths[1:]:
                problems.append(
                    diag(
                        "duplicate-chapter",
                        f"section {section.id} is claimed by both {paths[0]} and {extra}",
                        extra,
                        1,
                        1,
                        "give each section exactly one chapter",
                    )
                )
        reported = project.missing_files | {d.path for d in project.problems}
        if not paths and not (section.chapter and section.chapter in reported):
            problems.append(
                diag(
                    "missing-chapter",
                    f"section {section.id} '{section.title}' has no chapter",
                    OUTLINE_FILE,
                    section.line,
                    section.column,
                    "create a chapter in paper/ with front matter 'section: "
                    f"{section.id}', or name it with 'chapter:'",
                )
            )
    return assignment, problems


QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "−": "-",
        "\u00a0": " ",
    }
)


def normalise_title(text: str) -> str:
    """Return the title with typographic quotes, dashes and spacing made plain."""
    text = unicodedata.normalize("NFC", text).translate(QUOTES)
    text = re.sub(r"\s*-\s*", "-", text)
    return " ".join(text.split())


def title_drift(
    project: Project, facts: dict[str, Facts], assignment: dict[str, str]
) -> list[Diagnostic]:
    """Return a warning for each chapter whose first heading is not its section's title."""
    problems = []
    for section in project.outline.sections:
        path = assignment.get(section.id)
        chapter = project.chapter(path) if path else None
        if chapter is None or path is None:
            continue
        heading = facts[path].first_heading if path in facts else None
        mark = chapter.scan.headings[0] if chapter.scan.headings else None
        line = mark.line if mark else 1
        if heading is None:
            problems.append(
                diag(
                    "title-drift",
                    f"chapter has no heading; expected '# {section.title}'",
                    path,
                    1,
                    1,
                )
            )
        elif normalise_title(heading) != normalise_title(section.title):
            problems.append(
                diag(
                    "title-drift",
                    f"heading '{heading}' differs from section {section.id}'s title "
                    f"'{section.title}'",
                    path,
                    line,
                    1,
                    "make the heading match outline.yaml, or change the title there",
                )
            )
    return problems
