"""A mutated copy of the bundled paper: each mistake is reported at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from paperbuild.checks import run_checks
from paperbuild.cli import cli
from paperbuild.load.project import load_project


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def mutated(bundled_copy: Path) -> Path:
    root = bundled_copy
    # undefined footnote (chapter 3, line 11): the reference now names a note that does not exist
    edit(root, "paper/03-law-enforcement.md", "Protocol,[^1]", "Protocol,[^9]")
    # duplicate footnote in chapter 2 (a second [^2] definition appended at the end, line 39)
    with (root / "paper/02-protocol.md").open("a", encoding="utf-8") as fh:
        fh.write("\n[^2]: A second text for the same note.\n")
    # unused footnote in chapter 8 (line 34)
    with (root / "paper/08-cooperation.md").open("a", encoding="utf-8") as fh:
        fh.write("\n[^spare]: Nobody points here.\n")
    # unknown citation in chapter 6 (line 31)
    edit(root, "paper/06-care.md", "[@crc-gc6]", "[@crc-gc7]")
    # broken and duplicate bib entries, appended after line 52
    with (root / "references.bib").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n@misc{opsc,\n  title = {Copy},\n  year = 2000,\n  author = {X},\n}\n"
            "\n@misc{broken,\n  title = {Never {closed,\n  year = 2001,\n}\n"
        )
    # deleted chapter 9
    (root / "paper/09-private-sector.md").unlink()
    # Latin-1 bytes in chapter 10, line 8
    path = root / "paper/10-good-practice.md"
    path.write_bytes(path.read_bytes().replace(b"It sometimes", b"It sometim\xe9s", 1))
    return root


def test_each_mutation_is_reported_where_it_is(mutated):
    diags = run_checks(load_project(mutated)).diagnostics
    where = {(d.rule, d.path, d.line, d.column) for d in diags}
    assert ("undefined-footnote", "paper/03-law-enforcement.md", 11, 10) in where
    assert ("unused-footnote", "paper/03-law-enforcement.md", 29, 1) in where
    assert ("duplicate-footnote", "paper/02-protocol.md", 39, 1) in where
    assert ("unused-footnote", "paper/08-cooperation.md", 34, 1) in where
    assert ("unknown-citation", "paper/06-care.md", 31, 54) in where
    assert ("duplicate-reference", "references.bib", 54, 1) in where
    assert ("bib-syntax", "references.bib", 60, 1) in where
    assert ("missing-chapter-file", "outline.yaml", 247, 5) in where
    assert ("unreadable-chapter", "paper/10-good-practice.md", 8, 11) in where
    assert not [d for d in diags if d.rule == "missing-chapter"]  # unreadable is said once
    assert ("missing-chapter-file", "outline.yaml", 260, 5) not in where  # the file exists


def test_broken_yaml_stops_the_check_with_its_location(bundled_copy):
    edit(bundled_copy, "outline.yaml", '  version: "0.1"', '  version: "0.1')
    result = CliRunner().invoke(cli, ["-C", str(bundled_copy), "check"])
    assert result.exit_code == 2
    assert "outline.yaml:" in result.output and "error[outline-syntax]" in result.output
    assert "Traceback" not in result.output
