"""Property tests: the footnote and citation rules agree with what pandoc itself parses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperbuild import pandoc
from paperbuild.checks.footnotes import check_chapter
from paperbuild.facts import chapter_facts
from paperbuild.load.chapters import Chapter, scan
from tests.render.readers import walk

IDS = st.sampled_from(["1", "2", "3", "a", "note-x"])
KEYS = st.sampled_from(["smith2020", "un-protocol", "doe:2001", "sec:intro", "x_y"])
WORDS = st.sampled_from(["apples", "pears", "trafficking", "the", "law", "a@b.org", "e.g."])


@st.composite
def chapters(draw):
    paragraphs = []
    refs = set()
    for _ in range(draw(st.integers(1, 4))):
        parts = []
        for _ in range(draw(st.integers(1, 8))):
            kind = draw(st.sampled_from(["word", "word", "note", "cite", "bracket"]))
            if kind == "word":
                parts.append(draw(WORDS))
            elif kind == "note":
                note = draw(IDS)
                refs.add(note)
                parts.append(f"text[^{note}]")
            elif kind == "cite":
                parts.append(f"@{draw(KEYS)}")
            else:
                parts.append(f"[see @{draw(KEYS)}, p. 2; @{draw(KEYS)}]")
        paragraphs.append(" ".join(parts) + ".")
    defined = draw(st.sets(IDS, max_size=4))
    notes = [f"[^{d}]: Note {d} text." for d in sorted(defined)]
    return "# Title\n\n" + "\n\n".join(paragraphs + notes) + "\n", refs, defined


def literal_refs(blocks) -> set[str]:
    """Return the note ids pandoc left as literal text (references it found no definition for)."""
    text = "".join(n["c"] for n in walk(blocks) if n["t"] == "Str")
    return {i for i in ["1", "2", "3", "a", "note-x"] if f"[^{i}]" in text}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chapters())
@pytest.mark.slow
def test_footnote_and_citation_rules_agree_with_pandoc(case):
    text, refs, defined = case
    blocks = pandoc.parse_chapters([("c.md", text)])[0]
    facts = chapter_facts(blocks)
    chapter = Chapter(path="c.md", text=text, scan=scan(text))
    diags = check_chapter(chapter)
    undefined = {
        d.message.split("]")[0].split("^")[1] for d in diags if d.rule == "undefined-footnote"
    }
    assert undefined == literal_refs(blocks) == refs - defined
    unused = {d.message.split("]")[0].split("^")[1] for d in diags if d.rule == "unused-footnote"}
    assert unused == defined - refs
    notes = sum(1 for n in walk(blocks) if n["t"] == "Note")
    assert notes == text.count("text[^") - sum(text.count(f"text[^{u}]") for u in undefined)
    # pandoc's parse decides what is a citation; the source scan must locate every one of them
    scanned = {m.name for m in chapter.scan.citations}
    assert set(facts.citations) <= scanned
    assert facts.notes == notes
