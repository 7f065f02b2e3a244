"""Bad input gets a clear answer, nothing is lost, nothing leaks: every command, every case."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperbuild.util.fsutil import build_lock, write_atomic
from tests.conftest import run

COMMANDS = [
    ["check"],
    ["build", "--to", "docx"],
    ["outline"],
    ["status"],
    ["diff", "0.1"],
    ["release"],
    ["versions"],
]


def assert_clean(result, code: int, *needles: str) -> None:
    """The answer: the expected exit code, the expected words, never the internal-error guard."""
    output = result.output
    assert result.exit_code == code, output
    for needle in needles:
        assert needle in output, (needle, output)
    assert "Traceback" not in output and "internal error" not in output, output


BROKEN_OUTLINES = {
    "syntax": ("document: [\n", "outline.yaml:2:1: error[outline-syntax]"),
    "tabs": ("document:\n\ttitle: x\n", "outline.yaml:2:1: error[outline-syntax]"),
    "duplicate key": ("document:\n  title: a\n  title: b\n", "duplicate key 'title'"),
    "wrong type": ("document: 3\nsections: []\n", "document must be a mapping, not a number"),
    "empty": ("", "outline.yaml:1:1: error[outline-schema] outline.yaml is empty"),
}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("case", sorted(BROKEN_OUTLINES))
def test_every_command_answers_a_broken_outline(mini, command, case):
    text, expected = BROKEN_OUTLINES[case]
    result = run(mini({"outline.yaml": text}), *command)
    assert_clean(result, 2, expected)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_every_command_outside_a_project(tmp_path, command):
    assert_clean(run(tmp_path, *command), 2, "no outline.yaml found")


CHAPTERS = {
    "empty": (b"", 0, "warning[title-drift] chapter has no heading"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "error[unreadable-chapter] the file is binary"),
    "latin-1": (b"# Second section\n\ncaf\xe9\n", 1, "paper/02-second.md:3:4: error[unreadable"),
    "bom": (b'\xef\xbb\xbf# Second section\n\n[P]{points="2.1"}\n', 0, "0 errors"),
    "crlf": (b'# Second section\r\n\r\n[P]{points="2.1"}\r\n', 0, "0 errors"),
    "unterminated front matter": (
        b"---\nsection: 2\n\n# Second section\n",
        1,
        "paper/02-second.md:1:1: error[front-matter]",
    ),
    "long line": (b"# Second section\n\n[" + b"word " * 400 + b']{points="2.1"}\n', 0, "0 errors"),
}


@pytest.mark.parametrize("case", sorted(CHAPTERS))
def test_odd_chapters(mini, case):
    data, code, expected = CHAPTERS[case]
    root = mini()
    outline = (
        (root / "outline.yaml")
        .read_text()
        .replace(
            "    title: Second section\n",
            "    title: Second section\n    chapter: paper/02-second.md\n",
        )
    )
    (root / "outline.yaml").write_text(outline)
    (root / "paper/02-second.md").write_bytes(data)
    assert_clean(run(root, "check"), code, expected)


def test_a_20_mb_chapter_is_refused_with_its_size(mini):
    root = mini()
    (root / "paper/03-huge.md").write_bytes(b"---\nsection: 2\n---\n" + b"word " * 4_200_000)
    result = run(root, "check")
    assert_clean(result, 1, "paper/03-huge.md: error[unreadable-chapter] chapter is 20.0 MB")


def test_bibliography_problems_stop_the_build(mini):
    root = mini(
        {
            "references.bib": "@book{smith2020,\n  title = {Apples {unclosed,\n}\n"
            "@book{x, title={T}, author={A}, year=1}\n@book{x, title={T}, author={A}}\n"
        }
    )
    assert_clean(
        run(root, "build", "--to", "docx"),
        1,
        "error[bib-syntax]",
        "error[duplicate-reference]",
        "no draft was written",
    )
    (root / "references.bib").unlink()
    assert_clean(run(root, "build", "--to", "docx"), 1, "error[missing-bibliography]")


def test_missing_and_invalid_csl_and_reference_doc(mini):
    root = mini()
    base = (root / "outline.yaml").read_text()
    (root / "outline.yaml").write_text(base + "csl: styles/none.csl\n")
    assert_clean(run(root, "check"), 1, "error[missing-file] csl: styles/none.csl does not exist")
    (root / "styles").mkdir()
    (root / "styles/none.csl").write_text("<style><info>\n</style>\n")
    assert_clean(
        run(root, "check"),
        1,
        "styles/none.csl:2:9: error[invalid-style] the CSL style is not valid XML: "
        "Opening and ending tag mismatch: info line 1 and style\n",
    )
    (root / "outline.yaml").write_text(base + "reference-doc: house.docx\n")
    (root / "house.docx").write_text("not a zip")
    assert_clean(run(root, "check"), 1, "house.docx: error[invalid-reference-doc]")


def test_pandoc_failure_is_one_clear_error(mini):
    root = mini()
    (root / "bad.csl").write_text(
        '<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0"><citation/></style>'
    )
    (root / "outline.yaml").write_text((root / "outline.yaml").read_text() + "csl: bad.csl\n")
    assert_clean(run(root, "build", "--to", "docx"), 2, "paperbuild: error: pandoc failed")


def test_a_file_where_build_should_be(mini):
    root = mini()
    (root / "build").write_text("not a folder")
    assert_clean(run(root, "build", "--to", "docx"), 2, "paperbuild: error:", "build")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_build_folder(mini):
    root = mini()
    (root / "build").mkdir()
    (root / "build").chmod(0o555)
    try:
        assert_clean(run(root, "build", "--to", "docx"), 2, "Permission denied")
    finally:
        (root / "build").chmod(0o755)


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and "build" not in p.relative_to(root).parts
    }


@pytest.mark.slow
def test_no_command_writes_outside_build(mini):
    root = mini()
    before = tree_hashes(root)
    for command in (
        ["check"],
        ["build"],
        ["outline"],
        ["outline", "--to", "docx"],
        ["status"],
        ["versions"],
        ["diff", "1.0", "1.0"],
        ["release"],
        ["versions", "--verify"],
    ):
        result = run(root, *command)
        assert result.exit_code == 0, (command, result.output)
        assert tree_hashes(root) == before, command


def test_released_drafts_are_verified(mini):
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    assert run(root, "release").exit_code == 0
    assert_clean(run(root, "versions", "--verify"), 0, "all released drafts verified")
    assert_clean(run(root, "build", "--to", "docx"), 2, "version 1.0 is released")
    doc = root / "build/versions/1.0/document.json"
    doc.write_text(doc.read_text().replace("Apples", "Pears"))
    assert_clean(
        run(root, "versions", "--verify"),
        1,
        "released draft 1.0: document.json changed since it was released",
    )


@pytest.mark.slow
def test_second_build_waits_for_the_lock(mini):
    root = mini()
    with build_lock(root / "build"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperbuild", "-C", str(root), "build", "--to", "docx"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.5)
        assert proc.poll() is None, "the second build must wait while the lock is held"
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert b"waiting for it" in err
    assert (root / "build/a-small-paper-1.0.docx").is_file()


@pytest.mark.slow
def test_sigterm_leaves_previous_outputs_whole_and_no_temporaries(mini):
    root = mini()
    assert run(root, "build").exit_code == 0
    outputs = {
        p: p.read_bytes() for p in (root / "build").glob("*.*") if p.suffix in (".docx", ".pdf")
    }
    for delay in (0.3, 0.8, 1.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperbuild", "-C", str(root), "build"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        # killed before start-up installed the handler (nothing written yet), stopped in order
        # by it, or already finished
        assert proc.returncode in (0, 128 + signal.SIGTERM, -signal.SIGTERM), (delay, err[-2000:])
        for path, data in outputs.items():
            now = path.read_bytes()
            assert now == data or now[:4] in (b"PK\x03\x04", b"%PDF"), path  # old or new, whole
        assert not list((root / "build").rglob(".*.tmp"))


@pytest.mark.parametrize("stop_at", ["created", "written", "renamed"])
def test_a_signal_at_any_step_of_an_atomic_write_leaves_no_temporary(
    tmp_path, monkeypatch, stop_at
):
    # SIGTERM's handler raises SystemExit at whatever bytecode runs next: here, just after the
    # temporary file is created (where tempfile.mkstemp had not yet handed back its name), just
    # after it is written, or just after the rename.
    target = tmp_path / "draft.docx"
    target.write_bytes(b"the previous draft")
    real = {"created": os.open, "written": os.chmod, "renamed": os.replace}[stop_at]

    def then_stop(*args, **kwargs):
        real(*args, **kwargs)
        raise SystemExit(128 + signal.SIGTERM)

    monkeypatch.setattr(
        os, {"created": "open", "written": "chmod", "renamed": "replace"}[stop_at], then_stop
    )
    with pytest.raises(SystemExit):
        write_atomic(target, b"the new draft")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.docx"]
    assert target.read_bytes() in (b"the previous draft", b"the new draft")


def test_next_build_removes_what_a_killed_one_left(mini):
    root = mini()
    (root / "build").mkdir()
    stale = root / "build" / ".a-small-paper-1.0.docx.x1y2.tmp"
    stale.write_bytes(b"half a file")
    assert run(root, "build", "--to", "docx").exit_code == 0
    assert not stale.exists()


def test_remote_images_are_reported_and_never_fetched(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears.]{points="2.1"}\n\n![A chart](https://example.org/chart.png)\n'
        }
    )
    assert_clean(
        run(root, "check"),
        0,
        "paper/02-second.md:9:12: warning[remote-resource] https://example.org/chart.png",
    )
    assert run(root, "build", "--to", "docx").exit_code == 0
    from tests.render.readers import docx_part, pandoc_docx_json, text_of

    docx = root / "build/a-small-paper-1.0.docx"
    assert "[image not fetched: https://example.org/chart.png]" in " ".join(
        text_of(pandoc_docx_json(docx)["blocks"]).split()
    )
    assert "<w:drawing" not in docx_part(docx, "word/document.xml")


def test_paths_that_leave_the_project_are_refused(mini, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("# Second section\n\nTOP-SECRET-CONTENT\n")
    root = mini()
    (root / "paper/02-second.md").unlink()
    (root / "paper/02-second.md").symlink_to(secret)
    (root / "paper/01-first.md").write_text(
        (root / "paper/01-first.md").read_text() + "\n![x](../../secret.md)\n"
    )
    result = run(root, "check")
    assert_clean(
        result,
        1,
        "paper/02-second.md: error[path-outside-project]",
        "error[path-outside-project] ../../secret.md leads outside",
    )
    run(root, "build", "--force", "--to", "docx")
    data = (root / "build/a-small-paper-1.0.docx").read_bytes()
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert not any(b"TOP-SECRET" in z.read(n) for n in z.namelist())


def test_each_use_of_a_bad_image_is_reported_where_it_is_written(mini):
    # The path is first written in prose and in raw Typst, then used as an image three times
    # (inline, angle-bracketed, through a reference); a TIFF twice, spelled two ways.
    png = b"\x89PNG\r\n\x1a\n"
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears.]{points="2.1"} The file gone.png, and `#read("gone.png")`{=typst}.\n\n'
            "![One](gone.png) and ![two](<gone.png>).\n\n"
            "![Three][g]\n\n[g]: gone.png\n\n"
            "![Scan](<my scan.tiff>) and ![again](my%20scan.tiff).\n",
            "paper/my scan.tiff": b"II*\x00" + bytes(60),
            "paper/ok.png": png,
        }
    )
    result = run(root, "check")
    assert_clean(
        result,
        0,
        "paper/02-second.md:9:8: warning[missing-resource] gone.png",
        "paper/02-second.md:9:30: warning[missing-resource] gone.png",
        "paper/02-second.md:13:6: warning[missing-resource] gone.png",
        "paper/02-second.md:15:10: warning[unsupported-image]",
        "paper/02-second.md:15:38: warning[unsupported-image]",
    )
    assert result.output.count("warning[missing-resource]") == 3, result.output
    assert result.output.count("warning[unsupported-image]") == 2, result.output


def test_raw_html_that_the_drafts_drop_is_reported(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears.]{points="2.1"}\n\n<marquee>A scrolling note</marquee>\n'
        }
    )
    assert_clean(run(root, "check"), 0, "paper/02-second.md:9:1: warning[dropped-raw] raw HTML")


def test_unexpected_errors_get_the_guard_with_a_debug_hint(mini, monkeypatch):
    import paperbuild.checks as checks

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(checks, "run_checks", boom)
    result = run(mini(), "check")
    assert result.exit_code == 2
    assert "internal error: RuntimeError: simulated bug" in result.output
    assert "--debug" in result.output and "Traceback" not in result.output


def test_an_unbraced_and_in_a_list_field_is_a_warning_with_the_fix(mini):
    bib = (
        "@report{r, author = {{UN}}, title = {T}, year = {2001},\n"
        "  institution = {Office to Monitor and Combat Trafficking},\n"
        "  publisher = {Smith {and} Sons}, location = {{Trinidad and Tobago}}}\n"
        "@book{smith2020, author = {Smith, Jane}, title = {Apples}, year = {2020}}\n"
    )
    root = mini({"references.bib": bib})
    result = run(root, "check")
    assert result.exit_code == 0
    assert result.output.count("list-field-and") == 1, result.output
    assert (
        "references.bib:2:1: warning[list-field-and] institution of 'r' reads as two names, "
        "“Office to Monitor” and “Combat Trafficking”" in result.output
    )
    assert "institution = {Office to Monitor {and} Combat Trafficking}" in result.output


def test_a_citeproc_run_past_its_memory_limit_blames_the_bibliography_not_the_chapters(monkeypatch):
    # (the hint had told the author to split chapters, which citeproc does not read apart)
    from paperbuild import pandoc
    from paperbuild.errors import BuildError

    monkeypatch.setenv(pandoc.MEMORY_VARIABLE, "4m")
    text = "".join(f"Work [@k{i}].\n\n" for i in range(200)).encode()
    for args, cause in (
        (["--citeproc", "-f", "markdown", "-t", "json"], "a very large bibliography"),
        (["-f", "markdown", "-t", "json"], "split very large chapters"),
    ):
        try:
            pandoc.run(args, text * 50, heap=["-A64m"])
        except BuildError as exc:
            assert "needed more than 4m of memory" in exc.message, exc.message
            assert cause in (exc.hint or ""), exc.hint
        else:
            raise AssertionError(f"pandoc {args} ran within 4 MB")


def test_a_figures_caption_is_checked_and_counted_once_not_again_as_its_images_alt(mini):
    # (pandoc repeats a figure's caption as its image's alt text: raw HTML in it was reported
    # twice, the second time at 1:1, and its words counted twice)
    from paperbuild import pandoc
    from paperbuild.checks import run_checks
    from paperbuild.facts import chapter_facts
    from paperbuild.load.project import load_project

    chapter = (
        '---\nsection: 2\n---\n\n# Second section\n\n[Pears.]{points="2.1"}\n\n'
        "![A caption with <blink>odd</blink> markup](pears.png)\n"
    )
    root = mini({"paper/02-second.md": chapter})
    found = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "dropped-raw"]
    assert [(d.line, d.column) for d in found] == [(9, 18), (9, 28)], found
    blocks = pandoc.parse_chapters([("c.md", chapter.split("---\n", 2)[2])])[0]
    assert chapter_facts(blocks).words == 1 + 5  # "Pears." and the caption's five words


@pytest.mark.parametrize(
    ("stop", "code"), [(SystemExit(128 + signal.SIGTERM), 143), (KeyboardInterrupt(), 130)]
)
def test_a_signal_that_comes_while_a_module_defines_its_classes_stops_the_command(
    mini, monkeypatch, stop, code
):
    # (SIGTERM's handler raises SystemExit wherever the command is: inside a dataclass's
    # creation, Python 3.11 wraps it in a RuntimeError, which read as an internal error, exit 2)
    from paperbuild import build as build_module

    class Stopping:
        def __set_name__(self, owner, name):
            raise stop

    def importing(*args, **kwargs):
        type("Defined", (), {"field": Stopping()})  # (what a module's class statement runs)

    monkeypatch.setattr(build_module, "build_project", importing)
    result = run(mini(), "build", "--to", "docx")
    assert result.exit_code == code, result.output
    assert "internal error" not in result.output
