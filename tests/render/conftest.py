"""Build the bundled paper and the small project once for all render tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperbuild.build import BuildOptions, build
from paperbuild.render.common import RenderOptions
from tests.conftest import MINI_FILES, REPO


def _copy(tmp: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text, encoding="utf-8")
    return tmp


def _bundled(tmp: Path) -> Path:
    files = {
        "outline.yaml": (REPO / "outline.yaml").read_text(encoding="utf-8"),
        "references.bib": (REPO / "references.bib").read_text(encoding="utf-8"),
    }
    for chapter in (REPO / "paper").glob("*.md"):
        files[f"paper/{chapter.name}"] = chapter.read_text(encoding="utf-8")
    return _copy(tmp, files)


@pytest.fixture(scope="session")
def bundled_build(tmp_path_factory) -> dict[str, Path]:
    """Return {'docx': path, 'pdf': path} of the bundled paper, built once."""
    root = _bundled(tmp_path_factory.mktemp("bundled"))
    result = build(root, BuildOptions())
    return {p.suffix[1:]: p for p in result.outputs}


@pytest.fixture(scope="session")
def reviewed_build(tmp_path_factory) -> dict[str, Path]:
    """Return the bundled paper built with line numbers and a DRAFT watermark."""
    root = _bundled(tmp_path_factory.mktemp("reviewed"))
    options = BuildOptions(render=RenderOptions(line_numbers=True, watermark="DRAFT"))
    return {p.suffix[1:]: p for p in build(root, options).outputs}


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory) -> dict[str, Path]:
    """Return the small two-chapter project (both chapters use [^1]) built to DOCX and PDF."""
    root = _copy(tmp_path_factory.mktemp("mini"), MINI_FILES)
    return {p.suffix[1:]: p for p in build(root, BuildOptions()).outputs}
