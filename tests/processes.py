"""What the tests ask of running processes (Linux's /proc)."""

from __future__ import annotations

from pathlib import Path

HAS_PROC = Path("/proc/self/task").exists()


def descendants(pid: int) -> list[int]:
    """Return the process ids below pid (from /proc), children first.

    A process (or one of its threads) may end while it is listed: it then has no children.
    """
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").glob("*/children"))
        except OSError:  # the process ended while it was listed
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in task.read_text().split()]
            except OSError:  # the thread ended between the listing and the read
                continue
            found += kids
            todo += kids
    return found


def alive(pid: int) -> bool:
    """Return whether the process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def kept_pandoc(pid: int) -> bool:
    """Return whether the process is the pandoc that paperbuild keeps between conversions."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(part.endswith(b"serve.lua") for part in command)
