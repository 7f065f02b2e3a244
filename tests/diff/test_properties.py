"""Property test: for random edit scripts, accept all = new and reject all = old (pandoc reads)."""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperbuild import pandoc
from paperbuild.diff.align import Differ
from paperbuild.render.tracked import track_paragraph_marks
from tests.render.readers import pandoc_command, walk

PARAGRAPHS = [
    "Children continue to be trafficked for commercial sexual exploitation.[^a]",
    "The plethora of new laws needs some comment, notably in some regions.",
    "Donors are reported to have become wary of prevention programmes.[^b]",
    "Interceptions based on crude profiles of likely victims are criticised here.",
]
NOTES = {"a": "A note on patterns since 2001.", "b": "The figure is the government's own."}
ITEMS = ["law enforcement cooperation", "family tracing and risk assessment", "repatriation"]
ROWS = [["Albania", "Greece"], ["Mali", "Côte d'Ivoire"]]
WORDS = ["new", "often", "children", "reported", "States", "(2007)"]


def render(paras: list[str], notes: dict[str, str], items: list[str], rows: list[list[str]]) -> str:
    parts = list(paras)
    parts.append("\n".join(f"- {i}" for i in items) or "Empty list.")
    parts.append(
        "| Country | Partner |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    )
    parts += [f"[^{k}]: {v}" for k, v in notes.items() if any(f"[^{k}]" in p for p in paras)]
    return "\n\n".join(parts) + "\n"


@st.composite
def edit_scripts(draw):
    paras, notes, items = list(PARAGRAPHS), dict(NOTES), list(ITEMS)
    rows = [list(r) for r in ROWS]
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(
            st.sampled_from(
                [
                    "insert-word",
                    "delete-word",
                    "note",
                    "drop-para",
                    "add-para",
                    "move-para",
                    "item",
                    "drop-item",
                    "cell",
                ]
            )
        )
        i = draw(st.integers(0, 10))
        if kind == "insert-word" and paras:
            words = paras[i % len(paras)].split(" ")
            words.insert(i % len(words), draw(st.sampled_from(WORDS)))
            paras[i % len(paras)] = " ".join(words)
        elif kind == "delete-word" and paras:
            words = paras[i % len(paras)].split(" ")
            if len(words) > 2:
                del words[i % (len(words) - 1)]
            paras[i % len(paras)] = " ".join(words)
        elif kind == "note":
            key = draw(st.sampled_from(sorted(notes)))
            notes[key] = notes[key].replace("since", "after") + " " + draw(st.sampled_from(WORDS))
        elif kind == "drop-para" and len(paras) > 1:
            del paras[i % len(paras)]
        elif kind == "add-para":
            paras.insert(
                i % (len(paras) + 1),
                "An added paragraph about " + draw(st.sampled_from(WORDS)) + " responses.",
            )
        elif kind == "move-para" and len(paras) > 1:
            paras.append(paras.pop(i % len(paras)))
        elif kind == "item":
            items.insert(i % (len(items) + 1), "a new item on " + draw(st.sampled_from(WORDS)))
        elif kind == "drop-item" and items:
            del items[i % len(items)]
        elif kind == "cell":
            rows[i % 2][i % 2 == 0] += " " + draw(st.sampled_from(WORDS))
    return render(paras, notes, items, rows)


def plain_words(blocks, track: str | None = None) -> list[str]:
    doc = {"pandoc-api-version": pandoc.api_version(), "meta": {}, "blocks": blocks}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.docx"
        path.write_bytes(pandoc.run(["-f", "json", "-t", "docx"], json.dumps(doc).encode()))
        tracked = docx.Document(str(path))
        track_paragraph_marks(tracked)  # as the redline's DOCX step does
        tracked.save(str(path))
        args = [*pandoc_command(), "-f", "docx", str(path), "-t", "json"]
        if track:
            args.append(f"--track-changes={track}")
        read = json.loads(subprocess.run(args, capture_output=True, check=True).stdout)
        # the words, footnotes included; pandoc's reader keeps an empty list item for a rejected
        # inserted item (it ignores the tracked paragraph mark that Word honours), so list
        # markers are not compared, only the words a reader reads
        return [n["c"] for n in walk(read["blocks"]) if n["t"] == "Str"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit_scripts())
@pytest.mark.slow
def test_redline_invariant_under_random_edits(new_text):
    old_text = render(PARAGRAPHS, NOTES, ITEMS, ROWS)
    old, new = pandoc.parse_chapters([("old.md", old_text), ("new.md", new_text)])
    red = Differ(author="t", date="2026-01-01T00:00:00Z").blocks(old, new)
    assert plain_words(red, "accept") == plain_words(new)
    assert plain_words(red, "reject") == _old_words(json.dumps(old))


@functools.cache
def _old_words(old: str) -> list[str]:
    """Return the words of the unedited text's DOCX (the same in every example: read once)."""
    return plain_words(json.loads(old))
