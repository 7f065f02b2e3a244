"""The Typst compiler kept between builds (watch): the same PDF as a fresh compiler's, the same
limits, and a child that dies is replaced without a word."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from paperbuild.build import BuildOptions, build
from paperbuild.errors import BuildError
from paperbuild.render.typst_run import kept_compiler
from tests.processes import alive

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="a kept compiler needs fork")

PDF = BuildOptions(formats=("pdf",))
LOOP = "#for i in range(100000) { for j in range(100000) { } }"


def _edit(root: Path, old: str, new: str) -> None:
    chapter = root / "paper/01-first.md"
    chapter.write_text(chapter.read_text().replace(old, new, 1))


def test_each_draft_is_the_pdf_a_fresh_compiler_makes_and_one_child_compiles_them(
    mini, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    root = mini()
    with kept_compiler() as kept:
        assert kept is not None
        build(root, PDF)
        child = kept._pid
        _edit(root, "Apples", "Green apples")
        kept_pdf = build(root, PDF).outputs[0].read_bytes()
        assert kept.started == 1
    assert not alive(child), "the kept compiler outlived its session"
    fresh = build(root, PDF).outputs[0].read_bytes()  # a one-off child, as `build` uses
    assert kept_pdf == fresh


@pytest.fixture
def built(mini):
    """Yield (second chapter, its text, the kept compiler) after a first PDF build with it."""
    root = mini()
    chapter = root / "paper/02-second.md"
    with kept_compiler() as kept:
        assert kept is not None
        build(root, PDF)
        yield chapter, chapter.read_text(), kept


@pytest.mark.slow  # waits out a 2 s time limit
def test_a_looping_draft_meets_the_time_limit_and_the_next_draft_builds(built, monkeypatch):
    monkeypatch.setenv("PAPERBUILD_TYPST_TIMEOUT", "2")
    chapter, clean, kept = built
    root = chapter.parent.parent
    looping = kept._pid
    chapter.write_text(clean + f"\n```{{=typst}}\n{LOOP}\n```\n")
    with pytest.raises(BuildError, match="did not finish within 2 s"):
        build(root, PDF)
    assert not alive(looping)
    chapter.write_text(clean + "\nQuinces.\n")
    build(root, PDF)
    assert kept.started == 2


def test_a_compiler_that_died_is_replaced_and_the_draft_built(mini):
    root = mini()
    with kept_compiler() as kept:
        assert kept is not None
        build(root, PDF)
        assert kept._pid > 0  # (0 would signal this whole process group)
        os.kill(kept._pid, signal.SIGKILL)  # as the memory limit or the OOM killer would
        _edit(root, "Apples", "Quinces")
        out = build(root, PDF).outputs[0]
        assert kept.started == 2
    assert out.read_bytes().startswith(b"%PDF")


def test_a_failing_docx_stops_the_kept_compiler_and_the_next_build_starts_another(
    mini, monkeypatch
):
    from paperbuild.render import docx

    root = mini()
    real = docx.render_docx

    def failing(*args, **kwargs):
        raise BuildError("the DOCX failed")

    with kept_compiler() as kept:
        assert kept is not None
        build(root, PDF)
        first = kept._pid
        monkeypatch.setattr(docx, "render_docx", failing)
        with pytest.raises(BuildError, match="the DOCX failed"):
            build(root, BuildOptions(formats=("docx", "pdf")))
        assert not alive(first)
        monkeypatch.setattr(docx, "render_docx", real)
        outputs = build(root, BuildOptions(formats=("docx", "pdf"))).outputs
        assert [p.suffix for p in outputs] == [".docx", ".pdf"]
        assert kept.started == 2


def test_a_typst_error_names_its_chapter_line_and_the_same_compiler_goes_on(built):
    chapter, clean, kept = built
    root = chapter.parent.parent
    chapter.write_text(clean + "\n```{=typst}\n#let x = (\n```\n")
    line = len(clean.split("\n")) + 2  # (after a blank line and the fence)
    with pytest.raises(BuildError, match="unclosed delimiter") as failed:
        build(root, PDF)
    assert f"paper/02-second.md:{line}: #let x = (" in str(failed.value.hint)
    chapter.write_text(clean + "\nQuinces.\n")
    assert build(root, PDF).outputs[0].read_bytes().startswith(b"%PDF")
    assert kept.started == 1  # a compiler's error is not its death
