"""Sections to chapters: each section has exactly one chapter, each chapter one section."""

from __future__ import annotations

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import Facts
from paperbuild.load.outline import heading_shift, normalise_title
from paperbuild.load.project import Project


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
        levels = [len(h.extra) for h in chapter.scan.headings]  # (`##`: 2)
        titled = chapter.front_matter.get("title")  # (a Quarto chapter's title, no `#` heading)
        if isinstance(titled, str) and 1 not in levels:
            problems += _front_title_drift(section.id, section.title, titled, path)
        elif levels and 1 not in levels:  # (no `#` heading: the drafts open with the title)
            if heading_shift(levels, heading, section.title):
                continue  # (its headings are read a level up: `##` as `#`)
            problems.append(
                diag(
                    "title-drift",
                    f"chapter opens with no '# {section.title}': the drafts open it with the "
                    f"section's title, and its first heading '{heading}' is a subsection",
                    path,
                    line,
                    1,
                    f"start the chapter with '# {section.title}'",
                )
            )
        elif heading is None:
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


def _front_title_drift(ident: str, title: str, titled: str, path: str) -> list[Diagnostic]:
    """Return the warning that a chapter's front matter title is not its section's, if it is not."""
    if normalise_title(titled) == normalise_title(title):
        return []
    return [
        diag(
            "title-drift",
            f"front matter title '{titled}' differs from section {ident}'s title '{title}'; "
            "the drafts open the chapter with the section's",
            path,
            1,  # (the front matter's: its lines are blank in the text the scan reads)
            1,
            "make the title match outline.yaml, or change the title there",
        )
    ]
