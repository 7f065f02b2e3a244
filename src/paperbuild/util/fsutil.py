"""Atomic output writes: a temporary file in the target folder, then a rename."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from paperbuild.errors import BuildError
from paperbuild.pandoc_ast import loads
from paperbuild.safety import refuse_symlink
from paperbuild.util.seal import sealed, unsealed


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        # The name is chosen before the file exists, so a signal that stops the process at any
        # point after the file is created still finds it named and removes it (tempfile.mkstemp
        # returns the name only after creating the file: a SIGTERM in between left it behind).
        tmp = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # (created, then stopped before open returned)
            raise
        break
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def keep(path: Path, data: bytes) -> None:
    """Write a cache file atomically, sealed (`seal`); a cache that cannot be written only
    costs time."""
    with contextlib.suppress(OSError):
        write_atomic(path, sealed(path, data))


def kept_bytes(path: Path) -> bytes | None:
    """Return the data of a cache file `keep` wrote on this machine, or None if it is not
    there, cannot be read, or is not sealed here under its name (written elsewhere, changed,
    moved): such a file only costs time, as one that is missing does."""
    try:
        return unsealed(path, path.read_bytes())
    except OSError:
        return None


def kept(path: Path, shape: type[dict[str, Any]] | type[list[Any]]) -> Any:
    """Return the JSON value of a cache file `keep` wrote, or None if `kept_bytes` has none or
    it cannot be read as a value of that shape (cut short, empty, not JSON, nested past what
    Python reads, another shape)."""
    data = kept_bytes(path)
    try:
        value = loads(data) if data is not None else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, shape) else None


def keep_alone(path: Path, data: bytes, kind: str) -> None:
    """Write a cache file as `keep` does, the folder's other files matching `kind` (a glob)
    removed first: one draft's entry, not every earlier one's."""
    for old in path.parent.glob(kind):
        with contextlib.suppress(OSError):
            old.unlink()
    keep(path, data)


LOCK_FILE = ".lock"


def remove_stale_temporaries(folder: Path) -> int:
    """Remove temporary files a killed run left in folder (only call while holding the lock)."""
    removed = 0
    for parent, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(parent, d))]
        for name in files:
            path = os.path.join(parent, name)
            if name.startswith(".") and name.endswith(".tmp") and not os.path.islink(path):
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    removed += 1
    return removed


@contextlib.contextmanager
def build_lock(folder: Path, notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the project's build lock: a second paperbuild waits (and says so) until it is free."""
    import fcntl

    refuse_symlink(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise BuildError(
            f"cannot take the build lock {folder / LOCK_FILE}: {exc.strerror}",
            hint="remove it if it is a symbolic link or not a file",
        ) from exc
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
