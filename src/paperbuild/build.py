"""`paperbuild build`: check, assemble, render each format, write outputs atomically."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paperbuild.assemble import Document, assemble
from paperbuild.checks import CheckResult, run_checks
from paperbuild.cite import resolve_citations
from paperbuild.diagnostics import failed
from paperbuild.errors import BuildError, ChecksFailed
from paperbuild.load.outline import slugify
from paperbuild.load.project import Project, load_project
from paperbuild.render.common import Renderer, RenderOptions
from paperbuild.safety import file_name, output_dir, output_file
from paperbuild.util.fsutil import write_atomic
from paperbuild.versions import (
    Record,
    check_version_name,
    ensure_not_released,
    git_version,
    snapshot_record,
    write_record,
)

FORMATS = ("docx", "pdf")


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    """What to build and how."""

    formats: tuple[str, ...] = FORMATS
    force: bool = False
    version: str | None = None
    render: RenderOptions = field(default_factory=RenderOptions)
    pdf_engine: str = "typst"


@dataclass(frozen=True, kw_only=True)
class BuildResult:
    """The files written and the check that preceded them."""

    outputs: tuple[Path, ...]
    check: CheckResult
    snapshot: Path | None = None
    notices: tuple[str, ...] = ()  # what the drafts show otherwise than the sources ask


def output_path(
    project: Project, document: Document, fmt: str, watermark: str | None = None
) -> Path:
    """Return build/<slug>-<version>.<fmt> (…-<watermark>.<fmt> for a watermarked draft).

    Version and slug are checked names, never mapped: two versions never share a file.
    """
    stem = f"{file_name(document.meta.file_slug, 'slug')}-{file_name(document.version, 'version')}"
    if watermark:
        stem += "-" + (slugify(watermark)[:40] or "watermarked")
    folder = output_dir(project.root, project.build_dir)
    return output_file(folder, f"{stem}.{fmt}")


def _renderer(fmt: str, options: BuildOptions, meanwhile: Callable[[], None]) -> Renderer:
    """Return the renderer of a format (the DOCX's runs `meanwhile` while pandoc writes)."""
    if fmt == "docx":
        from paperbuild.render.docx import render_docx

        return lambda d, p, o: render_docx(d, p, o, meanwhile=meanwhile)
    if fmt == "pdf":
        from paperbuild.render.pdf import pdf_renderer

        return pdf_renderer(options.pdf_engine)
    raise BuildError(f"unknown output format '{fmt}'", hint=f"choose from {', '.join(FORMATS)}")


def _preparer(project: Project, options: BuildOptions) -> Callable[[], None] | None:
    """Return what readies the DOCX's furniture while citeproc works (None: no DOCX)."""
    if "docx" not in options.formats:
        return None

    def prepare() -> None:
        from paperbuild.render.docx import prepare_docx  # (its import too: 30 ms, off the path)

        prepare_docx(project)

    return prepare


def build_project(
    project: Project, options: BuildOptions, progress: Callable[[str], None] | None = None
) -> BuildResult:
    """Return the outputs written for a loaded project (raises ChecksFailed on errors)."""

    def say(message: str) -> None:
        if progress:
            progress(message)

    say(f"checking {len(project.chapters)} chapters")
    result = run_checks(project, with_blocks=True)
    if failed(result.diagnostics) and not options.force:
        raise ChecksFailed("the check found errors; no draft was written", result.diagnostics)
    version = draft_version(project, options.version)
    ensure_not_released(project, version)
    say("assembling the draft and its citations")
    assembled = assemble(result.parsed, version=version)  # (takes the chapters' ASTs)
    document = resolve_citations(assembled, project, meanwhile=_preparer(project, options))
    del assembled
    written: dict[str, Path] = {}
    records: list[Record] = []
    notices: list[str] = []
    render_options = dataclasses.replace(options.render, report=notices.append)

    def record() -> None:
        """Make the snapshot (while pandoc writes the DOCX, when there is one)."""
        if not records:
            records.append(snapshot_record(project, document, result))

    def render(fmt: str, renderer: Renderer | None = None) -> None:
        say(f"writing the {fmt.upper()}")
        data = (renderer or _renderer(fmt, options, record))(document, project, render_options)
        path = output_path(project, document, fmt, options.render.watermark)
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise BuildError(
                f"cannot write {path}: {exc.strerror}",
                hint="check that build/ is a writable folder",
            ) from exc
        written[fmt] = path
        say(f"wrote {path.relative_to(project.root)}")

    others = [f for f in options.formats if f != "pdf"]

    def render_others() -> None:
        for fmt in others:
            render(fmt)

    if "pdf" in options.formats and others and options.pdf_engine == "typst":
        from paperbuild.render.pdf import render_typst

        # Typst compiles in a process of its own: the other formats are rendered meanwhile.
        render("pdf", lambda d, p, o: render_typst(d, p, o, render_others))
    else:
        for fmt in options.formats:
            render(fmt)
    record()
    snapshot = write_record(project, records[0])
    outputs = tuple(written[f] for f in options.formats)
    return BuildResult(outputs=outputs, check=result, snapshot=snapshot, notices=tuple(notices))


def draft_version(project: Project, override: str | None) -> str:
    """Return the draft's version: --version, else outline.yaml's; `git` means git describe."""
    version = override or project.outline.document.version
    if version == "git":
        version = git_version(project.root)
    return check_version_name(version)


def build(start: Path, options: BuildOptions) -> BuildResult:
    """Return the outputs written for the project found at or above start."""
    return build_project(load_project(start), options)
