"""The parse stage: chapters parsed apart, in one pandoc process or several, to the same ASTs."""

from __future__ import annotations

import json
import os
import time

import pytest

from paperbuild import pandoc, pandoc_ast
from tests.conftest import run
from tests.render.readers import text_of


def runs_of(monkeypatch) -> list[tuple[str, bytes]]:
    """Return the list that records each parse pandoc runs: ('alone' or 'reader', its input),
    with no pandoc process kept (each parse then runs a pandoc of its own)."""
    monkeypatch.setenv(pandoc.KEPT_VARIABLE, "0")
    runs: list[tuple[str, bytes]] = []
    real = pandoc.run

    def counted(args, data=None, **kwargs):
        if tuple(args[: len(pandoc.READER_ARGS)]) == pandoc.READER_ARGS:  # (+ LaTeX's filter)
            runs.append(("alone", data))
        elif str(pandoc.READER) in args:
            runs.append(("reader", data))
        return real(args, data, **kwargs)

    real_told = pandoc._read_told

    def told(chapters, group, tell):  # (a group read by a process of its own, told as it reads)
        runs.append(("reader", pandoc_ast.dumps([chapters[i] for i in group])))
        return real_told(chapters, group, tell)

    monkeypatch.setattr(pandoc, "run", counted)
    monkeypatch.setattr(pandoc, "_read_told", told)
    return runs


@pytest.mark.slow
def test_chapters_parse_alike_alone_or_with_others_and_keep_their_notes(monkeypatch):
    """More chapters than cores go to the chapter reader, in a process a core (past
    PARSED_PER_PROCESS characters); a chapter parsed alone goes to pandoc's own reader; each
    way a chapter gets the same AST, and a footnote id stays its chapter's own."""
    body = "Words of a paragraph, *emphasised* and cited [@smith2020].[^1]\n\n" * 100
    chapters = [
        (f"{i:02}.md", f"# Chapter {i}\n\n{body}[^1]: Note of chapter {i}.\n") for i in range(6)
    ]
    assert sum(len(text) for _, text in chapters) > pandoc.PARSED_PER_PROCESS
    runs = runs_of(monkeypatch)
    together = pandoc.parse_chapters(chapters)
    assert {kind for kind, _ in runs} == {"reader"} and len(runs) == min(os.cpu_count() or 1, 4)
    runs.clear()
    alone = [pandoc.parse_chapters([chapter])[0] for chapter in chapters]
    assert runs == [("alone", text.encode()) for _, text in chapters]
    assert json.dumps(together) == json.dumps(alone)
    for i, blocks in enumerate(together):
        assert f"Note of chapter {i}." in text_of(blocks)


def test_no_more_chapters_than_cores_are_read_a_process_each(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    runs = runs_of(monkeypatch)
    pandoc.parse_chapters([("a.md", "One.\n"), ("b.md", "Two.\n")])
    assert sorted(runs) == [("alone", b"One.\n"), ("alone", b"Two.\n")]
    runs.clear()
    pandoc.parse_chapters([("a.md", "One.\n"), ("b.md", "Two.\n"), ("c.md", "Three.\n")])
    assert [kind for kind, _ in runs] == ["reader"]  # (a small paper: one process)


# What the reader's options decide: a space after an abbreviation (pandoc's library knows 28,
# its command line 80 from a data file), a tab in code, the widths of a table wider than the
# reader's columns (80 in the library, 72 on the command line).
OPTION_CASES = """\
Dr. Smith and No. 6, e.g. this, cf. that, Fig. 3 and Vol. 2 and pp. 4-5.

\tcode\twith\ttabs

```
\tfenced\ttab
```

-----------------------------------------------------------------------------
First column of a wide table                 Second column, wide as well here
-------------------------------------------- --------------------------------
one                                          two
-----------------------------------------------------------------------------

| a\t| b |
|---|---|
| 1\t| 2 |
"""

LIBRARY_READ = """\
local text = io.open(arg[1]):read("a")
io.write(pandoc.json.encode(pandoc.read(text, "markdown").blocks))
"""


@pytest.mark.parametrize("kept", [False, True], ids=["own process", "kept process"])
def test_a_chapter_reads_as_pandocs_library_reads_it(tmp_path, monkeypatch, kept):
    """The drafts were made from `pandoc.read(text, "markdown")` (a Lua reader, then): the
    command line given the library's options gives the very same AST, where its own defaults
    would not (each of the three options was dropped once to see this test fail), and so does
    the kept pandoc process, once it runs."""
    import subprocess

    if kept:
        pandoc.parse_chapters([("x.md", "x"), ("y.md", "y"), ("z.md", "z")])  # (it runs now)
        answered = pandoc._KEPT[0].answered
    else:
        monkeypatch.setenv(pandoc.KEPT_VARIABLE, "0")

    from tests.render.readers import pandoc_command

    (tmp_path / "case.md").write_text(OPTION_CASES, encoding="utf-8")
    (tmp_path / "read.lua").write_text(LIBRARY_READ, encoding="utf-8")
    library = subprocess.run(
        [*pandoc_command(), "lua", str(tmp_path / "read.lua"), str(tmp_path / "case.md")],
        capture_output=True,
        check=True,
    ).stdout
    ours = pandoc.parse_chapters([("case.md", OPTION_CASES)])[0]  # (one chapter alone)
    assert ours == json.loads(library)
    if kept:
        assert pandoc._KEPT[0].answered == answered + 1
    many = [(f"{i}.md", OPTION_CASES) for i in range(5)]  # (more than cores: the chapter reader)
    assert pandoc.parse_chapters(many) == [ours] * 5
    plain = pandoc.run(["-f", "markdown", "-t", "json"], OPTION_CASES.encode())
    assert json.loads(plain)["blocks"] != ours  # (the command line's own defaults differ)


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
    from paperbuild.util.seal import sealed

    chapters = [(f"c{i}.md", f"# Chapter {i}\n\nWords of chapter *{i}*.\n") for i in range(3)]
    fresh = pandoc.parse_chapters(chapters)  # (no cache)
    keys = [pandoc.cache_key(text) for _, text in chapters]
    assert pandoc.parse_chapters(chapters[:2], tmp_path) == fresh[:2]  # 0 and 1 now cached
    damaged = tmp_path / f"{keys[1]}.json"
    damaged.write_bytes(sealed(damaged, b'[{"t": "Para", "c": ['))  # (sealed: read past it)
    assert pandoc.parse_chapters(chapters, tmp_path) == fresh  # 0 read, 1 and 2 parsed
    assert (tmp_path / f"{keys[1]}.json").read_bytes().startswith(b'[{"t":"Header"')  # mended
    assert (tmp_path / f"{keys[2]}.json").is_file()


def test_a_pandoc_too_old_is_named_whatever_its_parse_made_of_the_chapters(mini, monkeypatch):
    # the version is checked while the chapters are parsed; the check's answer comes first
    from paperbuild import pandoc
    from paperbuild.errors import BuildError

    def old_pandoc(args, data=None, **kwargs):
        if list(args) == ["--version"]:
            return b"pandoc 2.11.4\nCompiled with pandoc-types 1.22\n"
        raise BuildError("pandoc failed: Unknown option --preserve-tabs.")

    root = mini()
    monkeypatch.setattr(pandoc, "run", old_pandoc)
    pandoc.version.cache_clear()
    try:
        result = run(root, "check")
    finally:
        pandoc.version.cache_clear()
    assert result.exit_code == 2, result.output
    assert "pandoc 2.11.4 is too old" in result.output
    assert "Unknown option" not in result.output


def test_each_chapter_is_told_as_its_group_is_read_cached_or_parsed(monkeypatch, tmp_path):
    """`each` sees every chapter's blocks, the ones returned, whichever group ends first."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(pandoc, "PARSED_PER_PROCESS", 10)  # (two reader processes)
    chapters = [(f"{i}.md", f"# Chapter {i}\n\nWords {i}.\n") for i in range(5)]
    for _ in range(2):  # parsed, then read from the cache
        told: dict[int, list] = {}
        found = pandoc.parse_chapters(chapters, tmp_path, None, told.__setitem__)
        assert [told[i] for i in range(5)] == found
        assert "Words 3." in text_of(found[3])


def test_when_two_groups_fail_the_first_chapters_failure_is_said(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv(pandoc.KEPT_VARIABLE, "0")
    real = pandoc.run

    def failing(args, data=None, **kwargs):
        if data and b"slow" in data:
            import time

            time.sleep(0.3)  # (the first chapter's pandoc ends last)
        if data and b"fails" in data:
            raise pandoc.BuildError(f"pandoc failed on {data.decode().split()[0]}")
        return real(args, data, **kwargs)

    monkeypatch.setattr(pandoc, "run", failing)
    with pytest.raises(pandoc.BuildError, match="on first"):
        pandoc.parse_chapters([("a.md", "first slow fails\n"), ("b.md", "second fails\n")])


LATEX_CASE = (
    "As \\citet{smith2020} shows \\cite[p.~4]{smith2020, doe2019}, \\emph{orchards}"
    "\\footnote{A note in \\textbf{LaTeX}.} matter; \\url{https://example.org}.\n\n"
    "# A heading \\footnote{In a heading.}\n\nA claim.[^n] Kept raw: \\input{x} \\ref{fig:a}.\n\n"
    "[^n]: A note with \\footnote{an inner one}.\n"
)


def test_latex_in_a_chapter_reads_alike_alone_with_others_or_by_the_kept_process(monkeypatch):
    """A chapter read alone goes to pandoc's command line, several to the chapter reader, and
    the kept process's reader: each reads the LaTeX through the same filter (lua/latex.lua;
    before it, a chapter read alone kept its \\cite and \\emph raw, and the others did not)."""
    runs = runs_of(monkeypatch)
    alone = pandoc.parse_chapters([("a.md", LATEX_CASE)])[0]
    together = pandoc.parse_chapters([(f"{i}.md", LATEX_CASE) for i in range(3)])
    assert [kind for kind, _ in runs] == ["alone", "reader"]
    assert together == [alone] * 3
    monkeypatch.delenv(pandoc.KEPT_VARIABLE)
    with pandoc.keeping():
        before = pandoc._KEPT[0].answered if pandoc._KEPT else 0
        kept = pandoc.parse_chapters([("a.md", LATEX_CASE)])[0]
        assert pandoc._KEPT and pandoc._KEPT[0].answered == before + 1  # (it, not a fallback)
    assert kept == alone
    text = json.dumps(alone)
    kinds = [n.get("t") for n in _walk(alone)]
    assert kinds.count("Cite") == 3 and kinds.count("Note") == 4 and "Emph" in kinds
    assert "\\\\cite" not in text and "\\\\emph" not in text and "\\\\footnote" not in text
    raw = [n["c"][1] for n in _walk(alone) if n.get("t") == "RawInline"]
    assert raw == ["\\input{x}"]  # (\\ref{fig:a} is read as [-@fig:a])


def _walk(value):
    if isinstance(value, list):
        for v in value:
            yield from _walk(v)
    elif isinstance(value, dict):
        if "t" in value:
            yield value
        yield from _walk(value.get("c"))


def test_a_groups_first_chapters_are_told_while_its_pandoc_reads_the_rest(monkeypatch):
    """One pandoc process reads a group of chapters; each chapter is looked into as soon as it
    is read (its facts found while pandoc reads the next), not when the process ends."""
    from paperbuild import pandoc

    chapters = [
        ("a.md", "# First\n\nWords of the first chapter.[^1]\n\n[^1]: A note.\n"),
        ("b.md", "# Second\n\n" + "Many more words in a long chapter. " * 40_000),
    ]
    monkeypatch.setattr(pandoc, "workers", lambda: 1)  # (one group, one process)
    monkeypatch.setenv(pandoc.KEPT_VARIABLE, "0")  # (a process of its own, as a command runs)
    told: dict[int, float] = {}

    def each(i: int, blocks: list) -> None:
        told[i] = time.monotonic()

    parsed = pandoc.parse_chapters(chapters, each=each)
    ended = time.monotonic()
    assert sorted(told) == [0, 1]
    assert ended - told[0] > 0.3  # (told while pandoc still read the long chapter)
    for (name, text), blocks in zip(chapters, parsed, strict=True):  # as pandoc reads each alone
        assert blocks == pandoc.parse_chapters([(name, text)])[0]


@pytest.mark.parametrize("limit", ["time", "reader"])
def test_a_group_read_chapter_by_chapter_keeps_pandocs_limits_and_messages(
    monkeypatch, tmp_path, limit
):
    """The process that tells a group's chapters one by one is held to the time limit, and
    says why it failed, as every pandoc run is; it is not left running. (Its memory limit is
    run's: pandoc's Lua engine, short of heap, keeps collecting until the time limit.)"""
    from paperbuild import pandoc
    from paperbuild.errors import BuildError

    monkeypatch.setattr(pandoc, "workers", lambda: 1)
    monkeypatch.setenv(pandoc.KEPT_VARIABLE, "0")
    chapters = [("a.md", "# First\n\nWords.\n"), ("b.md", "# Second\n\nMore words.\n")]
    if limit == "time":
        monkeypatch.setenv(pandoc.TIMEOUT_VARIABLE, "2")
        chapters.append(("c.md", "[a](" * 50_000 + "\n"))
        expected = "did not finish within 2 s"
    else:
        reader = tmp_path / "broken.lua"
        reader.write_text('function Reader(input, opts) error("the reader broke") end\n')
        monkeypatch.setattr(pandoc, "READER", reader)
        expected = "the reader broke"
    began = time.monotonic()
    with pytest.raises(BuildError) as caught:
        pandoc.parse_chapters(chapters)
    assert expected in caught.value.message, caught.value.message
    assert time.monotonic() - began < 20
    with pandoc._RUNNING_LOCK:
        assert not [p for p in pandoc._RUNNING if p.poll() is None]
