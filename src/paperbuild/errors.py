"""The exception tree for what stops a run (an author's mistakes are Diagnostics instead)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperbuild.diagnostics import Diagnostic


class PaperbuildError(Exception):
    """A problem that stops a run; the CLI prints it and exits with its code (2: could not run)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ProjectNotFound(PaperbuildError):
    """No outline.yaml in the current folder or any parent."""


class ConfigError(PaperbuildError):
    """outline.yaml (or another input the run cannot do without) is malformed."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic], *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.diagnostics = tuple(diagnostics)


class BuildError(PaperbuildError):
    """pandoc, Typst or an output write failed."""


class ChecksFailed(PaperbuildError):
    """`build` found errors in `check` and was not forced (exit 1: problems found)."""

    exit_code = 1

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(message, hint="fix the errors above, or pass --force to build anyway")
        self.diagnostics = tuple(diagnostics)
