"""The threat model's two gates: where paperbuild may write, and what it may read.

Every output path is decided by `output_file` (inside build/ or the folder given with -o, never
a source, never through a symbolic link); every input file is read by `read_input` (a regular
file, size-capped: no FIFO, device or endless stream); names that become file names (versions,
slugs, section ids) are checked by `file_name`.
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path

from paperbuild.errors import PaperbuildError

BUILD_DIR = "build"  # the one folder of a project paperbuild writes to
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]{0,119}$")
MAX_INPUT = 64 * 1024 * 1024  # no honest chapter, bibliography or reviewed DOCX comes near it


class UnsafePath(PaperbuildError):
    """An output or input path that the threat model refuses."""


def file_name(name: str, what: str) -> str:
    """Return name if it can be one file or folder name (no separators, no '..'), else raise."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise UnsafePath(
            f"{what} '{name[:80]}' cannot name a file",
            hint="use letters, digits, '.', '-', '_' or '+' (at most 120), starting with a letter "
            "or digit",
        )
    return name


def refuse_symlink(path: Path) -> None:
    """Raise when path is a symbolic link (paperbuild never writes through one)."""
    if path.is_symlink():
        raise UnsafePath(
            f"{path} is a symbolic link; paperbuild never writes through one",
            hint="replace it with a real folder or file (paperbuild creates build/ itself)",
        )


def output_dir(root: Path, folder: Path) -> Path:
    """Return folder if paperbuild may write there: build/ in the project, or a folder outside it.

    Where the writes would really land decides (links followed): inside the project, only
    build/ (the rest are sources). Under build/, no folder on the way may be a link; a folder
    outside the project may not be one either.
    """
    written = Path(os.path.abspath(folder))
    build = Path(os.path.abspath(root)) / BUILD_DIR
    steps = [written, *written.parents]
    for step in steps[: steps.index(build) + 1] if build in steps else [written]:
        refuse_symlink(step)
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(folder))
    if real == real_root or (_within(real, real_root) and not _within(real, real_root / BUILD_DIR)):
        raise UnsafePath(
            f"{folder} is in the project's sources; paperbuild writes only to build/",
            hint="choose a folder under build/ or outside the project",
        )
    return written


CACHE_DIR = f"{BUILD_DIR}/.cache"  # parses, chapter facts, citeproc output, reference document


def cache_dir(root: Path, part: str = "") -> Path | None:
    """Return build/.cache (or a folder in it) if it can be trusted, or None to work without.

    Nothing but paperbuild writes there, unless git brought it: a pull request that commits
    build/.cache/ could plant a chapter's "facts" (a check that passes over undefined notes),
    a parse or citeproc's output (a draft that is not the sources). Files git tracks there are
    therefore never read; the caller says so (`tracked-cache`).
    """
    folder = output_dir(root, root / CACHE_DIR / part)  # (no link on the way, as for any output)
    return None if git_tracks(root, CACHE_DIR) else folder


def loading_cache_dir(root: Path, part: str = "") -> Path | None:
    """Return `cache_dir`'s answer, or None where build/ cannot be used at all (a link, a
    file): loading the project works without its caches then, and the command that writes
    there says why."""
    try:
        return cache_dir(root, part)
    except (PaperbuildError, OSError):
        return None


def git_tracks(root: Path, folder: str) -> bool:
    """Return whether git tracks any file under a folder of the project (relative to it).

    What git tracks is what its index lists: the answer is kept while the index is unchanged
    (a build asks for its parse, its citations and its reference document alike).
    """
    start = Path(os.path.abspath(root))
    top = next((d for d in (start, *start.parents) if (d / ".git").exists()), None)
    if top is None:
        return False  # not in a git work tree: no git process to start
    try:
        index = (top / ".git" / "index").stat()
    except OSError:  # a linked work tree (.git is a file) or no index yet: ask each time
        return _ls_files(start, folder)
    return _ls_files_while(start, folder, (index.st_mtime_ns, index.st_size, index.st_ino))


@functools.lru_cache(maxsize=32)
def _ls_files_while(root: Path, folder: str, index: tuple[int, int, int]) -> bool:
    """Return _ls_files's answer, kept for as long as the index is the one described."""
    return _ls_files(root, folder)


def _ls_files(root: Path, folder: str) -> bool:
    """Return whether `git ls-files` lists anything under a folder of the project."""
    from paperbuild.util.git import git

    done = git(root, "ls-files", "-z", "--", folder)
    return done is not None and done.returncode == 0 and bool(done.stdout.strip("\0"))


def output_file(folder: Path, name: str) -> Path:
    """Return folder/name for a plain file name (no separator, not hidden), never a link."""
    if not name or "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        raise UnsafePath(f"'{name[:80]}' is not a plain file name")
    path = folder / name
    refuse_symlink(path)
    return path


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def read_input(path: Path, root: Path | None = None, limit: int = MAX_INPUT) -> bytes:
    """Return a regular file's bytes (inside root if given); FIFOs, devices, huge files refused."""
    real, top = Path(os.path.realpath(path)), Path(os.path.realpath(root or "/"))
    if root is not None and not _within(real, top):
        raise UnsafePath(f"{path} leads outside the project folder", hint="copy it in")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UnsafePath(f"cannot read {path}: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnsafePath(f"{path} is a folder, not a file; it is not read", hint="use a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePath(
                f"{path} is not a regular file (a pipe, device or socket); it is not read",
                hint="use an ordinary file",
            )
        if info.st_size > limit:
            raise UnsafePath(
                f"{path} is {info.st_size // (1024 * 1024)} MB, over the {limit // (1024 * 1024)} "
                "MB paperbuild reads",
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnsafePath(f"{path} grew past {limit // (1024 * 1024)} MB while being read")
    return data


MAX_UNPACKED = 256 * 1024 * 1024  # a DOCX's parts, unpacked; no honest document comes near it


def open_docx(data: bytes, path: Path) -> zipfile.ZipFile:
    """Return a DOCX's archive after checking it unpacks to a bounded size and is not encrypted.

    The sizes checked are those the archive declares; Python's zip reader never unpacks a part
    past its declared size (it stops there and fails the part's checksum), so they bound memory.
    """
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnsafePath(
            f"{path} is password-protected or an old .doc file",
            hint="save an unprotected .docx copy from Word or LibreOffice and try again",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise UnsafePath(
            f"{path} is not a readable .docx file (it is not a zip archive)",
            hint="save it again as .docx from Word or LibreOffice",
        ) from exc
    if any(info.flag_bits & 0x1 for info in infos):
        raise UnsafePath(
            f"{path} is an encrypted zip archive, not a .docx paperbuild can read",
            hint="save an unprotected .docx copy from Word or LibreOffice and try again",
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED or len(infos) > 10_000:
        raise UnsafePath(
            f"{path} unpacks to {unpacked // (1024 * 1024)} MB in {len(infos)} parts, over the "
            f"{MAX_UNPACKED // (1024 * 1024)} MB paperbuild unpacks",
            hint="a document this large is not an honest .docx; save it again as .docx",
        )
    if "word/document.xml" not in archive.namelist():
        raise UnsafePath(f"{path} is a zip archive but not a Word document")
    archive.filename = str(path)
    return archive


def docx_part(archive: zipfile.ZipFile, name: str, path: Path) -> bytes | None:
    """Return one part of a checked DOCX (None if it has none); a damaged part is a clear error."""
    if name not in archive.namelist():
        return None
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError) as exc:
        raise UnsafePath(
            f"{name} inside {path} is damaged ({exc})",
            hint="save it again as .docx from Word or LibreOffice",
        ) from exc
