"""Cache files are sealed with the account's key (`util/seal.py`): what is read back is what
paperbuild wrote here, under that name, or nothing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from paperbuild.util import seal
from paperbuild.util.fsutil import keep, kept, kept_bytes
from tests.conftest import run


@pytest.fixture
def key_home(tmp_path, monkeypatch):
    """Return a fresh XDG cache folder for the key, this test's only."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    seal._key.cache_clear()
    yield home
    seal._key.cache_clear()  # (the suite's key again, from the suite's folder)


def test_what_keep_writes_kept_reads_and_nothing_else(tmp_path, key_home):
    path = tmp_path / "facts.json"
    keep(path, b'{"words": 3}')
    assert kept(path, dict) == {"words": 3}
    blob = path.read_bytes()
    assert blob.startswith(b'{"words": 3}') and len(blob) == len(b'{"words": 3}') + seal.SEAL_LENGTH
    for changed in (
        blob.replace(b"3", b"4"),  # a byte changed
        blob[:-1],  # cut short
        blob[: -seal.SEAL_LENGTH],  # the seal taken off: the bare data
        b"",
        b'{"words": 4}' + blob[len(b'{"words": 3}') :],  # another text under this seal
    ):
        path.write_bytes(changed)
        assert kept_bytes(path) is None and kept(path, dict) is None
    moved = tmp_path / "other.json"  # the very file, under another name
    moved.write_bytes(blob)
    assert kept_bytes(moved) is None
    path.write_bytes(blob)
    assert kept(path, dict) == {"words": 3}


def test_the_key_is_made_once_for_the_account_and_kept_private(tmp_path, key_home):
    path = tmp_path / "kept.bin"
    keep(path, b"data")
    key_file = key_home / "paperbuild" / seal.KEY_NAME
    assert key_file.is_file() and len(key_file.read_bytes()) == seal.KEY_BYTES
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    seal._key.cache_clear()  # (the next command: the same key, read back)
    assert kept_bytes(path) == b"data"
    key_file.write_bytes(b"\x01" * seal.KEY_BYTES)  # another account's, or a new machine's
    seal._key.cache_clear()
    assert kept_bytes(path) is None


def test_without_a_place_for_the_key_caches_last_one_command(tmp_path, key_home):
    key_home.write_text("a file where the folder would be")  # (no ~/.cache/paperbuild can be made)
    path = tmp_path / "kept.bin"
    keep(path, b"data")
    assert kept_bytes(path) == b"data"  # (this process's key)
    seal._key.cache_clear()
    assert kept_bytes(path) is None  # (another command's: not read, made again)


def test_a_build_without_a_place_for_the_key_still_builds(mini, key_home):
    key_home.write_text("not a folder")
    root = mini()
    for _ in range(2):
        seal._key.cache_clear()  # (each build a command of its own)
        result = run(root, "build", "--to", "docx")
        assert result.exit_code == 0, result.output
        assert "internal error" not in result.output
    assert list(Path(root, "build").glob("*.docx"))


def test_without_a_home_folder_caches_last_one_command(tmp_path, key_home, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME")
    monkeypatch.setattr(Path, "home", lambda: (_ for _ in ()).throw(RuntimeError("no home")))
    seal._key.cache_clear()
    path = tmp_path / "kept.bin"
    keep(path, b"data")
    assert kept_bytes(path) == b"data"
