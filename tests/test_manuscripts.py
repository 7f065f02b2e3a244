"""Manuscripts shaped like real ones: a thesis with figures, sub-figures, maths and {#sec:} labels,
and a user guide with definition lists, code holding [^1], and links between chapters.

Each builds to DOCX and PDF with every reference resolved, read back with pandoc's DOCX reader
and the PDF's text; numbering is the same in both formats.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from paperbuild.build import BuildOptions, build
from paperbuild.checks import run_checks
from paperbuild.furniture import words_for
from paperbuild.load.project import load_project
from tests.render.readers import pandoc_docx_json, pdf_text, text_of, walk


def png() -> bytes:
    """Return a tiny valid PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"\x20\x40\x80" * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def outline(title: str, sections: list[tuple[str, str]], extra: str = "") -> str:
    body = "".join(
        f"  - id: {i}\n    title: {t}\n    chapter: paper/{c}\n"
        for i, (t, c) in enumerate(sections, start=1)
    )
    return (
        f"document:\n  title: {title}\n  author: A. Student\n  status: Draft\n"
        f'  version: "1.0"\n{extra}sections:\n{body}'
    )


BIB = (
    "@book{smith2020, author = {Smith, Jane}, title = {Apples}, year = {2020},"
    " publisher = {Orchard Press}}\n"
)

THESIS_SECTIONS = [
    ("Introduction", "01-intro.md"),
    ("Method", "02-method.md"),
    ("Results", "03-results.md"),
]
THESIS = {
    "outline.yaml": outline("A Thesis", THESIS_SECTIONS),
    "references.bib": BIB,
    "figures/cat.png": png(),
    "figures/a.png": png(),
    "figures/b.png": png(),
    "paper/01-intro.md": """# Introduction {#sec:intro}

This thesis measures cats (@fig:cat, [-@tbl:sizes]) as @Fig:cat shows, with
[@fig:cat; @smith2020] and @eq:energy. Method: @sec:method. Both panels
[@fig:left; @fig:right] of @fig:panels. The code is in @lst:code.

![A cat](figures/cat.png){#fig:cat}
""",
    "paper/02-method.md": """# Method {#sec:method}

| Size | Count |
|:-----|------:|
| Small | 3 |
| Large | 12 |

: Cat sizes {#tbl:sizes}

$$ E = mc^2 $$ {#eq:energy}

```{#lst:code .python caption="Counting cats"}
count = 3
```

::: {#fig:panels}
![Left panel](figures/a.png){#fig:left}

![Right panel](figures/b.png){#fig:right}

Two panels
:::

See @sec:intro and [the introduction](#sec:intro).
""",
    "paper/03-results.md": """# Results

![Second cat](figures/cat.png){#fig:second}

As @fig:second and @fig:cat show; @tbl:sizes and @eq:energy hold. Figures
[@fig:cat; @fig:left; @fig:second].
""",
}

GUIDE = {
    "outline.yaml": outline(
        "A Guide",
        [
            ("Getting started", "01-start.md"),
            ("Options", "02-options.md"),
            ("Templates", "03-templates.md"),
        ],
    ),
    "references.bib": BIB,
    "paper/01-start.md": """# Getting started

## Results

Read [Options] first, then [Templates], and [the templates' results](#results-2).
Footnotes look like `x[^1]` in code, and real ones like this.[^1]

    an indented block with [^2] in it

1.  A list item holding a fenced block:

    ```
    note[^3] inside
    ```

[^1]: A real note.
""",
    "paper/02-options.md": """# Options

## Results

`--from`
:   The input format. See [Templates].

`--to`
:   The output format. It [changed]{.mark} in 3.0.

Back to [Getting started] and [these results](#results-1).
""",
    "paper/03-templates.md": """# Templates

## Results

Templates are in [Options] too [@smith2020].

```markdown
A citation [@nobody] and a reference @fig:none in code.
```
""",
}


def one_chapter(
    root: Path, document: str, section: str, name: str, text: str, **more: str | bytes
) -> Path:
    """Return a project written at root: one section, its chapter paper/{name} holding text,
    no bibliography, and `more` files (by path)."""
    files: dict[str, str | bytes] = {
        "outline.yaml": outline(document, [(section, name)]),
        "references.bib": "",
        f"paper/{name}": text,
    }
    return write(root, {**files, **more})


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def docx_text(path: Path) -> str:
    """Return the DOCX's text, paragraph by paragraph, fields' shown results included.

    pandoc's reader drops a caption's "Figure 1:" when it comes from a SEQ field (as Word's
    captions do), so the words are read from the WordprocessingML itself.
    """
    import zipfile

    from lxml import etree

    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    paras = ["".join(p.xpath(".//w:t/text()", namespaces=ns)) for p in root.iter(f"{{{ns['w']}}}p")]
    return " ".join(" ".join(paras).split())


@pytest.fixture(scope="module")
def thesis(tmp_path_factory) -> dict[str, Path]:
    root = write(tmp_path_factory.mktemp("thesis"), THESIS)
    result = build(root, BuildOptions())
    assert [d for d in result.check.diagnostics if d.severity != "info"] == []
    return {p.suffix[1:]: p for p in result.outputs}


@pytest.fixture(scope="module")
def guide(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = write(tmp_path_factory.mktemp("guide"), GUIDE)
    result = build(root, BuildOptions())
    return root, {p.suffix[1:]: p for p in result.outputs}


EXPECTED_THESIS = [
    "measures cats (figure 1, 1) as Figure 1 shows",
    "equation (1). Method: section 2.",
    "Both panels figures 2a and 2b of figure 2. The code is in listing 1.",
    "Figure 1: A cat",
    "Table 1: Cat sizes",
    "Listing 1: Counting cats",
    "(a) Left panel",
    "(b) Right panel",
    "Figure 2: Two panels",
    "See section 1 and the introduction.",
    "Figure 3: Second cat",
    "As figure 3 and figure 1 show; table 1 and equation (1) hold.",
    "Figures figures 1, 2a and 3.",
]


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_thesis_numbers_and_references_read_the_same_in_both_formats(thesis, fmt):
    text = docx_text(thesis["docx"]) if fmt == "docx" else pdf_text(thesis["pdf"])
    for expected in EXPECTED_THESIS:
        assert expected in text, f"{fmt}: {expected!r} not in {text}"
    assert "??" not in text and "@fig" not in text and "{#eq" not in text


def test_equation_number_sits_beside_its_equation(thesis):
    text = pdf_text(thesis["pdf"])
    assert re.search(r"𝐸 = 𝑚𝑐\s?2\s*\(1\)", text), text
    doc = pandoc_docx_json(thesis["docx"])
    paras = [b for b in walk(doc["blocks"]) if b["t"] == "Para"]
    with_math = [p for p in paras if any(n["t"] == "Math" for n in p["c"])]
    assert with_math and "(1)" in text_of(with_math[0])


def test_docx_captions_are_word_captions_with_seq_fields(thesis):
    import zipfile

    xml = zipfile.ZipFile(thesis["docx"]).read("word/document.xml").decode()
    assert xml.count("SEQ Figure") == 3
    assert xml.count("SEQ Table") == 1
    captions = re.findall(r'<w:pStyle w:val="(ImageCaption|TableCaption)"', xml)
    assert captions.count("ImageCaption") == 5 and captions.count("TableCaption") == 1


def test_references_are_links_to_their_targets(thesis):
    doc = pandoc_docx_json(thesis["docx"])
    targets = {n["c"][2][0] for n in walk(doc["blocks"]) if n["t"] == "Link"}
    assert {"#fig:cat", "#tbl:sizes", "#eq:energy", "#sec:method", "#fig:left"} <= targets


def test_user_guide_checks_clean_and_links_across_chapters(guide):
    root, outputs = guide
    diagnostics = run_checks(load_project(root)).diagnostics
    assert [d for d in diagnostics if d.severity != "info"] == []
    doc = pandoc_docx_json(outputs["docx"])
    text = docx_text(outputs["docx"])
    assert "[Options]" not in text and "[Templates]" not in text and "[Getting started]" not in text
    links = [
        (text_of(n["c"][1]).strip(), n["c"][2][0]) for n in walk(doc["blocks"]) if n["t"] == "Link"
    ]
    assert ("Options", "#options") in links
    assert ("Templates", "#templates") in links
    assert ("Getting started", "#getting-started") in links
    # identifiers as pandoc gives them to the whole text: results, results-1, results-2
    assert ("the templates’ results", "#results-2") in links
    assert ("these results", "#results-1") in links
    assert "x[^1]" in text and "note[^3] inside" in text
    pdf = pdf_text(outputs["pdf"])
    assert "[Options]" not in pdf and "The input format." in pdf


def test_dangling_references_are_diagnostics_and_both_formats_still_build(tmp_path):
    files = {
        **THESIS,
        "paper/03-results.md": "# Results\n\nSee @fig:missing, @Tbl:none and [gone](#nowhere).\n\n"
        "![Remote](https://example.org/x.png){#fig:remote}\n\nAnd @fig:remote.\n",
    }
    root = write(tmp_path, files)
    result = run_checks(load_project(root))
    rules = sorted((d.rule, d.line, d.column) for d in result.diagnostics if d.severity != "info")
    assert rules == [
        ("dead-link", 3, 39),
        ("remote-resource", 5, 11),
        ("unknown-crossref", 3, 5),
        ("unknown-crossref", 3, 19),
    ]
    built = build(root, BuildOptions(force=True))
    outputs = {p.suffix[1:]: p for p in built.outputs}
    for text in (docx_text(outputs["docx"]), pdf_text(outputs["pdf"])):
        assert "See figure ??, Table ?? and gone." in text
        assert "And figure 3." in text  # the remote image's placeholder keeps its figure


def test_figures_numbered_within_sections_when_asked(tmp_path):
    files = {
        **THESIS,
        "outline.yaml": outline("A Thesis", THESIS_SECTIONS) + "numbering: section\n",
    }
    outputs = {p.suffix[1:]: p for p in build(write(tmp_path, files), BuildOptions()).outputs}
    for text in (docx_text(outputs["docx"]), pdf_text(outputs["pdf"])):
        assert "Figure 1.1: A cat" in text and "Table 2.1: Cat sizes" in text
        assert "Figure 3.1: Second cat" in text and "figures 1.1, 2.1a and 3.1" in text


def _words(path: Path, track: str) -> list[str]:
    """Return the words of a DOCX with its tracked changes accepted or rejected (fields shown)."""
    import zipfile

    from lxml import etree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    drop = f"{w}del" if track == "accept" else f"{w}ins"
    for node in list(root.iter(drop)):
        node.getparent().remove(node)
    paragraphs = [
        "".join(t.text or "" for t in p.iter(f"{w}t", f"{w}delText")) for p in root.iter(f"{w}p")
    ]
    return " ".join(paragraphs).split()


@pytest.mark.slow
def test_redline_tracks_captions_shifted_numbers_and_definition_items(tmp_path):
    from click.testing import CliRunner

    from paperbuild.cli import cli
    from paperbuild.load.project import load_project
    from paperbuild.versions import release

    files = {
        **THESIS,
        "paper/02-method.md": THESIS["paper/02-method.md"]
        + ("\n`--from`\n:   The input format, read by pandoc.\n\n`--to`\n:   The output format.\n"),
    }
    root = write(tmp_path / "p", files)
    old = build(root, BuildOptions(formats=("docx",))).outputs[0]
    release(load_project(root), "1.0")
    outline_path = root / "outline.yaml"
    outline_path.write_text(outline_path.read_text().replace('"1.0"', '"1.1"'))
    intro = root / "paper/01-intro.md"
    intro.write_text(
        intro.read_text()
        .replace("![A cat](figures/cat.png){#fig:cat}", "![A grey cat](figures/cat.png){#fig:cat}")
        .replace(
            "# Introduction {#sec:intro}\n",
            "# Introduction {#sec:intro}\n\n![A new dog](figures/a.png){#fig:dog}\n",
        )
    )
    method = root / "paper/02-method.md"
    method.write_text(method.read_text().replace("read by pandoc", "read by the reader"))
    new = build(root, BuildOptions(formats=("docx",))).outputs[0]
    result = CliRunner().invoke(cli, ["-C", str(root), "diff", "1.0", "1.1", "--to", "docx,md"])
    assert result.exit_code == 0, result.output
    red = root / "build/diff/1.0..1.1.docx"
    assert _words(red, "accept") == _words(new, "accept")
    assert _words(red, "reject") == _words(old, "accept")
    summary = (root / "build/diff/1.0..1.1.md").read_text()
    # one word replaced in the definition list: not the whole list deleted and reinserted
    method = next(line for line in summary.splitlines() if "| 2 Method" in line)
    added, removed = (int(c) for c in method.split("|")[2:4])
    assert 2 <= added <= 6 and 1 <= removed <= 6, summary


def test_links_to_the_bibliography_are_not_dead(tmp_path):
    """citeproc adds #bibliography, #refs and #ref-KEY; a link to them is a link, not a dead one."""
    files = {
        **THESIS,
        "paper/03-results.md": "# Results\n\nSee [the references](#bibliography) and "
        "[Smith](#ref-smith2020), not [nobody](#ref-nobody).\n",
    }
    root = write(tmp_path, files)
    result = run_checks(load_project(root))
    assert [(d.rule, d.message) for d in result.diagnostics if d.rule == "dead-link"] == [
        (
            "dead-link",
            "the link to #ref-nobody leads nowhere in the document; the drafts show "
            "its text unlinked",
        )
    ]
    docx = build(root, BuildOptions(formats=("docx",), force=True)).outputs[0]
    targets = [n["c"][2][0] for n in walk(pandoc_docx_json(docx)["blocks"]) if n["t"] == "Link"]
    assert "#ref-smith2020" in targets and targets.count("#bibliography") == 2
    assert "#ref-nobody" not in targets


def test_a_written_link_means_the_documents_identifier_an_implicit_one_the_chapters(tmp_path):
    """As pandoc reads the whole paper: #results is the first Results heading in the document;
    `[Results]` inside a chapter is that chapter's own heading (results-1 in the document)."""
    files = {
        **GUIDE,
        "paper/02-options.md": "# Options\n\n## Results\n\nThe first ones: [first](#results).\n",
        "paper/03-templates.md": "# Templates\n\n## Results\n\nOurs: [Results] [@smith2020].\n",
    }
    root = write(tmp_path, files)
    docx = build(root, BuildOptions(formats=("docx",), force=True)).outputs[0]
    links = {
        text_of(n["c"][1]).strip(): n["c"][2][0]
        for n in walk(pandoc_docx_json(docx)["blocks"])
        if n["t"] == "Link"
    }
    assert links["first"] == "#results"
    assert links["Results"] == "#results-2"


@pytest.mark.slow
def test_lists_of_figures_and_tables_follow_the_contents_when_asked(tmp_path):
    files = {
        **THESIS,
        "outline.yaml": outline("A Thesis", THESIS_SECTIONS) + "lists: [tables, figures]\n",
    }
    root = write(tmp_path, files)
    outputs = {p.suffix[1:]: p for p in build(root, BuildOptions()).outputs}
    docx, pdf = docx_text(outputs["docx"]), pdf_text(outputs["pdf"])
    figures = "List of figures Figure 1: A cat Figure 2: Two panels Figure 3: Second cat"
    assert figures + " List of tables Table 1: Cat sizes" in docx
    # the lists come before the first chapter, sub-figures are not listed
    assert docx.index("List of tables") < docx.index("This thesis measures")
    assert "Left panel" not in docx[: docx.index("This thesis measures")]
    import zipfile

    xml = zipfile.ZipFile(outputs["docx"]).read("word/document.xml").decode()
    # each entry linked to its figure, with its page (a PAGEREF to the figure's bookmark)
    assert '<w:hyperlink w:anchor="fig:second"' in xml
    assert "PAGEREF fig:second \\h" in xml and "PAGEREF tbl:sizes \\h" in xml
    front = pdf[: pdf.index("This thesis measures")]
    assert re.search(r"List of figures Figure 1: A cat \.[ .]*\d", front), front
    assert re.search(r"Figure 3: Second cat [ .]*\d", front) and "Left panel" not in front
    assert re.search(r"List of tables Table 1: Cat sizes [ .]*\d", front), front


@pytest.mark.slow
def test_no_lists_unless_asked_and_a_list_in_the_papers_language(tmp_path):
    plain = {p.suffix[1:]: p for p in build(write(tmp_path / "a", THESIS), BuildOptions()).outputs}
    assert "List of figures" not in docx_text(plain["docx"])
    assert "List of figures" not in pdf_text(plain["pdf"])
    files = {
        **THESIS,
        "outline.yaml": outline("A Thesis", THESIS_SECTIONS, "  lang: fr-FR\n")
        + "lists: [figures]\n",
    }
    french = {p.suffix[1:]: p for p in build(write(tmp_path / "b", files), BuildOptions()).outputs}
    for text in (docx_text(french["docx"]), pdf_text(french["pdf"])):
        assert "Liste des figures Figure 1 : A cat" in text and "Liste des tableaux" not in text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr-FR", ["Table des matières", "Références", "Version 1.0 · 12 mars 2026", "sur"]),
        ("es-CL", ["Índice", "Referencias", "Versión 1.0 · 12 de marzo de 2026", "página"]),
        ("de-DE", ["Inhalt", "Literatur", "Version 1.0 · 12. März 2026", "Seite"]),
    ],
)
@pytest.mark.slow
def test_furniture_is_in_the_papers_language(tmp_path, lang, words):
    intro = THESIS["paper/01-intro.md"] + "\nShe wrote \"a word\" and 'another'.\n"
    intro += '\n## The "cat" question\n\nMore.\n'
    files = {
        **THESIS,
        "paper/01-intro.md": intro,
        "outline.yaml": outline(
            "A Thesis", THESIS_SECTIONS, f"  lang: {lang}\n  date: 2026-03-12\n"
        ),
    }
    outputs = {p.suffix[1:]: p for p in build(write(tmp_path, files), BuildOptions()).outputs}
    import zipfile

    with zipfile.ZipFile(outputs["docx"]) as z:
        styles = z.read("word/styles.xml").decode()
        footer = " ".join(re.findall(r"<w:t[^>]*>([^<]*)", z.read("word/footer1.xml").decode()))
    assert f'w:val="{lang}"' in styles  # the language Word checks spelling and hyphenates in
    docx, pdf = docx_text(outputs["docx"]), pdf_text(outputs["pdf"])
    contents, references, version, page = words
    for text in (docx, pdf):
        assert contents in text and references in text and version in text
        assert "Contents" not in text and "References" not in text
    assert page in footer and page in pdf
    # quotation marks in the language's form, the same in both formats
    double_open, double_close, single_open, single_close = words_for(lang).quotes
    quoted = f"{double_open}a word{double_close} and {single_open}another{single_close}"
    with zipfile.ZipFile(outputs["docx"]) as z:  # pandoc's DOCX writer alone writes English
        assert quoted in z.read("word/document.xml").decode()  # (no-break spaces kept)
    assert " ".join(quoted.split()) in docx and " ".join(quoted.split()) in " ".join(pdf.split())
    heading = " ".join(f"The {double_open}cat{double_close} question".split())
    assert docx.count(heading) == 2, docx  # the contents say it as the heading does


def test_a_label_given_twice_is_the_first_elements_and_both_formats_still_build(tmp_path):
    """`duplicate-label` is an error, but --force builds: Typst refuses a label given twice, so
    a later element loses it (a heading gets one of its own, so its contents entry finds it)."""
    files = {
        **THESIS,
        "paper/03-results.md": "# Results {#sec:intro}\n\n![Twice](figures/a.png){#fig:cat}\n\n"
        "[A span]{#tbl:sizes} and [another]{#sec:method}.\n\n"
        "::: {#ref-smith2020}\nA div named like a bibliography entry.\n:::\n\n"
        "## Details {#sec:intro}\n\nSee @sec:intro, @fig:cat and @tbl:sizes.\n",
    }
    root = write(tmp_path, files)
    rules = [d.rule for d in run_checks(load_project(root)).diagnostics if d.severity == "error"]
    assert rules.count("duplicate-label") == 5
    built = build(root, BuildOptions(force=True))
    outputs = {p.suffix[1:]: p for p in built.outputs}
    for text in (docx_text(outputs["docx"]), pdf_text(outputs["pdf"])):
        assert "See section 1, figure 1 and table 1." in text
    names = re.findall(r'w:bookmarkStart w:id="\d+" w:name="([^"]+)"', docx_part_xml(outputs))
    assert len(names) == len(set(names))
    assert {"sec:intro", "sec:intro-1", "sec:intro-2"} <= set(names)
    assert contents_targets(docx_part_xml(outputs))[-3:] == [
        ("3\tResults", "3 Results"),
        ("3.1\tDetails", "3.1 Details"),
        ("References", "References"),
    ]


def docx_part_xml(outputs: dict[str, Path]) -> str:
    """Return the DOCX's document.xml."""
    import zipfile

    return zipfile.ZipFile(outputs["docx"]).read("word/document.xml").decode()


def contents_targets(xml: str) -> list[tuple[str, str]]:
    """Return each contents entry's words and those of the heading its link's bookmark is in."""
    from lxml import etree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = etree.fromstring(xml.encode())

    def words(p: etree._Element) -> str:
        return "".join(t.text or " " for t in p.iter(f"{w}t", f"{w}tab"))

    def paragraph(mark: etree._Element) -> etree._Element:
        """Return the paragraph a bookmark is in, or the one it opens before."""
        if mark.getparent().tag == f"{w}p":
            return mark.getparent()
        return next(s for s in mark.itersiblings() if s.tag == f"{w}p")

    marks = {b.get(f"{w}name"): paragraph(b) for b in root.iter(f"{w}bookmarkStart")}
    found = []
    for link in root.iter(f"{w}hyperlink"):
        style = link.getparent().find(f"{w}pPr/{w}pStyle")
        if style is not None and style.get(f"{w}val", "").startswith("ContentsEntry"):
            entry = "".join(t.text or "" for t in link.iter(f"{w}t"))
            found.append((entry, words(marks[link.get(f"{w}anchor")])))
    return found
