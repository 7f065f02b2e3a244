"""Cache files sealed with this machine's key: what build/.cache/ holds is read only if
paperbuild wrote it on this machine, for this account.

A project can arrive with a build/.cache/ that git does not track (an archive, a shared
folder, a copy). A parse or citeproc output planted there would put in a draft what its
sources do not say, and planted facts would hide a problem from `check`. Each cache file
therefore ends with an HMAC of its name and bytes under a key kept outside every project
(`$XDG_CACHE_HOME/paperbuild/seal-key`, else `~/.cache/paperbuild/seal-key`): a file that
someone else wrote, or changed, or moved to another name, reads as missing and is made again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
from pathlib import Path

KEY_NAME = "seal-key"
KEY_BYTES = 32
MARK = b"\0paperbuild-seal:"  # then the seal: HMAC-SHA256 of the file's name and bytes, in hex
SEAL_LENGTH = len(MARK) + 2 * hashlib.sha256().digest_size


def key_path() -> Path:
    """Return where this account's sealing key is kept."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "paperbuild" / KEY_NAME


@functools.cache
def _key() -> bytes:
    """Return this account's sealing key, made on first use; where none can be kept (no home,
    a read-only one), a key of this process only: caches then last one command."""
    try:
        path = key_path()
    except (RuntimeError, KeyError):  # (no home folder can be found)
        return os.urandom(KEY_BYTES)
    with contextlib.suppress(OSError, ValueError):
        return _read_key(path)
    with contextlib.suppress(OSError, ValueError):
        return _new_key(path)
    with contextlib.suppress(OSError, ValueError):
        return _read_key(path)  # (another process made it meanwhile)
    return os.urandom(KEY_BYTES)


def _read_key(path: Path) -> bytes:
    """Return the key kept at path (not through a link), or raise OSError or ValueError."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        key = fh.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} is not a key")
    return key


def _new_key(path: Path) -> bytes:
    """Return a new key, kept at path, readable by this account only (raise OSError if path
    exists or cannot be made)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.urandom(KEY_BYTES)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _seal(name: str, data: bytes) -> bytes:
    """Return the seal of a file of this name holding data."""
    mac = hmac.new(_key(), name.encode("utf-8", "surrogatepass") + b"\0", hashlib.sha256)
    mac.update(data)
    return MARK + mac.hexdigest().encode("ascii")


def sealed(path: Path, data: bytes) -> bytes:
    """Return a cache file's bytes as written: the data, then its seal."""
    return data + _seal(path.name, data)


def unsealed(path: Path, blob: bytes) -> bytes | None:
    """Return the data of a cache file's bytes if their seal is this machine's for this name,
    else None."""
    data, seal = blob[:-SEAL_LENGTH], blob[-SEAL_LENGTH:]
    if len(blob) < SEAL_LENGTH or not seal.startswith(MARK):
        return None
    return data if hmac.compare_digest(seal, _seal(path.name, data)) else None
