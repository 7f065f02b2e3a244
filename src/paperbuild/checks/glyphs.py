"""Text the PDF cannot show: characters that none of its faces has a glyph for.

The PDF is set with the bundled faces and Typst's own (system fonts are never used, so every
machine makes the same PDF). Between them they cover the Latin, Greek, Cyrillic, Armenian,
Georgian, Hebrew, Arabic and Devanagari scripts, punctuation, symbols and mathematics; Typst
leaves a blank for anything else (Chinese, Japanese, Korean, Thai, most Indic scripts, emoji),
and says nothing. The DOCX shows such text in the reader's own fonts. Faces the author names
under `fonts:` in outline.yaml cover what their character maps hold.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.load.chapters import CONTROL, line_column
from paperbuild.load.outline import OUTLINE_FILE
from paperbuild.load.project import Project
from paperbuild.render.cmap import author_faces, covered
from paperbuild.render.style import FACES, FONTS_DIR

COVERED = (  # the PDF's faces between them: Liberation Serif, then Typst's own fallbacks
    (0x0000, 0x06FF),  # Latin, IPA, combining marks, Greek, Cyrillic, Armenian, Hebrew, Arabic
    (0x0900, 0x097F),  # Devanagari
    (0x10A0, 0x10FF),  # Georgian
    (0x1D00, 0x1FFF),  # phonetic extensions, Latin and Greek extended
    (0x2000, 0x2BFF),  # punctuation, sub- and superscripts, currency, arrows, maths, shapes
    (0x2C60, 0x2C7F),  # Latin extended-C
    (0x2E00, 0x2E7F),  # supplemental punctuation
    (0xA720, 0xA7FF),  # Latin extended-D
    (0xFB00, 0xFDFF),  # ligatures, Hebrew and Arabic presentation forms
    (0xFE00, 0xFE2F),  # variation selectors, combining half marks
    (0xFE70, 0xFEFF),  # Arabic presentation forms-B, the byte-order mark
    (0xFFF9, 0xFFFD),  # the replacement character
    (0x1D400, 0x1D7FF),  # mathematical alphanumerics
)


@functools.lru_cache(maxsize=4)
def _uncovered(ranges: tuple[tuple[int, int], ...]) -> re.Pattern[str]:
    """Return a pattern matching runs of characters outside the ranges."""
    return re.compile(
        "[^" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]+"
    )


SCRIPTS = (  # names for the message, where Unicode's character names would not do
    (0x2E80, 0x9FFF, "Chinese, Japanese or Korean"),
    (0xF900, 0xFAFF, "Chinese, Japanese or Korean"),
    (0xFF00, 0xFFEF, "Chinese, Japanese or Korean"),
    (0x20000, 0x3FFFF, "Chinese, Japanese or Korean"),
    (0x1100, 0x11FF, "Korean"),
    (0xAC00, 0xD7AF, "Korean"),
    (0x1F000, 0x1FAFF, "emoji"),
    (0xE000, 0xF8FF, "private-use"),
)


def _script(ch: str) -> str:
    """Return the name of the script or kind of character ch belongs to."""
    code = ord(ch)
    for start, end, name in SCRIPTS:
        if start <= code <= end:
            return name
    return unicodedata.name(ch, f"U+{code:04X}").split(" ")[0].title()


Found = dict[str, tuple[int, str, int]]  # per script: first offset, a sample, how many


def unshown(text: str, ranges: tuple[tuple[int, int], ...] = COVERED) -> Found:
    """Return, per script, (offset of its first character, a sample of it, how many) in text
    outside the ranges (by default the PDF's own faces')."""
    return not_set(text, ranges, ranges)[0]


def not_set(
    text: str, shown: tuple[tuple[int, int], ...], body: tuple[tuple[int, int], ...]
) -> tuple[Found, Found]:
    """Return what in text is outside the faces' ranges (`shown`: the PDF leaves it blank),
    and the letters outside the body face's (`body`) that another face sets, in one pass."""
    blank: Found = {}
    fallen: Found = {}
    outside = _uncovered(shown)
    for m in _uncovered(tuple(sorted({*body, (0, 0x20)}))).finditer(text):
        for i, ch in enumerate(m.group()):
            kind = unicodedata.category(ch)[0]
            if kind in "CZ":  # controls, formats, separators: not set
                continue
            if outside.fullmatch(ch):
                _tally(blank, ch, m.start() + i)
            elif kind == "L":  # (punctuation and symbols, an arrow, a maths sign, look right)
                _tally(fallen, ch, m.start() + i)
    return blank, fallen


def _tally(found: Found, ch: str, offset: int) -> None:
    name = _script(ch)
    first, sample, count = found.get(name, (offset, "", 0))
    if len(sample) < 12 and (not sample or offset - first < 40):
        sample += ch
    found[name] = (first, sample, count + 1)


def check(project: Project) -> list[Diagnostic]:
    """Return where the chapters and the outline's title page hold text the PDF cannot show."""
    meta = project.outline.document
    title_page = "\n".join((meta.title, meta.subtitle or "", meta.author, meta.status))
    sources = [*((c.path, c.text) for c in project.chapters), (OUTLINE_FILE, title_page)]
    faces, found = author_faces(project)
    own = tuple(r for face in faces for r in face.ranges)
    body = tuple(sorted({*_body_face(), *own}))
    shown = tuple(sorted({*COVERED, *body}))
    for path, text in sources:
        blank, fallen = not_set(text, shown, body)
        for name, (offset, sample, count) in blank.items():
            found.append(
                _glyphs(
                    "missing-glyphs",
                    f"the PDF's faces have no glyphs for {name} text ({_sample(sample, count)}); "
                    "the PDF leaves them blank, the DOCX shows them in the reader's fonts",
                    path,
                    text,
                    offset,
                )
            )
        for name, (offset, sample, count) in fallen.items():
            found.append(
                _glyphs(
                    "fallback-face",
                    f"the PDF's body face has no {name} letters ({_sample(sample, count)}); the "
                    "PDF sets them in a face of Typst's own, unlike the body text, which may not "
                    "join or shape them as the script needs",
                    path,
                    text,
                    offset,
                )
            )
    return found


def _sample(sample: str, count: int) -> str:
    return f"{sample}: {count} characters" if count > 1 else f"{sample}: one character"


def _glyphs(rule: str, message: str, path: str, text: str, offset: int) -> Diagnostic:
    """Return the warning that text from offset is not set as the body is, where it stands."""
    line = col = None
    if path != OUTLINE_FILE:  # (the title page's fields are not the file's lines)
        line, col = line_column(text, offset)
    hint = "name a face that has them under 'fonts:' in outline.yaml (a .ttf or .otf file in "
    return diag(
        rule, message, path, line, col, hint + "the project, e.g. a Noto face for the script)"
    )


@functools.cache
def _body_face() -> tuple[tuple[int, int], ...]:
    """Return the code points the body face (Liberation Serif) has glyphs for."""
    return tuple(covered((FONTS_DIR / FACES["embedRegular"]).read_bytes()))


def control_characters(project: Project) -> list[Diagnostic]:
    """Return, for each chapter that holds control characters (a form feed, a terminal's
    colour codes), where the first is and how many there are."""
    found = []
    for chapter in project.chapters:
        first = CONTROL.search(chapter.text)
        if first is None:
            continue
        count = sum(1 for _ in CONTROL.finditer(chapter.text))
        offset = first.start()
        code = ord(first.group()[0])
        name = unicodedata.name(chr(code), "") or _CONTROL_NAMES.get(code, "a control character")
        what = "an escape sequence" if len(first.group()) > 1 else f"U+{code:04X} {name}".strip()
        found.append(
            diag(
                "control-character",
                f"{count} invisible control character{'s' if count > 1 else ''}, the first "
                f"{what}: the drafts leave them out (a form feed or vertical tab as a space)",
                chapter.path,
                *line_column(chapter.text, offset),
                "text pasted from a PDF or a terminal brings them: delete them from the chapter",
            )
        )
    return found


_CONTROL_NAMES = {0x0B: "LINE TABULATION", 0x0C: "FORM FEED", 0x1B: "ESCAPE", 0x7F: "DELETE"}
