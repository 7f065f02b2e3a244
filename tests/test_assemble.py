"""Assembly: coverage markers leave no trace, wherever the author put them."""

from __future__ import annotations

import json

from paperbuild.assemble import assemble
from paperbuild.checks import run_checks
from paperbuild.load.project import load_project


def test_markers_on_every_kind_of_element_are_removed(mini):
    root = mini(
        {
            "paper/01-first.md": '---\nsection: 1\n---\n\n# First section {points="1.1"}\n\n'
            '::: {points="1.1"}\nApples.\n:::\n\n[Pears]{points="1.1"} `x`{points="1.1"}\n\n'
            '~~~ {.python points="1.1"}\nprint(1)\n~~~\n'
        }
    )
    result = run_checks(load_project(root), with_blocks=True)
    assert "1.1" in result.covered_ids
    text = json.dumps(assemble(result.parsed).blocks)
    assert "points" not in text
    assert "print(1)" in text and "python" in text  # the code block itself stays


def test_assembly_takes_the_parsed_chapters_and_a_second_side_parses_again(mini):
    """The draft is made of the parsed blocks themselves: none are left to be misused, and a
    diff side handed the spent check parses again and gets the same draft."""
    from paperbuild.diff.sides import side_from_project

    project = load_project(mini())
    result = run_checks(project, with_blocks=True)
    first = json.dumps(assemble(result.parsed).blocks)
    assert result.parsed.blocks == {}
    again = run_checks(project, with_blocks=True)
    assert json.dumps(assemble(again.parsed).blocks) == first
    side = side_from_project(project, "now", result)  # spent: it must not assemble nothing
    assert "Apples" in json.dumps(side.document.blocks)


def _drafted_headings(root):
    from tests.conftest import run
    from tests.render.readers import pandoc_docx_json, text_of

    result = run(root, "build", "--to", "docx", "--force")
    assert result.exit_code == 0, result.output
    doc = pandoc_docx_json(root / "build/a-small-paper-1.0.docx")
    return [text_of(b["c"][2]) for b in doc["blocks"] if b.get("t") == "Header"]


def test_a_chapter_written_a_level_down_is_read_a_level_up(mini):
    # (`## Second section` was a subsection "2.1 Second section" under the outline's title,
    # and its `###` headings 2.1.1, ...)
    second = (
        '---\nsection: 2\n---\n\n## Second section\n\n[Pears.]{points="2.1"}\n\n'
        "### Orchards\n\nText.\n\n#### Old trees\n\nText.\n\n### Markets\n\nText.\n"
    )
    root = mini({"paper/02-second.md": second})
    found = run_checks(load_project(root)).diagnostics
    assert [d for d in found if d.rule == "title-drift"] == []
    drafted = _drafted_headings(root)
    start = drafted.index("2 Second section")
    assert drafted[start:-1] == [
        "2 Second section",
        "2.1 Orchards",
        "2.1.1 Old trees",
        "2.2 Markets",
    ]  # (then the references)


def test_a_chapter_without_its_title_is_told_and_a_skipped_level_numbered_in_turn(mini):
    # (`#` then `###` then `##` numbered the `###` 2.1 and the `##` 2.1 again)
    second = (
        '---\nsection: 2\n---\n\n### Orchards\n\n[Pears.]{points="2.1"}\n\n## Markets\n\nText.\n'
    )
    root = mini({"paper/02-second.md": second})
    drift = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "title-drift"]
    assert [(d.line, d.message) for d in drift] == [
        (
            5,
            "chapter opens with no '# Second section': the drafts open it with the section's "
            "title, and its first heading 'Orchards' is a subsection",
        )
    ]
    drafted = _drafted_headings(root)
    assert drafted[drafted.index("2 Second section") : -1] == [
        "2 Second section",
        "2.1 Orchards",
        "2.2 Markets",
    ]
