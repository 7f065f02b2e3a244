"""`paperbuild status`: per-section progress, and the works cited formatted by citeproc-py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperbuild.cli import cli
from paperbuild.load.bibliography import parse_bibtex
from paperbuild.load.project import load_project
from paperbuild.references import DEFAULT_CSL, format_references
from paperbuild.report.status import status


def test_status_counts_words_points_notes_and_citations(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            "Pears grow here, `code is not counted`.[^1]\n\n[^1]: Three note words.\n"
        }
    )
    st = status(load_project(root))
    first, second = st.sections
    assert (first.points_covered, first.points_total, first.footnotes, first.citations) == (
        1,
        1,
        1,
        1,
    )
    assert (second.points_covered, second.footnotes, second.citations) == (0, 1, 0)
    assert second.words == 3 + 3  # "Pears grow here," and the note's three words
    assert first.last_change is not None
    assert st.points_covered == 1 and st.points_total == 2


def test_works_cited_are_formatted_by_citeproc_py(mini):
    st = status(load_project(mini()))
    assert st.works_cited == (("smith2020", "Smith, Jane. Apples. Orchard Press, 2020."),)


def test_works_are_formatted_by_the_drafts_engine():
    """One citation engine: BibTeX's escapes, dashes, macros and key case read as in the drafts."""
    bib = parse_bibtex(
        "@string{press = {Orchard {and} Sons}}\n"
        "@report{r,\n author = {{UN Body} and Doe, Jo},\n title = {A {B} c},\n"
        " date = {2001/2008},\n institution = {UN},\n}\n"
        "@article{Muller2011, author = {M{\\\"u}ller, Andr\\'es}, title = {Fish \\& Shellfish},"
        " journal = {Aquaculture}, pages = {545--552}, year = 2011}\n"
        "@book{b, author = {Ray, Al}, title = {Pears}, publisher = press, year = 2003}\n",
        "x.bib",
    )
    works = dict(format_references(bib.entries, DEFAULT_CSL))
    assert works["r"].startswith("UN Body, and Jo Doe. A B c.") and "2001" in works["r"]
    assert works["Muller2011"] == (
        "Müller, Andrés. ‘Fish & Shellfish’. Aquaculture, 2011, 545–52."  # en-GB, Chicago
    )
    assert works["b"] == "Ray, Al. Pears. Orchard and Sons, 2003."


@pytest.mark.slow
def test_status_command_table_and_json(bundled_copy):
    runner = CliRunner()
    table = runner.invoke(cli, ["-C", str(bundled_copy), "status"])
    assert table.exit_code == 0, table.output
    assert "28/41 points covered" in table.output
    assert "Works cited (7 of 7 entries)" in table.output
    data = json.loads(
        runner.invoke(cli, ["-C", str(bundled_copy), "status", "--format", "json"]).output
    )
    assert len(data["sections"]) == 11
    assert {
        "id",
        "title",
        "words",
        "points_covered",
        "points_total",
        "footnotes",
        "citations",
        "last_change",
    } <= set(data["sections"][0])
    assert data["sections"][10]["points_total"] == 0
    assert any("Trafficking in Persons Report" in w["reference"] for w in data["works_cited"])


def test_last_change_is_the_commit_date_until_the_file_changes(mini):
    import datetime as dt
    import os

    from tests.conftest import git

    root = mini()
    then = {"GIT_AUTHOR_DATE": "2020-01-02T12:00:00", "GIT_COMMITTER_DATE": "2020-01-02T12:00:00"}
    env = {**os.environ, **then}
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "first"]):
        git(root, *args, env=env)
    chapter = root / "paper/02-second.md"
    chapter.write_text(chapter.read_text() + "\nMore.\n")
    first, second = status(load_project(root / "paper")).sections
    assert first.last_change == "2020-01-02"
    saved = dt.datetime.fromtimestamp(chapter.stat().st_mtime, dt.UTC).date().isoformat()
    assert second.last_change == saved


def test_a_diff_summary_formats_keys_with_capitals():
    from paperbuild.diff.summary import formatted, works

    bib = parse_bibtex(
        "@book{Muller2011, author = {Muller, A}, title = {T}, publisher = {P}, year = 2011}",
        "x.bib",
    )
    done = works({"Muller2011", "gone"}, {e.key: e for e in bib.entries}, DEFAULT_CSL, "en-GB")
    assert formatted({"Muller2011", "gone"}, done) == (
        ("Muller2011", "Muller, A. T. P, 2011."),
        ("gone", "gone"),
    )
