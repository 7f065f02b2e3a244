"""The pandoc process kept between conversions: it makes the very drafts a pandoc process of
their own makes, reads again what changed on disk, keeps its limits, and is replaced when it
dies."""

from __future__ import annotations

import io
import os
import signal
import tempfile
import time
import zipfile

import pytest
from PIL import Image

from paperbuild import pandoc
from paperbuild.build import BuildOptions, build
from paperbuild.errors import BuildError
from paperbuild.render import pdf
from tests.processes import HAS_PROC, alive

CHAPTER = """---
section: 1
---

# First section

::: {points="1.1"}
Apples grow in orchards [@smith2020].[^1] Their yield is $y = a x^2$, and a paragraph this
long is written on one line of the Typst source, as the template's layout wants it.
:::

![An orchard.](orchard.png){#fig-orchard}

| Tree | Apples |
|------|-------:|
| One  |     12 |

```python
def pick(tree):
    return tree.apples
```

[^1]: First note, with *emphasis*.
"""


@pytest.fixture(autouse=True)
def no_process_kept_yet():
    """Start and end each test with no pandoc process kept (nor a failure to start one)."""
    pandoc.close_kept()
    yield
    pandoc.close_kept()


def colour_png(rgb: tuple[int, int, int]) -> bytes:
    """Return a 16-pixel square PNG of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), rgb).save(out, format="PNG")
    return out.getvalue()


def pandoc_runs(monkeypatch) -> list[tuple[str, ...]]:
    """Return the list that records the arguments of each pandoc process of its own."""
    runs: list[tuple[str, ...]] = []
    real = pandoc.run

    def counted(args, data=None, **kwargs):
        runs.append(tuple(args))
        return real(args, data, **kwargs)

    real_told = pandoc._read_told

    def told(chapters, group, tell):  # (the chapter reader, its chapters told as it reads)
        runs.append(("-f", str(pandoc.READER), "-t", "json"))
        return real_told(chapters, group, tell)

    monkeypatch.setattr(pandoc, "run", counted)
    monkeypatch.setattr(pandoc, "_read_told", told)
    return runs


def drafts(root) -> tuple[bytes, bytes]:
    """Return the bytes of the DOCX and the PDF built now."""
    build(root, BuildOptions(formats=("docx", "pdf")))
    out = root / "build"
    return next(out.glob("*.docx")).read_bytes(), next(out.glob("*.pdf")).read_bytes()


def typst_sources(monkeypatch) -> list[str]:
    """Return the list that records each Typst source pandoc writes for a PDF."""
    sources: list[str] = []
    real = pdf.typst_source

    def recorded(*args, **kwargs):
        sources.append(real(*args, **kwargs))
        return sources[-1]

    monkeypatch.setattr(pdf, "typst_source", recorded)
    return sources


@pytest.mark.slow
def test_the_kept_process_makes_the_drafts_a_process_of_their_own_makes(mini, monkeypatch):
    """Every read and write of a cold build (chapters, DOCX, Typst) goes to the kept process,
    and both drafts are the same, byte for byte, as those made with none kept."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # (both chapters to one reader)
    root = mini({"paper/01-first.md": CHAPTER, "paper/orchard.png": colour_png((0, 128, 0))})
    runs = pandoc_runs(monkeypatch)
    sources = typst_sources(monkeypatch)  # (a PDF hides how the source's lines are wrapped)
    monkeypatch.setenv(pandoc.KEPT_VARIABLE, "0")
    alone = drafts(root)
    assert {"docx", "typst"} <= {a[a.index("-t") + 1] for a in runs if "-t" in a}
    assert [a for a in runs if str(pandoc.READER) in a], runs
    (root / "build").rename(root / "build-alone")
    runs.clear()
    monkeypatch.delenv(pandoc.KEPT_VARIABLE)
    pandoc.close_kept()
    kept = drafts(root)
    writes = [a for a in runs if "docx" in a or "--template" in a]  # (the drafts' writes)
    reads = [a for a in runs if a == pandoc.READER_ARGS or str(pandoc.READER) in a]
    assert writes == [] and reads == [], runs
    assert sources[0] == sources[1], "the Typst sources differ"
    assert kept[0] == alone[0], "the DOCX differs"
    assert kept[1] == alone[1], "the PDF differs"


def test_an_image_replaced_between_two_writes_is_the_one_in_the_second(tmp_path):
    """pandoc keeps each image it fetched in its media bag: a kept process must forget them
    between writes, or a draft written after a figure changed on disk would show the old one
    (and a long `watch` would hold every figure it ever wrote)."""
    data = pandoc_json(b"![A figure.](figure.png)")
    args = ["-f", "json", "-t", "docx"]
    for rgb in ((0, 128, 0), (200, 0, 0)):
        (tmp_path / "figure.png").write_bytes(colour_png(rgb))
        docx = pandoc.convert("write", data, {"to": "docx"}, args, cwd=tmp_path)
        with zipfile.ZipFile(io.BytesIO(docx)) as package:
            media = [n for n in package.namelist() if n.startswith("word/media/")]
            assert len(media) == 1, package.namelist()
            image = Image.open(io.BytesIO(package.read(media[0]))).convert("RGB")
        assert image.getpixel((8, 8)) == rgb
    assert pandoc._KEPT[0].answered >= 2


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROC, reason="needs Linux's /proc")
def test_a_kept_process_that_died_is_replaced_and_the_draft_still_made(mini):
    root = mini()
    drafts(root)
    first = pandoc._KEPT[0]._proc.pid
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(first) and time.monotonic() < deadline:
        time.sleep(0.01)
    chapter = root / "paper/01-first.md"
    chapter.write_text(chapter.read_text().replace("Apples grow", "Red apples grow"))
    docx, _ = drafts(root)
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        assert "Red apples grow" in package.read("word/document.xml").decode()
    assert pandoc._KEPT[0]._proc.pid != first


def test_a_request_pandoc_refuses_gets_its_own_words_and_the_process_goes_on():
    data = pandoc_json(b"Some *words*.")
    with pytest.raises(BuildError, match="Unknown output format nosuch"):
        pandoc.convert("write", data, {"to": "nosuch"}, ["-f", "json", "-t", "nosuch"])
    kept = pandoc._KEPT[0]
    answered = kept.answered
    out = pandoc.convert("write", data, {"to": "html"}, ["-f", "json", "-t", "html"])
    assert out == b"<p>Some <em>words</em>.</p>" and kept.answered == answered + 1


@pytest.mark.slow
def test_the_time_limit_holds_in_the_kept_process_and_the_next_request_starts_another(
    monkeypatch,
):
    monkeypatch.setenv(pandoc.TIMEOUT_VARIABLE, "1")
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # (the two chapters to one reader)
    pathological = "[a](" * 50000
    began = time.monotonic()
    with pytest.raises(BuildError, match="did not finish within 1 s"):
        pandoc.parse_chapters([("a.md", pathological), ("b.md", "Fine.\n")])
    assert time.monotonic() - began < 10
    assert not pandoc._KEPT[0].answered  # (the one that looped was stopped; none runs now)
    assert pandoc.parse_chapters([("b.md", "Fine.\n"), ("c.md", "Too.\n")])[1][0]["t"] == "Para"
    assert pandoc._KEPT[0].answered == 1


def pandoc_json(markdown: bytes) -> bytes:
    """Return pandoc's JSON of some Markdown."""
    return pandoc.run(["-f", "markdown", "-t", "json"], markdown)


def test_a_pandoc_that_cannot_serve_is_run_each_time_instead(monkeypatch, tmp_path):
    """A pandoc whose `pandoc lua` cannot run the server (an older one, say) is not asked
    again: each conversion runs a pandoc process of its own."""
    monkeypatch.setattr(pandoc, "SERVE", tmp_path / "missing.lua")
    runs = pandoc_runs(monkeypatch)
    data = pandoc_json(b"Some *words*.")
    for _ in range(2):
        out = pandoc.convert("write", data, {"to": "html"}, ["-f", "json", "-t", "html"])
        assert out.strip() == b"<p>Some <em>words</em>.</p>"
    assert [a for a in runs if "html" in a] == [("-f", "json", "-t", "html")] * 2
    assert pandoc._KEPT_OFF and pandoc._kept() is None


def test_a_single_command_keeps_no_process(monkeypatch):
    """Outside `watch` (and the tests), a kept process would cost what a pandoc of its own
    costs, plus starting Lua: every conversion runs a pandoc of its own."""
    monkeypatch.setattr(pandoc, "_KEEPING", [])
    runs = pandoc_runs(monkeypatch)
    data = pandoc_json(b"Some *words*.")
    html = ["-f", "json", "-t", "html"]
    pandoc.convert("write", data, {"to": "html"}, html)
    chapters = [("a.md", "One.\n"), ("b.md", "Two.\n"), ("c.md", "Three.\n")]
    pandoc.parse_chapters(chapters)
    assert tuple(html) in runs and [a for a in runs if str(pandoc.READER) in a]
    assert not pandoc._KEPT


def test_a_kept_process_stopped_leaves_nothing_in_the_temporary_folder(monkeypatch, tmp_path):
    """`pandoc lua` makes a history file in the temporary folder and removes it only when it
    ends on its own: a kept process, which is stopped, leaves none behind."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = pandoc_json(b"Some *words*.")
    for _ in range(2):
        out = pandoc.convert("write", data, {"to": "html"}, ["-f", "json", "-t", "html"])
        assert out.strip() == b"<p>Some <em>words</em>.</p>"
    kept = pandoc._KEPT[0]
    assert kept.answered == 2 and kept.env["TMPDIR"] == str(tmp_path)
    pandoc.close_kept()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
