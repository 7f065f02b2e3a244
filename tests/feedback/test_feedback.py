"""`paperbuild feedback`: reviewers' comments and tracked changes, at their chapter and line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import committed, copy_bundled, git, run
from tests.feedback.wordlike import Change, Comment, Reviewer
from tests.render.readers import pandoc_docx_json, text_of

JANE, OMAR = "Jane Reviewer", "Omar Reviewer"
QUESTION = "Which regions? Give two examples."


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory) -> Path:
    """Return a project whose draft 0.1 was reviewed by two people (files a.docx and b.docx)."""
    root = copy_bundled(tmp_path_factory.mktemp("feedback") / "paper")
    committed(root, "draft 0.1")
    assert run(root, "build", "--to", "docx").exit_code == 0
    draft = root / "build/child-trafficking-0.1.docx"
    comment = Comment(
        paragraph="The plethora of new laws",
        anchor="plethora of new laws",
        author=JANE,
        text=QUESTION,
        replies=[("Mike Dottridge", "Will add West Africa and the Balkans.")],
    )
    a = Reviewer(draft)
    a.comment(comment)
    a.change(
        Change(paragraph="The plethora of new laws", old="plethora", new="multitude", author=JANE)
    )
    a.change(
        Change(
            paragraph="The report has been published",
            old="every year",
            new="every June",
            author=JANE,
            part="word/footnotes.xml",
        )
    )
    a.change(
        Change(
            paragraph="Two main preventive techniques",
            old="",
            new="broadly",
            after="Two main preventive techniques are reported to have been",
            author=JANE,
        )
    )
    a.change(
        Change(
            paragraph="It sometimes seems that every initiative",
            old=" by the organisation behind it",
            new="",
            author=JANE,
        )
    )
    a.save(root / "a.docx")
    b = Reviewer(draft)
    b.comment(comment)  # the same remark, in the second reviewer's copy: shown once
    b.comment(
        Comment(
            paragraph="The gaps between separate parts",
            anchor="dangerously large",
            author=OMAR,
            text="Evidence for this?",
            resolved=True,
        )
    )
    b.save(root / "b.docx")
    return root


@pytest.fixture(scope="module")
def items(reviewed):
    result = run(reviewed, "feedback", "a.docx", "b.docx", "--patch", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["items"]


def test_each_comment_and_change_at_its_chapter_and_line(items):
    where = [(i["kind"], i["reviewer"], i["path"], i["line"]) for i in items]
    assert where == [
        ("change", JANE, "paper/03-law-enforcement.md", 9),
        ("comment", JANE, "paper/03-law-enforcement.md", 9),
        ("change", JANE, "paper/04-prevention.md", 7),
        ("change", JANE, "paper/04-prevention.md", 42),
        ("comment", OMAR, "paper/07-coordination.md", 29),
        ("change", JANE, "paper/10-good-practice.md", 9),
    ]
    comment = items[1]
    assert comment["text"] == QUESTION and comment["anchor"] == "plethora of new laws"
    assert comment["replies"] == [
        {
            "reviewer": "Mike Dottridge",
            "date": "2026-12-01T10:00:00Z",
            "text": "Will add West Africa and the Balkans.",
        }
    ]
    assert items[4]["resolved"] is True and items[4]["section"] == "7"
    assert (items[0]["old"], items[0]["new"]) == ("plethora", "multitude")
    assert (items[3]["old"], items[3]["new"]) == ("every year", "every June")
    assert items[2]["new"] == "broadly" and items[2]["old"] == ""
    assert all(i["in_patch"] for i in items if i["kind"] == "change")


def test_listing_and_markdown_are_grouped_by_chapter(reviewed, items):
    result = run(reviewed, "feedback", "a.docx", "b.docx")
    assert result.exit_code == 0
    assert (
        "paper/03-law-enforcement.md:9: comment by Jane Reviewer, 2026-12-01 on " in result.output
    )
    text = (reviewed / "build/feedback/0.1.md").read_text()
    assert "## paper/04-prevention.md" in text
    assert (
        "paper/04-prevention.md:42: change by Jane Reviewer, 2026-12-01: replace “every year” "
        "with “every June”" in text
    )


@pytest.mark.slow
def test_patch_applies_and_gives_the_reviewed_draft_accepted(reviewed, items):
    patch = reviewed / "build/feedback/0.1.patch"
    check = subprocess.run(
        ["git", "apply", "--check", str(patch)], cwd=reviewed, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    git(reviewed, "apply", str(patch))
    try:
        assert run(reviewed, "build", "--to", "docx", "--version", "0.1-accepted").exit_code == 0
        rebuilt = text_of(pandoc_docx_json(reviewed / "build/child-trafficking-0.1-accepted.docx"))
        accepted = text_of(pandoc_docx_json(reviewed / "a.docx", "accept"))
        strip = lambda t: " ".join(t.replace("0.1-accepted", "0.1").split())  # noqa: E731
        assert strip(rebuilt) == strip(accepted)
    finally:
        git(reviewed, "checkout", "--", "paper")


def test_sources_are_never_edited(reviewed, items):
    """Every source's bytes and time stay as they were across a `feedback --patch` run here
    (not only after another test's `git checkout`), and git sees them as committed."""

    def sources() -> dict[str, tuple[bytes, int]]:
        found = [
            *reviewed.glob("paper/**/*"),
            reviewed / "outline.yaml",
            reviewed / "references.bib",
        ]
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in found if p.is_file()}

    before = sources()
    result = run(reviewed, "feedback", "a.docx", "b.docx", "--patch", "--format", "json")
    assert result.exit_code == 0, result.output
    assert sources() == before
    assert (
        git(reviewed, "status", "--porcelain", "--", "paper", "outline.yaml", "references.bib")
        == ""
    )


def test_text_changed_beyond_recognition_says_so(reviewed):
    chapter = reviewed / "paper/03-law-enforcement.md"
    original = chapter.read_text()
    paragraph = original[original.index("The plethora") : original.index("## Specialist")]
    chapter.write_text(
        original.replace(
            paragraph,
            "Legislators rushed to act and copied model "
            "texts wholesale, whatever the cases at home.\n\n",
        )
    )
    try:
        result = run(reviewed, "feedback", "a.docx", "--format", "json")
        moved = [i for i in json.loads(result.output)["items"] if i["section"] == "3"]
        assert moved and all(i["line"] is None for i in moved)
        text = run(reviewed, "feedback", "a.docx").output
        assert "section 3 (text changed beyond recognition)" in text
    finally:
        chapter.write_text(original)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"just text", "is not a readable .docx file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "is password-protected"),
    ],
)
def test_bad_files_get_a_clear_answer(reviewed, tmp_path, content, message):
    bad = tmp_path / "reviewed.docx"
    bad.write_bytes(content)
    result = run(reviewed, "feedback", str(bad))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_a_docx_that_is_not_a_paperbuild_draft_needs_against(reviewed, tmp_path):
    import docx

    other = tmp_path / "other.docx"
    document = docx.Document()
    document.add_paragraph("Unrelated text.")
    document.save(str(other))
    result = run(reviewed, "feedback", str(other))
    assert result.exit_code == 2
    assert (
        "does not say which draft it was reviewed from (it is not a paperbuild draft)"
        in result.output
    )
    assert "--against VERSION" in result.output
    result = run(reviewed, "feedback", str(other), "--against", "0.1")
    assert result.exit_code == 0 and "no comments or tracked changes" in result.output


def test_conflicting_changes_are_shown_side_by_side_and_left_out(reviewed, tmp_path):
    """Two reviewers change the same words differently; a third change elsewhere still lands."""
    draft = reviewed / "build/child-trafficking-0.1.docx"
    jane, omar = Reviewer(draft), Reviewer(draft)
    para = "The plethora of new laws"
    jane.change(Change(paragraph=para, old="plethora", new="multitude", author=JANE))
    omar.change(Change(paragraph=para, old="plethora", new="flood", author=OMAR))
    omar.change(
        Change(
            paragraph="It sometimes seems that every initiative",
            old=" by the organisation behind it",
            new="",
            author=OMAR,
        )
    )
    same = Reviewer(draft)  # the same change as Jane's, by a third file: no conflict with hers
    same.change(
        Change(paragraph="Two main preventive techniques", old="Two", new="Both", author=JANE)
    )
    again = Reviewer(draft)
    again.change(
        Change(paragraph="Two main preventive techniques", old="Two", new="Both", author=JANE)
    )
    files = [
        jane.save(tmp_path / "jane.docx"),
        omar.save(tmp_path / "omar.docx"),
        same.save(tmp_path / "same.docx"),
        again.save(tmp_path / "again.docx"),
    ]
    result = run(reviewed, "feedback", *map(str, files), "--patch")
    assert result.exit_code == 0, result.output
    assert (
        "change by Jane Reviewer, 2026-12-01: replace “plethora” with “multitude” / conflicts "
        "with Omar Reviewer: replace “plethora” with “flood” (neither is in the patch)"
        in result.output
    )
    assert "replace “plethora” with “flood” / conflicts with Jane Reviewer" in result.output
    assert "2 change(s) conflict with another reviewer's" in result.output
    patch = (reviewed / "build/feedback/0.1.patch").read_text()
    assert "multitude" not in patch and "flood" not in patch
    assert "-a 'good' or 'best practice' by the organisation behind it." in patch
    assert patch.count("+Both main preventive") == 1


@pytest.mark.parametrize(
    ("shown_old", "shown_new"),
    [
        ("Elle dit «\u00a0un mot\u00a0» ici.", "Elle dit «\u00a0deux mots\u00a0» ici."),
        ("Er sagt „ein Wort“ hier.", "Er sagt „zwei Wörter“ hier."),
    ],
)
def test_a_change_inside_the_languages_quotation_marks_finds_the_markdown(shown_old, shown_new):
    """The drafts show French or German marks where the source has straight quotes."""
    from paperbuild.feedback.patch import edits_for

    source = shown_old.replace("«\u00a0", '"').replace("\u00a0»", '"')
    source = source.replace("„", '"').replace("“", '"')
    edits, missed = edits_for(source, shown_old, shown_new)
    assert missed == 0 and len(edits) == 1
    (edit,) = edits
    patched = source[: edit.start] + edit.text + source[edit.end :]
    assert '"deux mots"' in patched or '"zwei Wörter"' in patched


def test_a_french_drafts_reviewed_quotation_patches_the_markdown(mini, tmp_path):
    """The draft shows «\u00a0…\u00a0» where the chapter has "…": a change inside still patches."""
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears too.]{points="2.1"} Elle dit "un mot" ici.\n'
        }
    )
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text().replace("  author:", "  lang: fr-FR\n  author:"))
    committed(root)
    assert run(root, "build", "--to", "docx").exit_code == 0
    (draft,) = (root / "build").glob("*.docx")
    reviewer = Reviewer(draft)
    reviewer.change(Change(paragraph="Elle dit", old="un mot", new="deux mots", author=JANE))
    reviewer.save(tmp_path / "r.docx")
    result = run(root, "feedback", str(tmp_path / "r.docx"), "--patch")
    assert result.exit_code == 0, result.output
    (patch,) = (root / "build/feedback").glob("*.patch")
    git(root, "apply", str(patch))
    assert 'Elle dit "deux mots" ici.' in (root / "paper/02-second.md").read_text()
