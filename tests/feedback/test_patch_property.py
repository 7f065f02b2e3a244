"""The feedback patch never breaks a chapter: random reviewer edits, applied and rebuilt.

A reviewer's tracked changes (insertions, deletions, replacements at the start, middle and end
of paragraphs inside divs, list items, block quotes, table cells and footnotes) are made in the
bundled paper's DOCX; the patch `feedback` writes is applied with `git apply` and the paper
rebuilt. pandoc's reader must then read exactly the reviewed text (its changes accepted), and
the same block structure as before (pandoc's AST with the text taken out).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import committed, copy_bundled, run
from tests.feedback.wordlike import Change, Reviewer, q
from tests.render.readers import pandoc_docx_json, text_of

EXTRA = """
Further steps, in order of urgency:

- Train the staff who first meet trafficked children in every region.
- Fund shelters that keep brothers and sisters together for the whole stay.

> Children should be heard in every decision about their care and about their return home.

| Measure tried | Where it was tried | Result the evaluators reported |
|---------------|--------------------|--------------------------------|
| Hotlines for children | Three countries of origin | More calls in each following year |
| Joint investigation teams | Two border regions | Faster cases and fewer dropped ones |

: Measures tried so far, as evaluations describe them

::: {points="10.1"}
Donors asked for evidence of results before funding a second phase of any programme.
:::
"""

WORDS = ["notably", "regional", "plainly", "carefully", "in practice", "above all"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Return the bundled paper (with a list, a quote, a table and one more div), built, in git."""
    root = copy_bundled(tmp_path_factory.mktemp("property") / "paper")
    chapter = root / "paper/11-recommendations.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + EXTRA, encoding="utf-8")
    committed(root)
    result = run(root, "build", "--to", "docx")
    assert result.exit_code == 0, result.output
    return root


def _sources(root: Path) -> str:
    return " ".join(p.read_text(encoding="utf-8") for p in sorted((root / "paper").glob("*.md")))


def _direct_text(p: Any) -> str:
    return "".join(t.text or "" for r in p if r.tag == q("r") for t in r.iter(q("t")))


@pytest.fixture(scope="module")
def editable(project) -> list[tuple[str, str]]:
    """Return (part, paragraph text) of the draft's paragraphs that are the author's own prose.

    A paragraph is the author's when its words stand in a chapter as written (not a heading,
    the title page, a citation note or the bibliography, which paperbuild or citeproc wrote).
    """
    import zipfile

    draft = project / "build/child-trafficking-0.1.docx"
    source = " ".join(_sources(project).split())
    found = []
    with zipfile.ZipFile(draft) as z:
        for part in ("word/document.xml", "word/footnotes.xml"):
            root = etree.fromstring(z.read(part))
            for p in root.iter(q("p")):
                style = p.find(f"{q('pPr')}/{q('pStyle')}")
                if style is not None and style.get(q("val"), "").startswith("Heading"):
                    continue
                text = _direct_text(p)
                if len(text.split()) >= 3 and " ".join(text.split()) in source:
                    found.append((part, text))
    kinds = {t for _, t in found}
    assert any("Hotlines" in t for t in kinds) and any("Train the staff" in t for t in kinds)
    assert any(part.endswith("footnotes.xml") for part, _ in found)
    return found


def _edit(draw: Any, part: str, text: str) -> Change | None:
    """Return a random reviewer's change of one paragraph (None when no unique place is drawn)."""
    words = text.split()
    op = draw(st.sampled_from(["insert", "delete", "replace"]))
    where = draw(st.sampled_from(["start", "middle", "end"]))
    i = {"start": 0, "end": len(words) - 1}.get(where) or draw(
        st.integers(1, max(1, len(words) - 2))
    )
    word = words[i]
    new = draw(st.sampled_from(WORDS))
    if op == "insert":
        after = "" if where == "start" else text[: text.index(word, _offset(text, i)) + len(word)]
        return Change(paragraph=text, old="", new=new, after=after, author="R", part=part)
    if not re.fullmatch(r"[A-Za-z]+", word):
        return None  # a word with punctuation attached: the reviewer's edit would be odd
    old = (word + " ") if i == 0 else (" " + word)
    if op == "replace":
        old, new = word, new
    else:
        new = ""
    if text.count(old) != 1 or (op == "replace" and len(re.findall(rf"\b{word}\b", text)) != 1):
        return None
    return Change(paragraph=text, old=old, new=new, author="R", part=part)


def _offset(text: str, index: int) -> int:
    """Return where the index-th whitespace-separated word of text starts."""
    return [m.start() for m in re.finditer(r"\S+", text)][index]


@st.composite
def reviews(draw: Any, editable: list[tuple[str, str]]) -> list[Change]:
    chosen = draw(st.lists(st.sampled_from(editable), min_size=2, max_size=8, unique=True))
    changes = [_edit(draw, part, text) for part, text in chosen]
    return [c for c in changes if c is not None]


def _skeleton(value: Any) -> Any:
    """Return pandoc JSON with the text taken out: the block structure alone."""
    if isinstance(value, dict):
        if value.get("t") in ("Str", "Space", "SoftBreak", "LineBreak"):
            return None
        if value.get("t") == "ColWidth":  # widths follow the text: structure, not text
            return "ColWidth"
        return {k: _skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [s for s in (_skeleton(v) for v in value) if s is not None]
    return value


def _blocks(doc: dict[str, Any]) -> Any:
    return _skeleton(doc["blocks"])


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_a_sentence_added_at_the_end_of_a_div_lands_before_its_fence(project, tmp_path):
    """The case seen: the insertion took the fence's place and the div swallowed the chapter."""
    reviewer = Reviewer(project / "build/child-trafficking-0.1.docx")
    ending = "what constitutes a successful case of assistance and recovery."
    reviewer.change(
        Change(
            paragraph=ending,
            old="",
            new="Evidence from evaluations is reviewed for each region.",
            after=ending,
            author="R",
        )
    )
    reviewed = reviewer.save(tmp_path / "r.docx")
    result = run(project, "feedback", str(reviewed), "--patch")
    assert result.exit_code == 0, result.output
    patch = (project / "build/feedback/0.1.patch").read_text()
    assert "+assistance and recovery. Evidence from evaluations is reviewed for each region.\n" in (
        patch
    ), patch
    assert "-:::" not in patch and ":::" not in "".join(
        line for line in patch.splitlines(keepends=True) if line.startswith("+")
    )


EVERY_KIND = [
    Change(  # a list item, at its start
        paragraph="Train the staff", old="", new="First,", author="R", after=""
    ),
    Change(  # a block quote, in its middle
        paragraph="Children should be heard", old=" and about their return home", new="", author="R"
    ),
    Change(  # a table cell
        paragraph="Two border regions", old="Two", new="Four", author="R"
    ),
    Change(  # a table caption, at its end
        paragraph="Measures tried so far",
        old="",
        new="in brief",
        after="Measures tried so far, as evaluations describe them",
        author="R",
    ),
    Change(  # a div's only paragraph, at its end
        paragraph="Donors asked for evidence",
        old="",
        new="It was rarely given.",
        after="before funding a second phase of any programme.",
        author="R",
    ),
]


@pytest.mark.slow
def test_an_edit_of_every_kind_of_block_patches_cleanly(project):
    _patch_and_rebuild(project, EVERY_KIND)


MARKUP_TYPED = [
    Change(  # a paragraph's start: a list marker, were it written as typed
        paragraph="It sometimes seems that every initiative",
        old="",
        new="1. Firstly,",
        author="R",
        after="",
    ),
    Change(  # a heading's mark at a paragraph's start
        paragraph="Comments are needed on when the term", old="", new="# 2", author="R", after=""
    ),
    Change(  # a parenthesised list marker at a paragraph's start
        paragraph="This in turn raises the lack", old="", new="(b) Then,", author="R", after=""
    ),
    Change(  # every inline mark, typed in the middle of a sentence
        paragraph="Attention is also paid",
        old="",
        new="*not* _only_ [^1] `x` <b>y</b> @un-trafficking-protocol $5 and $6 ~a~ 2^3^ "
        "{.c} | \\ &amp; R&D",
        author="R",
        after="Attention is also",
    ),
    Change(  # a replacement, and a line break typed into a Word run
        paragraph="The UN adopted the Optional Protocol",
        old="adopted",
        new="*formally*\n> adopted",
        author="R",
    ),
]


@pytest.mark.slow
def test_markup_characters_a_reviewer_types_are_written_as_text(project):
    """A reviewer's `*`, `[^1]`, `1.` or `#` is text in the draft, so it is escaped in the
    patch: the patched paper rebuilds to exactly the reviewed text, in the same blocks."""
    _patch_and_rebuild(project, MARKUP_TYPED)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a failure is quick
)
@given(data=st.data())
@pytest.mark.slow
def test_random_reviews_patch_back_to_exactly_the_reviewed_text(project, editable, data):
    changes = data.draw(reviews(editable))
    if changes:
        _patch_and_rebuild(project, changes)


def _patch_and_rebuild(project: Path, changes: list[Change]) -> None:
    """Review the draft with these changes, apply feedback's patch, rebuild, compare."""
    reviewer = Reviewer(project / "build/child-trafficking-0.1.docx")
    for change in changes:
        reviewer.change(change)
    work = project.parent / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(project, work, symlinks=True)
    reviewed = reviewer.save(work / "reviewed.docx")
    result = run(work, "feedback", str(reviewed), "--patch", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"unplaced_changes": 0' in result.output, result.output
    patch = work / "build/feedback/0.1.patch"
    applied = subprocess.run(["git", "apply", str(patch)], cwd=work, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    built = run(work, "build", "--to", "docx", "--version", "0.2")
    assert built.exit_code == 0, built.output
    after = pandoc_docx_json(work / "build/child-trafficking-0.2.docx")
    expected = pandoc_docx_json(reviewed, "accept")
    before = _read_once(project / "build/child-trafficking-0.1.docx")
    strip = lambda t: _norm(t.replace("0.2", "0.1"))  # noqa: E731
    assert strip(text_of(after)) == strip(text_of(expected)), (changes, patch.read_text())
    assert _blocks(after) == _blocks(before), (changes, patch.read_text())


_READ: dict[tuple[Path, int], dict] = {}


def _read_once(path: Path) -> dict:
    """Return pandoc's reading of a DOCX, read once while the file stays as it is (the draft
    every review starts from: 15 examples read it)."""
    key = (path, path.stat().st_mtime_ns)
    if key not in _READ:
        _READ[key] = pandoc_docx_json(path)
    return _READ[key]
