"""Resources and raw markup: remote or missing images, paths that leave the project, raw HTML."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.facts import UNSAFE, Facts
from paperbuild.load.chapters import Chapter, code_chunks, line_column, shortcodes
from paperbuild.load.outline import OUTLINE_FILE
from paperbuild.load.project import Project, inside, is_data_uri, resolve_resource
from paperbuild.references import style_problem
from paperbuild.render.images import SHOWN, data_uri, docx_problem, pdf_problem, shown_target
from paperbuild.safety import UnsafePath, docx_part, open_docx, read_input

MESSAGES = {
    "remote": (
        "remote-resource",
        "{t} is a remote resource: paperbuild never fetches it, and the drafts show a placeholder",
        "download it into the project and link the file",
    ),
    "outside": (
        "path-outside-project",
        "{t} leads outside the project folder; it is left out of the drafts",
        "copy the file into the project",
    ),
    "missing": (
        "missing-resource",
        "{t} does not exist; the drafts show a placeholder",
        "check the path (relative to the project or to the chapter)",
    ),
}


def _locate(chapter: Chapter, needle: str, nth: int = 0) -> tuple[int, int]:
    """Return where needle appears (its nth time) in the chapter, else the chapter's start."""
    return chapter.find(needle, nth) or (1, 1)


def _image_places(chapter: Chapter, targets: tuple[str, ...]) -> list[tuple[int, int]]:
    """Return where each image target (in document order) is written: its own use, each
    time, as an image's target (`](…`, `](<…`, `src="…`, a reference `]: …`), else the first
    place its text appears, else the chapter's start."""
    text = chapter.text
    uses: dict[str, list[int]] = {}
    taken: dict[str, int] = {}
    places = []
    for target in targets:
        if target not in uses:
            written = {target, unquote(target)}
            pattern = "|".join(re.escape(w) for w in sorted(written, key=len, reverse=True))
            uses[target] = [
                m.start(2) for m in re.finditer(rf"(\]\(<?|src=[\"']|\]:[ \t]*<?)({pattern})", text)
            ]
        nth = taken[target] = taken.get(target, -1) + 1
        if nth < len(uses[target]):
            places.append(line_column(text, uses[target][nth]))
        else:
            places.append(chapter.find(target) or _locate(chapter, unquote(target)))
    return places


def _nth_place(
    chapter: Chapter, text: str, times: dict[str, int], fenced: bool = False
) -> tuple[int, int]:
    """Return where a raw snippet is written: the next place, after those `times` counts, of
    its first line (snippets that open alike are found one after the other). A `fenced`
    snippet (```{=openxml} or `…`{=openxml}) is looked for only where such one starts: a
    line's start or after a backtick, not inside another that holds the same words."""
    needle = text.strip().split("\n")[0][:60]
    nth = times[needle] = times.get(needle, -1) + 1
    whole = text.strip()
    if "\n" in whole:  # (a block of lines: where all of them stand, not only its first's twin)
        k = times[whole] = times.get(whole, -1) + 1
        at = -1
        for _ in range(k + 1):
            at = chapter.text.find(whole, at + 1)
            if at < 0:
                break
        if at >= 0:
            return line_column(chapter.text, at)
    if not fenced:
        return _locate(chapter, needle, nth)
    return chapter.find(needle, nth, _snippet_start) or _locate(chapter, needle, nth)


def _snippet_start(line: str, col: int) -> bool:
    """Return whether a raw snippet may start at the column: a line's start or a backtick's end."""
    return not line[:col].strip() or line[:col].endswith("`")


def check_chapter(project: Project, chapter: Chapter, facts: Facts) -> list[Diagnostic]:
    """Return the resource and raw-markup problems of one chapter."""
    found = []
    places = _image_places(chapter, facts.resources)
    unshowable: dict[str, list[Diagnostic]] = {}
    for target, where in zip(facts.resources, places, strict=True):
        usable, problem = resolve_resource(project.root, chapter.path, target)
        if problem:
            rule, message, hint = MESSAGES[problem]
            found.append(diag(rule, message.format(t=target), chapter.path, *where, hint))
        elif usable:
            if usable not in unshowable:  # (each file read once, each use reported)
                unshowable[usable] = _unshowable(project, chapter, target, usable, (1, 1))
            found += [replace(d, line=where[0], column=where[1]) for d in unshowable[usable]]
    times: dict[str, int] = {}
    for fmt, text in facts.raw:  # each occurrence, at its own line (a block at its first line)
        line, col = _nth_place(chapter, text, times)
        found.append(
            diag(
                "dropped-raw",
                f"raw {fmt.upper()} ({_shown(text)}) is left out of the DOCX and PDF drafts",
                chapter.path,
                line,
                col,
                _raw_hint(fmt, text),
            )
        )
    times = {}
    for text, why in facts.broken_raw:
        line, col = _nth_place(chapter, text, times, fenced=True)
        found.append(_broken_raw(chapter.path, text, why, line, col))
    return found


def _broken_raw(path: str, text: str, why: str, line: int, col: int) -> Diagnostic:
    """Return the error for raw OpenXML left out of the DOCX: ill-formed, or unsafe."""
    if why.startswith(UNSAFE):
        return diag(
            "unsafe-raw",
            f"raw OpenXML ({_shown(text)}) is left out of the DOCX: {why} on the machine of "
            "everyone who opens the draft",
            path,
            line,
            col,
            "write it in Markdown instead (paperbuild numbers pages, figures and references)",
        )
    return diag(
        "invalid-raw",
        f"raw OpenXML ({_shown(text)}) is not well-formed XML ({why}); Word could not "
        "open the DOCX",
        path,
        line,
        col,
        "close every element it opens, or write it in Markdown instead",
    )


def _unshowable(
    project: Project, chapter: Chapter, target: str, usable: str, where: tuple[int, int]
) -> list[Diagnostic]:
    """Return a warning when a draft cannot show an image (a TIFF, a PDF, a damaged PNG, …)."""
    if is_data_uri(usable):
        data, target = data_uri(usable) or b"", f"the image in {shown_target(target)}"
    else:
        try:
            data = read_input(project.root / usable, project.root)
        except UnsafePath as exc:
            return [diag("unreadable-resource", exc.message, chapter.path, *where, exc.hint)]
    in_pdf, in_docx = pdf_problem(data), docx_problem(data)
    what = in_pdf or in_docx
    if what is None:
        return []
    drafts = "the PDF and the DOCX" if in_pdf and in_docx else "the PDF" if in_pdf else "the DOCX"
    shows = "show placeholders" if in_pdf and in_docx else "shows a placeholder"
    return [
        diag(
            "unsupported-image",
            f"{target} is {what}: {drafts} cannot show it and {shows} instead",
            chapter.path,
            *where,
            f"convert it to PNG or JPEG (a drawing: SVG); the PDF shows {SHOWN}, "
            "Word no PDF or EPS",
        )
    ]


def check_styles(project: Project) -> list[Diagnostic]:
    """Return problems with the CSL style and reference document named in outline.yaml."""
    found: list[Diagnostic] = []
    outline = project.outline
    for key, rel in (("csl", outline.csl), ("reference-doc", outline.reference_doc)):
        if rel is None:
            continue
        path = project.root / rel
        if not inside(project.root, path):
            found.append(
                diag(
                    "path-outside-project", f"{key}: {rel} leads outside the project", OUTLINE_FILE
                )
            )
        elif not path.is_file():
            found.append(
                diag(
                    "missing-file",
                    f"{key}: {rel} does not exist",
                    OUTLINE_FILE,
                    hint=f"correct '{key}:' in outline.yaml or remove it",
                )
            )
        elif key == "csl":
            found += _csl_problems(project, path, rel)
        elif not _is_docx(path):
            found.append(
                diag(
                    "invalid-reference-doc",
                    f"{rel} is not a Word document (.docx)",
                    rel,
                    hint="save it from Word or LibreOffice as .docx",
                )
            )
        else:
            found += _reference_problems(project, path, rel)
    return found


def _reference_problems(project: Project, path: Path, rel: str) -> list[Diagnostic]:
    """Return the reference document's damaged part, else what it would have Word do on the
    committee's machines: its headers', footers' and settings' fields, objects and mail merge,
    and what any part pandoc copies into every draft links from outside (read once)."""
    from paperbuild.render.refscrub import scrubbed

    try:
        data = read_input(path, project.root)
        archive = open_docx(data, path)  # (bounded: a zip bomb is refused before a part is read)
    except UnsafePath:
        return []  # the build says why, with its own message
    damaged = _damaged_part(archive, path)
    if damaged is not None:
        return [
            diag(
                "invalid-reference-doc",
                f"{rel}: its part {damaged} is damaged or not well-formed XML (pandoc would copy "
                "it into every draft, and Word would call the draft damaged)",
                rel,
                hint="open it in Word or LibreOffice and save it again as .docx",
            )
        ]
    return [
        diag(
            "unsafe-reference-doc",
            f"its {d.part} goes into every draft, where {d.what}",
            rel,
            hint="remove that field, object or linked picture in Word and save the document "
            "again; with --force the drafts are built without it",
        )
        for d in scrubbed(data)[1]
    ]


def _damaged_part(archive: zipfile.ZipFile, path: Path) -> str | None:
    """Return the first part of a reference document that cannot be unpacked, or an XML part
    that does not parse; None when every part reads."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for name in archive.namelist():
        try:
            part = docx_part(archive, name, path)
            if name.endswith((".xml", ".rels")) and part is not None:
                etree.fromstring(part, parser)
        except (UnsafePath, etree.XMLSyntaxError, ValueError):
            return name
    return None


def _csl_problems(project: Project, path: Path, rel: str) -> list[Diagnostic]:
    try:
        problem = style_problem(read_input(path, project.root))
    except UnsafePath as exc:
        return [diag("invalid-style", f"the CSL style cannot be read: {exc.message}", rel)]
    if problem is None:
        return []
    return [diag("invalid-style", problem.message, rel, problem.line, problem.column, problem.hint)]


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "word/document.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def check(project: Project, facts: dict[str, Facts]) -> list[Diagnostic]:
    """Return resource, raw markup and style problems."""
    found = check_styles(project)
    for chapter in project.chapters:
        if chapter.path in facts:
            found += check_chapter(project, chapter, facts[chapter.path])
        found += _chunks(chapter) + _shortcodes(chapter)
    return found


def _shortcodes(chapter: Chapter) -> list[Diagnostic]:
    """Return a warning for each Quarto shortcode the drafts would show as written."""
    return [
        diag(
            "unexpanded-shortcode",
            f"Quarto's {_shown(code.extra)} is not carried out (a chapter is pandoc Markdown): "
            "the drafts show it as written",
            chapter.path,
            code.line,
            code.column,
            "paste the file's text into the chapter, or make the file a chapter of its own in "
            "outline.yaml"
            if code.name == "include"
            else "write in Markdown what it would make (the text, a link, an image)",
        )
        for code in shortcodes(chapter.text)
    ]


def _chunks(chapter: Chapter) -> list[Diagnostic]:
    """Return a warning for each executable code chunk (```{python}): shown, never run."""
    return [
        diag(
            "code-chunk",
            f"a {chunk.name} code chunk is not run (paperbuild runs no code): the drafts show "
            "its code, and nothing it would make",
            chapter.path,
            chunk.line,
            chunk.column,
            "put what it makes in the chapter (a figure's image, a Markdown table); to show "
            f"code, fence it as ```{{.{chunk.name}}}",
        )
        for chunk in code_chunks(chapter.text)
    ]


def _shown(snippet: str) -> str:
    """Return a raw snippet's opening for a one-line message (lines joined, cut at 40)."""
    flat = " ".join(snippet.split())
    return flat if len(flat) <= 40 else flat[:40] + "…"


TEX_REF = re.compile(r"\\(?:ref|eqref|autoref|cref|Cref|pageref|nameref)\{([^{}]*)\}")
TEX_LABEL = re.compile(r"\\label\{([^{}]*)\}")
TEX_INPUT = re.compile(r"\\(?:input|include|subfile|import)\b")


def _raw_hint(fmt: str, text: str) -> str:
    """Return what to write instead of raw markup the drafts leave out (LaTeX's cross-references,
    labels and inputs by name; else Markdown)."""
    if fmt in ("tex", "latex"):
        if m := TEX_REF.search(text):
            return (
                f"write a cross-reference, @{m.group(1)} (pandoc-crossref's and Quarto's form), "
                f"and give its target the label {{#{m.group(1)}}}"
            )
        if m := TEX_LABEL.search(text):
            return f"give the heading, figure or table the label {{#{m.group(1)}}} instead"
        if TEX_INPUT.search(text):
            return "a chapter includes no other file: make that file a chapter of its own"
    return "write it in Markdown instead"
