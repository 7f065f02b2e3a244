"""Shared fixtures: a project written from a dict of files, and the bundled example paper."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seed" / "concept-note.txt"

MINI_OUTLINE = """\
document:
  title: A Small Paper
  author: A. Author
  status: Draft for the committee
  version: "1.0"
sections:
  - id: 1
    title: First section
    points:
      - id: "1.1"
        text: Something about apples and orchards
  - id: 2
    title: Second section
    points:
      - id: "2.1"
        text: Something about pears
"""

MINI_FILES = {
    "outline.yaml": MINI_OUTLINE,
    "references.bib": "@book{smith2020,\n  author = {Smith, Jane},\n  title = {Apples},\n"
    "  year = {2020},\n  publisher = {Orchard Press},\n}\n",
    "paper/01-first.md": "---\nsection: 1\n---\n\n# First section\n\n"
    '::: {points="1.1"}\nApples grow in orchards [@smith2020].[^1]\n:::\n\n[^1]: First note.\n',
    "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
    '[Pears too.]{points="2.1"}[^1]\n\n[^1]: Second note.\n',
}

ProjectFactory = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Return a function that writes a project from {relative path: text or bytes}."""

    def write(files: dict[str, str | bytes], base: dict[str, str | bytes] | None = None) -> Path:
        root = tmp_path / "paper-project"
        merged: dict[str, str | bytes | None] = {**(base or {}), **files}
        for rel, content in merged.items():
            if content is None:
                continue
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(
                    textwrap.dedent(content) if rel.endswith(".yaml") else content, encoding="utf-8"
                )
        root.mkdir(parents=True, exist_ok=True)
        return root

    return write  # type: ignore[return-value]


@pytest.fixture
def mini(make_project: Callable[..., Path]) -> Callable[..., Path]:
    """Return a function that writes the small two-section project with some files changed."""

    def write(changes: dict[str, str | bytes | None] | None = None) -> Path:
        return make_project(changes or {}, base=MINI_FILES)

    return write


@pytest.fixture
def bundled_copy(tmp_path: Path) -> Path:
    """Return a copy of the bundled example paper (outline, chapters, bibliography)."""
    root = tmp_path / "bundled"
    root.mkdir()
    shutil.copy(REPO / "outline.yaml", root / "outline.yaml")
    shutil.copy(REPO / "references.bib", root / "references.bib")
    shutil.copytree(REPO / "paper", root / "paper")
    return root
