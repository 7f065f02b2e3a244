"""A rebuild's DOCX, pandoc writing only the chapters an edit touched: the same parts, byte for
byte, as pandoc writing the whole draft again, or the whole draft written when that cannot be
shown; and, through the command line, the same draft as a build from an empty cache."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from paperbuild import pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.render import splice
from paperbuild.util.fsutil import kept_bytes
from paperbuild.util.seal import sealed
from tests.conftest import run

CHAPTER = """
# Chapter {n} {{#chapter-{n}}}

A first paragraph, which cites nothing.[^a{n}] It links to [a site](https://example.org/a)
and to [another](https://example.org/{n}).

A plain paragraph in chapter {n}, with *emphasis*, **strength** and "quotation".

- a bullet
- another, with a note[^b{n}]

1. first
2. second

| Year | Cases |
|-----:|:------|
| 2003 | 12    |
| 2004 | 31    |

: Cases in chapter {n} {{#tbl:cases-{n}}}

> A quotation set off, with [a span]{{#span-{n}}} in it.

Term {n}
: Its definition.

::: {{custom-style="Callout"}}
A paragraph in a style of the author's.
:::

```python
print("chapter {n}")
```

## A section of chapter {n} {{#section-{n}}}

The last paragraph of chapter {n}, $x^{n}$ in it.

[^a{n}]: A note with [a link](https://example.org/note-{n}).
[^b{n}]: A note in a list.
"""


def _markdown(edits: dict[int, tuple[str, str]] | None = None) -> str:
    """Return six chapters, each with what pandoc's DOCX writer numbers, some edited."""
    chapters = []
    for n in range(1, 7):
        text = CHAPTER.format(n=n)
        if edits and n in edits:
            old, new = edits[n]
            assert old in text
            text = text.replace(old, new)
        chapters.append(text)
    return "\n".join(chapters)


def _json(markdown: str) -> splice.Sent:
    """Return pandoc's JSON of the Markdown, as paperbuild sends it (no spaces, in pieces)."""
    return splice.Sent.of(pandoc.run(["-f", "markdown", "-t", "json"], markdown.encode()))


def _write(sent: bytes | splice.Sent) -> bytes:
    """Return pandoc's DOCX of the JSON."""
    data = sent.whole if isinstance(sent, splice.Sent) else sent
    return pandoc.convert("write", data, {"to": "docx"}, ["-f", "json", "-t", "docx"])


def _parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # (its time)


@pytest.fixture(scope="module")
def before() -> tuple[bytes, dict[str, bytes]]:
    sent = _json(_markdown())
    parts = splice._parts(_write(sent))
    assert parts is not None
    return sent, parts


SPLICED = {
    "a word in a paragraph": {2: ("A plain paragraph", "An ordinary paragraph")},
    "a paragraph added at a chapter's end": {
        2: ("in it.\n\n[^a2]", "in it.\n\nA paragraph added.\n\n[^a2]")
    },
    "a word in a note": {3: ("A note in a list.", "A note in a list, changed.")},
    "a word in a table cell": {2: ("| 2004 | 31    |", "| 2004 | 32    |")},
    "a word in a list item": {1: ("- a bullet", "- a bullet point")},
    "a word in the last chapter": {6: ("A plain paragraph", "An ordinary paragraph")},
    "a heading's words, its identifier kept": {3: ("# Chapter 3 {", "# Chapter Three {")},
    "two chapters": {1: ("A plain", "A very plain"), 3: ("A plain", "A quite plain")},
}


def _unlinked(markdown: str) -> str:
    """Return the Markdown with its links' words alone (a chapter that links to nothing)."""
    return re.sub(r"\[([^\]]*)\]\(https://[^)]*\)", r"\1", markdown)


@pytest.fixture(scope="module")
def unlinked() -> tuple[bytes, dict[str, bytes]]:
    sent = _json(_unlinked(_markdown()))
    parts = splice._parts(_write(sent))
    assert parts is not None
    return sent, parts


NOTES = {
    "a note added": {
        2: ("A plain paragraph", "A plain paragraph[^new]\n\n[^new]: A new note.\n\n")
    },
    "a note taken out": {3: ("cites nothing.[^a3]", "cites nothing.")},
    "a note added in the last chapter": {
        6: ("A plain paragraph", "A plain[^z] paragraph\n\n[^z]: The zed note.\n\n")
    },
    "notes added in two chapters": {
        2: ("A plain paragraph", "A plain[^x] paragraph\n\n[^x]: The ex note.\n\n"),
        4: ("A plain paragraph", "A plain[^y] paragraph\n\n[^y]: The wye note.\n\n"),
    },
    "a note added, a word changed": {
        2: ("A plain paragraph", "An[^w] ordinary paragraph\n\n[^w]: The double note.\n\n")
    },
}


@pytest.mark.parametrize("edits", NOTES.values(), ids=NOTES.keys())
def test_an_edit_that_adds_or_takes_away_notes_renumbers_what_follows(unlinked, edits):
    """The chapters link to nothing: every note and bookmark after the edit is one further on
    (or back), as pandoc's whole write numbers them."""
    old_json, old_parts = unlinked
    sent = _json(_unlinked(_markdown(edits)))
    parts = splice.spliced(old_json, old_parts, sent, _write)
    assert parts is not None, "the edit should have been spliced"
    whole = _parts(_write(sent))
    assert {n: parts[n] for n in whole} == whole


def test_a_note_added_before_a_comment_leaves_the_draft_to_the_whole_write(unlinked):
    """A comment's id is the author's (`id="9000"`), not pandoc's count: moving the numbers
    after a note added would move it too, and its words, in comments.xml, not."""
    comment = '[A remark.]{.comment-start id="9000" author="R"}[]{.comment-end id="9000"}'
    commented = {4: ("A plain paragraph", f"A plain {comment} paragraph")}
    old_json = _json(_unlinked(_markdown(commented)))
    parts = splice._parts(_write(old_json))
    assert parts is not None and b'w:id="9000"' in parts["word/document.xml"]
    sent = _json(_unlinked(_markdown({**commented, **NOTES["a note added"]})))
    assert splice.spliced(old_json, parts, sent, _write) is None


WHOLE = {
    "a note added where the chapter links": NOTES["a note added"],
    "a note with a link added": {
        2: ("A plain paragraph", "A plain[^k] paragraph\n\n[^k]: [K](https://k.example/).\n\n")
    },
    "a link added": {2: ("A plain paragraph", "A [plain](https://example.org/new) paragraph")},
    "a list item added": {2: ("- a bullet\n", "- a bullet\n- one more\n")},
    "a heading's identifier changed": {3: ("{#chapter-3}", "{#chapter-three}")},
    "a table row added": {2: ("| 2004 | 31    |", "| 2004 | 31    |\n| 2005 | 40    |")},
}


def test_a_comment_leaves_the_draft_to_the_whole_write():
    """A comment's words stand in comments.xml, which the splice does not rewrite."""
    comment = '[A remark.]{.comment-start id="1" author="R"}[]{.comment-end id="1"}'
    edits = {2: ("A plain paragraph", f"A plain {comment} paragraph")}
    with_comment = _json(_markdown(edits))
    parts = splice._parts(_write(with_comment))
    assert parts is not None and b"A remark." in parts["word/comments.xml"]
    edited = _json(_markdown({2: (edits[2][0], edits[2][1].replace("A remark.", "Another."))}))
    assert splice.spliced(with_comment, parts, edited, _write) is None


@pytest.mark.parametrize("edits", SPLICED.values(), ids=SPLICED.keys())
def test_an_edit_is_spliced_into_the_very_parts_of_the_whole_write(before, edits):
    old_json, old_parts = before
    sent = _json(_markdown(edits))
    parts = splice.spliced(old_json, old_parts, sent, _write)
    assert parts is not None, "the edit should have been spliced"
    whole = _parts(_write(sent))
    assert {n: parts[n] for n in whole} == whole
    assert any(parts[n] != old_parts[n] for n in ("word/document.xml", "word/footnotes.xml"))


@pytest.mark.parametrize("edits", WHOLE.values(), ids=WHOLE.keys())
def test_an_edit_that_renumbers_the_draft_is_left_to_the_whole_write(before, edits):
    old_json, old_parts = before
    assert splice.spliced(old_json, old_parts, _json(_markdown(edits)), _write) is None


def test_an_image_leaves_the_draft_to_the_whole_write():
    """The image's file is not in the JSON: it may have changed while no chapter did."""
    edits = {2: ("A plain paragraph", "![A figure](figure.png)\n\nA plain paragraph")}
    with_image = _json(_markdown(edits))
    image_parts = splice._parts(_write(with_image))
    assert image_parts is not None
    edited = _json(_markdown({**edits, 3: ("A plain", "A very plain")}))
    assert splice.spliced(with_image, image_parts, edited, _write) is None


def test_the_kept_write_is_used_again_when_nothing_changed_and_damage_costs_a_write(tmp_path):
    sent = _json(_markdown())
    kept = tmp_path / "written-1.zip"
    writes: list[bytes] = []

    def write(data: bytes) -> bytes:
        writes.append(data)
        return _write(data)

    first = splice.written(sent, write, kept)
    assert kept.is_file() and len(writes) == 1
    assert _parts(splice.written(sent, write, kept)) == _parts(first)
    assert len(writes) == 1  # (the same JSON: pandoc is not asked again)
    edited = _json(_markdown({2: ("A plain paragraph", "An ordinary paragraph")}))
    assert _parts(splice.written(edited, write, kept)) == _parts(_write(edited))
    assert len(writes) == 2 and len(writes[1]) < len(edited.whole) / 2.5  # (two chapters of six)
    whole = kept_bytes(kept)
    assert whole is not None
    for damage in (b"", b"PK\x03\x04 cut short", whole[:-100]):  # (sealed: read past the seal)
        kept.write_bytes(sealed(kept, damage))
        assert _parts(splice.written(sent, write, kept)) == _parts(first)
    assert len(writes) == 5


def test_a_kept_docx_that_cannot_be_read_costs_a_whole_write(tmp_path, monkeypatch):
    """A kept file the disk will not give back (an I/O error, a permission) is not fatal."""
    sent = _json(_markdown())
    kept = tmp_path / "written-1.zip"
    first = splice.written(sent, _write, kept)
    real = Path.read_bytes

    def unreadable(path: Path) -> bytes:
        if path == kept:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    edited = _json(_markdown({2: ("A plain paragraph", "An ordinary paragraph")}))
    assert _parts(splice.written(edited, _write, kept)) == _parts(_write(edited))
    monkeypatch.undo()
    assert _parts(first) != _parts(_write(edited))
    assert splice._parts(kept.read_bytes()) is not None  # (the new draft kept in its place)


def test_a_rebuild_after_an_edit_gives_the_draft_a_build_from_nothing_gives(
    bundled_copy, tmp_path, monkeypatch
):
    """Through the command line, with the bundled paper: its draft is rebuilt after prose is
    edited in two chapters, then after a note is added to a third (every later note and
    bookmark, and the link in chapter 6, numbered one further on), spliced each time, and is
    byte for byte the draft of the same sources built with no cache at all."""
    env = {"SOURCE_DATE_EPOCH": "1764000000"}
    answers: list[object] = []
    spliced = splice.spliced

    def spy(*args):
        answers.append(spliced(*args))
        return answers[-1]

    monkeypatch.setattr(splice, "spliced", spy)
    assert run(bundled_copy, "build", "--to", "docx", env=env).exit_code == 0
    assert answers == []  # (nothing kept yet: written whole)
    edits = [
        [
            ("paper/01-patterns.md", "runs from 2000 to 2008.", "runs from 2000 to 2009."),
            ("paper/07-coordination.md", "often set\nup", "often set\nin place"),
        ],
        [
            (
                "paper/04-prevention.md",
                "have been used.",
                "have been used.[^added]\n\n[^added]: A note added.\n",
            )
        ],
    ]
    for n, step in enumerate(edits):
        for rel, old, new in step:
            path = bundled_copy / rel
            text = path.read_text(encoding="utf-8")
            assert old in text
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
        assert run(bundled_copy, "build", "--to", "docx", env=env).exit_code == 0
        assert len(answers) == n + 1 and answers[-1] is not None, "the rebuild should splice"
        (draft,) = (bundled_copy / "build").glob("*.docx")
        notes = zipfile.ZipFile(draft).read("word/footnotes.xml")
        assert (b"A note added." in notes) == (n == 1)
        fresh = tmp_path / f"fresh-{n}"
        shutil.copytree(bundled_copy, fresh, ignore=shutil.ignore_patterns("build"))
        assert run(fresh, "build", "--to", "docx", env=env).exit_code == 0
        assert draft.read_bytes() == (fresh / "build" / draft.name).read_bytes()


def test_no_draft_is_kept_where_git_tracks_the_cache(bundled_copy):
    """A kept DOCX that git brought (a pull request's) is never spliced into."""
    from tests.conftest import committed

    assert run(bundled_copy, "build", "--to", "docx").exit_code == 0
    kept = list((bundled_copy / "build/.cache/docx").glob("written-*.zip"))
    assert len(kept) == 1
    committed(bundled_copy, "with the cache", "-f")
    planted = Path(kept[0])
    planted.write_bytes(b"planted")
    assert run(bundled_copy, "build", "--to", "docx").exit_code == 0
    assert planted.read_bytes() == b"planted"  # (neither read nor written)


def test_a_note_and_a_list_of_the_same_number_are_told_apart():
    """pandoc numbers lists from 1000 and notes and bookmarks from 20 on: in a draft with a
    thousand notes, a list and a note share a number, each of its own kind."""
    many = "".join(f"Word.[^m{i}]\n" for i in range(1000))
    notes = "".join(f"[^m{i}]: Note {i}.\n" for i in range(1000))
    first = f"# Many notes {{#many}}\n\n{many}\n{notes}\n"
    old_json = _json(first + _markdown())
    parts = splice._parts(_write(old_json))
    assert parts is not None
    numbers = set(_NUMBERED.findall(parts["word/document.xml"]))
    assert {b"1003", b"1004"} <= numbers  # (a list's and a note's, in chapter 2)
    sent = _json(first + _markdown({2: ("A plain paragraph", "An ordinary paragraph")}))
    spliced = splice.spliced(old_json, parts, sent, _write)
    assert spliced is not None, "the edit should have been spliced"
    whole = _parts(_write(sent))
    assert {n: spliced[n] for n in whole} == whole


_NUMBERED = re.compile(rb'(?:w:id="|<w:numId w:val=")(\d+)"')


# --- random drafts and random edits: a splice is the whole write, or is not made -----------

BLOCKS = [
    "A plain paragraph about {w}.",
    "A paragraph with a note.[^n{k}]\n\n[^n{k}]: The note about {w}.",
    "A paragraph with [a link](https://example.org/{w}) in it.",
    "- an item about {w}\n- another item[^l{k}]\n\n[^l{k}]: A note in a list.",
    "1. first {w}\n2. second",
    "| A | B |\n|---|---|\n| {w} | 2 |\n\n: A table about {w} {{#tbl:t{k}}}",
    "> A quotation about {w}.",
    "A [span about {w}]{{#span-{k}}} and `code` and $x^{k}$.",
    '::: {{custom-style="Callout"}}\nA styled paragraph about {w}.\n:::',
    "```\nprint('{w}')\n```",
    "Term {w}\n: Its definition.",
    "## A section about {w} {{#sec-{k}}}",
    "### A lower heading about {w}",
    "| A line about {w}\n| and another",
    "A raw `<w:r><w:t>raw {w}</w:t></w:r>`{{=openxml}} run.",
    "* * *",
]
WORDS = ["apples", "pears", "plums", "figs"]


@st.composite
def drafts_and_edits(draw):
    """Return (chapters as they were, chapters as they are): one of a few chapters edited."""
    counter = iter(range(10_000))
    n = draw(st.integers(2, 4))

    def block() -> str:
        template = draw(st.sampled_from(BLOCKS))
        return template.format(w=draw(st.sampled_from(WORDS)), k=next(counter))

    chapters = [[block() for _ in range(draw(st.integers(1, 5)))] for _ in range(n)]
    edited = [list(c) for c in chapters]
    target = edited[draw(st.integers(0, n - 1))]
    how = draw(st.sampled_from(["insert", "delete", "word", "replace"]))
    at = draw(st.integers(0, len(target) - 1))
    if how == "insert":
        target.insert(at, block())
    elif how == "delete" and len(target) > 1:
        del target[at]
    elif how == "word":
        target[at] = target[at].replace("about", "on", 1) if "about" in target[at] else "New."
    else:
        target[at] = block()
    return chapters, edited


@st.composite
def drafts_and_note_edits(draw):
    """Return (chapters as they were, as they are): a note added or taken away in a chapter
    that links to nothing, links in the others (their numbers after the edit move too)."""
    chapters, _ = draw(drafts_and_edits())
    t = draw(st.integers(0, len(chapters) - 1))
    chapters[t] = [b for b in chapters[t] if "https://" not in b] or ["A plain paragraph."]
    edited = [list(c) for c in chapters]
    noted = [i for i, b in enumerate(edited[t]) if "[^" in b]
    at = draw(st.integers(0, len(edited[t])))
    if noted and draw(st.booleans()):
        del edited[t][draw(st.sampled_from(noted))]
    else:
        word = draw(st.sampled_from(WORDS))
        edited[t].insert(at, f"A new paragraph.[^new]\n\n[^new]: A new note about {word}.")
    return chapters, edited


def _draft(chapters: list[list[str]]) -> str:
    return "\n\n".join(
        f"# Chapter {i} {{#chapter-{i}}}\n\n" + "\n\n".join(blocks)
        for i, blocks in enumerate(chapters, start=1)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(drafts_and_edits(), drafts_and_note_edits()))
def test_a_random_edit_is_spliced_into_the_whole_writes_parts_or_written_whole(case):
    chapters, edited = case
    old_json, sent = _json(_draft(chapters)), _json(_draft(edited))
    parts = splice._parts(_write(old_json))
    assert parts is not None
    spliced = splice.spliced(old_json, parts, sent, _write)
    event("spliced" if spliced is not None else "written whole")
    if spliced is not None:
        whole = _parts(_write(sent))
        assert {n: spliced[n] for n in whole} == whole


# --- the JSON sent in pieces: each block's JSON as written once ---------------------------


def test_a_drafts_json_in_pieces_is_its_whole_json_and_its_words_merge_alike(bundled_copy):
    """The pieces joined are the JSON a whole write is sent, and its words merged block by
    block (`docx._merged`, as `watch` does after a save) are the whole JSON's merged."""
    from paperbuild.assemble import assemble, document_json_bytes, document_to_json
    from paperbuild.checks import run_checks
    from paperbuild.cite import resolve_citations
    from paperbuild.load.project import load_project
    from paperbuild.render import docx as docx_render
    from paperbuild.render.common import document_pieces
    from paperbuild.render.splice import joined

    project = load_project(bundled_copy)
    document = resolve_citations(assemble(run_checks(project, with_blocks=True).parsed), project)
    front = docx_render.front_matter_blocks(document)
    head, pieces = document_pieces(document, front, meta={})
    whole = pa.dumps(
        {"pandoc-api-version": pandoc.api_version(), "meta": {}, "blocks": front + document.blocks}
    )
    assert joined(head, pieces) == whole
    assert document_json_bytes(document) == pa.dumps(document_to_json(document))  # (snapshot)
    assert len(pieces) == len(front) + len(document.blocks) > 50
    merged = pa.merged_words(whole)
    assert merged != whole  # (there are words to merge)
    assert joined(pa.merged_words(head), docx_render._merged(pieces)) == merged
    with docx_render.merging_remembered():
        docx_render._merged(pieces[::2])  # (another draft's blocks, remembered)
        assert joined(pa.merged_words(head), docx_render._merged(pieces)) == merged
        assert joined(pa.merged_words(head), docx_render._merged(pieces)) == merged
        assert len(docx_render._MERGED[-1]) == len(set(pieces))  # (the last draft's alone)
    assert docx_render._MERGED == []


def test_cuts_that_do_not_fall_between_blocks_are_refused():
    sent = _json(_markdown())
    assert splice.cut(sent.whole, sent.cuts()) == sent
    lengths = pa.loads(sent.cuts())
    moved = [lengths[0], lengths[1] + 1, lengths[2] - 1, *lengths[3:]]  # (the sum kept)
    for bad in (b"[]", b"{}", b"[1.5]", b"not json", pa.dumps(lengths[:-1]), pa.dumps(moved)):
        assert splice.cut(sent.whole, bad) is None, bad


def test_a_kept_draft_with_damaged_cuts_or_none_costs_a_whole_write(tmp_path):
    """A kept DOCX whose cuts are not its JSON's (or that has none: an older paperbuild's)
    is written whole, and kept with its cuts, so the next edit is spliced again."""
    sent = _json(_markdown())
    edited = _json(_markdown({2: ("A plain paragraph", "An ordinary paragraph")}))
    again = _json(_markdown({2: ("A plain paragraph", "A simple paragraph")}))
    writes: list[bytes] = []

    def write(data: bytes) -> bytes:
        writes.append(data)
        return _write(data)

    lengths = pa.loads(sent.cuts())
    mid_block = pa.dumps([lengths[0], lengths[1] + 1, lengths[2] - 1, *lengths[3:]])
    for cuts in (None, b"[1, 2, 3]", mid_block):
        kept = tmp_path / "written-1.zip"
        parts = splice._parts(_write(sent))
        assert parts is not None
        if cuts is not None:
            parts[splice.CUTS] = cuts
        kept.write_bytes(sealed(kept, splice._zipped({**parts, splice.SENT: sent.whole})))
        writes.clear()
        assert _parts(splice.written(edited, write, kept)) == _parts(_write(edited))
        assert writes == [edited.whole]  # (written whole)
        assert _parts(splice.written(again, write, kept)) == _parts(_write(again))
        assert len(writes) == 2 and len(writes[1]) < len(again.whole) / 2.5  # (spliced)
