"""Draft snapshots under build/versions/<version>/, releases that freeze them, verification."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild import __version__, pandoc_ast
from paperbuild.assemble import Document, document_from_json, document_json_bytes
from paperbuild.checks import CheckResult
from paperbuild.errors import PaperbuildError
from paperbuild.load.project import Project, inside
from paperbuild.references import csl_path
from paperbuild.safety import loading_cache_dir, output_dir
from paperbuild.util.clock import build_datetime
from paperbuild.util.fsutil import keep, kept, write_atomic
from paperbuild.util.git import git

VERSIONS = "versions"
SAFE_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class ReleasedVersion(PaperbuildError):
    """A build or release would overwrite a released snapshot."""


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """One recorded draft, as listed by `paperbuild versions`."""

    version: str
    created: str
    words: int
    points_covered: int
    points_total: int
    released: bool
    path: Path

    def as_json(self) -> dict[str, Any]:
        """Return the snapshot as `versions --format json` lists it."""
        return {
            "version": self.version,
            "created": self.created,
            "words": self.words,
            "points_covered": self.points_covered,
            "points_total": self.points_total,
            "released": self.released,
        }


def versions_table(snaps: list[Snapshot]) -> str:
    """Return the recorded drafts as `paperbuild versions` prints them."""
    if not snaps:
        return "no drafts recorded yet; `paperbuild build` records one"
    lines = [f"{'version':<14} {'created':<21} {'words':>7}  {'points':>7}  released"]
    for s in snaps:
        points = f"{s.points_covered}/{s.points_total}"
        released = "yes" if s.released else ""
        lines.append(f"{s.version:<14} {s.created:<21} {s.words:>7}  {points:>7}  {released}")
    return "\n".join(lines)


def check_version_name(version: str) -> str:
    """Return the version if it can name a folder and a file, else raise PaperbuildError."""
    if not SAFE_VERSION.match(version) or ".." in version or len(version) > 64:
        raise PaperbuildError(
            f"version '{version}' cannot name a draft",
            hint="use letters, digits, '.', '-', '_' or '+', e.g. 0.2 or 2026-11-draft",
        )
    return version


def git_version(root: Path) -> str:
    """Return `git describe --tags --always --dirty` for the project, or raise."""
    out = git(root, "describe", "--tags", "--always", "--dirty")
    if out is None:
        raise PaperbuildError("cannot run git describe: git is missing or did not answer")
    if out.returncode != 0 or not out.stdout.strip():
        raise PaperbuildError(
            "version 'git' needs a git repository with at least one commit",
            hint="commit the paper, or give the version explicitly",
        )
    return out.stdout.strip()


def versions_dir(project: Project) -> Path:
    """Return build/versions/."""
    return project.build_dir / VERSIONS


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_hashes(project: Project) -> dict[str, str]:
    """Return the hash of every input the draft was made from."""
    hashes: dict[str, str] = {}
    for rel in ["outline.yaml", *(c.path for c in project.chapters)]:
        hashes[rel] = sha256_file(project.root / rel)
    for bib in project.outline.bibliographies:  # (one pandoc is not given, not UTF-8, too)
        if inside(project.root, project.root / bib) and (project.root / bib).is_file():
            hashes[bib] = sha256_file(project.root / bib)
    csl = csl_path(project)
    hashes[f"csl:{csl.name}"] = sha256_file(csl)
    return hashes


CORRUPT = "corrupt"


def read_manifest(path: Path) -> dict[str, Any] | None:
    """Return a snapshot's manifest; None when there is none, {"corrupt": …} when damaged.

    A damaged manifest may hide a release, so it is treated as one: never overwritten.
    """
    file = path / "manifest.json"
    if not file.is_file() and not file.is_symlink():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        return {CORRUPT: f"manifest.json cannot be read ({exc})", "released": True}
    if not isinstance(data, dict):
        return {CORRUPT: "manifest.json is not a JSON object", "released": True}
    for key in ("words", "points_covered", "points_total"):
        if key in data and not isinstance(data[key], int):
            return {CORRUPT: f"manifest.json has a non-number {key}", "released": True}
    return data


def ensure_not_released(project: Project, version: str) -> None:
    """Raise ReleasedVersion when this version's snapshot is released (before any writing)."""
    manifest = read_manifest(versions_dir(project) / version)
    if manifest and CORRUPT in manifest:
        raise ReleasedVersion(
            f"the record of version {version} is damaged: {manifest[CORRUPT]}; paperbuild will "
            "not overwrite what may be a released draft",
            hint=f"restore build/versions/{version}/manifest.json, or delete that folder if the "
            "draft was never released",
        )
    if manifest and manifest.get("released"):
        raise ReleasedVersion(
            f"version {version} is released (on {manifest.get('released_at', '?')}); "
            "its drafts are never overwritten",
            hint="set document.version in outline.yaml to the next version, or pass --version",
        )


@dataclass(frozen=True)
class Record:
    """A draft's snapshot, made but not yet written: its document's JSON and its manifest."""

    version: str
    data: bytes
    manifest: bytes


def snapshot_record(project: Project, document: Document, check: CheckResult) -> Record:
    """Return the snapshot of the draft that write_record puts under build/versions/."""
    # (orjson: a medium paper's snapshot in 6 ms against json's 100, which ran in pandoc's time
    # for the DOCX but not always within it, and after the PDF)
    data = document_json_bytes(document)
    by_section = {
        sid: sorted(
            p.id for p in project.outline.sections_by_id[sid].points if p.id in check.covered_ids
        )
        for sid in project.outline.sections_by_id
    }
    manifest = {
        "version": document.version,
        "created": _now(),
        "date": document.date.isoformat(),
        "paperbuild": __version__,
        "inputs": input_hashes(project),
        "words": sum(f.words for f in check.parsed.facts.values()),
        "points_covered": check.points_covered,
        "points_total": check.points_total,
        "coverage": by_section,
        "document_sha256": hashlib.sha256(data).hexdigest(),
        "released": False,
    }
    return Record(document.version, data, json.dumps(manifest, indent=2).encode("utf-8"))


def write_record(project: Project, record: Record) -> Path:
    """Write a snapshot under build/versions/<version>/ (refusing to touch a released one)."""
    folder = output_dir(project.root, versions_dir(project) / check_version_name(record.version))
    ensure_not_released(project, record.version)
    write_atomic(folder / "document.json", record.data)
    write_atomic(folder / "manifest.json", record.manifest)
    cache = loading_cache_dir(project.root, "versions")
    if cache is not None:  # (what this machine recorded: `recorded_here`)
        keep(_recorded_path(cache, record.version), _recorded(record.manifest))
    return folder


def _recorded_path(cache: Path, version: str) -> Path:
    """Return the cache file that notes the snapshot of a version written here."""
    return cache / f"snapshot-{hashlib.sha256(version.encode('utf-8')).hexdigest()[:16]}.json"


def _recorded(manifest: bytes) -> bytes:
    """Return the sealed note of a snapshot written here: its draft's digest and coverage, as
    its manifest gives them (`snapshot_record` hashed the draft)."""
    recorded = json.loads(manifest)
    return pandoc_ast.dumps(
        {"document_sha256": recorded["document_sha256"], "coverage": recorded.get("coverage")}
    )


def recorded_here(project: Project, version: str, manifest: dict[str, Any]) -> bool:
    """Return whether paperbuild wrote this version's snapshot on this machine, as it stands
    (its draft and the coverage its manifest gives): a snapshot that came in an archive, or was
    changed since, could match the sources' hashes and hold other text."""
    cache = loading_cache_dir(project.root, "versions")
    note = kept(_recorded_path(cache, version), dict) if cache is not None else None
    if note is None or note.get("coverage") != manifest.get("coverage"):
        return False
    folder = versions_dir(project) / version
    try:
        data = (folder / "document.json").read_bytes()
    except OSError:
        return False
    return bool(note.get("document_sha256") == hashlib.sha256(data).hexdigest())


def _now() -> str:
    return build_datetime().isoformat(timespec="seconds") + "Z"


def load_snapshot(folder: Path) -> tuple[Document, dict[str, Any]]:
    """Return the document and manifest recorded in a snapshot folder."""
    manifest = read_manifest(folder)
    try:
        data = pandoc_ast.loads((folder / "document.json").read_text(encoding="utf-8"))
        document = document_from_json(data)
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise PaperbuildError(
            f"the snapshot in {folder} cannot be read: {exc}",
            hint="rebuild that version, or delete the folder",
        ) from exc
    if manifest is None or CORRUPT in manifest:
        raise PaperbuildError(f"the snapshot in {folder} has no readable manifest.json")
    return document, manifest


def release(project: Project, version: str) -> Snapshot:
    """Freeze the recorded snapshot of a version; it is never overwritten afterwards."""
    folder = output_dir(project.root, versions_dir(project) / check_version_name(version))
    manifest = read_manifest(folder)
    if manifest is not None and CORRUPT in manifest:
        raise PaperbuildError(f"the record of version {version} is damaged: {manifest[CORRUPT]}")
    if manifest is None:
        raise PaperbuildError(
            f"there is no draft {version} to release",
            hint=f"run `paperbuild build --version {version}` first",
        )
    if manifest.get("released"):
        raise ReleasedVersion(
            f"version {version} is already released (on {manifest.get('released_at', '?')})"
        )
    current = input_hashes(project)
    if manifest.get("inputs") != current:
        changed = sorted(
            k
            for k in set(current) | set(manifest.get("inputs", {}))
            if current.get(k) != manifest.get("inputs", {}).get(k)
        )
        raise PaperbuildError(
            f"the sources changed since draft {version} was built ({', '.join(changed)})",
            hint=f"run `paperbuild build --version {version}` again, then release it",
        )
    manifest["released"] = True
    manifest["released_at"] = _now()
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
    return _snapshot(folder, manifest)


def _snapshot(folder: Path, manifest: dict[str, Any]) -> Snapshot:
    return Snapshot(
        version=str(folder.name if CORRUPT in manifest else manifest.get("version", folder.name)),
        created=str(manifest.get("created")),
        words=int(manifest.get("words", 0)),
        points_covered=int(manifest.get("points_covered", 0)),
        points_total=int(manifest.get("points_total", 0)),
        released=bool(manifest.get("released")),
        path=folder,
    )


def list_snapshots(project: Project) -> list[Snapshot]:
    """Return every recorded snapshot, oldest first."""
    root = versions_dir(project)
    found = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        manifest = read_manifest(folder)
        if folder.is_dir() and manifest is not None:
            found.append(_snapshot(folder, manifest))
    return sorted(found, key=lambda s: s.created)


def verify(project: Project) -> list[tuple[str, str]]:
    """Return (version, problem) for each released snapshot whose document changed."""
    problems = []
    for snap in list_snapshots(project):
        if not snap.released:
            continue
        manifest = read_manifest(snap.path) or {}
        if CORRUPT in manifest:
            problems.append((snap.version, str(manifest[CORRUPT])))
            continue
        try:
            actual = sha256_file(snap.path / "document.json")
        except OSError as exc:
            problems.append((snap.version, f"document.json cannot be read: {exc.strerror}"))
            continue
        if actual != manifest.get("document_sha256"):
            problems.append((snap.version, "document.json changed since it was released"))
    return problems
