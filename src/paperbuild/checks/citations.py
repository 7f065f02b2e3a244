"""Citations against references.bib: unknown keys, unused entries, the bibliography itself."""

from __future__ import annotations

import difflib

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import Facts
from paperbuild.load.chapters import Mark
from paperbuild.load.outline import OUTLINE_FILE
from paperbuild.load.project import Project


def check(project: Project, facts: dict[str, Facts]) -> list[Diagnostic]:
    """Return citation and bibliography problems (pandoc's parse says what is a citation)."""
    bib = project.bibliography
    problems: list[Diagnostic] = list(bib.problems)
    for name in bib.missing:
        line, column = project.outline.bibliography_at.get(name, (None, None))
        problems.append(
            diag(
                "missing-bibliography",
                f"the bibliography {name} does not exist",
                OUTLINE_FILE,
                line,
                column,
                f"create {name}, or set 'bibliography:' in outline.yaml",
            )
        )
    keys = bib.keys
    cited: set[str] = set()
    for chapter in project.chapters:
        chapter_facts = facts.get(chapter.path)
        for key in dict.fromkeys(chapter_facts.citations if chapter_facts else ()):
            cited.add(key)
            if key in keys:
                continue
            marks: list[Mark | None] = [m for m in chapter.scan.citations if m.name == key]
            for mark in marks or [None]:
                close = difflib.get_close_matches(key, sorted(keys), n=1)
                problems.append(
                    diag(
                        "unknown-citation",
                        f"citation key '{key}' is not in {bib.path}",
                        chapter.path,
                        mark.line if mark else 1,
                        mark.column if mark else 1,
                        _unknown_hint(key, close[0] if close else None, bib.path),
                    )
                )
    for key, line, column in project.outline.nocite:
        if key != "*" and key not in keys:
            problems.append(
                diag(
                    "unknown-citation",
                    f"nocite lists '{key}', which is not in {bib.path}",
                    OUTLINE_FILE,
                    line,
                    column,
                    f"add an entry '{key}' to {bib.path}, or remove it from nocite",
                )
            )
    cited.update(project.listed_uncited)
    parents = {  # an entry a cited one inherits from (crossref, xdata) is used too
        parent.strip().lower()
        for e in bib.entries
        if e.key in cited
        for name in ("crossref", "xdata")
        for parent in e.fields.get(name, "").split(",")
    }
    for entry in bib.entries:
        if entry.key not in cited and entry.key.lower() not in parents:
            problems.append(
                diag(
                    "unused-reference",
                    f"entry '{entry.key}' is never cited",
                    entry.path or bib.path,
                    entry.line,
                    1,
                )
            )
    return problems


# the prefixes of Manubot's and Pandoc-citeproc-preamble's keys, whose works a tool fetches
FETCHED = ("doi:", "pmid:", "pmcid:", "arxiv:", "isbn:", "url:", "wikidata:", "https:", "http:")


def _unknown_hint(key: str, close: str | None, bib: str) -> str:
    """Return what to do about a citation key the bibliography lacks."""
    if key.lower().startswith(FETCHED):
        return (
            f"a key such as '{key}' names a work Manubot fetches; paperbuild never uses the "
            f"network: put the work in {bib} (Manubot's or Zotero's export), under this key"
        )
    return f"did you mean '{close}'?" if close else f"add an entry '{key}' to {bib}"
