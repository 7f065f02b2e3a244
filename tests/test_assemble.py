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
