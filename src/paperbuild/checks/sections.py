"""Sections to chapters: each section has exactly one chapter, each chapter one section."""

from __future__ import annotations

import re
import unicodedata

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import Facts
from paperbuild.load.project import Project

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
