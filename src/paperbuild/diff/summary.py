"""The change summary: per section, words and paragraphs changed, notes, citations, coverage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.assemble import Part
from paperbuild.diff.align import Stats
from paperbuild.load.bibliography import Entry
from paperbuild.references import format_references


@dataclass(frozen=True, kw_only=True)
class SectionChange:
    """What changed in one section."""

    id: str
    title: str
    stats: Stats
    points_gained: tuple[str, ...] = ()
    points_lost: tuple[str, ...] = ()
    citations_added: tuple[tuple[str, str], ...] = ()
    citations_removed: tuple[tuple[str, str], ...] = ()
    samples: tuple[tuple[str, str], ...] = ()  # the first changes: ("insertion"|"deletion", text)

    def details(self, limit: int = 60) -> list[str]:
        """Return what changed, in words: points, notes, citations, the first changes quoted."""
        found = []
        if self.points_gained:
            found.append(f"Points now covered: {', '.join(self.points_gained)}")
        if self.points_lost:
            found.append(f"Points no longer covered: {', '.join(self.points_lost)}")
        if self.stats.notes_added or self.stats.notes_removed:
            found.append(f"Notes: +{self.stats.notes_added}, −{self.stats.notes_removed}")
        found += [f"Citation added: {text}" for _, text in self.citations_added]
        found += [f"Citation removed: {text}" for _, text in self.citations_removed]
        for kind, text in self.samples:
            shown = text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
            found.append(f"{'Added' if kind == 'insertion' else 'Removed'}: “{shown}”")
        return found

    @property
    def label(self) -> str:
        """Return the section's number and title (the title page has no number)."""
        return f"{self.id} {self.title}".strip()

    @property
    def changed(self) -> bool:
        """Return True when anything changed in the section."""
        return bool(
            self.stats.changed
            or self.points_gained
            or self.points_lost
            or self.citations_added
            or self.citations_removed
        )


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What changed between two drafts."""

    old: str
    new: str
    sections: tuple[SectionChange, ...]
    total: Stats = field(default_factory=Stats)

    @property
    def changed(self) -> bool:
        """Return True when the drafts differ."""
        return any(s.changed for s in self.sections)

    def headline(self, old_label: str, new_label: str) -> str:
        """Return the one line `paperbuild diff` prints: what was compared, how much changed."""
        t = self.total
        what = (
            f"+{t.words_added} −{t.words_removed} words, {t.paragraphs_changed} "
            f"paragraph{'' if t.paragraphs_changed == 1 else 's'} changed"
            if self.changed
            else "no changes"
        )
        return f"{old_label} → {new_label}: {what}"

    def as_json(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""

        def section(s: SectionChange) -> dict[str, Any]:
            return {
                "id": s.id,
                "title": s.title,
                **asdict(s.stats),
                "points_gained": list(s.points_gained),
                "points_lost": list(s.points_lost),
                "citations_added": [{"key": k, "reference": t} for k, t in s.citations_added],
                "citations_removed": [{"key": k, "reference": t} for k, t in s.citations_removed],
            }

        return {
            "old": self.old,
            "new": self.new,
            "changed": self.changed,
            "sections": [section(s) for s in self.sections if s.changed],
            "total": asdict(self.total),
        }


def cited_keys(part: Part | None) -> set[str]:
    """Return the bibliography keys cited in a part (from the rendered citation spans)."""
    keys: set[str] = set()
    for node in pa.walk(part.blocks if part else []):
        if node["t"] == "Span" and pa.has_class(node, "citation"):
            keys.update((pa.attr(node) or pa.Attr()).get("data-cites").split())
    return keys


def works(keys: set[str], entries: dict[str, Entry], csl: Path, lang: str) -> dict[str, str]:
    """Return each key's reference as the drafts format it (pandoc's citeproc), in one run."""
    known = [entries[k] for k in sorted(keys) if k in entries]
    return dict(format_references(known, csl, lang)) if known else {}


def formatted(keys: set[str], done: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Return (key, formatted reference) for the keys, in key order; unknown keys as is."""
    return tuple((k, done.get(k, k)) for k in sorted(keys))


def markdown(summary: Summary) -> str:
    """Return the summary as Markdown: a table per section, then details, then the total."""
    lines = [f"# Changes from {summary.old} to {summary.new}", ""]
    if not summary.changed:
        return "\n".join([*lines, "No changes.", ""])
    lines += [
        "| Section | Words added | Words removed | Paragraphs changed | Notes added | "
        "Notes removed | Citations added | Citations removed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary.sections:
        if s.changed:
            st = s.stats
            lines.append(
                f"| {s.label} | {st.words_added} | {st.words_removed} | "
                f"{st.paragraphs_changed} | {st.notes_added} | {st.notes_removed} | "
                f"{len(s.citations_added)} | {len(s.citations_removed)} |"
            )
    t = summary.total
    lines.append(
        f"| **Total** | **{t.words_added}** | **{t.words_removed}** | "
        f"**{t.paragraphs_changed}** | **{t.notes_added}** | **{t.notes_removed}** | "
        f"**{sum(len(s.citations_added) for s in summary.sections)}** | "
        f"**{sum(len(s.citations_removed) for s in summary.sections)}** |"
    )
    for s in summary.sections:
        details = [f"- {d}" for d in s.details()] if s.changed else []
        if details:
            lines += ["", f"## {s.label}", "", *details]
    return "\n".join(lines) + "\n"
