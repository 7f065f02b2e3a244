"""Reading ahead: `build` and `check` start pandoc on the chapters changed since the last run
before they load the rest of themselves; the parse then finds them read, and a wrong guess
costs a parse nobody asks for, never a wrong draft."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
import time

import pytest

from paperbuild import pandoc
from paperbuild.checks import run_checks
from paperbuild.load.project import load_project
from paperbuild.readahead import CHAPTERS, read_ahead
from paperbuild.safety import cache_dir
from tests.conftest import run
from tests.render.readers import pandoc_docx_json, text_of

SECOND = '---\nsection: 2\n---\n\n# Second section\n\n[Pears.]{{points="2.1"}} {words}\n'


def wait_for_ahead() -> None:
    for _, thread in list(pandoc._AHEAD):
        thread.join(timeout=60)


def test_the_changed_chapter_is_read_ahead_and_the_parse_runs_no_pandoc_for_it(mini, monkeypatch):
    root = mini({"paper/02-second.md": SECOND.format(words="Before.")})
    assert run(root, "check").exit_code == 0
    cache = cache_dir(root, "ast")
    assert cache is not None and (cache / CHAPTERS).is_file()
    assert read_ahead(root) == 0  # (nothing changed since)
    (root / "paper/02-second.md").write_text(SECOND.format(words="After, read ahead."))
    assert read_ahead(root) == 1
    wait_for_ahead()

    def no_pandoc(*args, **kwargs):
        raise AssertionError("the parse ran pandoc for a chapter read ahead")

    monkeypatch.setattr(pandoc, "run", no_pandoc)
    monkeypatch.setattr(pandoc, "_read_told", lambda *a, **k: no_pandoc())
    monkeypatch.setattr(pandoc, "kept_answer", lambda *a, **k: no_pandoc())
    result = run_checks(load_project(root), with_blocks=True)
    blocks = result.parsed.blocks["paper/02-second.md"]
    assert "After, read ahead." in pandoc.pandoc_ast.stringify(blocks)


def test_a_chapter_changed_after_it_was_read_ahead_is_drafted_as_it_is_now(mini):
    root = mini({"paper/02-second.md": SECOND.format(words="First.")})
    assert run(root, "build", "--to", "docx").exit_code == 0
    (root / "paper/02-second.md").write_text(SECOND.format(words="Guessed."))
    assert read_ahead(root) == 1
    (root / "paper/02-second.md").write_text(SECOND.format(words="Saved last."))
    result = run(root, "build", "--to", "docx")
    assert result.exit_code == 0, result.output
    text = text_of(pandoc_docx_json(root / "build/a-small-paper-1.0.docx"))
    assert "Saved last." in text and "Guessed." not in text


def test_nothing_is_read_ahead_without_a_record_or_from_a_cache_git_tracks(mini, tmp_path):
    root = mini()
    assert read_ahead(root) == 0  # (no run yet: no record)
    assert read_ahead(tmp_path / "nowhere") == 0  # (no project: the command says so, not this)
    assert run(root, "check").exit_code == 0
    cache = cache_dir(root, "ast")
    assert cache is not None
    (cache / CHAPTERS).write_text('["../../outside.md", 7]')  # (a record not of its making)
    assert read_ahead(root) == 0


def test_a_slow_read_ahead_is_stopped_when_the_command_ends(mini, tmp_path, monkeypatch):
    # (a chapter whose markup takes pandoc minutes, in a command that stops at an outline error)
    slow = tmp_path / "slow-pandoc"
    slow.write_text("#!/bin/sh\nexec sleep 60\n")
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(pandoc, "pandoc_path", lambda: str(slow))
    monkeypatch.setattr(
        pandoc, "_KEEPING", []
    )  # (not the tests' kept process: a pandoc of its own)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    cache = tmp_path / "cache"
    cache.mkdir()
    assert pandoc.read_ahead([("slow.md", "Words.")], cache) == 1
    deadline = time.monotonic() + 10
    while not pandoc._RUNNING and time.monotonic() < deadline:
        time.sleep(0.02)
    running = list(pandoc._RUNNING)
    assert running, "the read-ahead did not start its pandoc"
    started = time.monotonic()
    pandoc.close_kept()
    assert time.monotonic() - started < 5
    assert all(proc.poll() is not None for proc in running)
    assert not any(
        t.name == "paperbuild-read-ahead" and t.is_alive() for t in threading.enumerate()
    )
    assert os.listdir(temporary) == []  # (its temporary files removed on the way out)


def test_cached_chapters_are_read_while_pandoc_still_reads_one_ahead(tmp_path, monkeypatch):
    # (the parse used to wait for the read-ahead first: 60-70 ms of a rebuild, the cached
    # chapters' reading, now done in that time)
    chapters = [(f"{i}.md", f"# Chapter {i}\n\nWords of chapter {i}.\n") for i in range(3)]
    fresh = pandoc.parse_chapters(chapters)
    keys = [pandoc.cache_key(text) for _, text in chapters]
    for i in (0, 2):
        pandoc._cache_write(tmp_path, keys[i], fresh[i])
    go = threading.Event()

    def ahead() -> None:  # pandoc reading chapter 1 ahead, done once told to finish
        go.wait(timeout=3)
        pandoc._cache_write(tmp_path, keys[1], fresh[1])

    thread = threading.Thread(target=ahead, daemon=True)
    monkeypatch.setattr(pandoc, "_AHEAD", [(frozenset([keys[1]]), thread)])
    monkeypatch.setattr(pandoc, "run", lambda *a, **k: pytest.fail("pandoc ran for the parse"))
    monkeypatch.setattr(pandoc, "_read_told", lambda *a: pytest.fail("pandoc ran for the parse"))
    told: list[tuple[int, bool]] = []

    def each(i: int, blocks: list) -> None:
        told.append((i, thread.is_alive()))
        if len(told) == 2:
            go.set()

    thread.start()
    assert pandoc.parse_chapters(chapters, tmp_path, keys, each) == fresh
    assert told == [(0, True), (2, True), (1, False)]
