"""Cross-references and internal links: every @fig:x, [text](#id) and label must resolve."""

from __future__ import annotations

from collections import Counter

from paperbuild.crossref import KINDS, bibliography_ids, document_ids, is_automatic, parse_ref
from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import Facts
from paperbuild.load.chapters import Chapter, Mark
from paperbuild.load.project import Project, linked_chapter

ELEMENT_KINDS = {
    "Header": "section",
    "Figure": "figure",
    "Image": "figure",
    "Table": "table",
    "Equation": "equation",
    "CodeBlock": "listing",
}


def _kind(ident: str, element: str) -> str | None:
    """Return what a labelled element is, by its prefix first (a div labelled fig: is a figure)."""
    ref = parse_ref(ident)
    if ref is not None and ref.kind != "section":
        return ref.kind
    return ELEMENT_KINDS.get(element)


def _locate(chapter: Chapter, needles: list[str]) -> tuple[int, int]:
    """Return the line and column of the first needle found in the chapter's source."""
    return next((p for n in needles if (p := chapter.find(n))), (1, 1))


def _chapters_in_order(
    project: Project, facts: dict[str, Facts], assignment: dict[str, str]
) -> list[tuple[Chapter, Facts]]:
    ordered = []
    for section in project.outline.sections:
        path = assignment.get(section.id)
        chapter = project.chapter(path) if path else None
        if chapter is not None and path in facts:
            ordered.append((chapter, facts[path]))
    return ordered


def check(
    project: Project, facts: dict[str, Facts], assignment: dict[str, str]
) -> list[Diagnostic]:
    """Return unknown references, duplicate labels, dead links and references of the wrong kind."""
    chapters = _chapters_in_order(project, facts, assignment)
    maps = document_ids([f.headings for _, f in chapters])
    cited = [k for _, f in chapters for k in f.citations]
    kinds: dict[str, str | None] = dict.fromkeys(bibliography_ids(cited))
    explicit: list[tuple[str, Chapter]] = []
    for (chapter, f), ids in zip(chapters, maps, strict=True):
        for ident in ids.values():
            kinds.setdefault(ident, "section")
        headings = {i: t for t, i in reversed(f.headings)}
        for ident, element in f.labels:
            if element == "Header" and ident in headings and is_automatic(headings[ident], ident):
                continue
            kinds.setdefault(ident, _kind(ident, element))
            explicit.append((ident, chapter))
    found = _duplicates(explicit)
    keys = project.bibliography.keys
    by_path = {chapter.path: ids for (chapter, _), ids in zip(chapters, maps, strict=True)}
    for (chapter, f), ids in zip(chapters, maps, strict=True):
        found += _references(chapter, f, kinds, keys)
        found += _dead_links(chapter, f, ids, kinds)
        found += _dead_chapter_links(project, chapter, f, by_path, kinds)
    return found


def _duplicates(explicit: list[tuple[str, Chapter]]) -> list[Diagnostic]:
    counts = Counter(ident for ident, _ in explicit)
    found: list[Diagnostic] = []
    seen: set[str] = set()
    for ident, chapter in explicit:
        if counts[ident] < 2:
            continue
        if ident not in seen:
            seen.add(ident)
            continue
        line, col = _locate(chapter, [f"#{ident}"])
        found.append(
            diag(
                "duplicate-label",
                f"the label '{ident}' is used more than once in the document",
                chapter.path,
                line,
                col,
                "give each labelled element its own identifier",
            )
        )
    return found


def _references(
    chapter: Chapter, f: Facts, kinds: dict[str, str | None], keys: set[str]
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for written in dict.fromkeys(f.crossrefs):
        ref = parse_ref(written)
        if ref is None or written in keys:
            continue
        marks: list[Mark | None] = [m for m in chapter.scan.citations if m.name == written]
        ident = ref.label if ref.label in kinds else ref.bare if ref.bare in kinds else None
        for mark in marks or [None]:
            line, col = (mark.line, mark.column) if mark else _locate(chapter, [f"@{written}"])
            if ident is None:
                found.append(
                    diag(
                        "unknown-crossref",
                        f"@{written} refers to no {ref.kind} (no element is labelled "
                        f"'{ref.label}'); the drafts show '??'",
                        chapter.path,
                        line,
                        col,
                        f"label the {ref.kind} with {{#{ref.label}}}, or correct the reference",
                    )
                )
                continue
            actual = kinds[ident]
            if actual is not None and actual != ref.kind:
                found.append(
                    diag(
                        "crossref-kind",
                        f"@{written} refers to a {actual}, not a {ref.kind}; "
                        f"the drafts call it a {actual}",
                        chapter.path,
                        line,
                        col,
                        f"write @{_prefix(actual)}{ref.label[len(ref.label) - len(ref.bare) - 1]}"
                        f"{ref.bare}",
                    )
                )
    return found


def _prefix(kind: str) -> str:
    return next(p for p, k in KINDS.items() if k == kind)


def _dead_links(
    chapter: Chapter, f: Facts, ids: dict[str, str], kinds: dict[str, str | None]
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for target in dict.fromkeys(f.links):
        if ids.get(target, target) in kinds:
            continue
        line, col = _locate(chapter, [f"(#{target})", f"#{target}"])
        found.append(
            diag(
                "dead-link",
                f"the link to #{target} leads nowhere in the document; the drafts show its text "
                "unlinked",
                chapter.path,
                line,
                col,
                "link to a heading's or a labelled element's identifier",
            )
        )
    return found


def _dead_chapter_links(
    project: Project,
    chapter: Chapter,
    f: Facts,
    by_path: dict[str, dict[str, str]],
    kinds: dict[str, str | None],
) -> list[Diagnostic]:
    """Return links to local files that lead nowhere in the draft (`results.md#x` does)."""
    found: list[Diagnostic] = []
    paths = [c.path for c in project.chapters]
    for url in dict.fromkeys(f.file_links):
        linked = linked_chapter(chapter.path, url, paths)
        other, fragment = linked or ("", "")
        if other in by_path and (not fragment or by_path[other].get(fragment, fragment) in kinds):
            continue
        if not other:
            why = "it names a file, not a chapter: a reader of the draft cannot follow it"
        elif other not in by_path:
            why = f"{other} is not a chapter of the draft"
        else:
            why = f"{other} has no element '{fragment}'"
        line, col = _locate(chapter, [f"({url})", url])
        found.append(
            diag(
                "dead-link",
                f"the link to {url} leads nowhere in the document ({why}); the drafts show its "
                "text unlinked",
                chapter.path,
                line,
                col,
                "link to a heading's or a labelled element's identifier in that chapter",
            )
        )
    return found
