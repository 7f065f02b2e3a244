"""The redline invariant on a long multi-chapter pair (the benchmark's medium paper, edited)."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from paperbuild.build import BuildOptions, build
from paperbuild.diff.redline import DiffOptions, write_diff
from paperbuild.diff.sides import resolve_side
from paperbuild.load.project import load_project
from tests.conftest import REPO
from tests.render.readers import pandoc_command

spec = importlib.util.spec_from_file_location("generate", REPO / "bench" / "generate.py")
generate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate)


def words(path, track="accept") -> list[str]:
    out = subprocess.run(
        [*pandoc_command(), "-f", "docx", f"--track-changes={track}", str(path), "-t", "json"],
        capture_output=True,
        check=True,
    ).stdout
    found, stack = [], [json.loads(out)["blocks"]]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(reversed(v))
        elif isinstance(v, dict):
            if v.get("t") == "Str":
                found.append(v["c"])
            elif "c" in v:
                stack.append(v["c"])
    return found


@pytest.mark.slow
def test_long_pair_accepts_to_new_and_rejects_to_old(tmp_path):
    v1 = generate.generate(tmp_path / "v1", "medium")
    v2 = generate.edit(v1, tmp_path / "v2", share=0.08)
    old = build(v1, BuildOptions(formats=("docx",))).outputs[0]
    new = build(v2, BuildOptions(formats=("docx",))).outputs[0]
    project = load_project(v2)
    summary, written = write_diff(
        project,
        resolve_side(str(v1), project, v2),
        resolve_side(".", project, v2),
        DiffOptions(out_dir=tmp_path / "out", formats=("docx",)),
    )
    red = written[0]
    assert summary.total.words_added > 100 and summary.total.words_removed > 100
    assert words(red, "accept") == words(new)
    assert words(red, "reject") == words(old)
