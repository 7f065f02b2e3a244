"""The parse stage: chapters parsed apart, in one pandoc process or several, to the same ASTs."""

from __future__ import annotations

import json

from paperbuild import pandoc
from tests.render.readers import text_of


def test_chapters_parse_alike_in_one_process_or_several(monkeypatch):
    """Past PARSED_PER_PROCESS characters the chapters are split between processes; each
    chapter's AST is the one it gets alone, and a footnote id stays its chapter's own."""
    body = "Words of a paragraph, *emphasised* and cited [@smith2020].[^1]\n\n" * 300
    chapters = [
        (f"{i:02}.md", f"# Chapter {i}\n\n{body}[^1]: Note of chapter {i}.\n") for i in range(4)
    ]
    assert sum(len(text) for _, text in chapters) > pandoc.PARSED_PER_PROCESS
    runs: list[bytes] = []
    real = pandoc.run

    def counted(args, data=None, **kwargs):
        runs.append(data)
        return real(args, data, **kwargs)

    monkeypatch.setattr(pandoc, "run", counted)
    split = pandoc.parse_chapters(chapters)
    assert len(runs) > 1
    monkeypatch.setattr(pandoc, "PARSED_PER_PROCESS", 10**9)
    runs.clear()
    together = pandoc.parse_chapters(chapters)
    assert len(runs) == 1
    assert json.dumps(split) == json.dumps(together)
    for i, blocks in enumerate(split):
        assert f"Note of chapter {i}." in text_of(blocks)


def test_what_runs_meanwhile_runs_once_while_pandoc_works_and_stops_it_if_it_fails():
    import time

    import pytest

    from paperbuild import pandoc

    args = ["-f", "markdown", "-t", "html"]
    text = b"A paragraph of *several* words. " * 100
    calls: list[int] = []
    assert pandoc.run(args, text, meanwhile=lambda: calls.append(1)) == pandoc.run(args, text)
    assert calls == [1]

    def fails() -> None:
        raise RuntimeError("the snapshot failed")

    long = b"A paragraph of *several* words. " * 60000  # about 3 s of pandoc's work
    start = time.monotonic()
    with pytest.raises(RuntimeError):
        pandoc.run(args, long, meanwhile=fails)
    assert time.monotonic() - start < 1.5  # pandoc was stopped, not waited for


def test_cached_parses_are_read_while_pandoc_parses_the_rest_and_a_damaged_one_is_parsed(
    tmp_path,
):
    from paperbuild import pandoc

    chapters = [(f"c{i}.md", f"# Chapter {i}\n\nWords of chapter *{i}*.\n") for i in range(3)]
    fresh = pandoc.parse_chapters(chapters)  # (no cache)
    keys = [pandoc.cache_key(text) for _, text in chapters]
    assert pandoc.parse_chapters(chapters[:2], tmp_path) == fresh[:2]  # 0 and 1 now cached
    (tmp_path / f"{keys[1]}.json").write_bytes(b'[{"t": "Para", "c": [')  # damaged
    assert pandoc.parse_chapters(chapters, tmp_path) == fresh  # 0 read, 1 and 2 parsed
    assert (tmp_path / f"{keys[1]}.json").read_bytes().startswith(b'[{"t":"Header"')  # mended
    assert (tmp_path / f"{keys[2]}.json").is_file()
