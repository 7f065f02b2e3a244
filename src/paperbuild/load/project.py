"""Find the project root and load outline, chapters and bibliography (reading only)."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.errors import ConfigError, ProjectNotFound
from paperbuild.load import chapters as chapters_module
from paperbuild.load.bibliography import Bibliography, load_bibliography
from paperbuild.load.chapters import Chapter, SourceScan, decode, scan, split_front_matter
from paperbuild.load.outline import OUTLINE_FILE, Outline, OutlineInvalid, parse_outline
from paperbuild.pandoc_ast import dumps
from paperbuild.safety import BUILD_DIR, UnsafePath, loading_cache_dir, read_input
from paperbuild.util.fsutil import keep, kept

PAPER_DIR = "paper"
MAX_CHAPTER_BYTES = 8 * 1024 * 1024  # about a million words: far beyond any chapter


@dataclass(frozen=True, kw_only=True)
class Project:
    """Everything read from a paper project, plus the problems met while reading it."""

    root: Path
    outline: Outline
    chapters: tuple[Chapter, ...]
    bibliography: Bibliography
    problems: tuple[Diagnostic, ...] = ()
    missing_files: frozenset[str] = field(default_factory=frozenset)

    @property
    def build_dir(self) -> Path:
        """Return the folder that receives every output."""
        return self.root / BUILD_DIR

    def chapter(self, path: str) -> Chapter | None:
        """Return the chapter at this project-relative path."""
        return next((c for c in self.chapters if c.path == path), None)

    @property
    def listed_uncited(self) -> tuple[str, ...]:
        """Return the keys outline.yaml's `nocite:` lists in the bibliography ("*": every one)."""
        keys = [key for key, _, _ in self.outline.nocite]
        if "*" in keys:
            return tuple(e.key for e in self.bibliography.entries)
        return tuple(dict.fromkeys(keys))


def find_root(start: Path) -> Path:
    """Return the nearest folder at or above start that holds outline.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / OUTLINE_FILE).is_file():
            return folder
    raise ProjectNotFound(
        f"no {OUTLINE_FILE} found in {start} or any folder above it",
        hint="run paperbuild inside a paper project, or create one with `paperbuild init`",
    )


def load_outline(root: Path) -> Outline:
    """Return the project's Outline, or raise ConfigError with every located problem."""
    path = root / OUTLINE_FILE
    data = read_input(path, root)
    try:
        text = data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        d = diag(
            "outline-syntax",
            f"not valid UTF-8 (byte offset {exc.start})",
            OUTLINE_FILE,
            line,
            None,
            "save outline.yaml as UTF-8",
        )
        raise ConfigError(f"{OUTLINE_FILE} cannot be read", [d]) from exc
    try:
        return parse_outline(text, OUTLINE_FILE)
    except OutlineInvalid as exc:
        raise ConfigError(
            f"{OUTLINE_FILE} has {len(exc.diagnostics)} problem(s); fix them and run again",
            exc.diagnostics,
        ) from exc


def inside(root: Path, path: Path) -> bool:
    """Return True when path, with symlinks resolved, stays inside root."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


CHAPTER_SUFFIXES = (".md", ".markdown", ".qmd", ".rmd")  # Markdown, Quarto's, R Markdown's
PARTIAL_SUFFIXES = (".qmd", ".rmd")  # where `_part.qmd` is a file included, not a chapter


def is_chapter_name(name: str) -> bool:
    """Return whether a file in paper/ of this name is a chapter: Markdown, Quarto or R
    Markdown, but for Quarto's and knitr's partials (`_part.qmd`, which another file includes)."""
    suffix = Path(name).suffix.lower()
    if suffix not in CHAPTER_SUFFIXES:
        return False
    return not (name.startswith("_") and suffix in PARTIAL_SUFFIXES)


def chapter_paths(root: Path, outline: Outline) -> list[str]:
    """Return the project-relative paths of all chapters: those in paper/ and those named."""
    found: set[str] = set()
    paper = root / PAPER_DIR
    if paper.is_dir():
        found.update(
            p.relative_to(root).as_posix()
            for p in paper.rglob("*")
            if is_chapter_name(p.name)
            and (p.is_file() or p.is_symlink())  # (a link to nowhere is reported, not passed over)
        )
    found.update(s.chapter for s in outline.sections if s.chapter)
    return sorted(found)


def _dangling(root: Path, rel: str) -> Diagnostic:
    """Return the problem of a chapter that is a symbolic link to nothing (or to itself)."""
    try:
        target = os.readlink(root / rel)
    except OSError:
        target = "?"
    try:
        os.stat(root / rel)  # (it fails: the link leads nowhere, or round to itself)
        loops = False
    except OSError as exc:
        loops = exc.errno == errno.ELOOP
    end = "which leads back to itself" if loops else "which does not exist"
    return diag(
        "unreadable-chapter",
        f"chapter is a symbolic link to {target[:200]}, {end}",
        rel,
        hint="restore the file it points to, or replace the link by the file itself",
    )


def _scanned(root: Path, texts: dict[str, str]) -> dict[str, SourceScan]:
    """Return each chapter's source scan (by path), kept in build/.cache/scan/ for the next
    command: scanning the medium paper's 11 chapters took 25 ms of every command, reading
    their scans back 2."""
    h = hashlib.sha256(_scanning_code())
    keys = {rel: _scan_key(h.copy(), text) for rel, text in texts.items()}
    cache = loading_cache_dir(root, "scan")
    kept = _kept_scans(cache / SCAN_FILE) if cache else {}
    found = {rel: kept.get(keys[rel]) or scan(text) for rel, text in texts.items()}
    if cache and any(keys[rel] not in kept for rel in texts):
        fresh = {keys[rel]: found[rel].to_json() for rel in texts}
        keep(cache / SCAN_FILE, dumps(fresh))
    return found


SCAN_FILE = "scans.json"  # {key of a chapter's text: its scan}, for the chapters of the last run


@functools.cache
def _scanning_code() -> bytes:
    """Return the scanning code's text, which keys the kept scans with the chapters' texts."""
    return Path(chapters_module.__file__).read_bytes()


def _scan_key(h: Any, text: str) -> str:
    h.update(text.encode("utf-8", "surrogatepass"))
    return str(h.hexdigest()[:32])


def _kept_scans(path: Path) -> dict[str, SourceScan]:
    """Return the scans kept at path (none if it cannot be read as scans)."""
    data = kept(path, dict) or {}
    try:
        return {str(key): SourceScan.from_json(value) for key, value in data.items()}
    except (ValueError, KeyError, TypeError):
        return {}


def chapter_text(
    root: Path, rel: str
) -> tuple[tuple[dict[str, Any], str] | None, list[Diagnostic]]:
    """Return the chapter at rel's front matter and text (None: it cannot be read) and the
    problems met reading it."""
    path = root / rel
    if not inside(root, path):
        return None, [
            diag(
                "path-outside-project",
                f"{rel} leads outside the project folder",
                rel,
                hint="replace the link by the file itself",
            )
        ]
    try:
        size = path.stat().st_size
        if size > MAX_CHAPTER_BYTES:
            return None, [
                diag(
                    "unreadable-chapter",
                    f"chapter is {size / 2**20:.1f} MB; paperbuild reads "
                    f"chapters up to {MAX_CHAPTER_BYTES // 2**20} MB",
                    rel,
                    None,
                    None,
                    "split it, or move data (tables, appendices) out of the paper",
                )
            ]
        data = read_input(path, root)
    except UnsafePath as exc:
        return None, [diag("unreadable-chapter", exc.message, rel, hint=exc.hint)]
    except OSError as exc:
        return None, [diag("unreadable-chapter", f"cannot be read: {exc.strerror}", rel)]
    text, problem = decode(data, rel)
    if text is None:
        return None, [problem] if problem else []
    front, body, problems = split_front_matter(text, rel)
    return (front, body), problems


def load_project(start: Path) -> Project:
    """Return the project found at or above start."""
    root = find_root(start)
    outline = load_outline(root)
    read: dict[str, tuple[dict[str, Any], str]] = {}
    problems: list[Diagnostic] = []
    missing = set()
    for rel in chapter_paths(root, outline):
        if (root / rel).is_symlink() and not (root / rel).exists():
            problems.append(_dangling(root, rel))
            continue
        if not (root / rel).exists():
            missing.add(rel)
            continue
        text, found = chapter_text(root, rel)
        problems.extend(found)
        if text is not None:
            read[rel] = text
    scans = _scanned(root, {rel: body for rel, (_, body) in read.items()})
    chapters = [
        Chapter(path=rel, text=body, front_matter=front, scan=scans[rel])
        for rel, (front, body) in read.items()
    ]
    bibliography = load_bibliography(root, outline.bibliographies)
    return Project(
        root=root,
        outline=outline,
        chapters=tuple(chapters),
        bibliography=bibliography,
        problems=tuple(problems),
        missing_files=frozenset(missing),
    )


REMOTE = ("http:", "https:", "ftp:", "ftps:", "//", "file:")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # mailto:, doi:, https: … (not a file)


def is_file_link(url: str) -> bool:
    """Return whether a link's URL names a local file (`results.md#x`, not `#x` or a URL)."""
    return bool(url) and not url.startswith(("#", "//")) and not SCHEME.match(url)


def linked_chapter(chapter: str, url: str, chapters: Iterable[str]) -> tuple[str, str] | None:
    """Return (chapter path, fragment) when a link names a chapter file (`results.md#x`).

    The path is read as pandoc reads a local link: percent-decoded, relative to the linking
    chapter's folder, else to the project. None when it names no chapter of the project.
    """
    if not is_file_link(url):
        return None
    path, _, fragment = url.partition("#")
    path = unquote(path.partition("?")[0])
    known = set(chapters)
    for base in (Path(chapter).parent, Path()):
        candidate = os.path.normpath(base / path).replace(os.sep, "/")
        if candidate in known:
            return candidate, fragment
    return None


def is_data_uri(target: str) -> bool:
    """Return whether an image's target is a `data:` URI (the image itself, not a file)."""
    return target[:5].lower() == "data:"


def resolve_resource(root: Path, chapter: str, target: str) -> tuple[str | None, str | None]:
    """Return (project-relative path, None) for a usable resource, else (None, problem).

    The problem is "remote" (a URL: never fetched), "outside" (it leaves the project, also
    through a link) or "missing". Paths are tried relative to the project, then to the chapter;
    as written, then percent-decoded (as pandoc reads a local file's URL).
    """
    if is_data_uri(target):
        return target, None
    if target.lower().startswith(REMOTE) or "://" in target:
        return None, "remote"
    spellings = dict.fromkeys((target, unquote(target)))  # `<a b.png>` reaches us as a%20b.png
    candidates = [base / t for t in spellings for base in (root, root / Path(chapter).parent)]
    for candidate in candidates:
        if candidate.exists():
            if not inside(root, candidate):
                return None, "outside"
            return candidate.resolve().relative_to(root.resolve()).as_posix(), None
    if any(not inside(root, c.parent) for c in candidates):
        return None, "outside"
    return None, "missing"
