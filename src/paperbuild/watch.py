"""`paperbuild watch`: rebuild when the outline, a chapter or the bibliography changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from threading import Event

from paperbuild.build import BuildOptions, build_project
from paperbuild.diagnostics import Diagnostic, format_text, summary_line
from paperbuild.errors import ChecksFailed, ConfigError, PaperbuildError
from paperbuild.load.outline import OUTLINE_FILE
from paperbuild.load.project import (
    CHAPTER_SUFFIXES,
    PAPER_DIR,
    find_root,
    load_outline,
    load_project,
)
from paperbuild.safety import BUILD_DIR
from paperbuild.util.fsutil import build_lock

Say = Callable[[str], None]


def watched(root: Path) -> Callable[[object, str], bool]:
    """Return a watchfiles filter: outline.yaml, Markdown under paper/, and every file the
    outline names (the bibliography, the style, the reference document, the faces, chapters
    outside paper/), as it names them at the time of the change."""
    paper = root / PAPER_DIR
    build = root / BUILD_DIR

    def keep(change: object, path: str) -> bool:
        p = Path(path)
        if build in p.parents or p.name.startswith("."):
            return False
        if p.name in (OUTLINE_FILE, "references.bib") or (
            paper in p.parents and p.suffix.lower() in (*CHAPTER_SUFFIXES, ".bib", ".csl")
        ):
            return True
        return p in _named(root)

    return keep


def _named(root: Path) -> set[Path]:
    """Return the files the outline names, or none while it cannot be read."""
    try:
        outline = load_outline(root)
    except (PaperbuildError, OSError):
        return set()
    named = [*outline.bibliographies, outline.csl, outline.reference_doc, *outline.fonts]
    named += [s.chapter for s in outline.sections if s.chapter]
    return {root / n for n in named if n}


Shown = set[tuple[str, str, str, str]]  # the warnings the last check printed


def rebuild(start: Path, options: BuildOptions, say: Say, shown: Shown | None = None) -> bool:
    """Build once and report what happened; return True when drafts were written.

    With `shown`, a warning printed after the previous save (the same rule, file and message,
    wherever its line has moved) is counted, not printed again; errors are always printed.
    """
    shown = set() if shown is None else shown
    began = time.perf_counter()
    try:
        project = load_project(start)
        with build_lock(project.build_dir, notify=say):
            result = build_project(project, options)
    except ConfigError as exc:
        _diagnostics(exc.diagnostics, say, set())  # (all of them; what was shown stays so)
        say(f"not built: {exc.message}")
        return False
    except ChecksFailed as exc:
        _diagnostics(exc.diagnostics, say, shown)
        say(f"not built: {exc.message} ({time.perf_counter() - began:.1f} s)")
        return False
    except PaperbuildError as exc:
        say(f"not built: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
        return False
    except OSError as exc:
        say(f"not built: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return False
    except (RecursionError, MemoryError, ValueError) as exc:  # a save the watcher must survive
        say(f"not built: {type(exc).__name__}: {exc} (run `paperbuild build --debug` for details)")
        return False
    _diagnostics([d for d in result.check.diagnostics if d.severity != "info"], say, shown)
    for notice in result.notices:
        say(f"warning: {notice}")
    names = ", ".join(p.name for p in result.outputs)
    say(
        f"built {names} in {time.perf_counter() - began:.1f} s; "
        f"{summary_line(list(result.check.diagnostics), result.check.coverage_line)}"
    )
    return True


def _diagnostics(
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], say: Say, shown: Shown
) -> None:
    """Say the diagnostics, but for the warnings in `shown`, which are counted (and `shown`
    becomes this build's warnings)."""
    fresh = [d for d in diagnostics if d.severity == "error" or _key(d) not in shown]
    text = format_text(fresh)
    if text:
        say(text)
    if len(fresh) < len(diagnostics):
        n = len(diagnostics) - len(fresh)
        say(f"({n} warning{'s' if n > 1 else ''} as after the last save, not shown again)")
    shown.clear()
    shown.update(_key(d) for d in diagnostics if d.severity != "error")


def _key(d: Diagnostic) -> tuple[str, str, str, str]:
    """Return what makes a warning the same after a save: its rule, severity, file, message."""
    return d.rule, d.severity, d.path, d.message


def watch(start: Path, options: BuildOptions, say: Say, stop: Event | None = None) -> None:
    """Build, then rebuild after each change (debounced) until stopped or interrupted.

    Ctrl-C stops the watcher whenever it comes, during a rebuild too (outputs are written
    atomically, so an interrupted rebuild leaves the previous drafts whole). One Typst compiler
    is kept for the whole session, so each rebuilt PDF is laid out incrementally, and one pandoc
    process, so each save's chapter is read and its DOCX written by a warm one; the last
    draft's blocks with their words merged are remembered (`docx.merging_remembered`).
    """
    import watchfiles

    from paperbuild.pandoc import keeping
    from paperbuild.render.docx import merging_remembered
    from paperbuild.render.typst_run import kept_compiler

    root = find_root(start)
    try:
        shown: Shown = set()
        with kept_compiler(), keeping(), merging_remembered():
            rebuild(start, options, say, shown)
            ready = False
            for changes in watchfiles.watch(
                root,
                watch_filter=watched(root),
                debounce=400,
                # a save is yielded once no other change came for `step` ms: watchfiles' 50 took
                # 50-100 ms of each rebuild's wait, where an editor's save (a write, or a temporary
                # file renamed over the chapter) takes a millisecond or two; 20 ms against 5 made
                # a save to its rebuilt DOCX 0.52-0.56 s against 0.47-0.49 (the medium paper). A
                # save slower than that is built twice, the second time whole.
                step=5,
                stop_event=stop,
                raise_interrupt=False,
                rust_timeout=300,
                yield_on_timeout=True,  # the first empty yield says the watcher really runs
            ):
                if not ready:
                    ready = True
                    say(
                        f"watching {root} for changes to outline.yaml, references.bib and "
                        "paper/ (Ctrl-C stops)"
                    )
                if not changes:
                    continue
                files = sorted({Path(p).relative_to(root).as_posix() for _, p in changes})
                say(f"changed: {', '.join(files)}")
                rebuild(start, options, say, shown)
    except KeyboardInterrupt:
        return
