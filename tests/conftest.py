"""The suite's one conftest: the command line and git as a test runs them, projects written
from dicts, copies and drafts of the bundled paper, and builds made once for the render tests."""

from __future__ import annotations

import shutil
import signal
import subprocess
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from paperbuild.build import BuildOptions, build
from paperbuild.cli import cli
from paperbuild.render.common import RenderOptions

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seed" / "concept-note.txt"

if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    # A shell starts a background job (`pytest &`, a CI step run with `&`) with Ctrl-C ignored,
    # and every process the suite starts inherits that: the tests that interrupt a build would
    # then wait for a build that never hears them. A handler is not inherited across exec, so
    # the builds started from here get Ctrl-C's default again.
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def sealing_key_of_the_suite(tmp_path_factory):
    """Keep the key that seals cache files (`util/seal.py`) in a folder of the suite's, not in
    the account's ~/.cache (the builds the suite starts as processes find it there too)."""
    from paperbuild.util import seal

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        seal._key.cache_clear()
        yield
    seal._key.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def one_pandoc_kept():
    """Keep one pandoc process for the tests this worker runs, as `watch` does for its saves:
    hundreds of builds are made in this process (a command run as a process of its own starts
    one only to read several chapters)."""
    from paperbuild import pandoc

    with pandoc.keeping():
        yield
    pandoc.close_kept()


# --- the command line and git, as the tests run them --------------------------------------


def run(root: Path | None, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """Return the result of `paperbuild -C root ARGS` (no -C when root is None), run in this
    process; an exception that escapes the command's own guard fails the test where it is."""
    where = [] if root is None else ["-C", str(root)]
    return CliRunner().invoke(cli, [*where, *args], env=env, catch_exceptions=False)


GIT = ("git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false")


def git(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Return git's output in root, run as the tests' author; a failing git fails the test."""
    done = subprocess.run(
        [*GIT, *args], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def committed(root: Path, message: str = "draft", *add: str) -> Path:
    """Return root, made a git repository with its files committed (`add`: more options to
    `git add -A`, e.g. -f to commit ignored files too)."""
    git(root, "init", "-q")
    git(root, "add", "-A", *add)
    git(root, "commit", "-qm", message)
    return root


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


# --- drafts of the bundled paper (diff, feedback, workflow tests) -------------------------

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
    from paperbuild.load.project import load_project
    from paperbuild.versions import release

    release(load_project(root), "0.1")
    apply(root, EDITS)
    build(root, BuildOptions(formats=("docx",)))
    return root


# --- builds made once for the render tests ------------------------------------------------


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
