"""Atomic output writes: a temporary file in the target folder, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


LOCK_FILE = ".lock"


def remove_stale_temporaries(folder: Path) -> int:
    """Remove temporary files a killed run left in folder (only call while holding the lock)."""
    removed = 0
    for tmp in folder.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


@contextlib.contextmanager
def build_lock(folder: Path, notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the project's build lock: a second paperbuild waits (and says so) until it is free."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if notify:
                notify("another paperbuild is writing to build/ in this project; waiting for it")
            fcntl.flock(fd, fcntl.LOCK_EX)
        remove_stale_temporaries(folder)
        yield
    finally:
        os.close(fd)
