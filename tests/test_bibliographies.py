"""Several bibliography files (`bibliography: [book.bib, packages.bib]`, as bookdown's and
Quarto's templates have it): their works known to the check and cited in the drafts, each
problem at its own file, a key written in two files the later file's, as pandoc reads them."""

from __future__ import annotations

import json

import pytest

from paperbuild.load import bibliography as bibliography_module
from paperbuild.load.project import load_project
from paperbuild.watch import watched
from tests.conftest import MINI_FILES, MINI_OUTLINE, run
from tests.render.readers import pandoc_docx_json, pdf_text, text_of

SECOND = (
    "---\nsection: 2\n---\n\n# Second section\n\n"
    '[Pears too [@pear2019].]{points="2.1"}[^1]\n\n[^1]: Second note.\n'
)
PEARS = [  # CSL JSON, beside the BibTeX of MINI_FILES
    {
        "id": "pear2019",
        "type": "book",
        "title": "Pears of the North",
        "author": [{"family": "Pyrus", "given": "Anna"}],
        "issued": {"date-parts": [[2019]]},
        "publisher": "Orchard Press",
    },
    {
        "id": "unused2001",
        "type": "book",
        "title": "Quinces",
        "author": [{"family": "Cydonia", "given": "Q."}],
        "issued": {"date-parts": [[2001]]},
        "publisher": "Orchard Press",
    },
]
DOCX = "build/a-small-paper-1.0.docx"


def two_files(mini, listed: str = "[references.bib, pears.json]", pears=None):
    """Return the small project with its bibliography in two files (the outline's `listed`)."""
    return mini(
        {
            "outline.yaml": MINI_OUTLINE + f"bibliography: {listed}\n",
            "pears.json": json.dumps(PEARS if pears is None else pears, indent=2),
            "paper/02-second.md": SECOND,
        }
    )


def problems(root) -> list[str]:
    """Return the check's findings as `path:line rule` (no hints, no summary)."""
    result = run(root, "check")
    assert result.exit_code in (0, 1), result.output
    return [
        line.split(": ")[0] + " " + line.split("[")[1].split("]")[0]
        for line in result.output.splitlines()
        if ": warning[" in line or ": error[" in line
    ]


def test_works_of_both_files_are_checked_and_cited_in_both_drafts(mini):
    root = two_files(mini)
    unused = next(
        i
        for i, x in enumerate((root / "pears.json").read_text().splitlines(), 1)
        if "unused2001" in x
    )
    assert problems(root) == [f"pears.json:{unused}:1 unused-reference"]
    result = run(root, "build", "--to", "docx,pdf")
    assert result.exit_code == 0, result.output
    docx = text_of(pandoc_docx_json(root / DOCX))
    assert "Smith, Jane. Apples. Orchard Press, 2020." in docx
    assert "Pyrus, Anna. Pears of the North. Orchard Press, 2019." in docx
    pdf = " ".join(pdf_text(root / "build/a-small-paper-1.0.pdf").split())
    assert "Pears of the North" in pdf and "Apples" in pdf
    (manifest,) = (root / "build/versions").glob("*/manifest.json")
    inputs = json.loads(manifest.read_text())["inputs"]
    assert {"references.bib", "pears.json"} <= set(inputs)


def test_a_key_in_two_files_is_an_error_at_the_later_and_the_drafts_use_it(mini):
    apples = {**PEARS[0], "id": "smith2020", "title": "Apples Again"}
    root = two_files(mini, pears=[PEARS[0], apples])
    line = next(
        i
        for i, x in enumerate((root / "pears.json").read_text().splitlines(), 1)
        if '"smith2020"' in x
    )
    found = problems(root)
    assert f"pears.json:{line}:1 duplicate-reference" in found, found
    result = run(root, "check")
    assert "also in references.bib at line 1" in result.output
    assert run(root, "build", "--to", "docx").exit_code == 1  # (an error: no draft)
    assert run(root, "build", "--to", "docx", "--force").exit_code == 0
    docx = text_of(pandoc_docx_json(root / DOCX))
    assert "Apples Again" in docx and "Apples." not in docx.replace("Apples Again", "")
    (entry,) = [e for e in load_project(root).bibliography.entries if e.key == "smith2020"]
    assert (entry.path, entry.fields["title"]) == ("pears.json", "Apples Again")  # (as drafted)


def test_a_missing_file_is_named_and_the_others_still_read(mini):
    root = two_files(mini, "[references.bib, gone.bib, pears.json]")
    found = problems(root)
    lines = (root / "outline.yaml").read_text().splitlines()
    (line,) = [i for i, text in enumerate(lines, 1) if "gone.bib" in text]
    where = f"outline.yaml:{line}:{lines[line - 1].index('gone.bib') + 1}"
    assert f"{where} missing-bibliography" in found, found  # (where the outline names it)
    assert not [f for f in found if "unknown-citation" in f], found
    assert "the bibliography gone.bib does not exist" in run(root, "check").output


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ("[]", "bibliography is an empty list"),
        ("[references.bib, ../outside.bib]", "bibliography[2] '../outside.bib' leaves the project"),
        ("[references.bib, {file: x.bib}]", "bibliography[2] must be"),
    ],
)
def test_a_list_of_bibliographies_that_cannot_be_read_is_located(mini, listed, expected):
    root = two_files(mini, listed)
    result = run(root, "check")
    assert result.exit_code == 2, result.output
    assert expected in result.output and "outline.yaml:" in result.output, result.output


def test_a_file_listed_twice_is_read_once(mini):
    root = two_files(mini, "[references.bib, pears.json, references.bib]")
    assert not [f for f in problems(root) if "duplicate-reference" in f]
    assert load_project(root).bibliography.files == ("references.bib", "pears.json")


def test_each_file_keeps_its_own_parse_in_the_cache(mini, monkeypatch):
    root = two_files(mini)
    assert run(root, "check").exit_code == 0
    parsed: list[str] = []
    real = bibliography_module.parse_any

    def counted(text: str, path: str):
        parsed.append(path)
        return real(text, path)

    monkeypatch.setattr(bibliography_module, "parse_any", counted)
    assert run(root, "check").exit_code == 0
    assert parsed == []  # (neither file's parse pushed the other's out)
    assert len(list((root / "build/.cache/bib").glob("bibliography-*.json"))) == 2


def test_watch_rebuilds_after_a_save_to_any_of_the_files(mini):
    root = two_files(mini, "[references.bib, refs/pears.json]")
    (root / "refs").mkdir()
    (root / "refs/pears.json").write_text(json.dumps(PEARS))
    keep = watched(root)
    assert keep(None, str(root / "refs/pears.json"))
    assert not keep(None, str(root / "refs/other.json"))


def test_one_file_reads_as_it_did(mini):
    root = mini({"outline.yaml": MINI_OUTLINE + "bibliography: references.bib\n"})
    bib = load_project(root).bibliography
    assert (bib.path, bib.files, bib.missing) == ("references.bib", ("references.bib",), ())
    assert [e.path for e in bib.entries] == ["references.bib"]
    assert MINI_FILES["references.bib"].startswith("@book{smith2020")


def test_latex_pandoc_drops_is_located_in_its_own_file_and_a_preamble_of_another_counts(mini):
    preamble = '@preamble{ "\\newcommand{\\noopsort}[1]{}" }\n' + MINI_FILES["references.bib"]
    pears = (
        "@book{pear2019,\n  author = {Pyrus, Anna},\n"
        "  title = {Pears \\mbox{DNA} \\noopsort{a}},\n  year = {2019},\n  publisher = {P},\n}\n"
    )
    root = two_files(mini, "[references.bib, pears.bib]")
    (root / "references.bib").write_text(preamble)
    (root / "pears.bib").write_text(pears)
    found = [f for f in problems(root) if "dropped-latex" in f]
    assert found == ["pears.bib:3:18 dropped-latex"], found  # (\noopsort: defined, not dropped)


@pytest.mark.parametrize("name", ["references.bib", "refs.json"])
def test_a_key_written_twice_in_one_file_is_the_later_entry_as_pandoc_reads_it(mini, name):
    if name == "refs.json":
        works = [{**PEARS[0], "id": "smith2020", "title": t} for t in ("Apples", "Apples Again")]
        text = json.dumps(works, indent=2)
    else:
        text = MINI_FILES["references.bib"] + MINI_FILES["references.bib"].replace(
            "{Apples}", "{Apples Again}"
        )
    root = mini({"outline.yaml": MINI_OUTLINE + f"bibliography: {name}\n", name: text})
    assert [f for f in problems(root) if "duplicate-reference" in f]
    assert run(root, "build", "--to", "docx", "--force").exit_code == 0
    assert "Apples Again" in text_of(pandoc_docx_json(root / DOCX))  # (pandoc's choice)
    entries = load_project(root).bibliography.entries
    assert [(e.key, e.fields["title"]) for e in entries] == [("smith2020", "Apples Again")]


def test_a_file_not_in_utf8_is_reported_and_still_recorded_in_the_manifest(mini):
    root = two_files(mini, "[references.bib, latin.bib]")
    (root / "latin.bib").write_bytes(b"@book{caf\xe9, title = {Caf\xe9}, year = {2001}}\n")
    found = problems(root)
    assert "latin.bib bib-syntax" in found, found
    assert run(root, "build", "--to", "docx", "--force").exit_code == 0
    (manifest,) = (root / "build/versions").glob("*/manifest.json")
    assert "latin.bib" in json.loads(manifest.read_text())["inputs"]  # (a change to it is seen)
