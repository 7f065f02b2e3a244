"""A draft reviewed in a real office suite: LibreOffice, scripted through its UNO bridge.

LibreOffice records the changes and writes the comments itself (its own empty insertions inside
comment ranges, its own dates and ids), so these tests read what real reviewers send. They skip,
with the reason, where LibreOffice or its Python bridge is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import committed, copy_bundled, git, run
from tests.render.readers import pandoc_docx_json, text_of

SCRIPT = Path(__file__).with_name("lo_review.py")
QUESTION = "Which regions? Give two examples."
CH3 = "paper/03-law-enforcement.md"
ADDED = "Evidence from evaluations is reviewed for each region."
SPEC = [
    {"op": "comment", "find": "plethora of new laws", "text": QUESTION, "author": "Jane Reviewer"},
    {
        "op": "reply",
        "find": "plethora of new laws",
        "text": "Will add West Africa and the Balkans.",
        "author": "Mike Dottridge",
    },
    {"op": "replace", "find": "plethora", "text": "multitude", "author": "Jane Reviewer"},
    {
        "op": "insert_after",
        "find": "successful case of assistance and recovery.",
        "text": f" {ADDED}",
        "author": "Omar Reviewer",
    },
    {"op": "delete", "find": " by the organisation behind it", "author": "Omar Reviewer"},
    {"op": "resolve", "text": "Which ones?", "author": "Omar Reviewer"},
    {
        "op": "comment",
        "find": "dangerously large",
        "text": "Evidence for this?",
        "author": "Omar Reviewer",
        "resolved": True,
    },
]


def _body(doc: dict) -> list:
    """Return a document's blocks from its first chapter heading on."""
    blocks = doc["blocks"]
    first = next(
        i
        for i, b in enumerate(blocks)
        if b["t"] == "Header" and b["c"][0] == 1 and text_of(b["c"][2])[:1].isdigit()
    )
    return blocks[first:]


def _uno_python() -> str | None:
    """Return a Python that can import LibreOffice's uno module, if there is one."""
    if shutil.which("soffice") is None:
        return None
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", "python3"):
        path = shutil.which(candidate)
        if path is None:
            continue
        probe = subprocess.run([path, "-c", "import uno"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            return path
    return None


UNO_PYTHON = _uno_python()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        UNO_PYTHON is None,
        reason="LibreOffice with its Python bridge is not installed "
        "(Debian: libreoffice-writer python3-uno)",
    ),
]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory) -> tuple[Path, bool]:
    """Return the bundled project, in git, with reviewed.docx saved by LibreOffice."""
    root = copy_bundled(tmp_path_factory.mktemp("libreoffice") / "paper")
    chapter = root / "paper/03-law-enforcement.md"  # the author asks the committee something
    chapter.write_text(
        chapter.read_text().replace(
            "comment. In some regions", 'comment. [In some regions]{.query question="Which ones?"}'
        )
    )
    committed(root, "draft 0.1")
    assert run(root, "build", "--to", "docx").exit_code == 0
    spec = root.parent / "spec.json"
    spec.write_text(json.dumps(SPEC))
    assert UNO_PYTHON is not None
    done = subprocess.run(
        [
            UNO_PYTHON,
            str(SCRIPT),
            str(root / "build/child-trafficking-0.1.docx"),
            str(root / "reviewed.docx"),
            str(spec),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    return root, json.loads(done.stdout.strip().splitlines()[-1])["replies"]


@pytest.fixture(scope="module")
def items(reviewed) -> list[dict]:
    root, _ = reviewed
    result = run(root, "feedback", "reviewed.docx", "--patch", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["items"]


def test_every_remark_at_its_chapter_and_line_with_reviewer_and_date(items):
    where = [(i["kind"], i["reviewer"], i["path"], i["line"]) for i in items]
    assert where == [
        ("change", "Jane Reviewer", "paper/03-law-enforcement.md", 9),
        ("comment", "Jane Reviewer", "paper/03-law-enforcement.md", 9),
        ("query", "Mike Dottridge, in collaboration with groups globally", CH3, 9),
        ("change", "Omar Reviewer", "paper/06-care.md", 21),
        ("comment", "Omar Reviewer", "paper/07-coordination.md", 29),
        ("change", "Omar Reviewer", "paper/10-good-practice.md", 9),
    ]
    assert all(i["date"][:4].isdigit() and i["date"][:4] != "0000" for i in items)
    comments = [i for i in items if i["kind"] == "comment"]
    assert comments[0]["text"] == QUESTION and comments[0]["anchor"] == "plethora of new laws"
    assert comments[1]["resolved"] is True and comments[0]["resolved"] is False
    query = next(i for i in items if i["kind"] == "query")  # the author's, kept by LibreOffice
    assert query["text"] == "Which ones?" and query["resolved"] is True
    assert query["anchor"] == "In some regions"


def test_libreoffices_empty_changes_are_ignored_and_context_is_whole_words(reviewed, items):
    changes = [i for i in items if i["kind"] == "change"]
    assert [(c["old"], c["new"]) for c in changes] == [
        ("plethora", "multitude"),
        ("", ADDED),
        ("by the organisation behind it", ""),
    ]
    root, _ = reviewed
    report = (root / "build/feedback/0.1.md").read_text()
    assert "insert “”" not in report
    assert f"insert “{ADDED}” after “…case of assistance and recovery.”" in report
    assert changes[1]["anchor"] == "successful case of assistance and recovery."


def test_replies_are_read_back_with_their_comment(reviewed, items):
    _, threaded = reviewed
    if not threaded:
        pytest.skip(
            "this LibreOffice cannot script a reply (its Annotation has no ParentName, added "
            "after 7.4); replies are tested with Word's XML in test_feedback.py"
        )
    assert items[1]["replies"][0]["reviewer"] == "Mike Dottridge"


def test_the_patch_applies_and_rebuilds_the_reviewed_text(reviewed, items):
    root, _ = reviewed
    patch = (root / "build/feedback/0.1.patch").read_text()
    assert f"+assistance and recovery. {ADDED}\n" in patch and "-:::" not in patch
    git(root, "apply", "build/feedback/0.1.patch")
    try:
        assert run(root, "build", "--to", "docx", "--version", "0.2").exit_code == 0
        # from the first chapter on: LibreOffice stores the contents' page numbers it computed
        rebuilt = text_of(_body(pandoc_docx_json(root / "build/child-trafficking-0.2.docx")))
        accepted = text_of(_body(pandoc_docx_json(root / "reviewed.docx", "accept")))
        for phrase in (ADDED, "The multitude of new laws", "‘good’ or ‘best practice’."):
            assert phrase in " ".join(accepted.split())
        assert " ".join(rebuilt.replace("0.2", "0.1").split()) == " ".join(accepted.split())
    finally:
        git(root, "checkout", "--", "paper")
