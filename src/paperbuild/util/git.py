"""The one way paperbuild runs git: no shell, a time limit, and None when git cannot answer."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Literal, overload

TIMEOUT = 60


@overload
def git(
    root: Path, *args: str, binary: Literal[False] = False
) -> subprocess.CompletedProcess[str] | None: ...


@overload
def git(
    root: Path, *args: str, binary: Literal[True]
) -> subprocess.CompletedProcess[bytes] | None: ...


def git(root: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess[Any] | None:
    """Return git's completed run of args in root, or None when git is missing or timed out."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=not binary,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
