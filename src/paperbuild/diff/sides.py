"""The two drafts a diff compares: a version, a git ref, a project folder or one Markdown file."""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperbuild import __version__
from paperbuild.assemble import Document, TocEntry, assemble, build_date
from paperbuild.checks import CheckResult, run_checks
from paperbuild.cite import resolve_citations
from paperbuild.errors import PaperbuildError
from paperbuild.load.bibliography import Entry
from paperbuild.load.outline import DocumentMeta
from paperbuild.load.project import CHAPTER_SUFFIXES, Project, load_project
from paperbuild.safety import git_tracks
from paperbuild.util.git import git
from paperbuild.versions import (
    input_hashes,
    load_snapshot,
    read_manifest,
    recorded_here,
    versions_dir,
)


@dataclass(frozen=True, kw_only=True)
class Side:
    """One draft of a comparison, with what its summary needs."""

    label: str
    document: Document
    coverage: dict[str, frozenset[str]] = field(default_factory=dict)  # section -> point ids
    entries: dict[str, Entry] = field(default_factory=dict)


def safe_label(text: str) -> str:
    """Return text usable in a file name."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-") or "draft"


def side_from_project(project: Project, label: str, result: CheckResult | None = None) -> Side:
    """Return the draft the project's sources make now (reusing a check that kept the ASTs).

    When the last build recorded a snapshot of exactly these inputs, made by this paperbuild,
    that snapshot is the draft: nothing is assembled or cited again.
    """
    recorded = _recorded_draft(project, label)
    if recorded is not None:
        return recorded
    if result is None or not result.parsed.blocks:
        result = run_checks(project, with_blocks=True)
    document = resolve_citations(assemble(result.parsed), project)
    coverage = {
        s.id: frozenset(p.id for p in s.points if p.id in result.covered_ids)
        for s in project.outline.sections
    }
    entries = bibliography_entries(project)
    return Side(label=label, document=document, coverage=coverage, entries=entries)


def _recorded_draft(project: Project, label: str) -> Side | None:
    """Return the snapshot of the outline's version if its inputs are the project's current ones.

    Not when git tracks that snapshot, nor when this machine did not write it as it stands: a
    pull request or an archive could bring one whose manifest matches its sources and whose
    draft does not (a redline that hides what it changed).
    """
    version = project.outline.document.version
    folder = versions_dir(project) / version
    if git_tracks(project.root, folder.relative_to(project.root).as_posix()):
        return None
    manifest = read_manifest(folder)  # the small part first: the document only if it matches
    if not manifest or manifest.get("paperbuild") != __version__:
        return None
    if manifest.get("inputs") != input_hashes(project):
        return None
    if not recorded_here(project, version, manifest):
        return None
    try:
        document, manifest = load_snapshot(folder)
    except PaperbuildError:
        return None
    return _side(project, label, document, manifest)


def _from_snapshot(project: Project, version: str) -> Side:
    document, manifest = load_snapshot(versions_dir(project) / version)
    return _side(project, version, document, manifest)


def _side(project: Project, label: str, document: Document, manifest: dict[str, Any]) -> Side:
    coverage = {sid: frozenset(ids) for sid, ids in (manifest.get("coverage") or {}).items()}
    entries = bibliography_entries(project)
    return Side(label=label, document=document, coverage=coverage, entries=entries)


def _said(proc: subprocess.CompletedProcess[Any] | None) -> str:
    """Return what git wrote to stderr, as text."""
    if proc is None:
        return ""
    err = proc.stderr
    return (err.decode("utf-8", "replace") if isinstance(err, bytes) else err or "").strip()


def _commit(root: Path, ref: str) -> str:
    """Return the commit a ref names, checked by git (an option-like ref is refused)."""
    if not ref or ref.startswith("-") or any(ch in ref for ch in "\0\n"):
        raise PaperbuildError(
            f"'{ref[:60]}' is not a git ref", hint="name a commit, tag or branch, e.g. git:v1"
        )
    proc = git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    commit = proc.stdout.strip() if proc is not None else ""
    if proc is None or proc.returncode != 0 or not commit:
        raise PaperbuildError(
            f"cannot read git ref '{ref}': no such commit, tag or branch",
            hint="name a commit, tag or branch of this repository",
        )
    return commit


def _from_git(project: Project, ref: str) -> Side:
    """Return the draft as committed at ref, read with `git archive` (the work tree untouched)."""
    shown = git(project.root, "rev-parse", "--show-prefix")
    if shown is None or shown.returncode != 0:
        raise PaperbuildError(
            f"cannot read git ref '{ref}': {_said(shown) or 'git did not answer'}",
            hint="run paperbuild inside a git repository, with git installed",
        )
    prefix = shown.stdout.strip()
    commit = _commit(project.root, ref)
    archive = git(project.root, "archive", "--format=tar", commit, "--", prefix or ".", binary=True)
    if archive is None or archive.returncode != 0:
        raise PaperbuildError(
            f"cannot read git ref '{ref}': {_said(archive) or 'git did not answer'}",
            hint="name a commit, tag or branch of this repository",
        )
    data = archive.stdout
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(tmp, filter="data")
        except tarfile.TarError as exc:  # e.g. a link that leaves the tree
            raise PaperbuildError(
                f"git ref '{ref}' holds a file paperbuild will not unpack: {exc}",
                hint="remove links that point outside the repository from that commit",
            ) from exc
        root = Path(tmp) / prefix
        if not (root / "outline.yaml").is_file():
            raise PaperbuildError(f"git ref '{ref}' has no outline.yaml at {prefix or 'the top'}")
        return side_from_project(load_project(root), f"git-{ref}")


def _from_markdown(path: Path, project: Project | None) -> Side:
    from paperbuild import pandoc
    from paperbuild.load.chapters import chunks_as_code, decode, split_front_matter

    text, problem = decode(path.read_bytes(), str(path))
    if text is None:
        raise PaperbuildError(f"cannot read {path}: {problem.message if problem else ''}")
    _, body, _ = split_front_matter(text, str(path))
    blocks = pandoc.parse_chapters([(path.name, chunks_as_code(body))])[0]
    meta = (
        project.outline.document
        if project
        else DocumentMeta(title=path.stem, author="", status="", version=path.stem)
    )
    document = Document(
        meta=meta,
        blocks=blocks,
        date=build_date(meta),
        version=path.stem,
        toc=(TocEntry(level=1, number="1", title=path.stem, anchor=""),),
    )
    return Side(label=path.stem, document=document)


def resolve_side(spec: str, project: Project | None, start: Path) -> Side:
    """Return the draft named by spec: git:REF, a folder, a .md file, or a version name."""
    if spec.startswith("git:"):
        if project is None:
            raise PaperbuildError("git: drafts need a paper project", hint="run inside one")
        return _from_git(project, spec[4:])
    path = (start / spec).resolve()
    if path.is_dir():
        if not (path / "outline.yaml").is_file():
            raise PaperbuildError(f"{spec} is a folder without outline.yaml")
        if project is not None and path == project.root.resolve():
            return side_from_project(project, safe_label(path.name))  # already loaded
        return side_from_project(load_project(path), safe_label(path.name))
    if path.is_file() and path.suffix.lower() in CHAPTER_SUFFIXES:
        return _from_markdown(path, project)
    if project is not None and (versions_dir(project) / spec / "manifest.json").is_file():
        return _from_snapshot(project, spec)
    known = []
    if project is not None and versions_dir(project).is_dir():
        known = sorted(p.name for p in versions_dir(project).iterdir() if p.is_dir())
    raise PaperbuildError(
        f"'{spec}' is not a recorded version, a git ref (git:REF), a folder or a Markdown file",
        hint=f"recorded versions: {', '.join(known)}"
        if known
        else "build a draft first (`paperbuild build`) to record its version",
    )


def bibliography_entries(project: Project) -> dict[str, Entry]:
    """Return the bibliography's entries by key (none from one pandoc must not be given)."""
    if project.bibliography.oversized:  # (the check reports it)
        return {}
    return {e.key: e for e in project.bibliography.entries}
