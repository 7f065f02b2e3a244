"""The Outline model: outline.yaml loaded safely into frozen dataclasses, every problem located."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from paperbuild.diagnostics import RULES, SEVERITIES, Diagnostic, diag
from paperbuild.furniture import LANGUAGE_TAG, LANGUAGES, language_parts
from paperbuild.load.yamlsrc import (
    YamlProblem,
    compose,
    did_you_mean,
    duplicate_keys,
    items,
    kind,
    position,
    scalar,
)

OUTLINE_FILE = "outline.yaml"


@dataclass(frozen=True, kw_only=True)
class WordRange:
    """An optional lower and upper bound on a word count."""

    min: int | None = None
    max: int | None = None

    def describe(self) -> str:
        """Return the range as a reader would write it."""
        if self.min is not None and self.max is not None:
            return f"{self.min}–{self.max}"
        return f"at least {self.min}" if self.min is not None else f"at most {self.max}"


@dataclass(frozen=True, kw_only=True)
class Point:
    """One point of a section's proposed contents."""

    id: str
    text: str
    line: int
    column: int


@dataclass(frozen=True, kw_only=True)
class Section:
    """One numbered section of the outline."""

    id: str
    title: str
    points: tuple[Point, ...] = ()
    chapter: str | None = None
    final: bool = False
    words: WordRange | None = None
    line: int = 1
    column: int = 1


@dataclass(frozen=True, kw_only=True)
class DocumentMeta:
    """The concept note's metadata: what the title page and running header show."""

    title: str
    author: str
    status: str
    version: str
    subtitle: str | None = None
    commissioned_by: str | None = None
    date: str | None = None
    lang: str = "en-GB"
    slug: str | None = None
    period: tuple[int, int] | None = None
    concept: str | None = None
    questions: tuple[str, ...] = ()

    @property
    def file_slug(self) -> str:
        """Return the file-name stem for outputs (the slug, or one derived from the title)."""
        return self.slug or slugify(self.title)[:80].strip("-") or "paper"


def slugify(text: str) -> str:
    """Return a file-name stem: accents transliterated (é -> e), other runs of signs as '-'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


TITLE_MARKS = str.maketrans(
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
    text = unicodedata.normalize("NFC", text).translate(TITLE_MARKS)
    text = re.sub(r"\s*-\s*", "-", text)
    return " ".join(text.split())


def heading_shift(levels: list[int], first: str | None, title: str) -> int:
    """Return how many levels a chapter's headings (their levels, its first heading's text)
    are written below the drafts' own: a chapter with no level-1 heading whose first heading,
    at level 2 or deeper, is its section's title (`## Law enforcement`, `### New laws`) is read
    as `#`, `##`; else 0."""
    if not levels or 1 in levels or first is None:
        return 0
    return levels[0] - 1 if normalise_title(first) == normalise_title(title) else 0


SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


@dataclass(frozen=True, kw_only=True)
class Outline:
    """The canonical structure of the paper."""

    document: DocumentMeta
    sections: tuple[Section, ...]
    words: WordRange | None = None
    rules: dict[str, str] = field(default_factory=dict)
    bibliographies: tuple[str, ...] = ("references.bib",)  # read in this order (pandoc's last wins)
    bibliography_at: dict[str, tuple[int, int]] = field(default_factory=dict)  # where each is named
    csl: str | None = None
    reference_doc: str | None = None
    numbering: str = "document"  # figures, tables, equations: through the document or "section"
    lists: tuple[str, ...] = ()  # lists after the contents: "figures", "tables"
    fonts: tuple[str, ...] = ()  # the author's faces, for what the PDF's own have no glyphs for
    nocite: tuple[tuple[str, int, int], ...] = ()  # (key or "*", line, column): listed uncited
    path: str = OUTLINE_FILE
    warnings: tuple[Diagnostic, ...] = ()  # what does not stop a build (`unknown-language`)

    @property
    def points(self) -> tuple[Point, ...]:
        """Return every point of every section, in order."""
        return tuple(p for s in self.sections for p in s.points)

    @property
    def sections_by_id(self) -> dict[str, Section]:
        """Return the sections keyed by id."""
        return {s.id: s for s in self.sections}

    def section(self, section_id: str) -> Section | None:
        """Return the section with this id, if any."""
        return next((s for s in self.sections if s.id == section_id), None)


class OutlineInvalid(Exception):
    """outline.yaml could not be turned into an Outline; carries every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s) in {OUTLINE_FILE}")
        self.diagnostics = diagnostics


@dataclass
class _Reader:
    """Walks YAML nodes, collecting located problems."""

    path: str
    problems: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    def report(self, node: Node, message: str, hint: str | None = None, rule: str = "") -> None:
        line, column = position(node)
        self.problems.append(diag(rule or "outline-schema", message, self.path, line, column, hint))

    def mapping(
        self, node: Node, where: str, allowed: list[str], required: list[str]
    ) -> dict[str, Node] | None:
        """Return the mapping's entries by key, reporting unknown, missing and duplicate keys."""
        if not isinstance(node, MappingNode):
            self.report(node, f"{where} must be a mapping, not {kind(node)}")
            return None
        self.problems.extend(duplicate_keys(node, self.path, "outline-schema"))
        entries: dict[str, Node] = {}
        for key, key_node, value in items(node):
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
                self.report(key_node, f"unknown key '{key}' in {where}", hint)
            entries.setdefault(key, value)
        for key in required:
            if key not in entries:
                self.report(node, f"{where} is missing '{key}'")
        return entries

    def text(self, node: Node | None, where: str, *, numbers: bool = False) -> str | None:
        """Return the node as text (numbers and dates allowed where they read as text)."""
        if node is None:
            return None
        value = scalar(node) if isinstance(node, ScalarNode) else node
        if isinstance(value, str) and value.strip():
            return value.strip()
        if numbers and isinstance(value, int | float | dt.date) and not isinstance(value, bool):
            # as written: `id: 1.10` is point 1.10, not the number 1.1 (`version: 2.10` alike)
            return str(node.value).strip() if isinstance(node, ScalarNode) else str(value)
        self.report(node, f"{where} must be text, not {kind(node)}")
        return None

    def integer(self, node: Node, where: str) -> int | None:
        """Return the node as a non-negative whole number."""
        value = scalar(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.report(node, f"{where} must be a whole number, not {kind(node)}")
        return None

    def boolean(self, node: Node | None, where: str) -> bool:
        """Return the node as true/false."""
        if node is None:
            return False
        value = scalar(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool):
            return value
        self.report(node, f"{where} must be true or false, not {kind(node)}")
        return False

    def sequence(self, node: Node | None, where: str) -> list[Node]:
        """Return the items of a list node (an empty value reads as an empty list)."""
        if node is None or (isinstance(node, ScalarNode) and scalar(node) is None):
            return []
        if isinstance(node, SequenceNode):
            return list(node.value)
        self.report(node, f"{where} must be a list, not {kind(node)}")
        return []

    def word_range(self, node: Node | None, where: str) -> WordRange | None:
        """Return a {min, max} word range."""
        if node is None:
            return None
        entries = self.mapping(node, where, ["min", "max"], [])
        if entries is None:
            return None
        lo = self.integer(entries["min"], f"{where}.min") if "min" in entries else None
        hi = self.integer(entries["max"], f"{where}.max") if "max" in entries else None
        if lo is not None and hi is not None and lo > hi:
            self.report(node, f"{where}: min ({lo}) is greater than max ({hi})")
        if lo is None and hi is None:
            return None
        return WordRange(min=lo, max=hi)

    def project_path(self, node: Node | None, where: str) -> str | None:
        """Return a relative path that stays inside the project, or report it."""
        value = self.text(node, where)
        if value is None or node is None:
            return None
        p = PurePosixPath(value.replace("\\", "/"))
        depth = 0
        for part in p.parts:
            depth += -1 if part == ".." else (0 if part == "." else 1)
            if depth < 0:
                break
        if p.is_absolute() or depth < 0 or re.match(r"^[A-Za-z]:", value):
            self.report(
                node,
                f"{where} '{value}' leaves the project folder",
                "give a path relative to the folder that holds outline.yaml",
                rule="path-outside-project",
            )
            return None
        return str(p)


DOCUMENT_KEYS = [
    "title",
    "subtitle",
    "author",
    "commissioned-by",
    "status",
    "version",
    "date",
    "lang",
    "slug",
    "period",
    "concept",
    "questions",
]
TOP_KEYS = [
    "document",
    "sections",
    "words",
    "rules",
    "bibliography",
    "csl",
    "reference-doc",
    "numbering",
    "lists",
    "fonts",
    "nocite",
]
NUMBERING = ("document", "section")
LISTS = ("figures", "tables")
SECTION_KEYS = ["id", "title", "chapter", "points", "final", "words"]


def _document(r: _Reader, node: Node) -> DocumentMeta | None:
    entries = r.mapping(node, "document", DOCUMENT_KEYS, ["title", "author", "status", "version"])
    if entries is None:
        return None
    get: Callable[[str], str | None] = lambda key: (  # noqa: E731
        r.text(entries[key], f"document.{key}", numbers=True) if key in entries else None
    )
    title, author, status, version = get("title"), get("author"), get("status"), get("version")
    period = _period(r, entries.get("period"))
    questions = tuple(
        q
        for i, n in enumerate(r.sequence(entries.get("questions"), "document.questions"))
        if (q := r.text(n, f"document.questions[{i + 1}]")) is not None
    )
    slug = get("slug")
    if slug is not None and (not SLUG.match(slug) or ".." in slug):
        r.report(
            entries["slug"],
            f"document.slug '{slug[:60]}' cannot name a file",
            "use lower-case letters, digits, '-', '_' and '.', e.g. child-trafficking",
        )
    lang = get("lang")
    if lang is not None:
        _language(r, entries["lang"], lang)
    if not (title and author and status and version):
        return None
    return DocumentMeta(
        title=title,
        author=author,
        status=status,
        version=version,
        subtitle=get("subtitle"),
        commissioned_by=get("commissioned-by"),
        date=get("date"),
        lang=get("lang") or "en-GB",
        slug=get("slug"),
        period=period,
        concept=get("concept"),
        questions=questions,
    )


def _language(r: _Reader, node: Node, lang: str) -> None:
    """Report a document.lang that is no language tag (an error: Typst refuses it), or one
    paperbuild has no furniture words for (a warning: the contents and captions are English)."""
    if not LANGUAGE_TAG.fullmatch(lang):
        fixed = lang.replace("_", "-")
        hint = (
            f"did you mean '{fixed}'? (a language code, then its region after a hyphen)"
            if LANGUAGE_TAG.fullmatch(fixed)
            else "write a BCP 47 language tag: a language code, then its region after a "
            "hyphen, e.g. en-GB, fr-FR, pt-BR"
        )
        r.report(node, f"document.lang '{lang[:60]}' is not a language tag", hint)
    elif language_parts(lang)[0] not in LANGUAGES:
        line, column = position(node)
        known = ", ".join(sorted(LANGUAGES))
        r.warnings.append(
            diag(
                "unknown-language",
                f"paperbuild has no words for the language of document.lang '{lang}': the "
                "drafts' contents, captions and page numbers are in English",
                r.path,
                line,
                column,
                f"it has words for {known}; the text itself is not changed",
            )
        )


def _period(r: _Reader, node: Node | None) -> tuple[int, int] | None:
    if node is None:
        return None
    entries = r.mapping(node, "document.period", ["from", "to"], ["from", "to"])
    if not entries or "from" not in entries or "to" not in entries:
        return None
    start = r.integer(entries["from"], "document.period.from")
    end = r.integer(entries["to"], "document.period.to")
    return (start, end) if start is not None and end is not None else None


def _point(r: _Reader, node: Node, where: str) -> Point | None:
    entries = r.mapping(node, where, ["id", "text"], ["id", "text"])
    if not entries or "id" not in entries or "text" not in entries:
        return None
    pid = r.text(entries["id"], f"{where}.id", numbers=True)
    text = r.text(entries["text"], f"{where}.text")
    if pid is None or text is None:
        return None
    line, column = position(entries["id"])
    return Point(id=pid, text=" ".join(text.split()), line=line, column=column)


def _section(r: _Reader, node: Node, index: int) -> Section | None:
    where = f"sections[{index}]"
    entries = r.mapping(node, where, SECTION_KEYS, ["id", "title"])
    if not entries or "id" not in entries or "title" not in entries:
        return None
    sid = r.text(entries["id"], f"{where}.id", numbers=True)
    title = r.text(entries["title"], f"{where}.title")
    points = []
    for i, pnode in enumerate(r.sequence(entries.get("points"), f"{where}.points")):
        point = _point(r, pnode, f"{where}.points[{i + 1}]")
        if point is not None:
            points.append(point)
    chapter = r.project_path(entries.get("chapter"), f"{where}.chapter")
    final = r.boolean(entries.get("final"), f"{where}.final")
    words = r.word_range(entries.get("words"), f"{where}.words")
    if sid is None or title is None:
        return None
    line, column = position(node)
    return Section(
        id=sid,
        title=" ".join(title.split()),
        points=tuple(points),
        chapter=chapter,
        final=final,
        words=words,
        line=line,
        column=column,
    )


def _rules(r: _Reader, node: Node | None) -> dict[str, str]:
    if node is None:
        return {}
    if not isinstance(node, MappingNode):
        r.report(node, f"rules must be a mapping of rule name to severity, not {kind(node)}")
        return {}
    result = {}
    levels = [*SEVERITIES, "off"]
    for key, key_node, value in items(node):
        if key not in RULES:
            r.report(key_node, f"unknown rule '{key}'", did_you_mean(key, list(RULES)))
            continue
        level = scalar(value) if isinstance(value, ScalarNode) else None
        level = "off" if level is False else level
        if level not in levels:
            r.report(value, f"rule '{key}' must be one of {', '.join(levels)}")
            continue
        result[key] = str(level)
    return result


def _unique_ids(r: _Reader, sections: list[Section]) -> None:
    seen: dict[str, tuple[str, int]] = {}
    for s in sections:
        if s.id in seen:
            r.problems.append(
                diag(
                    "duplicate-id",
                    f"section id {s.id} is used twice (first at line {seen[s.id][1]})",
                    r.path,
                    s.line,
                    s.column,
                )
            )
        seen.setdefault(s.id, ("section", s.line))
    points: dict[str, int] = {}
    for p in (p for s in sections for p in s.points):
        if p.id in points:
            r.problems.append(
                diag(
                    "duplicate-id",
                    f"point id {p.id} is used twice (first at line {points[p.id]})",
                    r.path,
                    p.line,
                    p.column,
                )
            )
        points.setdefault(p.id, p.line)


@functools.lru_cache(maxsize=8)  # (`watch` reads the same text after each save: parsed once)
def parse_outline(text: str, path: str = OUTLINE_FILE) -> Outline:
    """Return the Outline for outline.yaml's text, or raise OutlineInvalid with every problem."""
    r = _Reader(path)
    try:
        root = compose(text, path)
    except YamlProblem as exc:
        raise OutlineInvalid([exc.diagnostic]) from None
    if root is None:
        raise OutlineInvalid(
            [
                diag(
                    "outline-schema",
                    "outline.yaml is empty",
                    path,
                    1,
                    1,
                    "run `paperbuild init` for a starting outline",
                )
            ]
        )
    entries = r.mapping(root, "the top level", TOP_KEYS, ["document", "sections"])
    if entries is None:
        raise OutlineInvalid(r.problems)
    document = _document(r, entries["document"]) if "document" in entries else None
    section_nodes = r.sequence(entries.get("sections"), "sections")
    sections = [s for i, n in enumerate(section_nodes) if (s := _section(r, n, i + 1))]
    if "sections" in entries and not section_nodes:
        r.report(entries["sections"], "sections is empty", "list at least one section")
    _unique_ids(r, sections)
    words = r.word_range(entries.get("words"), "words")
    rules = _rules(r, entries.get("rules"))
    bibs, bibs_at = _bibliographies(r, entries.get("bibliography"))
    csl = r.project_path(entries.get("csl"), "csl")
    refdoc = r.project_path(entries.get("reference-doc"), "reference-doc")
    numbering = _numbering(r, entries.get("numbering"))
    lists = _lists(r, entries.get("lists"))
    fonts = tuple(
        f
        for i, n in enumerate(r.sequence(entries.get("fonts"), "fonts"))
        if (f := r.project_path(n, f"fonts[{i + 1}]"))
    )
    nocite = _nocite(r, entries.get("nocite"))
    if r.problems or document is None:
        raise OutlineInvalid(r.problems)
    return Outline(
        warnings=tuple(r.warnings),
        document=document,
        sections=tuple(sections),
        words=words,
        rules=rules,
        bibliographies=bibs,
        bibliography_at=bibs_at,
        csl=csl,
        reference_doc=refdoc,
        numbering=numbering,
        lists=lists,
        fonts=fonts,
        nocite=nocite,
        path=path,
    )


def _numbering(r: _Reader, node: Node | None) -> str:
    """Return how floats are numbered: through the "document" (default) or within each section."""
    if node is None:
        return "document"
    value = r.text(node, "numbering")
    if value not in NUMBERING:
        r.report(
            node,
            f"numbering must be one of {', '.join(NUMBERING)}, not {value!r}",
            "numbering: section gives Figure 3.2; numbering: document gives Figure 7",
        )
        return "document"
    return value


def _bibliographies(
    r: _Reader, node: Node | None
) -> tuple[tuple[str, ...], dict[str, tuple[int, int]]]:
    """Return the bibliography files, `bibliography:` one path or a list of them (as pandoc's
    and Quarto's metadata allow), references.bib when it is not set; and where each is named."""
    if node is None:
        return ("references.bib",), {}
    items = list(node.value) if isinstance(node, SequenceNode) else [node]
    if isinstance(node, SequenceNode) and not items:
        r.report(node, "bibliography is an empty list", "list at least one file, or remove it")
    places: dict[str, tuple[int, int]] = {}
    for i, item in enumerate(items):
        where = f"bibliography[{i + 1}]" if isinstance(node, SequenceNode) else "bibliography"
        path = r.project_path(item, where)
        if path:
            places.setdefault(path, position(item))
    return tuple(places) or ("references.bib",), places


def _nocite(r: _Reader, node: Node | None) -> tuple[tuple[str, int, int], ...]:
    """Return the works listed in the bibliography though no chapter cites them ("*": all)."""
    items = [node] if isinstance(node, ScalarNode) and scalar(node) is not None else None
    found = []
    for item in items or r.sequence(node, "nocite"):
        value = r.text(item, "nocite")
        for key in (value or "").replace(",", " ").split():
            found.append((key.lstrip("@"), item.start_mark.line + 1, item.start_mark.column + 1))
    return tuple(found)


def _lists(r: _Reader, node: Node | None) -> tuple[str, ...]:
    """Return the lists wanted after the contents ("figures", "tables"), in that order."""
    wanted: set[str] = set()
    for item in r.sequence(node, "lists"):
        value = r.text(item, "lists")
        if value is None:
            continue
        if value not in LISTS:
            r.report(
                item,
                f"lists may hold {' and '.join(LISTS)}, not {value!r}",
                "lists: [figures, tables] adds a list of each after the contents",
            )
            continue
        wanted.add(value)
    return tuple(k for k in LISTS if k in wanted)


def outline_as_json(outline: Outline) -> dict[str, Any]:
    """Return the outline as `{"sections": [{"id", "title", "points": [{"id", "text"}]}]}`."""
    return {
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "points": [{"id": p.id, "text": p.text} for p in s.points],
            }
            for s in outline.sections
        ]
    }
