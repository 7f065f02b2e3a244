"""`paperbuild build`: check, assemble, render each format, write outputs atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paperbuild.assemble import Document, assemble
from paperbuild.checks import CheckResult, run_checks
from paperbuild.diagnostics import failed
from paperbuild.errors import BuildError, ChecksFailed
from paperbuild.fsutil import write_atomic
from paperbuild.project import Project, load_project
from paperbuild.render.common import RenderOptions

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


def output_path(project: Project, document: Document, fmt: str) -> Path:
    """Return build/<slug>-<version>.<fmt>."""
    safe_version = "".join(ch if ch.isalnum() or ch in ".-_" else "-" for ch in document.version)
    return project.build_dir / f"{document.meta.file_slug}-{safe_version}.{fmt}"


def _renderer(
    fmt: str, options: BuildOptions
) -> Callable[[Document, Project, RenderOptions], bytes]:
    if fmt == "docx":
        from paperbuild.render.docx import render_docx

        return render_docx
    if fmt == "pdf":
        from paperbuild.render.pdf import pdf_renderer

        return pdf_renderer(options.pdf_engine)
    raise BuildError(f"unknown output format '{fmt}'", hint=f"choose from {', '.join(FORMATS)}")


def build_project(
    project: Project, options: BuildOptions, progress: Callable[[str], None] | None = None
) -> BuildResult:
    """Return the outputs written for a loaded project (raises ChecksFailed on errors)."""
    result = run_checks(project, with_blocks=True)
    if failed(result.diagnostics) and not options.force:
        raise ChecksFailed("the check found errors; no draft was written", result.diagnostics)
    document = assemble(result.parsed, version=options.version)
    outputs = []
    for fmt in options.formats:
        data = _renderer(fmt, options)(document, project, options.render)
        path = output_path(project, document, fmt)
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise BuildError(
                f"cannot write {path}: {exc.strerror}",
                hint="check that build/ is a writable folder",
            ) from exc
        outputs.append(path)
        if progress:
            progress(str(path))
    return BuildResult(outputs=tuple(outputs), check=result)


def build(start: Path, options: BuildOptions) -> BuildResult:
    """Return the outputs written for the project found at or above start."""
    return build_project(load_project(start), options)
