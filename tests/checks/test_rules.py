"""Every check rule, each with an input that triggers it, asserting rule, path, line, column."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperbuild.checks import run_checks
from paperbuild.diagnostics import Diagnostic
from paperbuild.errors import ConfigError
from paperbuild.load.project import load_project


def check(root: Path, **kw) -> list[Diagnostic]:
    return list(run_checks(load_project(root), **kw).diagnostics)


def found(diags: list[Diagnostic], rule: str) -> list[tuple[str, int | None, int | None]]:
    return [(d.path, d.line, d.column) for d in diags if d.rule == rule]


def test_the_mini_project_is_clean(mini):
    assert check(mini()) == []


def test_bundled_paper_has_no_errors(bundled_copy):
    result = run_checks(load_project(bundled_copy))
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    assert result.points_total == 41
    assert result.sections_with_chapter == result.sections_total == 11


def test_missing_chapter(mini):
    diags = check(_without(mini, "paper/02-second.md"))
    assert found(diags, "missing-chapter") == [("outline.yaml", 12, 5)]


def _without(mini, rel: str) -> Path:
    root = mini()
    (root / rel).unlink()
    return root


def test_duplicate_chapter(mini):
    root = mini({"paper/03-again.md": "---\nsection: 2\n---\n\n# Second section\n"})
    assert found(check(root), "duplicate-chapter") == [("paper/03-again.md", 1, 1)]


def test_orphan_chapter(mini):
    root = mini({"paper/notes.md": "# Notes to self\n", "paper/x.md": "---\nsection: 9\n---\n"})
    assert found(check(root), "orphan-chapter") == [("paper/notes.md", 1, 1), ("paper/x.md", 1, 1)]


def test_missing_chapter_file_named_by_outline(mini):
    root = mini()
    text = (
        (root / "outline.yaml")
        .read_text()
        .replace(
            "    title: Second section\n", "    title: Second section\n    chapter: paper/nope.md\n"
        )
    )
    (root / "outline.yaml").write_text(text)
    (root / "paper/02-second.md").unlink()
    diags = check(root)
    assert found(diags, "missing-chapter-file") == [("outline.yaml", 12, 5)]
    assert found(diags, "missing-chapter") == []


def test_title_drift_shows_both_titles(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# The second part\n\n"
            '[Pears.]{points="2.1"}\n'
        }
    )
    diags = [d for d in check(root) if d.rule == "title-drift"]
    assert [(d.path, d.line, d.column) for d in diags] == [("paper/02-second.md", 5, 1)]
    assert "The second part" in diags[0].message and "Second section" in diags[0].message


def test_title_comparison_ignores_typographic_quotes_dashes_and_spacing(mini):
    root = mini()
    outline = (
        (root / "outline.yaml")
        .read_text()
        .replace("title: Second section", "title: \"Identifying 'good practice' - a note\"")
    )
    (root / "outline.yaml").write_text(outline)
    (root / "paper/02-second.md").write_text(
        '---\nsection: 2\n---\n\n# Identifying  ‘good practice’ — a note\n\n[P.]{points="2.1"}\n'
    )
    assert found(check(root), "title-drift") == []


def test_uncovered_point_is_a_warning_in_a_draft(mini):
    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\nPears.\n"})
    diags = [d for d in check(root) if d.rule == "uncovered-point"]
    assert [(d.path, d.line, d.column, d.severity) for d in diags] == [
        ("outline.yaml", 15, 13, "warning")
    ]


def test_uncovered_point_is_an_error_when_strict_or_final(mini):
    root = mini({"paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\nPears.\n"})
    assert [d.severity for d in check(root, strict=True) if d.rule == "uncovered-point"] == [
        "error"
    ]
    outline = (
        (root / "outline.yaml")
        .read_text()
        .replace("    title: Second section\n", "    title: Second section\n    final: true\n")
    )
    (root / "outline.yaml").write_text(outline)
    assert [d.severity for d in check(root) if d.rule == "uncovered-point"] == ["error"]


def test_unknown_point_in_a_marker(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            'Text.\n\n[Pears.]{points="2.1 2.7"}\n'
        }
    )
    diags = [d for d in check(root) if d.rule == "unknown-point"]
    assert [(d.path, d.line, d.column) for d in diags] == [("paper/02-second.md", 9, 9)]
    assert "2.7" in diags[0].message and "2.1" in (diags[0].hint or "")


def test_markers_on_headings_divs_and_spans_all_count(mini):
    root = mini({"paper/02-second.md": '---\nsection: 2\n---\n\n# Second section {points="2.1"}\n'})
    assert found(check(root), "uncovered-point") == []


def test_marker_in_code_is_not_coverage(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '```\n[x]{points="2.1"}\n```\n'
        }
    )
    assert found(check(root), "uncovered-point") == [("outline.yaml", 15, 13)]


def test_suggestion_for_an_uncovered_point(mini):
    root = mini(
        {
            "paper/01-first.md": "---\nsection: 1\n---\n\n# First section\n\n"
            "Something unrelated.\n\nWe discuss apples grown in orchards here.\n"
        }
    )
    diags = [d for d in check(root) if d.rule == "suggested-coverage"]
    assert [(d.path, d.line, d.severity) for d in diags] == [("paper/01-first.md", 9, "info")]
    assert diags[0].hint == 'mark it with {points="1.1"}'
    assert "paper/01-first.md:9" in diags[0].message


def test_length_out_of_range(mini):
    root = mini()
    outline = (
        (root / "outline.yaml")
        .read_text()
        .replace("    title: First section\n", "    title: First section\n    words: {min: 50}\n")
    )
    outline += "words:\n  max: 3\n"
    (root / "outline.yaml").write_text(outline)
    diags = [d for d in check(root) if d.rule == "length"]
    assert [(d.path, d.line) for d in diags] == [("outline.yaml", 1), ("outline.yaml", 7)]
    assert "fewer than 50" in diags[1].message


FOOTNOTES = """---
section: 1
---

# First section

::: {points="1.1"}
Apples.[^a] Pears.[^missing] Plums.[^dup]
:::

[^a]: Defined.
[^dup]: Once.
[^dup]: Twice.
[^unused]: Never used.
[^empty]:

Empty note used here.[^empty]
"""


def test_footnote_rules(mini):
    diags = check(mini({"paper/01-first.md": FOOTNOTES}))
    assert found(diags, "undefined-footnote") == [("paper/01-first.md", 8, 19)]
    assert found(diags, "duplicate-footnote") == [("paper/01-first.md", 13, 1)]
    assert found(diags, "unused-footnote") == [("paper/01-first.md", 14, 1)]
    assert found(diags, "empty-footnote") == [("paper/01-first.md", 15, 1)]


NESTED = """---
section: 1
---

# Introduction

[Apples]{points="1.1"} grow.[^a] Pears too.[^c] An escaped \\[^c] is text.

[^a]: A note that cites another one.[^b]
    And a second paragraph, which refers to [^c].

[^b]: The note it wanted.

[^c]: A note in the text.
"""


def test_a_note_referred_to_inside_another_note_is_an_error_where_it_stands(mini):
    """pandoc reads no note inside a note: the draft shows '[^b]' and loses the note. The
    reference is reported where it stands, in the note's first line or an indented one; a
    reference in the text, and an escaped one, are not."""
    from tests.conftest import run
    from tests.render.readers import pandoc_docx_json, text_of

    root = mini({"paper/01-first.md": NESTED})
    diags = check(root)
    assert found(diags, "nested-footnote") == [
        ("paper/01-first.md", 9, 37),
        ("paper/01-first.md", 10, 45),
    ]
    assert "inside the note [^a]" in next(d.message for d in diags if d.rule == "nested-footnote")
    assert found(diags, "undefined-footnote") == []
    result = run(root, "build", "--to", "docx", "--force")
    assert result.exit_code == 0, result.output
    text = text_of(pandoc_docx_json(next((root / "build").glob("*.docx"))))
    assert "[^b]" in text and "The note it wanted." not in text  # (what the error is about)


def test_same_footnote_id_in_two_chapters_is_fine(mini):
    # both mini chapters use [^1] with different texts
    assert check(mini()) == []


def test_citation_rules(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears]{points="2.1"} [see @smith2021, p. 3; -@smith2020] and @sec:intro '
            "and mail me at a@b.org.\n"
        }
    )
    diags = check(root)
    assert found(diags, "unknown-citation") == [("paper/02-second.md", 7, 28)]
    unknown = next(d for d in diags if d.rule == "unknown-citation")
    assert unknown.hint == "did you mean 'smith2020'?"
    citations = [d for d in diags if d.rule == "unknown-citation"]
    assert "sec:intro" not in str(citations) and "b.org" not in str(diags)
    # @sec:intro is a cross-reference: with no such heading it is reported as one, in place
    assert found(diags, "unknown-crossref") == [("paper/02-second.md", 7, 63)]


def test_unused_reference(mini):
    root = mini()
    with (root / "references.bib").open("a") as fh:
        fh.write("\n@book{jones1999,\n  author = {Jones},\n  title = {T},\n  year = 1999,\n}\n")
    assert found(check(root), "unused-reference") == [("references.bib", 8, 1)]


BROKEN_BIB = """@book{smith2020,
  author = {Smith, Jane}, title = {Apples}, year = {2020},
}

@book{broken,
  title = {Unbalanced {brace,
  year = 2001
}

@book{smith2020,
  title = {Copy},
}

@misc{thin,
  note = {nothing else},
}
"""


def test_bibliography_rules(mini):
    diags = check(mini({"references.bib": BROKEN_BIB}))
    assert found(diags, "bib-syntax") == [("references.bib", 5, 1)]
    assert found(diags, "duplicate-reference") == [("references.bib", 10, 1)]
    dup = next(d for d in diags if d.rule == "duplicate-reference")
    assert "line 1" in dup.message
    incomplete = [d for d in diags if d.rule == "incomplete-reference"]
    # (the copy at line 10 is the entry pandoc reads, the last: it lacks an author and a year)
    assert [d.line for d in incomplete] == [10, 14]
    assert "a title" in incomplete[1].message and "a year or date" in incomplete[1].message


def test_missing_bibliography(mini):
    root = mini()
    (root / "references.bib").unlink()
    diags = check(root)
    assert found(diags, "missing-bibliography") == [("outline.yaml", None, None)]
    assert found(diags, "unknown-citation") == [("paper/01-first.md", 8, 26)]


def test_latin1_chapter_is_reported_with_line_and_column(mini):
    root = mini(
        {
            "paper/02-second.md": b"---\nsection: 2\n---\n\n# Second section\n\ncaf"
            + b"\xe9 au lait\n"
        }
    )
    diags = check(root)
    assert found(diags, "unreadable-chapter") == [("paper/02-second.md", 7, 4)]
    assert found(diags, "missing-chapter") == [("outline.yaml", 12, 5)]


def test_bom_and_crlf_read_like_any_chapter(mini):
    text = (
        '---\r\nsection: 2\r\n---\r\n\r\n# Second section\r\n\r\n[Pears.]{points="2.1"}[^1]'
        "\r\n\r\n[^1]: N.\r\n"
    )
    assert check(mini({"paper/02-second.md": b"\xef\xbb\xbf" + text.encode()})) == []


def test_front_matter_problems(mini):
    diags = check(mini({"paper/02-second.md": "---\nsection: [2\n---\n\n# Second section\n"}))
    assert found(diags, "front-matter")[0][:2] == ("paper/02-second.md", 3)
    diags = check(mini({"paper/02-second.md": "---\nsection: 2\n\n# Second section\n"}))
    assert found(diags, "front-matter") == [("paper/02-second.md", 1, 1)]


def test_front_matter_keys_that_are_not_read_are_named(mini):
    chapter = (
        "---\nsection: 2\nabstract: |\n  Lost words.\nbibliography: other.bib\nsectoin: 3\n---\n\n"
        '# Second section\n\n[Pears.]{points="2.1"}\n'
    )
    diags = [
        d for d in check(mini({"paper/02-second.md": chapter})) if d.rule == "unread-front-matter"
    ]
    assert [(d.line, d.column, d.message.split("'")[1]) for d in diags] == [
        (3, 1, "abstract"),
        (5, 1, "bibliography"),
        (6, 1, "sectoin"),
    ]
    assert diags[2].hint == "did you mean 'section'?"
    assert all(d.severity == "warning" for d in diags)


def test_a_quarto_chapters_front_matter_title_is_read_as_its_title(mini):
    # (a Quarto chapter titled in its front matter, with no `#` heading: its `title:` was
    # "not read" and the check said the chapter had no title, twice over)
    body = '\n[Pears.]{points="2.1"}\n\n## Orchards\n\nWords.\n'
    chapter = "---\nsection: 2\ntitle: Second section\n---\n" + body
    diags = check(mini({"paper/02-second.md": chapter}))
    assert [d for d in diags if d.rule in ("unread-front-matter", "title-drift")] == [], diags
    chapter = "---\nsection: 2\ntitle: Another title\n---\n" + body
    (drift,) = [d for d in check(mini({"paper/02-second.md": chapter})) if d.rule == "title-drift"]
    assert (drift.line, drift.column) == (1, 1)
    assert "'Another title' differs from section 2's title 'Second section'" in drift.message


def test_rules_can_be_turned_off_or_promoted(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Other title\n\n"
            '[P.]{points="2.1"}[^1] [^2]\n\n[^1]: a\n[^2]: b\n[^3]: c\n'
        }
    )
    outline = (
        root / "outline.yaml"
    ).read_text() + "rules:\n  unused-footnote: off\n  title-drift: error\n"
    (root / "outline.yaml").write_text(outline)
    diags = check(root)
    assert found(diags, "unused-footnote") == []
    assert [d.severity for d in diags if d.rule == "title-drift"] == ["error"]


def test_malformed_outline_stops_the_check(mini):
    root = mini({"outline.yaml": "document: [\n"})
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.diagnostics[0].rule == "outline-syntax"


def test_dropped_raw_is_reported_at_each_occurrence_and_a_block_at_its_first_line(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears.]{points="2.1"} <bdi>one</bdi> and <bdi>two</bdi>.\n\n'
            "```{=html}\n<section>\n  <p>kept out</p>\n</section>\n```\n"
        }
    )
    result = check(root)
    raw = found(result, "dropped-raw")
    assert raw == [
        ("paper/02-second.md", 7, 24),
        ("paper/02-second.md", 7, 32),
        ("paper/02-second.md", 7, 43),
        ("paper/02-second.md", 7, 51),
        ("paper/02-second.md", 10, 1),
    ]
    # a multi-line block is quoted on one line: one diagnostic, one line (and one CI annotation)
    messages = [d.message for d in result if d.rule == "dropped-raw"]
    assert all("\n" not in m for m in messages)
    assert "(<section> <p>kept out</p> </section>)" in messages[-1]


def test_a_diagnostic_quoting_multi_line_text_is_one_line():
    """Messages and hints quote the author's text; each diagnostic stays one line."""
    from paperbuild.diagnostics import diag

    d = diag(
        "dropped-raw", "raw LATEX (\\newpage\n  \\clearpage) is left out", "p.md", 3, 1, "a\r\nb"
    )
    assert d.message == "raw LATEX (\\newpage \\clearpage) is left out" and d.hint == "a b"
    assert diag("dropped-raw", "one  line", "p.md").message == "one  line"  # else untouched


def test_a_reference_document_with_a_damaged_part_is_reported(mini, tmp_path):
    """pandoc copies a reference document's parts into every draft, damage included."""
    import zipfile

    from paperbuild import pandoc

    reference = pandoc.run(["--print-default-data-file", "reference.docx"])
    (tmp_path / "ref.docx").write_bytes(reference)
    root = mini()
    with (
        zipfile.ZipFile(tmp_path / "ref.docx") as src,
        zipfile.ZipFile(root / "house.docx", "w") as out,
    ):
        for name in src.namelist():
            data = src.read(name)
            out.writestr(name, b"<w:fonts" if name == "word/fontTable.xml" else data)
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: house.docx\n")
    (problem,) = [d for d in check(root) if d.rule == "invalid-reference-doc"]
    assert problem.path == "house.docx" and "word/fontTable.xml" in problem.message
    (root / "house.docx").write_bytes(reference)  # the intact one: no problem
    assert [d for d in check(root) if d.rule == "invalid-reference-doc"] == []


def test_a_reference_document_whose_part_cannot_be_unpacked_is_reported(mini):
    """A part whose compressed bytes are damaged (a transfer gone wrong) was an internal error
    of `check`; it is the damaged part it is."""
    import io
    import zipfile

    import docx

    packed = io.BytesIO()
    docx.Document().save(packed)
    data = bytearray(packed.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/styles.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 50
    data[start : start + 40] = bytes(b ^ 0x5A for b in data[start : start + 40])
    root = mini({"house.docx": bytes(data)})
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: house.docx\n")
    (problem,) = [d for d in check(root) if d.rule == "invalid-reference-doc"]
    assert problem.path == "house.docx" and "word/styles.xml" in problem.message
    from tests.conftest import run

    result = run(root, "check")
    assert result.exit_code == 1 and "internal error" not in result.output, result.output


def test_maths_pandoc_cannot_convert_is_reported_where_it_is_written(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears.]{points="2.1"} Fine: $x^2$, broken: $\\pearcount{x}$.\n\n'
            "$$\\frac{1}{2$$\n"
        }
    )
    first = check(root)
    assert found(first, "unconverted-maths") == [
        ("paper/02-second.md", 7, 46),
        ("paper/02-second.md", 9, 3),
    ]
    messages = [d.message for d in first if d.rule == "unconverted-maths"]
    assert "unexpected control sequence \\pearcount" in messages[0]
    assert list((root / "build/.cache").rglob("maths-*.json"))  # asked of pandoc once
    assert [d.message for d in check(root)] == [d.message for d in first]  # from the cache


def test_maths_a_macro_changed_is_reported_where_the_chapter_writes_it(mini):
    """pandoc expands macros as it reads (one chapter's too in the next), so what it cannot
    convert is not in the source as read; it is found as the chapter writes it."""
    first = (
        "---\nsection: 1\n---\n\n\\newcommand{\\R}{\\mathbb{R}}\n\n# First section\n\n"
        '[Apples in $\\R$.]{points="1.1"}\n'
    )
    second = (
        "---\nsection: 2\n---\n\n\\newcommand{\\half}{\\frac{1}{2}}\n\n# Second section\n\n"
        '[Pears.]{points="2.1"} In $\\R^2$, broken: $\\R \\pearcount{y}$.\n\n'
        "$$\\half + \\pearcount{z}$$\n"
    )
    root = mini({"paper/01-first.md": first, "paper/02-second.md": second})
    assert found(check(root), "unconverted-maths") == [
        ("paper/02-second.md", 9, 44),
        ("paper/02-second.md", 11, 3),
    ]


def test_an_entry_inherits_from_its_crossref_parent_which_counts_as_used(mini):
    bib = (
        "@incollection{chap, title = {A Chapter}, author = {Doe, John}, crossref = {book}}\n"
        "@book{book, title = {The Book}, editor = {Roe, Richard}, year = {2019}}\n"
        "@book{smith2020, author = {Smith, Jane}, title = {Apples}, year = {2020}}\n"
        "@book{alone, author = {Poe, Ann}, title = {Alone}, year = {2001}}\n"
    )
    root = mini(
        {
            "references.bib": bib,
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears.]{points="2.1"} See [@chap].\n',
        }
    )
    result = check(root)
    assert found(result, "incomplete-reference") == []  # the year comes from the book
    assert [d.message for d in result if d.rule == "unused-reference"] == [
        "entry 'alone' is never cited"
    ]


DROPPING_BIB = (
    '@preamble{ "\\newcommand{\\noopsort}[1]{}" }\n'
    "@book{smith2020,\n  author = {Smith, Jane},\n"
    "  title = {Apples: \\mbox{DNA} barcodes \\textendash{} \\emph{kept} $\\alpha$ "
    "\\noopsort{a}},\n"
    "  year = {2020},\n  publisher = {\\acro{OUP} Press},\n  file = {\\mbox{x}.pdf},\n}\n"
)


def test_dropped_latex_in_the_bibliography_is_named_where_written_and_is_really_dropped(mini):
    """pandoc's BibTeX reader drops \\mbox{…}, \\acro{…} and \\textendash without a word."""
    from click.testing import CliRunner

    from paperbuild.cli import cli
    from tests.test_manuscripts import docx_text

    root = mini({"references.bib": DROPPING_BIB})
    diags = [d for d in check(root) if d.rule == "dropped-latex"]
    assert [(d.path, d.line, d.column) for d in diags] == [
        ("references.bib", 4, 20),
        ("references.bib", 4, 40),
        ("references.bib", 6, 16),
    ], diags
    assert "drops \\mbox{DNA} (title of 'smith2020')" in diags[0].message
    assert diags[0].hint is not None and "{DNA}" in diags[0].hint
    assert diags[1].hint is not None and "{–}" in diags[1].hint  # what it stands for
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"])
    assert result.exit_code == 0, result.output
    text = docx_text(root / "build/a-small-paper-1.0.docx").lower()
    assert "barcodes" in text and "kept" in text  # (the warning tells the truth: the words
    assert "dna" not in text and "oup" not in text  # the check names are not in the draft)
    fixed = DROPPING_BIB.replace("\\mbox{DNA}", "{DNA}").replace("\\acro{OUP}", "OUP")
    fixed = fixed.replace("\\textendash{}", "–")
    assert [d for d in check(mini({"references.bib": fixed})) if d.rule == "dropped-latex"] == []


def test_quarto_r_markdown_and_markdown_extensions_are_chapters_but_partials(mini, tmp_path):
    # (only *.md was read: a Quarto paper's .qmd chapters were "missing", unremarked)
    second = '---\nsection: 2\n---\n\n# Second section\n\n[Pears too.]{points="2.1"}\n'
    root = mini(
        {
            "paper/02-second.md": None,
            "paper/02-second.qmd": second,
            "paper/_include.qmd": "Included by another file.\n",
            "paper/notes.markdown": "# Notes to self\n",
            "paper/R/child.Rmd": "# Child\n",
        }
    )
    diagnostics = check(root)
    assert [d.rule for d in diagnostics if d.severity == "error"] == ["orphan-chapter"] * 2
    assert found(diagnostics, "orphan-chapter") == [
        ("paper/R/child.Rmd", 1, 1),
        ("paper/notes.markdown", 1, 1),
    ]
    project = load_project(root)
    assert [c.path for c in project.chapters if "second" in c.path] == ["paper/02-second.qmd"]
    assert "paper/_include.qmd" not in [c.path for c in project.chapters]


def test_a_manubot_key_is_told_to_be_put_in_the_bibliography_not_fetched(mini):
    second = (
        "---\nsection: 2\n---\n\n# Second section\n\n"
        '[Pears too [@doi:10.1038/nature12373; @smith2021].]{points="2.1"}\n'
    )
    diags = check(mini({"paper/02-second.md": second}))
    hints = {d.message.split("'")[1]: d.hint for d in diags if d.rule == "unknown-citation"}
    assert "Manubot fetches" in hints["doi:10.1038/nature12373"]
    assert "never uses the network" in hints["doi:10.1038/nature12373"]
    assert hints["smith2021"] == "did you mean 'smith2020'?"
