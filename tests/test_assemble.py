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
