"""`paperbuild init`: a new paper project from an outline, never overwriting a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paperbuild.errors import ConfigError
from paperbuild.load.outline import (
    OUTLINE_FILE,
    Outline,
    OutlineInvalid,
    Section,
    parse_outline,
    slugify,
)
from paperbuild.util.fsutil import write_atomic

EXAMPLE_OUTLINE = Path(__file__).parent / "templates" / "example-outline.yaml"
GITIGNORE = """# paperbuild's drafts, snapshots and caches: made from the sources, never committed
# (a cache git tracks is not read: `paperbuild check` warns with tracked-cache)
build/
"""
BIB_STUB = """% The paper's bibliography, in BibTeX (or BibLaTeX).
% Cite an entry in a chapter with [@key]; `paperbuild check` reports unknown and unused keys.
"""


@dataclass(frozen=True, kw_only=True)
class InitResult:
    """The files created and the files kept as they were."""

    created: tuple[Path, ...]
    kept: tuple[Path, ...]


def chapter_name(section: Section) -> str:
    """Return the chapter path for a section: paper/NN-first-words-of-title.md."""
    words = slugify(section.title).split("-")
    slug = "-".join(words[:5]) or "section"
    number = f"{int(section.id):02d}" if section.id.isdigit() else slugify(section.id) or "section"
    return f"paper/{number}-{slug}.md"


def chapter_stub(section: Section) -> str:
    """Return a new chapter: front matter, heading, and the points as a checklist comment."""
    lines = ["---", f"section: {section.id}", "---", "", f"# {section.title}", ""]
    if section.points:
        lines.append("<!-- Points this chapter must address. Mark the passage that addresses one")
        lines.append('     with {points="ID"} on a heading, a ::: div or a [span].')
        lines.append("")
        lines += [f"  [ ] {p.id}  {p.text}" for p in section.points]
        lines += ["-->", ""]
    return "\n".join(lines)


def init_project(target: Path, outline_file: Path | None = None) -> InitResult:
    """Create outline.yaml, references.bib, .gitignore and a chapter per section, if missing."""
    source = outline_file or EXAMPLE_OUTLINE
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {source}: {exc}", []) from exc
    try:
        outline = parse_outline(text, str(source) if outline_file else OUTLINE_FILE)
    except OutlineInvalid as exc:
        raise ConfigError(f"{source} is not a valid outline", exc.diagnostics) from exc
    files = {OUTLINE_FILE: text, "references.bib": BIB_STUB, ".gitignore": GITIGNORE}
    files.update(_chapters(outline))
    created, kept = [], []
    for rel, content in files.items():
        path = target / rel
        if path.exists():
            kept.append(path)
            continue
        write_atomic(path, content.encode("utf-8"))
        created.append(path)
    return InitResult(created=tuple(created), kept=tuple(kept))


def _chapters(outline: Outline) -> dict[str, str]:
    return {s.chapter or chapter_name(s): chapter_stub(s) for s in outline.sections}
