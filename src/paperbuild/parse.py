"""The parse stage: each chapter read by pandoc (cached), its facts, the section it serves."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from paperbuild import crossref as crossref_module
from paperbuild import facts as facts_module
from paperbuild import pandoc, pandoc_ast
from paperbuild import rawhtml as rawhtml_module
from paperbuild.crossref import has_bookdown, read_bookdown
from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import Facts, chapter_facts
from paperbuild.load.chapters import pandoc_texts
from paperbuild.load.outline import OUTLINE_FILE
from paperbuild.load.project import Project
from paperbuild.pandoc_ast import Node
from paperbuild.rawhtml import (
    has_html_blocks,
    has_html_table,
    has_inline_html,
    read_html_blocks,
    read_html_tables,
    read_inline_html,
)
from paperbuild.readahead import note_chapters
from paperbuild.safety import CACHE_DIR, cache_dir
from paperbuild.util.fsutil import keep, kept


@dataclass(frozen=True, kw_only=True)
class Parsed:
    """A project with each chapter's facts (and blocks), and the section each chapter serves."""

    project: Project
    blocks: dict[str, list[Node]]  # filled only when asked for (the build needs them)
    facts: dict[str, Facts]
    assignment: dict[str, str]  # section id -> chapter path
    mapping_problems: tuple[Diagnostic, ...] = ()


def parse(project: Project, *, with_blocks: bool = False) -> Parsed:
    """Return the project's chapter facts (and ASTs when asked), through the per-chapter cache."""
    cache = cache_dir(project.root, "ast")
    texts = parse_texts(project)
    keys = [pandoc.cache_key(texts[c.path]) for c in project.chapters]
    facts: list[Facts | None] = [_read_facts(cache, k) for k in keys]
    blocks: dict[str, list[Node]] = {}
    if with_blocks or None in facts:
        items = [(c.path, texts[c.path]) for c in project.chapters]

        def found(i: int, chapter_blocks: list[Node]) -> None:
            """Find a chapter's facts as soon as it is read (the others may still be)."""
            if facts[i] is None:
                facts[i] = chapter = chapter_facts(chapter_blocks)
                _write_facts(cache, keys[i], chapter)

        for i, chapter_blocks in enumerate(_read(items, cache, keys, found)):
            blocks[project.chapters[i].path] = chapter_blocks
    note_chapters(project.root, cache, [c.path for c in project.chapters])  # (read ahead next)
    by_path = {c.path: f for c, f in zip(project.chapters, facts, strict=True) if f is not None}
    if with_blocks:  # only the drafts need links between chapters; a check reads facts
        _link_across_chapters(project, texts, blocks, by_path, cache)
    assignment, problems = assign(project)
    if cache is None:
        problems.append(_tracked_cache())
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


@functools.lru_cache(maxsize=64)
def _bracketed(text: str) -> tuple[str, ...]:
    """Return the bracketed words of a chapter's text that may link to a heading (`[Method]`),
    found once per text: `watch` reads every chapter again after each save (the large bench
    paper's 41 ms)."""
    return tuple(BRACKETED.findall(text))


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
        wanted = {_normal(m): m for m in _bracketed(chapter.text)}
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


def _tracked_cache() -> Diagnostic:
    """Return the warning that build/.cache/ comes from git, so it is not read."""
    return diag(
        "tracked-cache",
        "git tracks files in build/.cache/; paperbuild does not read them (anyone could have "
        "written them) and works without its cache, more slowly",
        CACHE_DIR,
        1,
        1,
        "untrack them: git rm -r --cached build/ and add build/ to .gitignore",
    )


def parse_texts(project: Project) -> dict[str, str]:
    """Return each chapter's text as pandoc is given it (`pandoc_texts`)."""
    return pandoc_texts([(c.path, c.text) for c in project.chapters])


def _link_across_chapters(
    project: Project,
    texts: dict[str, str],
    blocks: dict[str, list[Node]],
    facts: dict[str, Facts],
    cache: Path | None,
) -> None:
    """Re-read (through the cache) the chapters that link to other chapters' headings."""
    extra = cross_chapter_definitions(project, facts)
    if not extra:
        return
    items = [(c.path, texts[c.path] + extra[c.path]) for c in project.chapters if c.path in extra]
    keys = [pandoc.cache_key(text) for _, text in items]
    for (path, _), parsed in zip(items, _read(items, cache, keys), strict=True):
        blocks[path] = parsed


def _read(
    items: list[tuple[str, str]],
    cache: Path | None,
    keys: list[str],
    each: pandoc.Each | None = None,
) -> list[list[Node]]:
    """Return the chapters' blocks as pandoc reads them (cached), HTML made elements
    (`each` told each chapter's as soon as it is read)."""
    read: dict[int, list[Node]] = {}

    def one(i: int, blocks: list[Node]) -> None:
        text = items[i][1]
        read[i] = read_inline_html(blocks) if has_inline_html(text) else blocks
        if has_html_blocks(text):  # (first: a table's cells may hold paragraphs, lists)
            read[i] = read_html_blocks(read[i])
        if has_html_table(text):
            read[i] = read_html_tables(read[i])
        if has_bookdown(text):
            read[i] = read_bookdown(read[i])
        if each is not None:
            each(i, read[i])

    parsed = pandoc.parse_chapters(items, cache, keys, one)
    return [read.get(i, blocks) for i, blocks in enumerate(parsed)]


@functools.cache
def _facts_version() -> str:
    """Return a digest of the code that computes facts, so a change to it invalidates them."""
    h = hashlib.sha256(Path(facts_module.__file__).read_bytes())
    h.update(Path(crossref_module.__file__).read_bytes())
    h.update(Path(rawhtml_module.__file__).read_bytes())
    return h.hexdigest()[:12]


def _facts_path(cache: Path, key: str) -> Path:
    return cache / f"{key}.{_facts_version()}.facts.json"


def _read_facts(cache: Path | None, key: str) -> Facts | None:
    if cache is None:
        return None
    data = kept(_facts_path(cache, key), dict)
    try:
        return None if data is None else Facts.from_json(data)
    except (ValueError, KeyError, TypeError):
        return None


def _write_facts(cache: Path | None, key: str, facts: Facts) -> None:
    if cache is None:
        return
    keep(_facts_path(cache, key), pandoc_ast.dumps(facts.to_json()))


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
