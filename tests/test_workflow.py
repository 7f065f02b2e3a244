"""The author's everyday loop: init, report, JSON schemas, git drafts, CI and pre-commit files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import jsonschema
import pytest
import yaml

from tests.conftest import REPO, committed, git, run


def test_init_in_an_empty_folder_then_check_has_no_errors(tmp_path):
    result = run(tmp_path, "init", "paper")
    assert result.exit_code == 0, result.output
    root = tmp_path / "paper"
    assert "created" in result.output and (root / "outline.yaml").is_file()
    assert "build/" in (root / ".gitignore").read_text().splitlines()  # outputs stay uncommitted
    chapters = sorted(p.name for p in (root / "paper").glob("*.md"))
    assert len(chapters) == 11 and chapters[0].startswith("01-patterns")
    first = (root / "paper" / chapters[2]).read_text()
    assert first.startswith("---\nsection: 3\n---\n\n# Law enforcement\n")
    assert "[ ] 3.6  Existing child protection procedures" in first
    check = run(root, "check")
    assert check.exit_code == 0, check.output
    assert "0 errors, 41 warnings; 0/41 points covered, 11/11 sections" in check.output


def test_init_never_overwrites(tmp_path):
    (tmp_path / "outline.yaml").write_text("mine")
    result = run(tmp_path, "init", "--from-outline", str(REPO / "outline.yaml"))
    assert result.exit_code == 0
    assert (tmp_path / "outline.yaml").read_text() == "mine"
    assert f"kept    {tmp_path / 'outline.yaml'} (exists)" in result.output


def test_init_from_a_broken_outline_says_where(tmp_path):
    bad = tmp_path / "draft-outline.yaml"
    bad.write_text("document:\n  title: [\n")
    result = run(tmp_path, "init", "--from-outline", str(bad))
    assert result.exit_code == 2
    assert "draft-outline.yaml:3:1: error[outline-syntax]" in result.output


def test_bundled_example_outline_is_the_repository_outline():
    shipped = REPO / "src" / "paperbuild" / "templates" / "example-outline.yaml"
    assert shipped.read_bytes() == (REPO / "outline.yaml").read_bytes()


@pytest.mark.slow
def test_console_script_is_installed_and_runs(tmp_path):
    script = shutil.which("paperbuild", path=os.path.dirname(sys.executable))
    assert script, "the console script is installed beside the interpreter"
    out = subprocess.run([script, "init", str(tmp_path / "p")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(
        [script, "-C", str(tmp_path / "p"), "status", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and json.loads(out.stdout)["points_total"] == 41


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.external: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if "cell" in (attrs.get("class") or "") and attrs.get("title"):
            self.cells.append(attrs["class"])
        for key in ("src", "href"):
            if attrs.get(key):
                self.external.append(attrs[key])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from tests.conftest import EDITS, apply, copy_bundled

    root = copy_bundled(tmp_path_factory.mktemp("report") / "paper")
    assert run(root, "build", "--to", "docx").exit_code == 0
    apply(root, EDITS)
    result = run(root, "report")
    assert result.exit_code == 0, result.output
    return root / "build" / "report.html"


def test_report_is_one_self_contained_page(report):
    html = report.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(html)
    assert parser.external == [] and "script" not in parser.tags and "link" not in parser.tags
    assert len(parser.cells) == 41
    assert parser.cells.count("cell covered") == 29
    assert "suggested" in html  # the legend; suggestions appear where a paragraph matches
    assert "outline.yaml:55:13" in html  # the check's diagnostics with their place
    assert "Since draft 0.1:" in html and "Points now covered: 3.5" in html
    # the Details column says what changed, quoting the first changes
    assert "Added: “A new paragraph on referral records" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: chromium)")
def test_report_renders_in_a_real_browser(report, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,1800",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 1800)
    assert len(data) > 50_000, "a blank page compresses to a few kilobytes; the report does not"


def validate(data, name):
    schema = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text())
    jsonschema.validate(data, schema)


@pytest.mark.slow
def test_json_outputs_follow_their_schemas(bundled_copy, mini):
    validate(json.loads(run(bundled_copy, "check", "--format", "json").output), "check")
    validate(json.loads(run(bundled_copy, "status", "--format", "json").output), "status")
    validate(json.loads(run(bundled_copy, "outline", "--format", "json").output), "outline")
    broken = mini({"outline.yaml": "document: [\n"})
    validate(json.loads(run(broken, "check", "--format", "json").output), "check")
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    validate(
        json.loads(run(root, "diff", "1.0", ".", "--to", "md", "--format", "json").output), "diff"
    )


def test_diff_against_a_git_ref_leaves_the_work_tree_alone(mini):
    root = mini()
    committed(root, "first")
    chapter = root / "paper/02-second.md"
    chapter.write_text(chapter.read_text().replace("Pears too.", "Pears and plums too."))
    before = chapter.read_text()
    result = run(root, "diff", "git:HEAD", ".", "--to", "md", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["old"] == "git-HEAD" and data["sections"][0]["words_added"] == 2
    assert chapter.read_text() == before
    assert run(root, "diff", "git:nope", ".", "--to", "md").exit_code == 2


def test_ci_workflow_and_pre_commit_hook():
    workflow = yaml.safe_load((REPO / ".github/workflows/paper.yml").read_text())
    steps = [s.get("run", "") for s in workflow["jobs"]["paper"]["steps"]]
    assert "paperbuild check --format github" in steps
    assert any(s.startswith('paperbuild diff "git:origin/') for s in steps)
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "paperbuild-check" and hooks[0]["entry"] == "paperbuild check"


def test_version_git_uses_git_describe(mini):
    root = mini()
    git(committed(root, "first"), "tag", "v0.3")
    result = run(root, "build", "--to", "docx", "--version", "git")
    assert result.exit_code == 0, result.output
    assert (root / "build/a-small-paper-v0.3.docx").is_file()
    assert (root / "build/versions/v0.3/manifest.json").is_file()
