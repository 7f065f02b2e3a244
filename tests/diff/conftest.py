"""Two drafts of the bundled paper: 0.1 as shipped, 0.2 with edits in several chapters."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paperbuild.build import BuildOptions, build
from tests.conftest import REPO

EDITS = [
    ("outline.yaml", 'version: "0.1"', 'version: "0.2"'),
    # words inserted
    (
        "paper/01-patterns.md",
        "runs from 2000 to 2008.",
        "runs from 2000 to 2008, eight years of rapid change.",
    ),
    # a paragraph deleted
    (
        "paper/05-protection.md",
        "In one region, Europe, children who have been identified and intercepted, either as "
        "likely victims\nof traffickers or as possible victims of other abuse, are reported "
        "to leave the residential care\nhomes to which they are sent in considerable numbers.\n\n",
        "",
    ),
    # a paragraph added
    (
        "paper/07-coordination.md",
        '::: {points="7.3"}',
        "A new paragraph on referral records explains how caseworkers share files.\n\n"
        '::: {points="7.3"}',
    ),
    # a footnote's text changed
    (
        "paper/04-prevention.md",
        "published every year since 2001.",
        "published every June since 2001.",
    ),
    # a point newly covered and a citation added
    ("paper/03-law-enforcement.md", '{points="3.4"}', '{points="3.4 3.5"}'),
    (
        "paper/03-law-enforcement.md",
        "increasing these rates.",
        "increasing these rates [@us-tip-report].",
    ),
]


def copy_bundled(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "paper", root / "paper")
    shutil.copy(REPO / "outline.yaml", root)
    shutil.copy(REPO / "references.bib", root)
    return root


def apply(root: Path, edits) -> None:
    for rel, old, new in edits:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="session")
def two_drafts(tmp_path_factory) -> Path:
    """Return a project with draft 0.1 built and released, then draft 0.2 built."""
    root = copy_bundled(tmp_path_factory.mktemp("drafts") / "paper")
    build(root, BuildOptions(formats=("docx",)))
    from paperbuild.project import load_project
    from paperbuild.versions import release

    release(load_project(root), "0.1")
    apply(root, EDITS)
    build(root, BuildOptions(formats=("docx",)))
    return root
