"""PDF drafts without TeX: pandoc writes Typst with paperbuild's template, typst compiles it."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperbuild import pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.assemble import Document
from paperbuild.crossref import LISTED_KINDS
from paperbuild.crossref import typst_text as _typst_text
from paperbuild.errors import BuildError
from paperbuild.furniture import Words, language_parts, words_for
from paperbuild.load.project import Project
from paperbuild.render import style
from paperbuild.render.cmap import author_faces
from paperbuild.render.common import TEMPLATES, Previous, Renderer, RenderOptions, document_json
from paperbuild.render.images import (
    pdf_problem,
    project_images,
    sandboxed,
    unshowable,
    without_images,
)
from paperbuild.render.typst_run import compile_limited

TEMPLATE = TEMPLATES / "paper.typ"


def _meta(document: Document, options: RenderOptions) -> dict[str, Any]:
    meta = document.meta
    lang, region = language_parts(meta.lang)
    values: dict[str, str | bool] = {
        "title": meta.title,
        "status": meta.status,
        "author": meta.author,
        "version": document.version,
        "date": document.display_date,
        "lang": lang or "en",
        "region": region or ("GB" if lang == "en" else ""),
        "year": str(document.date.year),
        "month": str(document.date.month),
        "day": str(document.date.day),
    }
    values.update(style.typst_values())
    words = words_for(meta.lang)
    values.update(
        {
            "contents-title": words.contents,
            "version-word": words.version,
        }
    )
    strings = {  # the insides of Typst string literals: passed raw, escaped here
        "page-of": words.page_of,
        "author-plain": meta.author,
        **dict(zip((f"quote-{n}" for n in QUOTE_NAMES), words.quotes, strict=True)),
    }
    if meta.subtitle:
        values["subtitle"] = meta.subtitle
    if meta.commissioned_by:
        values["commissioned-line"] = words.commissioned.format(who=meta.commissioned_by)
    if options.watermark:
        values["watermark"] = options.watermark
    if options.line_numbers:
        values["line-numbers"] = True
    for kind in LISTED_KINDS:
        if any(e.kind == kind for e in document.listed):
            values[f"list-of-{kind}s"] = words.list_title(kind)
    result: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            result[key] = pa.meta_bool(value)
        elif key in ("year", "month", "day", "lang", "region"):
            result[key] = pa.meta_string(value)
        else:
            result[key] = pa.meta_inlines([pa.str_node(value)])
    for key, text in strings.items():  # (pandoc would escape them as markup: "#" → "\#")
        result[key] = pa.meta_inlines([pa.raw_inline("typst", _typst_string(text))])
    if options.previous is not None:
        result.update(_redline_meta(document, options.previous, words))
    return result


def _redline_meta(document: Document, previous: Previous, words: Words) -> dict[str, Any]:
    """Return a redline's furniture: the version and date as changes, and the legend."""

    def raw(code: str) -> dict[str, Any]:
        return pa.meta_inlines([pa.raw_inline("typst", code)])

    def change(old: str, new: str) -> dict[str, Any]:
        if old == new:
            return raw(_typst_text(new))
        return raw(f"#pbdel-word[{_typst_text(old)}] #pbins-word[{_typst_text(new)}]")

    compared = words.changes.format(old=previous.version, new=document.version)
    legend = (
        f"*{_typst_text(compared)}*: #pbins-word[{_typst_text(words.inserted)}], "
        f"#pbdel-word[{_typst_text(words.deleted)}]"
    )
    return {
        "version": change(previous.version, document.version),
        "date": change(previous.date, document.display_date),
        "redline-legend": raw(legend),
    }


QUOTE_NAMES = ("double-open", "double-close", "single-open", "single-close")


def _typst_string(text: str) -> str:
    """Return text escaped for the inside of a Typst string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def typst_source(document: Document, project: Project, options: RenderOptions) -> str:
    """Return the Typst source of the draft, written by pandoc with paperbuild's template."""
    meta = _meta(document, options)
    data = document_json(document, target="typst", meta=meta, queries=options.queries)
    args = [
        "-f",
        "json",
        "-t",
        "typst",
        "--wrap=none",
        "--template",
        str(TEMPLATE),
    ]
    request = {"to": "typst", "wrap": "wrap-none", "template": str(TEMPLATE)}
    out = pandoc.convert("write", data, request, args, cwd=project.root)
    return start_aligned(out.decode("utf-8"))


TABLE_ALIGN = re.compile(r"(?m)^(\s*align: \()([^()\n]*)(\),?)$")


def start_aligned(source: str) -> str:
    """Return the Typst source with default table columns aligned to the start, as in the DOCX.

    pandoc writes `auto` for a column the author did not align; inside the figure's centring
    that made every cell centred.
    """
    source = source.replace("align(center)[#table(", "align(start)[#table(")  # as the DOCX
    return TABLE_ALIGN.sub(
        lambda m: m.group(1) + re.sub(r"\bauto\b", "left", m.group(2)) + m.group(3), source
    )


PACKAGE = re.compile(r"""["']@[\w-]+/[\w-]+(:[\w.]+)?["']""")


def render_typst(
    document: Document,
    project: Project,
    options: RenderOptions,
    meanwhile: Callable[[], object] | None = None,
) -> bytes:
    """Return the PDF compiled in-process by the typst package, with embedded fonts only.

    Typst compiles in a sandbox: its root is a fresh folder holding copies of the draft's
    images and nothing else, so raw Typst in a chapter can read no other file (not even
    through a link); package imports are refused, so it never goes to the network.

    `meanwhile` runs while the compiler does (it compiles in a process of its own): a build
    of both formats renders the DOCX then. If it raises, the compiler is stopped.
    """
    images = project_images(document, project)
    refused = unshowable(images, pdf_problem)  # (the check reported them)
    document = without_images(document, refused, "PDF")
    document, images = sandboxed(document, {t: d for t, d in images.items() if t not in refused})
    unshown: dict[str, str] = {}  # (the images Typst itself turns down, as it says which)
    with (
        tempfile.TemporaryDirectory(prefix="paperbuild-typst-") as sandbox,
        tempfile.TemporaryDirectory(prefix="paperbuild-fonts-") as fonts,
    ):
        _copy_images(images, Path(sandbox))
        faces = Path(fonts) if _copy_faces(project, Path(fonts)) else None  # (outside the root)
        attempts = 0
        while True:
            source = typst_source(without_images(document, unshown, "PDF"), project, options)
            _refuse_packages(source)
            try:
                return compile_limited(source, Path(sandbox), meanwhile, faces)
            except BuildError:
                raise
            except Exception as exc:  # typst raises its own TypstError with the compiler's message
                image = _failed_image(source, exc)
                attempts += 1
                if image is None or image in unshown or attempts > IMAGE_RETRIES:
                    raise BuildError(
                        f"Typst could not compile the draft: {_first_line(exc)}",
                        hint=_trace_to_chapter(source, exc, document, project),
                    ) from exc
                unshown[image] = "unreadable"  # shown as a placeholder; compiled again
                if options.report:
                    options.report(
                        f"{image}: Typst could not read this image ({_first_line(exc)}); "
                        "the PDF shows a placeholder in its place"
                    )
                meanwhile = None  # (it ran during the first compile)


def _refuse_packages(source: str) -> None:
    """Raise BuildError if raw Typst imports a package (it would come from the network)."""
    if PACKAGE.search(source):
        raise BuildError(
            "raw Typst in a chapter imports a package; paperbuild compiles without packages "
            "(they would be fetched from the network)",
            hint="remove the #import of the @namespace/package from the chapter",
        )


IMAGE_RETRIES = 3  # images Typst fails on that the check could not tell, each then left out
IMAGE_ERROR = re.compile(r"image|svg|decode", re.I)
TYPST_IMAGE = re.compile(r'image\("((?:[^"\\]|\\.)*)"')


def _failing_line(exc: Exception) -> int | None:
    """Return the number of the Typst source line a compiler error names, if it names one."""
    match = re.search(r":(\d+):\d+", str(getattr(exc, "diagnostic", "") or ""))
    return int(match.group(1)) if match else None


def _failed_image(source: str, exc: Exception) -> str | None:
    """Return the image a Typst error is about, read from the failing line (or the file the
    error is in: an SVG's own parse), or None."""
    if not IMAGE_ERROR.search(str(getattr(exc, "message", "") or exc)):
        return None
    where = re.search(r"┌─ (.+?):\d+:\d+", str(getattr(exc, "diagnostic", "") or ""))
    if where and not where.group(1).endswith(".typ"):
        file = "/" + where.group(1).replace("\\", "/")
        images = {re.sub(r"\\(.)", r"\1", m) for m in TYPST_IMAGE.findall(source)}
        named = [t for t in images if file.endswith("/" + t.lstrip("/"))]
        if named:
            return max(named, key=len)  # (the longest path that ends the one named)
    number = _failing_line(exc)
    if number is None:
        return None
    lines = source.split("\n")
    found = TYPST_IMAGE.search(lines[number - 1]) if number <= len(lines) else None
    return re.sub(r"\\(.)", r"\1", found.group(1)) if found else None


def _copy_images(images: dict[str, bytes], sandbox: Path) -> None:
    """Copy the draft's images (project-relative, already checked) into the sandbox."""
    for target, data in images.items():
        (sandbox / target).parent.mkdir(parents=True, exist_ok=True)
        (sandbox / target).write_bytes(data)


def _copy_faces(project: Project, folder: Path) -> int:
    """Copy the author's usable faces (outline.yaml's `fonts:`) into folder; return how many."""
    faces, _ = author_faces(project)  # (the check reported the others)
    for i, face in enumerate(faces):
        (folder / f"{i}{Path(face.path).suffix.lower()}").write_bytes(face.data)
    return len(faces)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    return text.split("\n")[0] if text else type(exc).__name__


def _trace_to_chapter(source: str, exc: Exception, document: Document, project: Project) -> str:
    """Return where in the chapters the failing Typst line comes from, as far as it can be told.

    The chapters whose source holds the failing line are the candidates (raw Typst is copied
    verbatim); where several do, the one whose heading precedes the line in the Typst source.
    """
    number = _failing_line(exc)
    if number is None:
        return "re-run with --debug; raw Typst in a chapter is the usual cause"
    lines = source.split("\n")
    offending = lines[number - 1].strip() if number <= len(lines) else ""
    found = _chapters_holding(project, document, offending)
    if not found:
        return f"the failing Typst line is: {offending}"
    preceding = _chapter_before(lines[:number], document)
    path, line, text = next((f for f in found if f[0] == preceding), found[0])
    return f"{path}:{line}: {text}"


def _chapters_holding(
    project: Project, document: Document, offending: str
) -> list[tuple[str, int, str]]:
    """Return (chapter, line, text) of each chapter line that holds the failing Typst line."""
    if not offending:
        return []
    found = []
    for path in dict.fromkeys(e.chapter for e in document.toc if e.chapter):
        chapter = project.chapter(path)
        if chapter is None:
            continue
        for i, text in enumerate(chapter.text.split("\n"), start=1):
            if offending in text:
                found.append((path, i, text.strip()))
                break
    return found


def _chapter_before(lines: list[str], document: Document) -> str | None:
    """Return the chapter of the last heading label before the failing line, if any."""
    chapters = {e.anchor: e.chapter for e in document.toc if e.chapter}
    for line in reversed(lines):
        for label in re.findall(r"<([^<>\s]+)>\s*$", line):
            if label in chapters:
                return chapters[label]
    return None


def render_libreoffice(document: Document, project: Project, options: RenderOptions) -> bytes:
    """Return the PDF that LibreOffice makes of the DOCX draft (page-for-page as in Word)."""
    from paperbuild.render.docx import render_docx

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise BuildError(
            "--pdf-engine libreoffice needs LibreOffice, which was not found",
            hint="install it (Debian: apt-get install libreoffice-writer) or use "
            "the default engine, typst",
        )
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "draft.docx"
        src.write_bytes(render_docx(document, project, options))
        profile = Path(tmp) / "profile"
        command = [
            office,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            str(src),
        ]
        try:
            proc = subprocess.run(command, capture_output=True, check=False, timeout=600)
        except subprocess.TimeoutExpired as exc:
            raise BuildError("LibreOffice did not convert the draft within 600 s") from exc
        out = Path(tmp) / "draft.pdf"
        if proc.returncode != 0 or not out.is_file():
            raise BuildError(
                f"LibreOffice could not convert the draft: "
                f"{proc.stderr.decode('utf-8', 'replace').strip()}"
            )
        return out.read_bytes()


def pdf_renderer(engine: str) -> Renderer:
    """Return the renderer for a PDF engine name."""
    engines: dict[str, Renderer] = {"typst": render_typst, "libreoffice": render_libreoffice}
    if engine not in engines:
        raise BuildError(f"unknown PDF engine '{engine}'", hint="choose typst or libreoffice")
    return engines[engine]
