"""A bibliography in CSL JSON or CSL YAML (the forms Zotero, Manubot and Quarto users keep)
is read like a BibTeX one: its keys known to the check, its problems located, its works in
the drafts and in `status`."""

from __future__ import annotations

import json

from paperbuild.checks import run_checks
from paperbuild.load.project import load_project
from tests.conftest import MINI_OUTLINE, run
from tests.render.readers import pandoc_docx_json, text_of

WORKS = [
    {
        "id": "smith2020",
        "type": "book",
        "title": "Apples",
        "author": [{"family": "Smith", "given": "Jane"}],
        "issued": {"date-parts": [[2020]]},
        "publisher": "Orchard Press",
    },
    {"id": "unicef2003", "type": "report", "title": "Guidelines", "issued": "2003"},
]
YAML = """---
references:
- id: smith2020
  type: book
  title: Apples
  author:
  - family: Smith
    given: Jane
  issued: 2020
  publisher: Orchard Press
- id: unicef2003
  type: report
  title: Guidelines
  issued: 2003-05-01
...
"""


def _project(mini, name: str, text: str):
    outline = MINI_OUTLINE + f"bibliography: {name}\n"
    return mini({"outline.yaml": outline, name: text, "references.bib": None})


def test_a_csl_json_or_yaml_bibliography_is_read_checked_and_cited(mini):
    for name, text in (("refs.json", json.dumps(WORKS, indent=2)), ("refs.yaml", YAML)):
        root = _project(mini, name, text)
        found = run_checks(load_project(root)).diagnostics
        assert [d.rule for d in found if d.severity == "error"] == [], found
        gaps = [(d.path, d.line, d.message) for d in found if d.rule == "incomplete-reference"]
        line = next(i for i, x in enumerate(text.splitlines(), 1) if "unicef2003" in x)
        assert gaps == [(name, line, "entry 'unicef2003' lacks an author, editor or organisation")]
        result = run(root, "build", "--to", "docx")
        assert result.exit_code == 0, result.output
        text_out = text_of(pandoc_docx_json(root / "build/a-small-paper-1.0.docx"))
        assert "Smith, Jane. Apples. Orchard Press, 2020." in text_out, (name, text_out)
        status = run(root, "status")
        assert "Smith, Jane. Apples. Orchard Press, 2020." in status.output, status.output


def test_a_key_missing_from_a_csl_bibliography_is_an_unknown_citation(mini):
    root = _project(mini, "refs.json", json.dumps(WORKS[1:]))
    found = run_checks(load_project(root)).diagnostics
    assert [(d.rule, d.path) for d in found if d.severity == "error"] == [
        ("unknown-citation", "paper/01-first.md")
    ]
    assert "citation key 'smith2020' is not in refs.json" in " ".join(d.message for d in found)


def test_a_broken_csl_bibliography_is_located(mini):
    cases = {
        "refs.json": ('[\n  {"id": "a", "title": "T",}\n]\n', (2, 28, "invalid JSON")),
        "dup.json": (
            '[\n{"id": "smith2020", "title": "A", "issued": "1", "author": [{"literal": "X"}]},\n'
            '{"id": "smith2020", "title": "B", "issued": "2", "author": [{"literal": "Y"}]}\n]\n',
            (3, 1, "duplicate key 'smith2020' (first defined at line 2)"),
        ),
        "noid.json": ('[\n{"title": "No key"}\n]\n', (1, 1, "an entry without an `id`")),
        "obj.json": ('{"items": []}\n', (1, 1, "holds no bibliography: expected a list")),
        "bad.yaml": ("references:\n- id: a\n  title: [unclosed\n", (4, 1, "invalid YAML")),
        "bomb.yaml": (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                for p, c in zip("abcdefg", "bcdefgh", strict=True)
            )
            + "references: [*h]\n",
            (1, 1, "unfolds past 1,000,000 values"),
        ),
    }
    for name, (text, (line, column, words)) in cases.items():
        root = _project(mini, name, text)
        result = run(root, "check")
        assert result.exit_code == 1, (name, result.output)
        problem = next(
            x
            for x in result.output.splitlines()
            if "error[bib-syntax]" in x or "error[duplicate-reference]" in x
        )
        assert problem.startswith(f"{name}:{line}:{column}: error["), (name, problem)
        assert words in problem, (name, problem)
        assert "Traceback" not in result.output
