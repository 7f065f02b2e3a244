"""PDF drafts without TeX: pandoc writes Typst with paperbuild's template, typst compiles it."""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperbuild import pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.assemble import Document
from paperbuild.crossref import LISTED_KINDS
from paperbuild.crossref import typst_text as _typst_text
from paperbuild.errors import BuildError, PaperbuildError
from paperbuild.furniture import Words, words_for
from paperbuild.load.project import Project
from paperbuild.pandoc_ast import image_targets
from paperbuild.render import style
from paperbuild.render.common import TEMPLATES, Previous, RenderOptions, document_json
from paperbuild.safety import read_input
from paperbuild.util.clock import build_datetime

TEMPLATE = TEMPLATES / "paper.typ"
Renderer = Callable[[Document, Project, RenderOptions], bytes]


def _meta(document: Document, options: RenderOptions) -> dict[str, Any]:
    meta = document.meta
    lang, _, region = meta.lang.partition("-")
    values: dict[str, str | bool] = {
        "title": meta.title,
        "status": meta.status,
        "author": meta.author,
        "version": document.version,
        "date": document.display_date,
        "lang": lang.lower() or "en",
        "region": (region or "GB").upper(),
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
    return start_aligned(pandoc.run(args, data, cwd=project.root).decode("utf-8"))


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
    source = typst_source(document, project, options)
    if PACKAGE.search(source):
        raise BuildError(
            "raw Typst in a chapter imports a package; paperbuild compiles without packages "
            "(they would be fetched from the network)",
            hint="remove the #import of the @namespace/package from the chapter",
        )
    with tempfile.TemporaryDirectory(prefix="paperbuild-typst-") as sandbox:
        _copy_images(document, project, Path(sandbox))
        try:
            pdf = _compile_limited(source, Path(sandbox), meanwhile)
        except BuildError:
            raise
        except Exception as exc:  # typst raises its own TypstError with the compiler's message
            raise BuildError(
                f"Typst could not compile the draft: {_first_line(exc)}",
                hint=_trace_to_chapter(source, exc, document, project),
            ) from exc
    return pdf


def _copy_images(document: Document, project: Project, sandbox: Path) -> None:
    """Copy the draft's images (project-relative, already checked) into the sandbox."""
    for target in dict.fromkeys(image_targets(document.blocks)):
        if "://" in target or target.startswith(("data:", "/")) or ".." in Path(target).parts:
            continue
        try:
            data = read_input(project.root / target, project.root)
        except PaperbuildError:
            continue  # the check reported it; Typst will say the image is missing
        (sandbox / target).parent.mkdir(parents=True, exist_ok=True)
        (sandbox / target).write_bytes(data)


TYPST_TIMEOUT = "PAPERBUILD_TYPST_TIMEOUT"  # seconds, 300 unless set
TYPST_MEMORY = "PAPERBUILD_TYPST_MEMORY"  # e.g. 3g (the default), 800m


def typst_limits() -> tuple[float, int]:
    """Return Typst's time limit in seconds and its memory limit in bytes."""
    try:
        seconds = max(float(os.environ.get(TYPST_TIMEOUT, "300")), 1.0)
    except ValueError:
        seconds = 300.0
    text = os.environ.get(TYPST_MEMORY, "3g").lower()
    match = re.fullmatch(r"(\d+)([kmg]?)", text)
    number, unit = (match.group(1), match.group(2)) if match else ("3", "g")
    return seconds, int(number) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


class TypstFailed(Exception):
    """The compiler's own error, carried back from the process that compiled."""

    def __init__(self, message: str, diagnostic: str) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostic = diagnostic


def _compile(source: str, root: Path) -> bytes:
    import typst

    compile_pdf: Any = typst.compile  # its overloads tie root's type to input's
    pdf: bytes = compile_pdf(
        source.encode("utf-8"),
        root=str(root),
        format="pdf",
        font_paths=[str(style.FONTS_DIR)],
        ignore_system_fonts=True,
        timestamp=int(build_datetime().timestamp()),
        package_path=str(root / ".no-packages"),
        package_cache_path=str(root / ".no-packages"),
    )
    return pdf


def _compile_limited(
    source: str, root: Path, meanwhile: Callable[[], object] | None = None
) -> bytes:
    """Return the compiled PDF, compiled in a forked process with a time and a memory limit.

    Raw Typst can loop or allocate without end; the child is killed at the time limit and
    cannot grow past the memory limit. Ctrl-C and SIGTERM reach the waiting parent at once,
    which kills the child before going on.
    """
    if not hasattr(os, "fork"):  # no fork (Windows): in a thread, without the limits
        return _compile_in_thread(source, root, meanwhile)
    import typst  # noqa: F401  (imported once, before the fork)

    seconds, memory = typst_limits()
    with tempfile.TemporaryDirectory(prefix="paperbuild-typst-out-") as tmp:
        out, failure = Path(tmp) / "draft.pdf", Path(tmp) / "failure.json"
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: compile, write the PDF or the error, exit without cleanup
            _die_with(parent, seconds)
            os._exit(_child(source, root, out, failure, memory))
        status = _wait(pid, seconds, meanwhile)
        if failure.exists():
            data = json.loads(failure.read_text(encoding="utf-8"))
            raise TypstFailed(data["message"], data["diagnostic"])
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not out.exists():
            raise BuildError(
                f"Typst stopped without a PDF; it ran out of its {memory >> 20} MB of memory "
                f"or crashed (raw Typst in a chapter is the usual cause)",
                hint=f"look for loops or huge arrays in raw Typst; {TYPST_MEMORY} raises the limit",
            )
        return out.read_bytes()


def _die_with(parent: int, seconds: float) -> None:
    """Make this forked child end when `parent` does, or at most after its CPU time limit.

    The parent kills the child at the time limit and on a signal, but a parent killed outright
    (SIGKILL, the out-of-memory killer) cannot: raw Typst that loops would then run on, an
    orphan, for ever. Linux kills the child with its parent; elsewhere a CPU limit ends it.
    """
    import resource

    cpu = int(seconds * (os.cpu_count() or 1)) + 10  # the compiler may use every core
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent was gone before the request was made
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # Linux's prctl option: the signal a child gets when its parent dies


def _child(source: str, root: Path, out: Path, failure: Path, memory: int) -> int:
    """Compile in the forked child under an address-space limit; return its exit status."""
    try:
        with contextlib.suppress(ValueError):  # (only the main thread may set them)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        quiet = os.open(os.devnull, os.O_WRONLY)  # an allocation failure prints a backtrace
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        faulthandler.disable()  # and Python's fault handler, where enabled, would dump a trace
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory,) * 2)
        out.write_bytes(_compile(source, root))
        return 0
    except BaseException as exc:  # the compiler's error, carried to the parent
        message = str(getattr(exc, "message", "") or exc) or type(exc).__name__
        diagnostic = str(getattr(exc, "diagnostic", "") or "")
        failure.write_text(json.dumps({"message": message, "diagnostic": diagnostic}))
        return 1


def _address_space() -> int:
    """Return this process's virtual memory size in bytes (what the limit is added to)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4 << 30


def _wait(pid: int, seconds: float, meanwhile: Callable[[], object] | None = None) -> int:
    """Return the child's wait status (after `meanwhile`, run first); kill the child at the
    time limit, when `meanwhile` fails or when this process stops."""
    deadline = time.monotonic() + seconds
    try:
        if meanwhile is not None:
            meanwhile()
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() > deadline:
                raise BuildError(
                    f"Typst did not finish within {seconds:g} s; raw Typst in a chapter that "
                    "loops is the usual cause",
                    hint=f"{TYPST_TIMEOUT} raises the limit",
                )
            time.sleep(0.02)
    except BaseException:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        raise


def _compile_in_thread(
    source: str, root: Path, meanwhile: Callable[[], object] | None = None
) -> bytes:
    """Return the compiled PDF; Ctrl-C and SIGTERM are honoured within a fraction of a second.

    The compiler runs in a daemon thread while the main thread waits in short steps, so a
    signal is handled at once (the thread is abandoned; nothing has been written).
    """
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["pdf"] = _compile(source, root)
        except BaseException as exc:  # handed to the waiting thread
            result["error"] = exc

    thread = threading.Thread(target=work, name="typst", daemon=True)
    thread.start()
    if meanwhile is not None:
        meanwhile()  # (a thread cannot be stopped: if this fails, the compiler is abandoned)
    while thread.is_alive():
        thread.join(0.1)
    if "error" in result:
        raise result["error"]
    pdf: bytes = result["pdf"]
    return pdf


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    return text.split("\n")[0] if text else type(exc).__name__


def _trace_to_chapter(source: str, exc: Exception, document: Document, project: Project) -> str:
    """Return where in the chapters the failing Typst line comes from, as far as it can be told.

    The chapters whose source holds the failing line are the candidates (raw Typst is copied
    verbatim); where several do, the one whose heading precedes the line in the Typst source.
    """
    diagnostic = str(getattr(exc, "diagnostic", "") or "")
    match = re.search(r":(\d+):(\d+)", diagnostic)
    if match is None:
        return "re-run with --debug; raw Typst in a chapter is the usual cause"
    lines = source.split("\n")
    number = int(match.group(1))
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
