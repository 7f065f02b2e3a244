"""The chapters changed since the last run, read by pandoc while a command loads itself.

A rebuild after one edit waited 0.1 s for pandoc to read the changed chapter, after 0.35 s of
loading its own modules and the project, on a machine whose second core sat idle. `build`
and `check` call `read_ahead` first: the chapters the last parse read (its list in the cache)
are read again from their files, made the texts pandoc is given, and those the cache lacks
are given to pandoc in a thread (`pandoc.read_ahead`), before anything else is loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from paperbuild import pandoc
from paperbuild.errors import PaperbuildError
from paperbuild.load.chapters import pandoc_texts
from paperbuild.load.project import chapter_text, find_root
from paperbuild.safety import cache_dir
from paperbuild.util.fsutil import keep, kept, kept_bytes

CHAPTERS = "chapters.json"  # in build/.cache/ast/: the chapters the last parse read, in order


def read_ahead(start: Path) -> int:
    """Start pandoc on the chapters changed since the last parse of the project at or above
    start; return how many (0: no record, nothing changed, or no project here)."""
    try:
        root = find_root(start)
        cache = cache_dir(root, "ast")
    except (PaperbuildError, OSError):
        return 0
    if cache is None:
        return 0
    noted = kept(cache / CHAPTERS, list)
    if noted is None or not all(_is_entry(e) for e in noted):
        return 0
    if all(_signature(root, rel) == [size, mtime] for rel, size, mtime in noted):
        return 0  # (no chapter saved since: the last parse left every one cached)
    chapters = [(rel, _body(root, rel)) for rel, _, _ in noted]
    known = [(rel, text) for rel, text in chapters if text is not None]
    texts = pandoc_texts(known)
    return pandoc.read_ahead([(rel, texts[rel]) for rel, _ in known], cache)


def _is_entry(entry: object) -> bool:
    """Return whether a record's entry is a chapter's [path, size, modification time]."""
    return (
        isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], str)
        and all(isinstance(n, int) for n in entry[1:])
    )


def _signature(root: Path, rel: str) -> list[int] | None:
    """Return a chapter file's [size, modification time in ns], or None if it has none."""
    try:
        found = (root / rel).stat()
    except OSError:
        return None
    return [found.st_size, found.st_mtime_ns]


def _body(root: Path, rel: str) -> str | None:
    """Return a chapter's text as loading the project reads it (None: it cannot be read)."""
    read, _ = chapter_text(root, rel)
    return None if read is None else read[1]


def note_chapters(root: Path, cache: Path | None, paths: list[str]) -> None:
    """Record the chapters a parse read, in order, with each file's size and time, for the
    next command's `read_ahead`."""
    if cache is None:
        return
    data = json.dumps([[rel, *(_signature(root, rel) or [-1, -1])] for rel in paths]).encode()
    if kept_bytes(cache / CHAPTERS) != data:
        keep(cache / CHAPTERS, data)
