"""Diagnostic records, the rule table, severity configuration and the three reporters."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: Every rule paperbuild reports, with its default severity and a one-line description.
RULES: dict[str, tuple[Severity, str]] = {
    "outline-syntax": ("error", "outline.yaml is not valid YAML"),
    "outline-schema": ("error", "outline.yaml has a missing, unknown or wrongly typed field"),
    "unknown-language": (
        "warning",
        "document.lang is a language paperbuild has no words for: the furniture is in English",
    ),
    "duplicate-id": ("error", "two sections or two points share an id"),
    "path-outside-project": ("error", "a path leaves the project folder"),
    "missing-chapter": ("error", "a section has no chapter"),
    "missing-chapter-file": ("error", "a chapter named by the outline does not exist"),
    "duplicate-chapter": ("error", "two chapters claim one section"),
    "orphan-chapter": (
        "error",
        "a Markdown file in paper/ (.md, .markdown, .qmd, .Rmd) maps to no section",
    ),
    "front-matter": ("error", "a chapter's front matter is malformed"),
    "unread-front-matter": ("warning", "a chapter's front matter has a key that is not read"),
    "unreadable-chapter": ("error", "a chapter cannot be read as UTF-8 text"),
    "title-drift": ("warning", "a chapter's first heading differs from its section title"),
    "uncovered-point": ("warning", "an outline point has no coverage marker"),
    "unknown-point": ("error", "a coverage marker names a point that does not exist"),
    "misplaced-point": ("warning", "a coverage marker names a point of another section"),
    "suggested-coverage": ("info", "a paragraph that seems to address an uncovered point"),
    "length": ("warning", "a section or the document is outside its word range"),
    "undefined-footnote": ("error", "a footnote reference has no definition in its chapter"),
    "unused-footnote": ("warning", "a footnote definition is never referenced"),
    "duplicate-footnote": ("error", "a footnote is defined twice in one chapter"),
    "empty-footnote": ("error", "a footnote definition has no text"),
    "nested-footnote": ("error", "a footnote reference stands inside another footnote"),
    "unknown-citation": ("error", "a citation key is not in references.bib"),
    "unused-reference": ("warning", "a references.bib entry is never cited"),
    "duplicate-reference": ("error", "two references.bib entries share a key"),
    "bib-syntax": ("error", "references.bib cannot be parsed"),
    "incomplete-reference": ("warning", "a reference lacks a title, an author or a date"),
    "missing-bibliography": ("error", "the bibliography file does not exist"),
    "remote-resource": ("warning", "an image or resource is given by URL: never fetched"),
    "missing-resource": ("warning", "an image or resource does not exist"),
    "unsupported-image": ("warning", "an image the PDF cannot show (TIFF, BMP, EPS, damaged)"),
    "unreadable-resource": ("warning", "an image that is no regular file or is too large"),
    "list-field-and": (
        "warning",
        "a publisher, institution or other list field whose unbraced ' and ' splits it in two",
    ),
    "dropped-latex": (
        "warning",
        "a LaTeX command in references.bib that pandoc drops with its words (\\mbox{…}, …)",
    ),
    "control-character": (
        "warning",
        "a chapter holds invisible control characters (a form feed, a terminal's colour codes)",
    ),
    "open-query": ("info", "a query to the committee, still in the sources"),
    "dropped-raw": ("warning", "raw HTML or LaTeX that the DOCX and PDF drafts leave out"),
    "invalid-raw": ("error", "raw OpenXML that is not well-formed XML (the DOCX would not open)"),
    "unsafe-raw": (
        "error",
        "raw OpenXML with a field or object that fetches, includes or runs something (DDEAUTO)",
    ),
    "tracked-cache": ("warning", "git tracks build/.cache/: paperbuild does not read it"),
    "missing-file": (
        "error",
        "a CSL style, reference document or face named in outline.yaml is missing",
    ),
    "invalid-style": ("error", "the CSL style is not a readable CSL file"),
    "invalid-reference-doc": (
        "error",
        "the reference document is not a .docx file, or a part of it is damaged",
    ),
    "unsafe-reference-doc": (
        "error",
        "the reference document's header, footer or settings would have Word fetch, include or "
        "run something in every draft",
    ),
    "unknown-crossref": ("error", "a cross-reference (@fig:x, @tbl:x, …) names no label"),
    "duplicate-label": ("error", "two elements of the document share a label"),
    "crossref-kind": ("warning", "a cross-reference names an element of another kind"),
    "dead-link": ("warning", "a link (#id, or a chapter's file) leads to no heading or label"),
    "code-chunk": (
        "warning",
        "an executable code chunk (Quarto, R Markdown): shown as code, never run",
    ),
    "unexpanded-shortcode": (
        "warning",
        "a Quarto shortcode other than pagebreak: shown as written",
    ),
    "missing-glyphs": ("warning", "text in a script the PDF's faces have no glyphs for"),
    "fallback-face": ("warning", "letters the PDF's body face lacks, set in a face of Typst's own"),
    "unconverted-maths": ("warning", "maths pandoc cannot convert: the drafts show its TeX"),
    "invalid-font": ("error", "a face under outline.yaml's fonts: is not a usable font file"),
}


@dataclass(frozen=True, kw_only=True)
class Diagnostic:
    """One problem found in the author's sources, with its location."""

    rule: str
    severity: Severity
    message: str
    path: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    @property
    def location(self) -> str:
        """Return `path:line:column` (as much of it as is known)."""
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class Located(Exception):
    """A problem found while reading a file, carried as its diagnostic (path, line, column)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def diag(
    rule: str,
    message: str,
    path: str,
    line: int | None = None,
    column: int | None = None,
    hint: str | None = None,
) -> Diagnostic:
    """Return a Diagnostic with the rule's default severity, its message and hint on one line.

    Messages quote the author's text (a point, a heading, a raw block), which may span lines;
    one diagnostic is one line of `check`'s output and one CI annotation.
    """
    return Diagnostic(
        rule=rule,
        severity=RULES[rule][0],
        message=_one_line(message),
        path=path,
        line=line,
        column=column,
        hint=_one_line(hint) if hint is not None else None,
    )


def _one_line(text: str) -> str:
    """Return text with its line breaks (and the spaces around them) as single spaces."""
    lines = text.splitlines()
    return text if len(lines) <= 1 else " ".join(p.strip() for p in lines if p.strip())


def configure(diagnostics: Iterable[Diagnostic], overrides: Mapping[str, str]) -> list[Diagnostic]:
    """Return the diagnostics with per-project severities applied and `off` rules dropped."""
    result: list[Diagnostic] = []
    for d in diagnostics:
        level = overrides.get(d.rule)
        if level == "off":
            continue
        if level in SEVERITIES:
            d = replace(d, severity=level)
        result.append(d)
    return sorted(result, key=sort_key)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    """Return the key that orders diagnostics by file, line, column, rule."""
    return (d.path, d.line or 0, d.column or 0, d.rule)


def counts(diagnostics: Sequence[Diagnostic]) -> dict[str, int]:
    """Return how many diagnostics there are of each severity."""
    return {s: sum(1 for d in diagnostics if d.severity == s) for s in SEVERITIES}


def failed(diagnostics: Sequence[Diagnostic], *, strict: bool = False) -> bool:
    """Return True when the diagnostics make `check` fail (errors, or warnings when strict)."""
    c = counts(diagnostics)
    return c["error"] > 0 or (strict and c["warning"] > 0)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(diagnostics: Sequence[Diagnostic], extra: str = "") -> str:
    """Return the one-line count summary printed after the diagnostics."""
    c = counts(diagnostics)
    parts = [_plural(c["error"], "error"), _plural(c["warning"], "warning")]
    if c["info"]:
        parts.append(_plural(c["info"], "suggestion"))
    return ", ".join(parts) + (f"; {extra}" if extra else "")


def format_text(diagnostics: Sequence[Diagnostic], *, color: bool = False) -> str:
    """Return compiler-style lines, grouped by file (blank line between files)."""
    colors = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
    lines: list[str] = []
    previous: str | None = None
    for d in diagnostics:
        if previous is not None and d.path != previous:
            lines.append("")
        previous = d.path
        sev = f"{colors[d.severity]}{d.severity}\x1b[0m" if color else d.severity
        lines.append(f"{d.location}: {sev}[{d.rule}] {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    return "\n".join(lines)


def format_json(diagnostics: Sequence[Diagnostic], summary: Mapping[str, object]) -> str:
    """Return `{"diagnostics": [...], "summary": {...}}` as indented JSON."""
    payload = {"diagnostics": [asdict(d) for d in diagnostics], "summary": dict(summary)}
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """Return GitHub Actions workflow commands, one per diagnostic."""
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for d in diagnostics:
        props = [f"file={_gh_escape(d.path, prop=True)}"]
        if d.line is not None:
            props.append(f"line={d.line}")
            if d.column is not None:
                props.append(f"col={d.column}")
        props.append(f"title={_gh_escape(d.rule, prop=True)}")
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        lines.append(f"::{kinds[d.severity]} {','.join(props)}::{_gh_escape(message)}")
    return "\n".join(lines)
