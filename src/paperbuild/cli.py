"""The click layer: parse flags, call one core function, print its result, set the exit code."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from paperbuild import __version__
from paperbuild.diagnostics import (
    counts,
    failed,
    format_github,
    format_json,
    format_text,
    summary_line,
)
from paperbuild.errors import ChecksFailed, ConfigError, PaperbuildError
from paperbuild.util.fsutil import build_lock

EXIT_OK, EXIT_PROBLEMS, EXIT_CANNOT_RUN = 0, 1, 2


@dataclass(frozen=True, kw_only=True)
class Globals:
    """Options shared by every command."""

    start: Path
    quiet: bool
    debug: bool
    color: bool


def _color_wanted(stream: Any) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


GLOBAL_FLAGS = frozenset(("-q", "--quiet", "--debug"))
GLOBAL_VALUED = frozenset(("-C", "--directory"))


def hoist_global_options(args: list[str]) -> list[str]:
    """Return args with the group's options moved before the command when given after it.

    `paperbuild build -q -C paper` means `paperbuild -q -C paper build`; nothing after `--`
    moves, and an option's value stays with it.
    """
    front: list[str] = []
    rest: list[str] = []
    i, seen_command = 0, False
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg in GLOBAL_VALUED and i + 1 < len(args):
            (front if seen_command else rest).extend(args[i : i + 2])
            i += 2
            continue
        if arg in GLOBAL_FLAGS or arg.startswith("--directory="):
            (front if seen_command else rest).append(arg)
        else:
            seen_command = seen_command or not arg.startswith("-")
            rest.append(arg)
        i += 1
    return front + rest


class GuardedGroup(click.Group):
    """A group that turns PaperbuildError, and anything unexpected, into a clean exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Accept -q, --debug and -C after the command name as well as before it."""
        return super().parse_args(ctx, hoist_global_options(args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except PaperbuildError as exc:
            if isinstance(exc, ConfigError | ChecksFailed):  # what stopped the run, located
                globs = ctx.find_object(Globals)
                color = globs.color if globs is not None else False
                _print_diagnostics(exc.diagnostics, "text", err=True, color=color)
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("paperbuild: interrupted; earlier outputs are unchanged", err=True)
            ctx.exit(130)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"paperbuild: error: {exc.strerror or exc}{where}", err=True)
            click.echo(
                "  hint: paperbuild writes only inside build/; check that it is a writable folder",
                err=True,
            )
            ctx.exit(EXIT_CANNOT_RUN)
        except Exception as exc:
            stop = _stop_inside(exc)
            if isinstance(stop, KeyboardInterrupt):
                click.echo("paperbuild: interrupted; earlier outputs are unchanged", err=True)
                ctx.exit(130)
            if stop is not None:
                raise stop from None
            globs = ctx.find_object(Globals)
            if globs is not None and globs.debug:
                traceback.print_exc()
            click.echo(f"paperbuild: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo(
                "  hint: this is a bug; re-run with --debug for the traceback and report it",
                err=True,
            )
            ctx.exit(EXIT_CANNOT_RUN)


def _stop_inside(exc: BaseException) -> BaseException | None:
    """Return the SIGTERM's SystemExit or the Ctrl-C that an error wraps, if one does.

    Python wraps what a class's creation raises in a RuntimeError ("Error calling __set_name__
    on 'Field' instance …"): a signal that came while a module was importing its dataclasses
    then read as an internal error (exit 2), not as the stop it was (143, 130).
    """
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, SystemExit | KeyboardInterrupt):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _fail(exc: PaperbuildError) -> None:
    """Print the error and its hint; exit with the error's code."""
    label = "paperbuild" if isinstance(exc, ChecksFailed) else "paperbuild: error"
    click.echo(f"{label}: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"  hint: {exc.hint}", err=True)
    raise click.exceptions.Exit(exc.exit_code)


def _print_diagnostics(
    diagnostics: Any,
    fmt: str,
    *,
    err: bool = False,
    color: bool = False,
    summary: dict[str, Any] | None = None,
) -> None:
    diagnostics = list(diagnostics)
    if fmt == "json":
        click.echo(format_json(diagnostics, summary or {}), err=err)
    elif fmt == "github":
        text = format_github(diagnostics)
        if text:
            click.echo(text, err=err)
    elif diagnostics:
        click.echo(format_text(diagnostics, color=color), err=err)


def format_option(*choices: str, help: str = "Output format.") -> Callable[[Any], Any]:
    """Return the --format option; the first choice is the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


def formats_option(default: str) -> Callable[[Any], Any]:
    """Return the --to option: a comma-separated list of output formats."""
    return click.option(
        "--to",
        "to",
        default=default,
        show_default=True,
        help=f"Comma-separated outputs ({default.replace(',', ', ')}).",
    )


def parse_formats(to: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Return the formats named by --to, or raise a usage error naming the unknown ones."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in to.split(",") if f.strip()))
    unknown = [f for f in formats if f not in allowed]
    if unknown or not formats:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}",
            param_hint="--to",
        )
    return formats


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="paperbuild")
@click.option(
    "-C",
    "--directory",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run as if started in this folder.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and results.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, quiet: bool, debug: bool) -> None:
    """Check a structured paper against its outline and build committee-ready drafts.

    Exit codes: 0 ok, 1 problems found, 2 could not run.
    """
    ctx.obj = Globals(
        start=directory or Path.cwd(), quiet=quiet, debug=debug, color=_color_wanted(sys.stdout)
    )


@cli.command()
@format_option("table", "json")
@click.option(
    "--to",
    "to",
    type=click.Choice(["docx"]),
    default=None,
    help="Write the concept note with its outline table to build/ instead.",
)
@click.pass_obj
def outline(g: Globals, fmt: str, to: str | None) -> None:
    """Show the outline: sections, titles and points."""
    from paperbuild.load.outline import outline_as_json
    from paperbuild.load.project import find_root, load_outline
    from paperbuild.report.tables import outline_table

    root = find_root(g.start)
    model = load_outline(root)
    if to == "docx":
        from paperbuild.render.concept import write_concept_note

        path = write_concept_note(root, model)
        click.echo(str(path))
        return
    if fmt == "json":
        click.echo(json.dumps(outline_as_json(model), indent=2, ensure_ascii=False))
    else:
        click.echo(outline_table(model, width=_width()))


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--from-outline",
    "from_outline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Start from this outline.yaml (default: the bundled example).",
)
@click.pass_obj
def init(g: Globals, directory: Path | None, from_outline: Path | None) -> None:
    """Create a paper project: outline.yaml, references.bib and a chapter per section.

    Never overwrites a file: existing ones are kept and listed.
    """
    from paperbuild.scaffold import init_project

    target = directory if directory is None or directory.is_absolute() else g.start / directory
    result = init_project(target or g.start, from_outline)
    for path in result.created:
        click.echo(f"created {path}")
    for path in result.kept:
        click.echo(f"kept    {path} (exists)")
    if not g.quiet:
        click.echo("next: write the chapters, then run `paperbuild check` and `paperbuild build`")


@cli.command()
@formats_option("docx,pdf")
@click.option("--force", is_flag=True, help="Build even when the check finds errors.")
@click.pass_obj
def watch(g: Globals, to: str, force: bool) -> None:
    """Rebuild whenever outline.yaml, references.bib or a chapter changes (Ctrl-C stops).

    Each rebuild prints the check's diagnostics and how long it took; a broken save shows its
    diagnostics and the watcher keeps going.
    """
    from paperbuild.build import FORMATS, BuildOptions
    from paperbuild.watch import watch as watch_project

    formats = parse_formats(to, FORMATS)
    watch_project(g.start, BuildOptions(formats=formats, force=force), say=click.echo)
    click.echo("stopped watching")


@cli.command()
@click.pass_obj
def report(g: Globals) -> None:
    """Write build/report.html: coverage matrix, words against targets, diagnostics, changes."""
    from paperbuild.load.project import load_project
    from paperbuild.report.htmlreport import write_report

    project = load_project(g.start)
    with build_lock(project.build_dir, notify=_say):
        path = write_report(project)
    click.echo(str(path.relative_to(project.root)))


@cli.command()
@click.argument(
    "reviewed", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--against",
    metavar="VERSION",
    default=None,
    help="The draft the files were reviewed from, when their properties were lost.",
)
@click.option(
    "--patch",
    "make_patch",
    is_flag=True,
    help="Also write the reviewers' tracked changes as a patch for `git apply`.",
)
@format_option("text", "json")
@click.pass_obj
def feedback(
    g: Globals, reviewed: tuple[Path, ...], against: str | None, make_patch: bool, fmt: str
) -> None:
    """Read reviewed DOCX drafts: every comment and tracked change, at its chapter and line.

    Several reviewers' files of one draft are merged (a remark made twice is shown once) and
    sorted by chapter and line. Writes build/feedback/<draft>.md (and, with --patch, <draft>.patch,
    which `git apply` accepts); the sources themselves are never edited.
    """
    from paperbuild.feedback.collect import collect, write_feedback
    from paperbuild.load.project import load_project

    project = load_project(g.start)
    files = [p if p.is_absolute() else g.start / p for p in reviewed]
    result = collect(project, files, against)
    with build_lock(project.build_dir, notify=_say):
        written = write_feedback(project, result, patch=make_patch)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        return
    click.echo(result.text())
    for warning in result.warnings():
        click.echo(f"\n{warning}", err=True)
    for path in written:
        click.echo(str(path.relative_to(project.root)))


def _progress(g: Globals) -> Callable[[str], None] | None:
    """Return a progress printer for a terminal (stderr), or None: nothing decorative elsewhere."""
    if g.quiet or not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"… {message}", err=True)


def _say(message: str) -> None:
    click.echo(f"paperbuild: {message}", err=True)


def _width() -> int:
    try:
        return max(60, min(os.get_terminal_size().columns, 140))
    except OSError:
        return 100


@cli.command()
@format_option("text", "json", "github", help="Output format (github: Actions workflow commands).")
@click.option("--strict", is_flag=True, help="Treat warnings (and uncovered points) as errors.")
@click.pass_obj
def check(g: Globals, fmt: str, strict: bool) -> None:
    """Check chapters against the outline, and footnotes, citations and the bibliography.

    Exit 0 when there are no errors, 1 when there are (or warnings under --strict), 2 when
    the check could not run (for example a malformed outline.yaml).
    """
    from paperbuild.readahead import read_ahead

    read_ahead(g.start)  # (pandoc reads the chapters changed since the last run meanwhile)
    from paperbuild.checks import run_checks
    from paperbuild.load.project import load_project

    try:
        project = load_project(g.start)
    except ConfigError as exc:
        _print_diagnostics(
            exc.diagnostics,
            fmt,
            color=g.color,
            summary={**counts(exc.diagnostics), "could_not_run": True},
        )
        if fmt == "text":
            click.echo(f"paperbuild: error: {exc.message}", err=True)
        raise click.exceptions.Exit(EXIT_CANNOT_RUN) from None
    result = run_checks(project, strict=strict)
    _print_diagnostics(result.diagnostics, fmt, color=g.color, summary=result.summary())
    if fmt == "text" and not g.quiet:
        if result.diagnostics:
            click.echo("")
        click.echo(summary_line(list(result.diagnostics), result.coverage_line))
    raise click.exceptions.Exit(
        EXIT_PROBLEMS if failed(result.diagnostics, strict=strict) else EXIT_OK
    )


@cli.command()
@format_option("table", "json")
@click.pass_obj
def status(g: Globals, fmt: str) -> None:
    """Show progress per section: words against target, points covered, notes, citations."""
    from paperbuild.load.project import load_project
    from paperbuild.report.status import status as paper_status
    from paperbuild.report.tables import status_table

    result = paper_status(load_project(g.start))
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(status_table(result, width=_width()))


@cli.command()
@click.argument("version", required=False)
@click.pass_obj
def release(g: Globals, version: str | None) -> None:
    """Freeze a built draft (default: the outline's version) so it is never overwritten."""
    from paperbuild.load.project import load_project
    from paperbuild.versions import release as freeze

    project = load_project(g.start)
    with build_lock(project.build_dir, notify=_say):
        snap = freeze(project, version or project.outline.document.version)
    click.echo(f"released {snap.version} ({snap.path.relative_to(project.root)})")
    from paperbuild.checks.queries import open_queries

    queries = open_queries(project)
    if queries:
        click.echo(
            f"warning: {queries} quer{'y' if queries == 1 else 'ies'} to the committee still "
            "open in the sources (`paperbuild check` lists them); a draft built without "
            "--final shows them",
            err=True,
        )


@cli.command()
@click.option("--verify", is_flag=True, help="Re-hash released drafts; exit 1 if one changed.")
@format_option("table", "json")
@click.pass_obj
def versions(g: Globals, verify: bool, fmt: str) -> None:
    """List recorded drafts with date, words, coverage and whether they are released."""
    from paperbuild.load.project import load_project
    from paperbuild.versions import list_snapshots, versions_table
    from paperbuild.versions import verify as check_released

    project = load_project(g.start)
    snaps = list_snapshots(project)
    if fmt == "json":
        click.echo(json.dumps({"versions": [s.as_json() for s in snaps]}, indent=2))
    else:
        click.echo(versions_table(snaps))
    if verify:
        problems = check_released(project)
        for version, problem in problems:
            click.echo(f"paperbuild: released draft {version}: {problem}", err=True)
        if problems:
            raise click.exceptions.Exit(EXIT_PROBLEMS)
        if fmt != "json":
            click.echo("all released drafts verified")


@cli.command()
@click.argument("old")
@click.argument("new", required=False, default=".")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: build/diff/).",
)
@formats_option("docx,pdf,md")
@click.option(
    "--author", default="paperbuild", show_default=True, help="Author of the tracked changes."
)
@format_option("text", "json", help="Print the paths (text) or the summary (json).")
@click.pass_obj
def diff(g: Globals, old: str, new: str, out: Path | None, to: str, author: str, fmt: str) -> None:
    """Compare two drafts: a redline with Word tracked changes, a PDF and a change summary.

    OLD and NEW are each a recorded version (see `paperbuild versions`), a git ref (git:v1),
    a project folder, or a single Markdown file. NEW defaults to the current sources (.).
    """
    from paperbuild.diff.redline import FORMATS, DiffOptions, write_diff
    from paperbuild.diff.sides import resolve_side
    from paperbuild.load.project import load_project
    from paperbuild.safety import output_dir

    formats = parse_formats(to, FORMATS)
    project = load_project(g.start)
    old_side = resolve_side(old, project, g.start)
    new_side = resolve_side(new, project, g.start)
    folder = output_dir(project.root, (g.start / out) if out else project.build_dir / "diff")
    options = DiffOptions(out_dir=folder, formats=formats, author=author)
    with build_lock(project.build_dir, notify=_say):
        summary, written = write_diff(project, old_side, new_side, options)
    if fmt == "json":
        click.echo(json.dumps(summary.as_json(), indent=2, ensure_ascii=False))
        return
    if not g.quiet:
        click.echo(summary.headline(old_side.label, new_side.label))
    for path in written:
        click.echo(str(path))


def _terminate(signum: int, frame: object) -> None:
    """Turn SIGTERM into an orderly exit, so temporary files are removed on the way out."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Run the CLI (the console script's entry point)."""
    signal.signal(signal.SIGTERM, _terminate)
    # A draft is a million small dicts and lists that live until the command ends; at CPython's
    # default threshold (700 allocations) the collector walks them again and again and finds no
    # garbage: 30-40 ms of a medium build. mypy sets the same threshold for the same reason.
    gc.set_threshold(200_000, 30, 30)
    try:
        cli(prog_name="paperbuild")  # (click ends by raising SystemExit with the exit code)
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code: object) -> None:
    """Exit with code at once, once the output is flushed: every file the command wrote is
    closed by then, and tearing down a draft's million objects one by one took 60 ms of a
    rebuild (hyperfine on the medium paper; mypy exits the same way for the same reason)."""
    if code is not None and not isinstance(code, int):
        click.echo(code, err=True)  # (SystemExit("message") prints it, as Python would)
        code = 1
    kept = sys.modules.get("paperbuild.pandoc")
    if kept is not None:
        kept.close_kept()  # (it would end on its own, once it read the end of its input)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`paperbuild status | head`)
            code = code or 1
    os._exit(code or 0)


@cli.command()
@formats_option("docx,pdf")
@click.option("--force", is_flag=True, help="Build even when the check finds errors.")
@click.option("--line-numbers", is_flag=True, help="Number lines, restarting on each page.")
@click.option("--watermark", metavar="TEXT", default=None, help="Print TEXT across every page.")
@click.option(
    "--version",
    "version",
    metavar="VERSION",
    default=None,
    help="Draft version (default: document.version in outline.yaml).",
)
@click.option(
    "--pdf-engine",
    type=click.Choice(["typst", "libreoffice"]),
    default="typst",
    show_default=True,
    help="How the PDF is made.",
)
@click.option(
    "--final",
    is_flag=True,
    help="Leave queries to the committee out of the drafts (they stay in the sources).",
)
@click.pass_obj
def build(
    g: Globals,
    to: str,
    force: bool,
    line_numbers: bool,
    watermark: str | None,
    version: str | None,
    pdf_engine: str,
    final: bool,
) -> None:
    """Check, then assemble the chapters into DOCX and PDF drafts under build/.

    Stops with exit 1 when the check finds errors (unless --force); prints the paths written.
    """
    from paperbuild.readahead import read_ahead

    read_ahead(g.start)  # (pandoc reads the chapters changed since the last run meanwhile)
    from paperbuild.build import FORMATS, BuildOptions, build_project
    from paperbuild.load.project import load_project
    from paperbuild.render.common import RenderOptions

    formats = parse_formats(to, FORMATS)
    options = BuildOptions(
        formats=formats,
        force=force,
        version=version,
        pdf_engine=pdf_engine,
        render=RenderOptions(line_numbers=line_numbers, watermark=watermark, queries=not final),
    )
    project = load_project(g.start)
    with build_lock(project.build_dir, notify=_say):  # ChecksFailed: the group prints, exit 1
        result = build_project(project, options, progress=_progress(g))
    if not g.quiet:
        diagnostics = list(result.check.diagnostics)
        if any(d.severity == "warning" for d in diagnostics):
            line = summary_line(diagnostics, result.check.coverage_line)
            click.echo(f"check: {line} (run `paperbuild check` for details)", err=True)
        for notice in result.notices:
            click.echo(f"warning: {notice}", err=True)
    for path in result.outputs:
        click.echo(str(path.relative_to(project.root)))
