"""Chapter files: reading, front matter, and a light source scan that gives locations."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import MappingNode, ScalarNode

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.load.yamlsrc import (
    YamlProblem,
    compose,
    did_you_mean,
    duplicate_keys,
    items,
    position,
    scalar,
)


@dataclass(frozen=True, kw_only=True)
class Mark:
    """Something found in the source at a line and column (1-based)."""

    name: str
    line: int
    column: int
    extra: str = ""


@dataclass(frozen=True, kw_only=True)
class SourceScan:
    """What the source scan found in one chapter, with positions."""

    headings: tuple[Mark, ...] = ()
    note_refs: tuple[Mark, ...] = ()
    note_defs: tuple[Mark, ...] = ()
    citations: tuple[Mark, ...] = ()
    markers: tuple[Mark, ...] = ()

    def first(self, kind: str, name: str) -> Mark | None:
        """Return the first mark of that kind with that name."""
        marks: tuple[Mark, ...] = getattr(self, kind)
        return next((m for m in marks if m.name == name), None)

    def to_json(self) -> dict[str, list[list[Any]]]:
        """Return the scan as JSON-ready data (each mark as [name, line, column, extra])."""
        return {
            kind: [[m.name, m.line, m.column, m.extra] for m in getattr(self, kind)]
            for kind in SCAN_KINDS
        }

    @staticmethod
    def from_json(data: dict[str, list[list[Any]]]) -> SourceScan:
        """Return the scan `to_json` gave (KeyError, TypeError or ValueError if it is not)."""
        marks = {
            kind: tuple(
                Mark(name=str(name), line=int(line), column=int(column), extra=str(extra))
                for name, line, column, extra in data[kind]
            )
            for kind in SCAN_KINDS
        }
        return SourceScan(**marks)


SCAN_KINDS = ("headings", "note_refs", "note_defs", "citations", "markers")


@dataclass(frozen=True, kw_only=True)
class Chapter:
    """One Markdown chapter: its text (front matter blanked), metadata and source scan."""

    path: str
    text: str
    front_matter: dict[str, Any] = field(default_factory=dict)
    scan: SourceScan = field(default_factory=SourceScan)

    def find(
        self, needle: str, nth: int = 0, at: Callable[[str, int], bool] | None = None
    ) -> tuple[int, int] | None:
        """Return the line and column of needle's nth occurrence in the source (its first line),
        counting only those `at(line, column)` accepts when it is given."""
        needle = needle.strip().split("\n")[0].strip()
        seen = 0
        for number, line in enumerate(self.text.split("\n"), start=1):
            col = line.find(needle) if needle else -1
            while col >= 0:
                if at is None or at(line, col):
                    if seen == nth:
                        return number, col + 1
                    seen += 1
                col = line.find(needle, col + len(needle))
        return None

    @property
    def section_id(self) -> str | None:
        """Return the section the front matter claims, as text."""
        value = self.front_matter.get("section")
        return None if value is None else str(value)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of an offset in a text."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def decode(data: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    """Return the chapter's text (BOM dropped, line endings normalised) or a diagnostic."""
    if b"\x00" in data[:8192]:
        return None, diag("unreadable-chapter", "the file is binary, not Markdown text", path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, diag(
            "unreadable-chapter",
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path,
            line,
            column,
            "save the file as UTF-8",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, list[Diagnostic]]:
    """Return (front matter, text with the block blanked to keep line numbers, problems)."""
    if not text.startswith("---"):
        return {}, text, []
    match = FRONT_MATTER.match(text)
    if match is None:
        if re.match(r"\A---[ \t]*\n", text):
            return (
                {},
                text,
                [
                    diag(
                        "front-matter",
                        "front matter starts with '---' but is never closed",
                        path,
                        1,
                        1,
                        "close it with a line '---'",
                    )
                ],
            )
        return {}, text, []
    block = match.group(1) or ""
    blanked = "\n" * match.group(0).count("\n") + text[match.end() :]
    try:
        node = compose(block, path, rule="front-matter")
    except YamlProblem as exc:
        d = exc.diagnostic
        return {}, blanked, [_shift(d, 1)]
    if node is None:
        return {}, blanked, []
    if not isinstance(node, MappingNode):
        line, col = position(node)
        return (
            {},
            blanked,
            [diag("front-matter", "front matter must be a mapping", path, line + 1, col)],
        )
    problems = [_shift(d, 1) for d in duplicate_keys(node, path, "front-matter")]
    problems += _unread_keys(node, path)
    # values are read from the composed nodes, never constructed: an alias bomb stays small
    data = {
        key: _as_written(value) for key, _, value in items(node) if isinstance(value, ScalarNode)
    }
    return data, blanked, problems


def _as_written(node: ScalarNode) -> Any:
    """Return a scalar's value, a number as its text as written (`section: 1.10` is section
    1.10, not the number 1.1, as outline.yaml's ids are read)."""
    value = scalar(node)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return node.value.strip()
    return value


# what paperbuild reads of a chapter's front matter: its section, and the title a Quarto chapter
# gives there instead of a `#` heading (checked against the outline's, `title-drift`)
FRONT_MATTER_KEYS = ("section", "title")


def _unread_keys(node: MappingNode, path: str) -> list[Diagnostic]:
    """Return a warning for each front matter key paperbuild does not read (an `abstract:`,
    a `bibliography:` or an `author:` from another tool's manuscript would be lost unsaid)."""
    found = []
    for key, key_node, _ in items(node):
        if key in FRONT_MATTER_KEYS:
            continue
        line, col = position(key_node)
        close = did_you_mean(key, list(FRONT_MATTER_KEYS))
        found.append(
            diag(
                "unread-front-matter",
                f"front matter key '{key}' is not read: a chapter's front matter says only "
                "which section it is (`section:`) and its title, and its other keys reach no "
                "draft",
                path,
                line + 1,
                col,
                close
                or "put the text in the chapter, and the paper's title, author, status or "
                "bibliography in outline.yaml",
            )
        )
    return found


def _shift(d: Diagnostic, lines: int) -> Diagnostic:
    """Return the diagnostic moved down by some lines."""
    return dataclasses.replace(d, line=None if d.line is None else d.line + lines)


FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
NOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:")
NOTE_REF = re.compile(r"\[\^([^\]\s]+)\](?!:)")
CITATION = re.compile(r"(?<![\w@\\])@(?:\{([^{}]+)\}|([\w](?:[\w:.#$%&\-+?<>~/]*[\w])?))")
# Control characters a text pasted from a PDF or a terminal brings (a form feed, a colour's
# escape sequence): Word drops them, Typst shows them as boxes or not at all. An ANSI escape
# sequence (`ESC[31m`) is one, as a whole.
CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SPACING_CONTROLS = "\x0b\x0c"  # (a vertical tab, a form feed: shown as a space)


def without_controls(text: str) -> str:
    """Return text with its control characters gone (a form feed or vertical tab: a space)."""
    return CONTROL.sub(lambda m: " " if m.group() in SPACING_CONTROLS else "", text)


# a LaTeX citation (`\\citet[p.~3]{smith2020,doe2019}`), read as one (lua/chapters.lua): its keys
TEX_CITATION = re.compile(r"\\[A-Za-z]*cite[A-Za-z]*\*?(?:\[[^\]\n]*\]){0,2}\{([^{}\n]*)\}")
# a LaTeX cross-reference (`\\ref{fig:map}`), read as pandoc-crossref's (lua/latex.lua, whose
# KINDS and capitals this follows): what it is read as, for where the check reports it
TEX_REFERENCE = re.compile(r"\\(ref|eqref|cref|Cref|autoref)\s*\{([^{}\n]+)\}")
TEX_KINDS = {"fig": "fig", "tbl": "tbl", "tab": "tbl", "eq": "eq", "sec": "sec", "lst": "lst"}


def tex_reference(command: str, label: str) -> str | None:
    """Return the reference a LaTeX one is read as (`\\autoref{tab:x}`: 'Tbl:x'), or None."""
    m = re.match(r"([A-Za-z]+)([:-].+)$", label)
    if m is None or m.group(1) not in TEX_KINDS:
        return None
    ident = TEX_KINDS[m.group(1)] + m.group(2)
    return ident[0].upper() + ident[1:] if command in ("autoref", "Cref") else ident


# bookdown's cross-reference (`\\@ref(fig:cars)`), read as pandoc-crossref's number alone
BOOKDOWN_REFERENCE = re.compile(r"\\@ref\(([^()\s]+)\)")


def bookdown_reference(label: str) -> str:
    """Return the reference bookdown's `\\@ref(label)` is read as: `[-@fig:cars]` for fig:cars,
    tab: as tbl:, and a heading's identifier (`\\@ref(intro)`) as `[-@sec:intro]`."""
    m = re.match(r"([A-Za-z]+)([:-].+)$", label)
    if m is None or m.group(1) not in TEX_KINDS:
        return f"sec:{label}"
    return TEX_KINDS[m.group(1)] + m.group(2)


MARKER = re.compile(r"\{[^{}\n]*?\bpoints=(?:\"([^\"]*)\"|'([^']*)'|([^\s}\"']+))[^{}\n]*\}")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def _mask(line: str, pattern: re.Pattern[str]) -> str:
    """Return the line with each match replaced by spaces (keeping columns)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), line)


HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


def strip_comments(text: str) -> str:
    """Return the text with HTML comments blanked (newlines and columns kept)."""
    if "<!--" not in text:
        return text
    return HTML_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def fence_step(
    line: str, fence: str | None, pattern: re.Pattern[str] = FENCE
) -> tuple[bool, str | None]:
    """Return whether a line is fenced code (a fence or inside one), and the fence open after it.

    A fence closes with one of its own character at least as long as it.
    """
    found = pattern.match(line)
    mark = found.group(1) if found else ""
    if fence is not None:
        closes = mark[:1] == fence[0] and len(mark) >= len(fence)
        return True, None if closes else fence
    return (True, mark) if mark else (False, None)


@functools.lru_cache(maxsize=256)  # (`watch` scans only the chapters a save changed)
def scan(text: str) -> SourceScan:
    """Return the positions of headings, footnotes, citations and coverage markers."""
    headings, refs, defs, cites, markers = [], [], [], [], []
    fence: str | None = None
    previous = ""
    lines = strip_comments(text).split("\n")
    latex = "\\" in text  # (LaTeX's citations and references: none without a backslash)
    for number, raw in enumerate(lines, start=1):
        code, fence = fence_step(raw, fence)
        if code:
            continue
        line = _mask(raw, CODE_SPAN)
        for m in MARKER.finditer(line):
            ids = next(g for g in m.groups() if g is not None)
            for pid in ids.replace(",", " ").split():
                markers.append(Mark(name=pid, line=number, column=m.start() + 1))
        line = _mask(line, MARKER)
        atx = ATX.match(line)
        if atx:
            title = re.sub(r"[ \t]+#+$", "", atx.group(2)).strip()
            headings.append(Mark(name=title, line=number, column=1, extra=atx.group(1)))
        elif SETEXT.match(line) and previous.strip() and not previous.startswith(" " * 4):
            level = "#" if line.strip()[0] == "=" else "##"
            headings.append(Mark(name=previous.strip(), line=number - 1, column=1, extra=level))
        d = NOTE_DEF.match(line)
        if d:
            defs.append(
                Mark(
                    name=d.group(1),
                    line=number,
                    column=line.index("[") + 1,
                    extra=_note_text(lines, number, d.end()),
                )
            )
        for m in NOTE_REF.finditer(line, d.end() if d else 0):
            refs.append(Mark(name=m.group(1), line=number, column=m.start() + 1))
        for m in CITATION.finditer(line):
            key = m.group(1) or m.group(2)
            cites.append(Mark(name=key, line=number, column=m.start() + 1))
        for m in TEX_REFERENCE.finditer(line) if latex and "ref" in line else ():
            ident = tex_reference(m.group(1), m.group(2))
            if ident is not None:
                cites.append(Mark(name=ident, line=number, column=m.start() + 1))
        for m in BOOKDOWN_REFERENCE.finditer(line) if latex and "@ref(" in line else ():
            cites.append(
                Mark(name=bookdown_reference(m.group(1)), line=number, column=m.start() + 1)
            )
        for m in TEX_CITATION.finditer(line) if latex and "ite" in line else ():
            at = m.start(1)
            for key in m.group(1).split(","):
                if key.strip():
                    column = at + len(key) - len(key.lstrip()) + 1
                    cites.append(Mark(name=key.strip(), line=number, column=column))
                at += len(key) + 1
        previous = line
    return SourceScan(
        headings=tuple(headings),
        note_refs=tuple(refs),
        note_defs=tuple(defs),
        citations=tuple(cites),
        markers=tuple(markers),
    )


def _note_text(lines: list[str], number: int, start: int) -> str:
    """Return a footnote definition's text: its first line and indented continuation."""
    parts = [lines[number - 1][start:].strip()]
    for following in lines[number:]:
        if following.strip() == "":
            parts.append("")
            continue
        if not following.startswith(("    ", "\t")):
            break
        parts.append(following.strip())
    return " ".join(p for p in parts if p)


MACRO_START = re.compile(
    r"^\\(?:(?:re|provide)?newcommand\*?|DeclareMathOperator\*?|def(?=\\))", re.M
)


# An executable code chunk of Quarto or R Markdown: ```{python}, ```{r echo=FALSE}, ```{r, dpi=9}
# (a language name, not a pandoc attribute: no `.`, `#` or `=` before it, no `=` after it).
CHUNK = re.compile(
    r"^( {0,3})(`{3,}|~{3,})[ \t]*\{[ \t]*([A-Za-z][\w+-]*)(?=[\s,}])[^}\n]*\}[ \t]*$"
)


def code_chunks(text: str) -> list[Mark]:
    """Return the executable code chunks' opening fences (their language, line and column),
    outside other code."""
    found: list[Mark] = []
    fence: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        chunk = CHUNK.match(line) if fence is None else None
        if chunk:
            found.append(Mark(name=chunk.group(3), line=number, column=len(chunk.group(1)) + 1))
        _, fence = fence_step(line, fence)
    return found


def chunks_as_code(text: str) -> str:
    """Return the text with each executable chunk's fence made a code block's (```{.python}):
    pandoc reads ```{python} as inline code, its lines run together in a paragraph."""
    if "{" not in text:
        return text
    chunks = {m.line for m in code_chunks(text)}
    if not chunks:
        return text
    lines = text.split("\n")
    for number in chunks:
        m = CHUNK.match(lines[number - 1])
        assert m is not None
        lines[number - 1] = f"{m.group(1)}{m.group(2)} {{.{m.group(3)}}}"
    return "\n".join(lines)


# Quarto's shortcodes, `{{< include _part.qmd >}}`; `{{{< … >}}}` is Quarto's way to show one.
SHORTCODE = re.compile(r"(?<!\{)\{\{<\s*([\w-]+)[^>\n]*>\}\}(?!\})")
SHORTCODES_MADE = ("pagebreak",)  # the one the drafts carry out (a page break in both)


def shortcodes(text: str) -> list[Mark]:
    """Return Quarto shortcodes outside code and comments that the drafts do not carry out
    (their name and text, line and column)."""
    if "{{<" not in text:
        return []
    found: list[Mark] = []
    fence: str | None = None
    for number, line in enumerate(strip_comments(text).split("\n"), start=1):
        code, fence = fence_step(line, fence)
        if code:
            continue
        for m in SHORTCODE.finditer(_mask(line, CODE_SPAN)):
            if m.group(1) not in SHORTCODES_MADE:
                found.append(
                    Mark(name=m.group(1), line=number, column=m.start() + 1, extra=m.group())
                )
    return found


def macro_definitions(text: str) -> list[str]:
    """Return the LaTeX macro definitions (`\\newcommand{\\R}{\\mathbb{R}}`) a chapter makes at
    the start of a line, outside code, each with its balanced braces (across lines)."""
    found: list[str] = []
    fence: str | None = None
    offset = tried = 0
    for line in text.split("\n"):
        code, fence = fence_step(line, fence)
        if not code and MACRO_START.match(line) and tried < MAX_MACROS:
            tried += 1  # (each is read up to MACRO_LENGTH characters: the work stays bounded)
            definition = _balanced(text, offset)
            if definition:
                found.append(definition)
        offset += len(line) + 1
    return found


MAX_MACROS = 1000  # macro definitions read in one chapter
MACRO_LENGTH = 2000  # characters one definition may run to


def _balanced(text: str, start: int) -> str | None:
    """Return the definition starting at start: up to the brace that closes its last group.

    A `\\def\\x{…}` or `\\newcommand\\x{…}` has one group, `\\newcommand{\\x}{…}` two.
    """
    command = MACRO_START.match(text, start)
    if command is None:
        return None
    after = text[command.end() : command.end() + 64].lstrip(" \t")  # (not the rest of the text)
    needed = 1 if command.group().startswith("\\def") or after.startswith("\\") else 2
    depth, seen, i = 0, 0, command.end()
    while i < len(text) and i < start + MACRO_LENGTH:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                seen += 1
                if seen == needed:
                    return text[start : i + 1]
        elif ch == "\n" and depth == 0 and text[i + 1 : i + 2] == "\n":
            return None  # a blank line before the definition ended
        i += 1
    return None


def pandoc_texts(chapters: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Return each chapter's text (by path) as pandoc is given it: after the other chapters'
    LaTeX macros, its executable code chunks made code blocks.

    pandoc expands `\\newcommand` definitions when it reads, and each chapter is read on its
    own, so a macro defined in one chapter would stay raw in the next (`$\\R^2$` in the drafts);
    every chapter is read after the definitions the others make, as one text of the whole paper
    would be.
    """
    defined = {path: macro_definitions(text) for path, text in chapters}
    texts: dict[str, str] = {}
    for path, body in chapters:
        others = [d for other, ds in defined.items() if other != path for d in ds]
        kept, size = [], 0
        for definition in dict.fromkeys(others):  # whole definitions, to a bound on the re-read
            size += len(definition) + 1
            if size > MAX_PRELUDE:
                break
            kept.append(definition)
        prelude = "\n".join(kept)
        text = chunks_as_code(body)
        texts[path] = f"{prelude}\n\n{text}" if prelude else text
    return texts


MAX_PRELUDE = 200_000  # characters of other chapters' macro definitions put before a chapter
