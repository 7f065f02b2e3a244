"""Citations resolved by citeproc once per distinct set of cited paragraphs, outputs unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paperbuild import pandoc
from paperbuild.build import BuildOptions, build
from tests.render.readers import pandoc_docx_json, text_of


@pytest.fixture
def citeproc_runs(monkeypatch) -> list[bytes]:
    """Return the payloads of every citeproc run that follows (pandoc.run is watched)."""
    runs: list[bytes] = []
    real = pandoc.run

    def watched(args, data=None, **kwargs):
        if "--citeproc" in args and "json" in args:
            runs.append(data)
        return real(args, data, **kwargs)

    monkeypatch.setattr(pandoc, "run", watched)
    return runs


def docx(root: Path) -> bytes:
    """Return the DOCX draft a build writes now."""
    (path,) = [p for p in build(root, BuildOptions(formats=("docx",))).outputs]
    return path.read_bytes()


@pytest.mark.slow
def test_an_edit_outside_cited_paragraphs_runs_no_citeproc(mini, citeproc_runs, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    root = mini()
    docx(root)
    assert len(citeproc_runs) == 1
    sent = citeproc_runs[0].decode()
    assert '"smith2020"' in sent and "Pears" not in sent  # only the cited paragraph travels
    assert "Apples" not in sent  # and of it, only the citation's context (citecontext)
    second = root / "paper/02-second.md"
    second.write_text(second.read_text().replace("Pears too.", "Pears grow too."))
    first = root / "paper/01-first.md"  # and a cited paragraph, far from its citation
    first.write_text(first.read_text().replace("Apples grow", "Apples ripen"))
    cached = docx(root)
    assert len(citeproc_runs) == 1  # nothing cited changed: citeproc did not run
    shutil.rmtree(root / "build" / ".cache")
    assert docx(root) == cached  # the same bytes as a build from nothing
    assert len(citeproc_runs) == 2


@pytest.mark.slow
def test_a_citations_context_or_the_bibliography_changed_runs_it_again(mini, citeproc_runs):
    root = mini()
    docx(root)
    first = root / "paper/01-first.md"
    first.write_text(first.read_text().replace("Apples grow", "Apples ripen"))
    docx(root)
    assert len(citeproc_runs) == 1  # the cited paragraph changed, far from its citation
    first.write_text(first.read_text().replace("First note", "Initial note"))
    docx(root)  # (the citation opens the note: the words after it are its context)
    assert len(citeproc_runs) == 2
    bib = root / "references.bib"
    bib.write_text(bib.read_text().replace("title = {Apples}", "title = {Ripe Apples}"))
    text = text_of(pandoc_docx_json(build(root, BuildOptions(formats=("docx",))).outputs[0]))
    assert len(citeproc_runs) == 3
    assert "Ripe Apples" in text and "Apples ripen" in text and "Initial note" in text
    assert len(list((root / "build/.cache/ast").glob("citeproc-*.json"))) == 1  # one kept


def test_the_bibliography_fills_the_authors_refs_div_where_it_stands(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears too.]{points="2.1"}\n\n::: {#refs}\n:::\n\nAfter the works cited.\n'
        }
    )
    text = " ".join(text_of(pandoc_docx_json(docx_path(root))).split())
    assert text.index("Orchard Press") < text.index("After the works cited.")


def docx_path(root: Path) -> Path:
    """Return the path of the DOCX draft a build writes now."""
    (path,) = build(root, BuildOptions(formats=("docx",))).outputs
    return path


def test_notes_numbered_over_the_paper_and_the_citing_blocks_found_in_one_walk():
    """On a literal AST: each citation gets its note's number; the citing blocks are returned."""
    from paperbuild import pandoc_ast as pa
    from paperbuild.cite import number_notes

    def cited(key: str) -> dict:
        record = {"citationId": key, "citationPrefix": [], "citationSuffix": [],
                  "citationMode": {"t": "NormalCitation"}, "citationNoteNum": 0,
                  "citationHash": 0}  # fmt: skip
        return pa.cite([record], pa.str_inlines(f"[@{key}]"))

    blocks = [
        pa.para(pa.str_inlines("No citation here.")),
        pa.para([*pa.str_inlines("See"), pa.note([pa.para([cited("a")])])]),  # note 1
        pa.para(pa.str_inlines("Nothing.")),
        pa.div(pa.Attr("box"), [pa.para([cited("b")])]),  # a citation in the text: note 2
        pa.div(pa.Attr("refs"), []),
        pa.para([pa.note([pa.para(pa.str_inlines("An author's note."))])]),  # note 3
        pa.para([cited("c")]),  # note 4
    ]
    held = number_notes(blocks)
    assert held == [1, 3, 4, 6]
    numbers = [
        record["citationNoteNum"]
        for node in pa.walk(blocks)
        if node.get("t") == "Cite"
        for record in pa.citations(node)
    ]
    assert numbers == [1, 2, 4]


BROKEN_BIB = (
    '@string{press = "Orchard Press"}\n'
    "@book{smith2020, author = {Andr{\\'e}s, Jane}, title = {Apples}, year = {2020},"
    " publisher = press}\n"
    "@book{smith2020, author = {Twice, Once}, title = {Again}, year = {2021}}\n"
    "@article{broken, title = {No closing brace}\n"
)


def test_the_bibliography_is_parsed_once_and_read_back_as_parsed(mini, monkeypatch):
    from paperbuild.load import bibliography as bib

    root = mini({"references.bib": BROKEN_BIB})
    first = bib.load_bibliography(root, "references.bib")
    assert first == bib.parse_bibtex(BROKEN_BIB, "references.bib")  # entries and problems alike
    assert first.problems and first.entries[0].macros
    (kept,) = (root / "build/.cache/bib").glob("bibliography-*.json")

    def no_parse(text, path):
        raise AssertionError("parsed again")

    monkeypatch.setattr(bib, "parse_bibtex", no_parse)
    assert bib.load_bibliography(root, "references.bib") == first  # from the cache
    monkeypatch.undo()
    (root / "references.bib").write_text(BROKEN_BIB.replace("2021}", "2019}"))
    changed = bib.load_bibliography(root, "references.bib")
    assert changed.entries[0].fields["year"] == "2019"
    assert [p.name for p in (root / "build/.cache/bib").iterdir()] != [kept.name]  # replaced
    assert len(list((root / "build/.cache/bib").iterdir())) == 1


@pytest.mark.slow
def test_output_that_cannot_be_cut_sends_the_blocks_whole(mini, citeproc_runs, monkeypatch):
    from paperbuild import citecontext

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    expected = docx(mini())
    root = mini()
    monkeypatch.setattr(citecontext, "restored", lambda blocks, rendered, plan: None)
    assert docx(root) == expected
    assert "Apples" in citeproc_runs[-1].decode()  # the second run: the paragraph whole
    assert len(list((root / "build/.cache/ast").glob("whole-citeproc-*.json"))) == 1
    runs = len(citeproc_runs)
    assert docx(root) == expected and len(citeproc_runs) == runs  # both outputs cached


@pytest.mark.slow
def test_an_authors_span_named_like_a_marker_sends_the_blocks_whole(mini, monkeypatch):
    from paperbuild import citecontext

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    marked = 'Apples <span id="pb&#xe000;cited 2">grow</span>[@smith2020] in orchards.'
    chapter = (root := mini()) / "paper/01-first.md"
    chapter.write_text(chapter.read_text().replace("Apples grow in orchards [@smith2020].", marked))
    real = citecontext.restored
    refused: list[bool] = []

    def watched(blocks, rendered, plan):
        found = real(blocks, rendered, plan)
        refused.append(found is None)
        return found

    monkeypatch.setattr(citecontext, "restored", watched)
    drafted = docx(root)
    assert refused == [True]  # (the author's span came back as one more marker)
    monkeypatch.setattr(citecontext, "restored", lambda blocks, rendered, plan: None)
    shutil.rmtree(root / "build")
    assert docx(root) == drafted  # the same as the blocks sent whole
    text = text_of(pandoc_docx_json(docx_path(root)))
    assert "Apples grow" in text and "Smith" in text
