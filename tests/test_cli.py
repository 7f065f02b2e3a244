"""The command line: exit codes, formats, help, and messages for a user's mistakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from paperbuild import __version__
from tests.conftest import REPO, run


def test_version():
    result = run(None, "--version")
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["outline"],
        ["check"],
        ["build"],
        ["init"],
        ["status"],
        ["versions"],
        ["release"],
        ["diff"],
        ["watch"],
        ["report"],
    ],
)
def test_every_command_has_help(command):
    result = run(None, *command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_outline_json_has_11_sections_and_41_points():
    result = run(REPO, "outline", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert len(data["sections"]) == 11
    assert sum(len(s["points"]) for s in data["sections"]) == 41
    assert set(data["sections"][0]) == {"id", "title", "points"}
    assert set(data["sections"][0]["points"][0]) == {"id", "text"}


def test_outline_table():
    result = run(REPO, "outline")
    assert result.exit_code == 0
    assert "Recommendations" in result.output and "11 sections, 41 points" in result.output


def test_no_project_says_so_and_exits_2(tmp_path):
    result = run(tmp_path, "check")
    assert result.exit_code == 2
    assert "no outline.yaml found" in result.output
    assert "Traceback" not in result.output


def test_project_found_from_a_subfolder(mini):
    root = mini()
    result = run(root / "paper", "check")
    assert result.exit_code == 0, result.output


def test_check_text_output_and_summary(mini):
    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\nPears.[^9]\n"})
    result = run(root, "check")
    assert result.exit_code == 1
    assert "paper/02-second.md:7:7: error[undefined-footnote]" in result.output
    assert "1 error, 1 warning" in result.output
    assert "1/2 points covered, 2/2 sections" in result.output


def test_check_json_output(mini):
    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\nPears.[^9]\n"})
    result = run(root, "check", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    rules = {d["rule"] for d in data["diagnostics"]}
    assert rules == {"undefined-footnote", "uncovered-point", "suggested-coverage"}
    d = next(d for d in data["diagnostics"] if d["rule"] == "undefined-footnote")
    assert (d["path"], d["line"], d["column"], d["severity"]) == (
        "paper/02-second.md",
        7,
        7,
        "error",
    )
    assert data["summary"]["points_covered"] == 1 and data["summary"]["error"] == 1


def test_check_github_output(mini):
    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\nPears.[^9]\n"})
    result = run(root, "check", "--format", "github")
    assert (
        "::error file=paper/02-second.md,line=7,col=7,title=undefined-footnote::" in result.output
    )
    assert "::warning file=outline.yaml,line=15,col=13,title=uncovered-point::" in result.output


def test_strict_fails_on_warnings(mini):
    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\nPears.\n"})
    assert run(root, "check").exit_code == 0
    assert run(root, "check", "--strict").exit_code == 1


def test_malformed_outline_exits_2_with_every_problem(mini):
    root = mini({"outline.yaml": "document:\n  title: T\n  titel: U\nsections:\n  - id: 1\n"})
    result = run(root, "check")
    assert result.exit_code == 2
    assert "outline.yaml:3:3: error[outline-schema] unknown key 'titel'" in result.output
    assert "outline.yaml:5:5: error[outline-schema] sections[1] is missing 'title'" in result.output
    result = run(root, "check", "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.output)
    assert len(data["diagnostics"]) >= 4
    assert all(d["path"] == "outline.yaml" and d["line"] for d in data["diagnostics"])


def test_outline_command_on_malformed_outline_exits_2(mini):
    root = mini({"outline.yaml": "document: [\n"})
    result = run(root, "outline")
    assert result.exit_code == 2
    assert "outline.yaml:2:1: error[outline-syntax]" in result.output


def test_build_stops_on_errors_unless_forced(mini):
    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\nPears.[^9]\n"})
    result = run(root, "build", "--to", "docx")
    assert result.exit_code == 1
    assert "undefined-footnote" in result.output and "--force" in result.output
    assert not (root / "build" / "a-small-paper-1.0.docx").exists()
    result = run(root, "build", "--to", "docx", "--force")
    assert result.exit_code == 0, result.output
    assert (root / "build" / "a-small-paper-1.0.docx").is_file()


def test_build_rejects_unknown_format(mini):
    result = run(mini(), "build", "--to", "odt")
    assert result.exit_code == 2
    assert "unknown format odt" in result.output


def test_python_m_and_console_script(mini):
    root = mini()
    env = {**os.environ, "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "paperbuild", "-C", str(root), "check"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "2/2 points covered" in out.stdout


@pytest.mark.slow
def test_the_process_exits_with_each_code_and_its_output_whole(mini):
    # the process ends at once (os._exit) once its output is flushed: a pipe gets all of it
    env = {**os.environ, "NO_COLOR": "1"}

    def paperbuild(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "paperbuild", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env)

    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second\n\nSee [@nobody].\n"})
    found = paperbuild("-C", str(root), "check")
    assert found.returncode == 1, found.stderr
    assert "nobody" in found.stdout and found.stdout.rstrip().endswith("2/2 sections")
    built = paperbuild("-C", str(root), "build", "--to", "docx", "--force")
    assert built.returncode == 0 and built.stdout == "build/a-small-paper-1.0.docx\n"
    assert (root / "build/a-small-paper-1.0.docx").stat().st_size > 10_000
    missing = paperbuild("-C", "/nonexistent-folder", "check")
    assert missing.returncode == 2 and "no outline.yaml found" in missing.stderr


def test_readme_lists_every_rule():
    from paperbuild.diagnostics import RULES

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("<!-- rules:start -->") : readme.index("<!-- rules:end -->")]
    for rule, (severity, what) in RULES.items():
        assert f"| `{rule}` | {severity} | {what} |" in table


def test_nothing_decorative_when_not_a_terminal(mini):
    result = run(mini(), "build", "--to", "docx")
    assert result.exit_code == 0
    assert result.output.strip() == "build/a-small-paper-1.0.docx"


@pytest.mark.parametrize(
    "command",
    [
        "outline",
        "check",
        "build",
        "init",
        "status",
        "versions",
        "release",
        "diff",
        "watch",
        "report",
        "feedback",
    ],
)
def test_every_command_through_the_installed_console_script(command):
    import shutil

    script = shutil.which("paperbuild", path=os.path.dirname(sys.executable))
    assert script
    out = subprocess.run([script, command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Usage: paperbuild" in out.stdout


def test_global_options_after_the_command_name(mini):
    from paperbuild.cli import hoist_global_options

    root = str(mini())
    before = run(None, "-C", root, "-q", "check")
    after = run(None, "check", "-C", root, "-q")
    assert after.exit_code == before.exit_code == 0
    assert after.output == before.output
    assert run(None, "build", "--to", "docx", "--debug", "-C", root).exit_code == 0
    assert hoist_global_options(["diff", "a", "--", "-q"]) == ["diff", "a", "--", "-q"]
    assert hoist_global_options(["build", "--directory=x", "--to", "pdf"]) == [
        "--directory=x",
        "build",
        "--to",
        "pdf",
    ]
