"""A redline that says what it is: the versions compared, a legend, the version change on the
title page and in the footer, and an inserted note's own words marked."""

from __future__ import annotations

import re
import zipfile

import pytest
from click.testing import CliRunner

from paperbuild.cli import cli
from tests.render.readers import pdf_pages

NEW_NOTE = "This note was added in the second draft."


@pytest.mark.slow
def test_redline_furniture_and_inserted_note(mini):
    root = mini()
    run = lambda *a: CliRunner().invoke(cli, ["-C", str(root), *a])  # noqa: E731
    assert run("build").exit_code == 0 and run("release").exit_code == 0
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text().replace('"1.0"', '"1.1"'))
    chapter = root / "paper/02-second.md"
    chapter.write_text(
        chapter.read_text().replace("[^1]\n", "[^1] They keep well in a cool cellar.[^2]\n", 1)
        + f"[^2]: {NEW_NOTE}\n"
    )
    assert run("build").exit_code == 0
    result = run("diff", "1.0", "1.1")
    assert result.exit_code == 0, result.output
    docx = root / "build/diff/1.0..1.1.docx"
    with zipfile.ZipFile(docx) as z:
        parts = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".xml")}
    notes = parts["word/footnotes.xml"]
    inserted = re.findall(r"<w:ins [^>]*>(.*?)</w:ins>", notes, re.S)
    assert any(NEW_NOTE in "".join(re.findall(r"<w:t[^>]*>([^<]*)", i)) for i in inserted)
    headers = "".join(v for k, v in parts.items() if "header" in k)
    assert "Changes from 1.0 to 1.1" in headers
    footers = "".join(v for k, v in parts.items() if "footer" in k)
    assert re.search(r"<w:del [^>]*><w:r><w:delText[^>]*>Version 1\.0 ·", footers)
    assert re.search(r"<w:ins [^>]*><w:r><w:t[^>]*>Version 1\.1 ·", footers)
    ids = re.findall(r'<w:(?:ins|del) w:id="(\d+)"', "".join(parts.values()))
    assert len(ids) == len(set(ids))  # every change its own id, headers and footers included
    pages = [" ".join(p.split()) for p in pdf_pages(root / "build/diff/1.0..1.1.pdf")]
    assert "Changes from 1.0 to 1.1: inserted, deleted" in pages[0]  # the title page
    assert all("Changes from 1.0 to 1.1" in p for p in pages[1:])  # every running header
    assert re.search(r"Version 1\.0 1\.1 ·", pages[0])


def test_a_project_folder_with_a_current_snapshot_is_not_assembled_again(mini, monkeypatch):
    """The last build recorded exactly these inputs: diff reads that draft, citeproc is not run."""
    from paperbuild.diff import sides

    root = mini()
    assert CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"]).exit_code == 0
    calls = []
    original = sides.resolve_citations
    monkeypatch.setattr(sides, "resolve_citations", lambda *a: calls.append(a) or original(*a))
    project = sides.load_project(root)
    side = sides.side_from_project(project, "now")
    assert calls == [] and side.document.version == "1.0" and side.coverage["1"]
    (root / "paper/02-second.md").write_text(
        (root / "paper/02-second.md").read_text() + "\nA new line.\n"
    )
    sides.side_from_project(sides.load_project(root), "now")
    assert len(calls) == 1  # the sources changed: the draft is made again
