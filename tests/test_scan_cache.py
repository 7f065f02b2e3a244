"""The source scan (the lines and columns of headings, notes, citations and markers) is kept in
build/.cache/scan/ by the text it was made of: a command scans only the chapters changed since
the last, and a kept scan that cannot be read is made again."""

from __future__ import annotations

import pytest

from paperbuild import pandoc_ast
from paperbuild.load import project as project_module
from paperbuild.load.chapters import scan
from paperbuild.load.project import load_project
from paperbuild.safety import cache_dir
from paperbuild.util.fsutil import keep, kept_bytes
from paperbuild.util.seal import sealed
from tests.conftest import run

SECOND = '---\nsection: 2\n---\n\n# Second section\n\n{before}[Pears too.]{{points="2.1"}}[^9]\n'


def where_undefined(root) -> list[str]:
    """Return the locations the check gives for the undefined note [^9]."""
    result = run(root, "check")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    return [line.split(": ")[0] for line in lines if "error[undefined-footnote]" in line]


def test_the_scan_follows_the_text_and_only_changed_chapters_are_scanned(mini, monkeypatch):
    root = mini({"paper/02-second.md": SECOND.format(before="")})
    assert where_undefined(root) == ["paper/02-second.md:7:27"]
    scanned: list[str] = []

    def counted(text: str):
        scanned.append(text)
        return scan(text)

    monkeypatch.setattr(project_module, "scan", counted)
    assert where_undefined(root) == ["paper/02-second.md:7:27"]
    assert scanned == []  # (both chapters' scans kept)
    (root / "paper/02-second.md").write_text(SECOND.format(before="New words.\n\n"))
    assert where_undefined(root) == ["paper/02-second.md:9:27"]
    assert len(scanned) == 1 and "New words." in scanned[0]
    project = load_project(root)
    assert all(c.scan == scan(c.text) for c in project.chapters)


@pytest.mark.parametrize(
    "kept",
    [b"", b"[1, 2]", b'{"x": {"headings": [["a", "one", 1, ""]]}}', b"\xff\xfe", b'{"x": 3}'],
)
def test_a_kept_scan_that_cannot_be_read_is_made_again(mini, kept):
    root = mini({"paper/02-second.md": SECOND.format(before="")})
    assert where_undefined(root) == ["paper/02-second.md:7:27"]
    cache = cache_dir(root, "scan")
    assert cache is not None and (cache / project_module.SCAN_FILE).is_file()
    path = cache / project_module.SCAN_FILE
    path.write_bytes(sealed(path, kept))  # (sealed here: read past the seal)
    assert where_undefined(root) == ["paper/02-second.md:7:27"]


def test_a_damaged_entry_beside_good_ones_is_made_again(mini):
    root = mini({"paper/02-second.md": SECOND.format(before="")})
    assert where_undefined(root) == ["paper/02-second.md:7:27"]
    cache = cache_dir(root, "scan")
    assert cache is not None
    path = cache / project_module.SCAN_FILE
    data = pandoc_ast.loads(kept_bytes(path) or b"")
    for value in data.values():
        value["note_refs"] = [["9", 2, "x", ""]]  # (a column that is no number)
    keep(path, pandoc_ast.dumps(data))
    assert where_undefined(root) == ["paper/02-second.md:7:27"]
