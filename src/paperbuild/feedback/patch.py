"""Reviewers' tracked changes as a unified diff against the Markdown sources (`git apply`)."""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from paperbuild.feedback.source import prefix_end, protected

QUOTES = {  # a mark as the drafts show it (in the paper's language) -> as Markdown may write it
    "‘": "['‘’]",
    "’": "['‘’]",
    "'": "['‘’]",
    "‚": "['‚‘’]",
    "“": '["“”]',
    "”": '["“”]',
    '"': '["“”]',
    "«": '["“”«]',
    "»": '["“”»]',
    "„": '["„“”]',
    "–": "(?:–|--)",
    "—": "(?:—|---)",
    "…": "(?:…|\\.\\.\\.)",
    "\u00a0": "\\s",
}


def _token_pattern(token: str) -> str:
    """Return a regex for a rendered word as it may be written in Markdown source."""
    return "".join(QUOTES.get(ch, re.escape(ch)) for ch in token)


def _sequence(tokens: list[str]) -> str:
    return r"\s*".join(_token_pattern(t) for t in tokens)


@dataclass(frozen=True, kw_only=True)
class Edit:
    """A replacement in a source paragraph: [start, end) becomes text."""

    start: int
    end: int
    text: str


TOKEN = re.compile(r"[^\W_]+|\S")


def _tokens(text: str) -> list[re.Match[str]]:
    """Return the words and single punctuation marks of a text, with their positions."""
    return list(TOKEN.finditer(text))


def edits_for(source: str, old: str, new: str) -> tuple[list[Edit], int]:
    """Return the source edits that turn the paragraph's old text into its new one.

    The second value counts the changes that could not be placed (their words or context are not
    in the source, usually because markup sits between them).
    """
    a, b = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(
        None, [t.group() for t in a], [t.group() for t in b], autojunk=False
    )
    edits: list[Edit] = []
    missed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        new_text = new[b[j1].start() : b[j2 - 1].end()] if j2 > j1 else ""
        edit = _place(source, [t.group() for t in a], i1, i2, new_text)
        if edit is None:
            missed += 1
        else:
            edits.append(edit)
    edits.sort(key=lambda e: e.start)
    if any(x.end > y.start for x, y in itertools.pairwise(edits)):
        return [], missed + len(edits)
    return edits, missed


def _place(source: str, a: list[str], i1: int, i2: int, new_text: str) -> Edit | None:
    for width in (4, 3, 2, 1):
        before, after = a[max(0, i1 - width) : i1], a[i2 : i2 + width]
        if not before and not after:
            continue
        parts = []
        if before:
            parts.append(f"(?P<before>{_sequence(before)})")
        parts.append(f"(?P<old>{_sequence(a[i1:i2])})" if i2 > i1 else "(?P<old>)")
        if after:
            parts.append(f"(?P<after>{_sequence(after)})")
        matches = list(re.finditer(r"\s*".join(parts), source))
        if len(matches) == 1:
            edit = _edit(source, matches[0], new_text, bool(before))
            return edit if _respects_markup(source, edit) else None
    return None


def _respects_markup(source: str, edit: Edit) -> bool:
    """Return whether the edit stays in the text: no marker, fence, pipe or attribute touched."""
    for start, end in protected(source):
        if edit.start == edit.end:
            if start < edit.start < end:
                return False
        elif edit.start < end and start < edit.end:
            return False
    return True


# What pandoc's Markdown reads as markup anywhere in a paragraph (emphasis, code, links and
# spans, raw HTML, maths, citations, super- and subscripts, attributes, escapes, tables).
INLINE_MARKUP = re.compile(r"[\\`*_\[\]<>$@^~{}|]|&(?=#?\w+;)")
# What it reads as markup at the start of a block's text: a heading, a quote, a list item, a
# definition, a setext underline, a numbered or lettered list marker (`1.`, `a)`, `(iv)`).
LINE_START_MARKUP = re.compile(
    r"^(?:[#>+=:%-]|\((?=(?:\d+|[a-zA-Z]|[ivxlcdmIVXLCDM]+)\))"
    r"|(?:\d+|[a-zA-Z]|[ivxlcdmIVXLCDM]+)(?=[.)]))"
)


def markdown_text(text: str, at_line_start: bool) -> str:
    """Return the reviewer's plain text written as Markdown that pandoc reads back as that
    text: markup characters escaped, a line break made a space (a Word paragraph's text)."""
    text = re.sub(r"\s*[\n\r\v\f]\s*", " ", text)
    text = INLINE_MARKUP.sub(lambda m: "\\" + m.group(), text)
    if at_line_start:
        marker = LINE_START_MARKUP.match(text)
        if marker:
            if marker.group()[-1].isalnum():  # `1.`, `a)`: the mark after it is escaped
                end = marker.end()
                text = text[:end] + "\\" + text[end:]
            else:
                text = "\\" + text
    return text


def _edit(source: str, m: re.Match[str], new_text: str, after_words: bool) -> Edit:
    start, end = m.start("old"), m.end("old")
    if start == end:  # an insertion: right after the words it follows, or before the next ones
        start = end = m.end("before") if after_words else m.start("after")
        start = end = max(start, prefix_end(source, start))
        new_text = markdown_text(new_text, start == prefix_end(source, start))
        prev = source[start - 1] if start else " "
        nxt = source[start] if start < len(source) else " "
        text = new_text
        if prev.isalnum() or prev in ".,;:!?)’”'\"":
            text = " " + text
        if nxt.isalnum() and not text.endswith(" "):
            text += " "
        return Edit(start=start, end=end, text=text)
    new_text = markdown_text(new_text, start == prefix_end(source, start))
    if not new_text:  # a deletion takes one neighbouring space with it (never a marker's)
        nxt = source[end] if end < len(source) else ""
        text_start = prefix_end(source, start)
        if start > text_start and source[start - 1] == " " and (nxt in " .,;:!?)" or not nxt):
            start -= 1
        elif nxt == " ":
            end += 1
    return Edit(start=start, end=end, text=new_text)


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Return text with non-overlapping edits applied."""
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def unified_diff(path: str, before: str, after: str) -> str:
    """Return a git-style unified diff of one file (a/ and b/ prefixes)."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out = []
    for line in difflib.unified_diff(a, b, f"a/{path}", f"b/{path}"):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def read_source(root: Path, path: str) -> tuple[str, str]:
    """Return a chapter's text with LF line endings, and the newline the file uses."""
    raw = (root / path).read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    return raw.replace("\r\n", "\n"), newline
