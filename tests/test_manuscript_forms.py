"""Forms real manuscripts use that the thesis and guide fixtures do not: unnumbered and unlisted
headings, links to another chapter's file, an image whose name has a space, notes in headings
and captions, `\\newpage` and Quarto's page break, a LaTeX equation, a macro defined in another
chapter, inline HTML, Quarto's callouts, a line block, BibTeX's `{\\'\\i}`.

One project, built once to both formats, read back with pandoc, the DOCX's XML and
the PDF's text and bookmarks."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pypdf
import pytest

from paperbuild.build import BuildOptions, build
from paperbuild.checks import run_checks
from paperbuild.load.project import load_project
from tests.render.readers import pandoc_docx_json, pdf_words, text_of, walk
from tests.test_manuscripts import docx_text, one_chapter, outline, pdf_text, png, write

SECTIONS = [("Introduction", "intro.md"), ("Method", "method.md"), ("Results", "results.md")]
FILES: dict[str, str | bytes] = {
    "outline.yaml": outline("Forms", SECTIONS, "lists: [figures]\n"),
    "references.bib": "@book{roe, author = {Roe, Tim}, title = {Pears}, year = {2021}}\n"
    "@book{garcia, author = {Garc{\\'\\i}a, Mar{\\'\\i}a}, title = {Plums}, year = {2020}}\n",
    "paper/figs/a map.png": png(),
    "paper/intro.md": "\\newcommand{\\R}{\\mathbb{R}}\n\n# Introduction\n\n"
    "See [the method](method.md#sampling), [the results](results.md) and "
    "[the unnumbered part](method.md#an-aside); also [a file](../outline.yaml) and "
    "[a lost part](results.md#nowhere).\n",
    "paper/method.md": "# Method\n\n"
    "## Sampling\n\nWe sampled.\n\n"
    "::: {.callout-warning}\n## Mind the sample\n\nIt is small.\n:::\n\n"
    '::: {.callout-tip title="A tip"}\nWeigh it.\n:::\n\n::: callout-note\nNoted.\n:::\n\n'
    "## An aside {-}\n\nAn aside, in @sec:an-aside.\n\n"
    "## Hidden from the contents {.unnumbered .unlisted}\n\nQuiet.\n\n"
    "\\newpage\n\n## Weighting[^w]\n\nWe weighted.\n\n[^w]: A note in a heading.\n\n"
    "![A map, after @roe [p. 2].](<figs/a map.png>){#fig:map}\n",
    "paper/results.md": "# Results\n\nThe first note of the body.[^1] "
    "Back to [Method](method.md). Plums [@garcia]. More.[^2] And more.[^3]\n\n"
    "\\begin{equation}\nE = mc^2 \\label{energy}\n\\end{equation}\n\n"
    "As @eq:energy shows.\n\n{{< pagebreak >}}\n\n"
    "In $\\R^2$, H<sub>2</sub>O at 10<sup>3</sup> <u>K</u>,<br>"
    '<img src="figs/a map.png" alt="a map"> and <a href="https://example.org">a site</a>.\n\n'
    "| An address,\n| on two lines\n\n[^1]: Body note.\n[^2]: Four.\n[^3]: Five.\n",
}


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = write(tmp_path_factory.mktemp("forms"), FILES)
    result = build(root, BuildOptions())
    return root, {p.suffix[1:]: p for p in result.outputs}


def test_unnumbered_headings_count_nothing_and_read_as_their_title(forms):
    _, out = forms
    for text in (docx_text(out["docx"]), pdf_text(out["pdf"])):
        body = text[text.index("We sampled") - 20 :]
        assert "2.1 Sampling" in body
        assert "An aside An aside, in section An aside." in body  # a reference reads its title
        assert "2.2 Weighting" in body and "2.3" not in body  # the asides counted nothing
        assert not re.search(r"2\.\d An aside|2\.\d Hidden", text)


def test_an_unlisted_heading_stays_out_of_the_contents(forms):
    _, out = forms
    docx = docx_text(out["docx"])
    contents = docx[: docx.index("See the method")]
    assert "An aside" in contents and "Hidden from the contents" not in contents
    pdf = pdf_text(out["pdf"])
    front = pdf[: pdf.index("See the method")]
    assert "An aside" in front and "Hidden from the contents" not in front


def test_links_to_a_chapters_file_lead_to_its_heading(forms):
    root, out = forms
    xml = zipfile.ZipFile(out["docx"]).read("word/document.xml").decode()
    rels = zipfile.ZipFile(out["docx"]).read("word/_rels/document.xml.rels").decode()
    assert ".md" not in rels and "outline.yaml" not in rels  # no link to a file of the project
    anchors = re.findall(r'<w:hyperlink w:anchor="([^"]+)"', xml)
    assert {"sampling", "results", "an-aside", "method"} <= set(anchors), anchors
    # a link that leads nowhere reads as its text, and the check says where it is
    assert "a file" in docx_text(out["docx"]) and "a lost part" in docx_text(out["docx"])
    dead = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "dead-link"]
    assert sorted((d.path, d.line, d.column) for d in dead) == [
        ("paper/intro.md", 5, 125),
        ("paper/intro.md", 5, 160),
    ], [d.message for d in dead]
    assert "names a file, not a chapter" in dead[0].message + dead[1].message


def test_an_image_whose_name_has_a_space_is_found(forms):
    root, out = forms
    problems = [d.rule for d in run_checks(load_project(root)).diagnostics]
    assert "missing-resource" not in problems
    media = [n for n in zipfile.ZipFile(out["docx"]).namelist() if n.startswith("word/media/")]
    assert any(n.endswith(".png") for n in media)
    assert "image missing" not in pdf_text(out["pdf"])
    assert "image missing" not in docx_text(out["docx"])


def test_notes_in_headings_and_captions_stay_out_of_the_pdfs_contents(forms):
    _, out = forms
    reader = pypdf.PdfReader(out["pdf"])
    pages = pdf_words(out["pdf"])
    body = next(i for i, p in enumerate(pages) if "See the method" in p)
    front = " ".join(pages[:body])
    assert "Weighting" in front and "A map" in front  # listed ...
    assert "A note in a heading" not in front and "Pears" not in front  # ... without notes
    text = " ".join(pages[body:])
    # the body's notes are numbered from 1: none went to the contents
    assert re.search(r"Weighting ?1 ", text) and "1Anoteinaheading" in text.replace(" ", "")
    assert "Body note" in text

    def titles(entries) -> list[str]:
        return [t for e in entries for t in (titles(e) if isinstance(e, list) else [e.title])]

    assert "2.3 Weighting" in titles(reader.outline) or "2.2 Weighting" in titles(reader.outline)


def test_newpage_breaks_the_page_in_both_formats(forms):
    root, out = forms
    assert "dropped-raw" not in [d.rule for d in run_checks(load_project(root)).diagnostics]
    pages = pdf_words(out["pdf"])
    quiet = next(i for i, p in enumerate(pages) if "Quiet." in p)
    assert "Weighting" not in pages[quiet] and "Weighting" in pages[quiet + 1]
    from docx import Document

    paras = Document(str(out["docx"])).paragraphs
    at = next(i for i, p in enumerate(paras) if "Weighting" in p.text and "Heading" in p.style.name)
    before = paras[at - 1]._p.xml
    assert 'w:type="page"' in before, before


def test_note_numbers_are_set_alike_and_lines_ending_in_a_break_are_not_stretched(forms):
    _, out = forms
    text = pdf_text(out["pdf"])
    assert "More.5" in text.replace(" ", "") and "more.6" in text.replace(" ", "")
    # every note number is raised from the body face's digits, in a smaller size: the face's
    # own superscripts (full size, another design) served from 4 on
    sizes: list[tuple[str, float]] = []

    def run(text: str, cm, tm, font, size: float) -> None:
        if text.strip() in {"4", "5", "6"}:  # (the notes from 4 on; 2 and 3 are maths too)
            sizes.append((text.strip(), round(size * (tm[0] if tm else 1), 2)))

    for page in pypdf.PdfReader(out["pdf"]).pages[2:]:
        page.extract_text(visitor_text=run)
    assert {n for n, _ in sizes} == {"4", "5", "6"}, sizes
    assert max(size for _, size in sizes) < 9, sizes
    settings = zipfile.ZipFile(out["docx"]).read("word/settings.xml").decode()
    assert re.search(r"<w:compat>.*<w:doNotExpandShiftReturn/>.*</w:compat>", settings)


def test_bibtex_accents_on_a_dotless_i_read_as_the_letter(forms):
    root, out = forms
    for text in (docx_text(out["docx"]), pdf_text(out["pdf"])):
        assert "García, María. Plums" in text and "ı" not in text
    from paperbuild.report.status import status

    works = " ".join(w for _, w in status(load_project(root)).works_cited)
    assert "García, María" in works, works


def test_a_latex_equation_is_maths_numbered_and_referenced_in_both_formats(forms):
    root, out = forms
    rules = [d.rule for d in run_checks(load_project(root)).diagnostics]
    assert "dropped-raw" not in rules and "unknown-crossref" not in rules, rules
    docx, pdf = docx_text(out["docx"]), pdf_text(out["pdf"])
    assert "As equation (1) shows" in docx and "As equation (1) shows" in pdf
    assert "\U0001d438 = \U0001d45a\U0001d4502 (1)" in pdf  # E = mc², its number beside it
    xml = zipfile.ZipFile(out["docx"]).read("word/document.xml").decode()
    assert "<m:oMath" in xml and "<m:t>E</m:t>" in xml


def test_quartos_page_break_breaks_the_page(forms):
    _, out = forms
    pages = pdf_words(out["pdf"])
    shows = next(i for i, p in enumerate(pages) if "equation (1) shows" in p)
    assert "An address" not in pages[shows] and "An address" in pages[shows + 1]
    assert "pagebreak" not in " ".join(pages) and "pagebreak" not in docx_text(out["docx"])


def test_a_macro_one_chapter_defines_is_expanded_in_another(forms):
    root, out = forms
    pdf = pdf_text(out["pdf"])
    assert "\\R" not in pdf and "\\R" not in docx_text(out["docx"])
    assert "ℝ" in pdf
    xml = zipfile.ZipFile(out["docx"]).read("word/document.xml").decode()
    assert 'm:val="double-struck"' in xml and "\\R" not in xml
    # the definition itself is no dropped text
    found = run_checks(load_project(root)).diagnostics
    assert not [d for d in found if d.rule == "dropped-raw"], [d.message for d in found]


def test_inline_html_reads_as_what_it_means(forms):
    _, out = forms
    doc = pandoc_docx_json(out["docx"])
    kinds = {n["t"] for n in walk(doc["blocks"])}
    assert {"Subscript", "Superscript", "Underline", "LineBreak"} <= kinds
    para = next(p for p in walk(doc["blocks"]) if p["t"] == "Para" and "site" in text_of(p))
    links = [n for n in walk(para) if n["t"] == "Link"]
    assert [text_of(n["c"][1]) for n in links] == ["a site"]
    assert links[0]["c"][2][0] == "https://example.org"
    assert any(n["t"] == "Image" for n in walk(para))  # the <img>, from the project's file
    assert "H2O" in pdf_text(out["pdf"]).replace(" ", "")


def test_callouts_have_their_title_and_a_rule_in_both_formats(forms):
    _, out = forms
    from docx import Document

    paras = [(p.style.name, p.text) for p in Document(str(out["docx"])).paragraphs]
    assert ("Callout Title", "Mind the sample") in paras and ("Callout", "It is small.") in paras
    assert ("Callout Title", "A tip") in paras and ("Callout", "Weigh it.") in paras
    assert ("Callout Title", "Note") in paras  # the kind's word when it has no title
    assert not any(t == "Mind the sample" and s.startswith("Heading") for s, t in paras)
    styles = zipfile.ZipFile(out["docx"]).read("word/styles.xml").decode()
    callout = styles[styles.index('w:styleId="Callout"') :]
    assert re.search(r'<w:pBdr><w:left [^>]*w:val="single"', callout[: callout.index("</w:style>")])
    pdf = pdf_text(out["pdf"])
    assert "Mind the sample It is small. A tip Weigh it. Note Noted." in pdf
    assert "2.2 Mind" not in pdf and "2.2 Weighting" in pdf  # a callout's title is no heading
    front = docx_text(out["docx"])[: docx_text(out["docx"]).index("See the method")]
    assert "Mind the sample" not in front


def test_a_figures_image_is_centred_over_its_caption_in_the_docx(forms):
    _, out = forms
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    style = Document(str(out["docx"])).styles["Captioned Figure"]
    assert style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert style.paragraph_format.keep_with_next


CHUNKS = {
    "outline.yaml": outline("Chunks", [("Analysis", "analysis.md")]),
    "references.bib": "",
    "paper/analysis.md": "# Analysis\n\nBefore.\n\n"
    '```{python}\n#| label: fig-plot\nprint("hello")\nx = 1\n```\n\n'
    "```{r, echo=FALSE}\nsummary(cars)\n```\n\n"
    "````markdown\n```{python}\nshown, not a chunk\n```\n````\n\n"
    '```{startFrom="3"}\nan attribute, not a chunk\n```\n\nAfter.\n\n'
    "{{< include _part.qmd >}}\n\nSee {{< video https://example.org/v.mp4 >}} here.\n\n"
    "{{< pagebreak >}}\n\nShown: `{{< meta title >}}` and {{{< escaped >}}}.\n\n"
    "Also {{{< var a.b >}}}, {{{< x >}}}; and an unclosed {{{< left as it is.\n\n"
    "```\n{{< include fenced.qmd >}}\n```\n",
    "paper/_part.qmd": "Never read.\n",
}


def test_code_chunks_are_code_blocks_and_shortcodes_said_to_be_shown_as_written(tmp_path):
    root = write(tmp_path, CHUNKS)
    found = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "code-chunk"]
    assert [(d.line, d.column, d.message.split(" code chunk")[0]) for d in found] == [
        (5, 1, "a python"),
        (11, 1, "a r"),
    ]
    shortcodes = [
        (d.line, d.column, d.message.split(" is not")[0])
        for d in run_checks(load_project(root)).diagnostics
        if d.rule == "unexpanded-shortcode"
    ]
    assert shortcodes == [
        (27, 1, "Quarto's {{< include _part.qmd >}}"),
        (29, 5, "Quarto's {{< video https://example.org/v.mp4 >}}"),
    ]
    out = {p.suffix[1:]: p for p in build(root, BuildOptions()).outputs}
    blocks = pandoc_docx_json(out["docx"])["blocks"]
    codes = "\n".join(b["c"][1] for b in walk(blocks) if b.get("t") == "CodeBlock")
    assert codes == (  # (pandoc's reader makes code paragraphs that follow each other one)
        '#| label: fig-plot\nprint("hello")\nx = 1\nsummary(cars)\n'
        "```{python}\nshown, not a chunk\n```\nan attribute, not a chunk\n"
        "{{< include fenced.qmd >}}"
    )
    assert [pa["c"][1] for pa in walk(blocks) if pa.get("t") == "Code"] == ["{{< meta title >}}"]
    shown = text_of(blocks)  # (Quarto shows `{{{< x >}}}` as `{{< x >}}`)
    assert "and {{< escaped >}}." in shown
    assert "Also {{< var a.b >}}, {{< x >}}; and an unclosed {{{< left as it is." in shown
    pdf = pdf_text(out["pdf"])
    assert "{{< escaped >}}" in pdf and "{{{" not in pdf.replace("unclosed {{{<", "")
    assert "{python}" not in pdf.replace("```{python}", "") and 'print("hello")' in pdf
    assert "Before." in pdf and "After." in pdf


def test_latex_left_in_a_chapter_is_read_where_it_is_safe_and_located_where_not(tmp_path):
    # (a paper converted from LaTeX: pandoc's Markdown reader kept these raw, and the drafts
    # dropped them, words and all; only a snippet of known, harmless commands is read)
    (tmp_path / "secret.txt").write_text("SECRET-FROM-OUTSIDE\n")
    files = {
        "outline.yaml": outline("LaTeX", [("Analysis", "analysis.md")]),
        "references.bib": "@book{smith2020,\n  author = {Smith, Jane},\n  title = {Apples},\n"
        "  year = {2020},\n  publisher = {Orchard Press},\n}\n",
        "paper/analysis.md": "# Analysis\n\n"
        "As \\citet{smith2020} shows, and others too \\cite[p.~4]{smith2020}, "
        "\\emph{orchards} matter.\\footnote{A note in \\textbf{LaTeX}.}\n\n"
        "See \\url{https://example.org/apples} and Figure~\\ref{fig:map}, \\autoref{tab:cases}, "
        "\\ref{fig:nope} and \\ref{plain}.\n\n"
        "\\begin{figure}[htbp]\n\\centering\n\\includegraphics[width=0.5\\textwidth]{map.png}\n"
        "\\caption{A map of \\emph{routes}.}\n\\label{fig:map}\n\\end{figure}\n\n"
        "\\begin{table}\n\\caption{Cases by year}\\label{tab:cases}\n\\begin{tabular}{lr}\n"
        "Year & Cases \\\\\n2003 & 12 \\\\\n\\end{tabular}\n\\end{table}\n\n"
        "\\begin{figure}\n\\input{../secret.txt}\n\\end{figure}\n\n"
        "Not read: \\input{../../secret.txt} nor \\emph{\\input{../../secret.txt}}; "
        "unknown: \\citep{doe2019, smith2020}.\n",
    }
    root = write(tmp_path / "p", {**files, "paper/map.png": png()})
    found = run_checks(load_project(root)).diagnostics
    unknown = [(d.line, d.column, d.message) for d in found if d.rule == "unknown-citation"]
    assert unknown == [(26, 89, "citation key 'doe2019' is not in references.bib")], unknown
    crossrefs = [(d.line, d.column, d.message[:18]) for d in found if d.rule == "unknown-crossref"]
    assert crossrefs == [(5, 85, "@fig:nope refers t")], crossrefs
    dropped = [
        (d.line, d.message.split("(")[1].split(")")[0], d.hint)
        for d in found
        if d.rule == "dropped-raw"
    ]
    assert [(line, snippet[:14]) for line, snippet, _ in dropped] == [
        (5, "\\ref{plain}"),
        (22, "\\begin{figure}"),
        (26, "\\input{../../s"),
        (26, "\\emph{\\input{."),
    ], dropped
    assert "@plain" in dropped[0][2] and "make that file a chapter" in dropped[1][2]
    out = {p.suffix[1:]: p for p in build(root, BuildOptions(force=True)).outputs}
    doc = pandoc_docx_json(out["docx"])
    text = text_of(doc["blocks"])
    assert "orchards matter" in text and "https://example.org/apples" in text, text
    assert any(b.get("t") == "Emph" and text_of(b) == "orchards" for b in walk(doc["blocks"]))
    assert "A note in LaTeX." in text and "Smith" in text and "\\cite" not in text, text
    assert "Figure\u00a01, Table 1, ??" in text, text  # (\\ref: the number; \\autoref: the word)
    assert "A map of routes." in text and "Cases by year" in text, text  # (numbers: SEQ fields)
    assert any(n.get("t") == "Image" for n in walk(doc["blocks"]))
    pdf = pdf_text(out["pdf"])
    assert "orchards matter" in pdf and "A note in LaTeX." in pdf
    assert "Figure 1: A map of routes." in pdf and "Table 1: Cases by year" in pdf, pdf
    assert "SECRET-FROM-OUTSIDE" not in text + pdf


def test_more_inline_html_reads_as_what_it_means(tmp_path):
    # (<mark>, <kbd>, <code>, <q>, <cite> stayed raw: the tags dropped, unremarked but for
    # dropped-raw, and the words shown plain)
    chapter = (
        "# Analysis\n\nPress <kbd>Ctrl</kbd>, run <code>x = 1</code>, "
        "read <cite>A Title</cite>, <q>quoted</q> and <mark>marked</mark> "
        "<small>small</small>.\n"
    )
    root = one_chapter(tmp_path, "HTML", "Analysis", "analysis.md", chapter)
    assert [d for d in run_checks(load_project(root)).diagnostics if d.rule == "dropped-raw"] == []
    out = {p.suffix[1:]: p for p in build(root, BuildOptions()).outputs}
    doc = pandoc_docx_json(out["docx"])
    nodes = list(walk(doc["blocks"]))
    assert [n["c"][1] for n in nodes if n["t"] == "Code"] == ["Ctrl", "x = 1"]
    assert [text_of(n) for n in nodes if n["t"] == "Emph"] == ["A Title"]
    assert "“quoted”" in text_of(doc["blocks"])
    xml = zipfile.ZipFile(out["docx"]).read("word/document.xml").decode()
    assert re.search(r'<w:highlight w:val="yellow"\s*/>.*?marked', xml), "marked is highlighted"
    assert "small." in pdf_text(out["pdf"])


def test_control_characters_are_reported_and_left_out_of_both_drafts(tmp_path):
    # (Word dropped them, joining the words a form feed stood between; Typst showed them)
    chapter = (
        "# Analysis\n\nA page\x0cbreak from a PDF, a bell\x07 and soh\x01.\n\n"
        "```\n$ make\n\x1b[32mOK\x1b[0m all built\n```\n"
    )
    root = one_chapter(tmp_path, "Controls", "Analysis", "analysis.md", chapter)
    found = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "control-character"]
    assert [(d.line, d.column) for d in found] == [(3, 7)]
    assert found[0].message.startswith("5 invisible control characters, the first U+000C FORM FEED")
    out = {p.suffix[1:]: p for p in build(root, BuildOptions()).outputs}
    doc = pandoc_docx_json(out["docx"])
    assert "A page break from a PDF, a bell and soh." in text_of(doc["blocks"])
    codes = [b["c"][1] for b in walk(doc["blocks"]) if b.get("t") == "CodeBlock"]
    assert codes == ["$ make\nOK all built"], codes
    pdf = pdf_text(out["pdf"])
    assert "page break" in pdf and "OK all built" in pdf
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", pdf), repr(pdf)
