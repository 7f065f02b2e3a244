"""Tables as a typesetter sets them: columns sized from their content (no word broken inside a
cell), the header repeated on every page, rows never split, the author's alignments kept."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import pypdf
import pytest
from click.testing import CliRunner

from paperbuild import pandoc
from paperbuild.cli import cli
from paperbuild.render.pdf import start_aligned
from paperbuild.render.tables import TEXT_WIDTH, column_widths, fitted_tables
from tests.render.readers import libreoffice_pdf, pdf_pages

TABLE = """
| Year | Country | Prosecutions | Convictions | Victims identified | Source of the figures |
|-----:|:--------|-------------:|------------:|:------------------:|-----------------------|
| 2003 | Albania | 12 | 8 | 140 | Government report to the regional conference |
| 2004 | Moldova | 31 | 22 | 367 | Non-governmental organisations' shelter records |
| 2005 | Romania | 45 | 30 | 512 | National police statistics |

: Cases reported {#tbl:cases}
"""


@pytest.fixture
def built(mini):
    """The table ends the first chapter: the second's heading follows it."""
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        '::: {points="1.1"}\nApples grow in orchards [@smith2020].\n:::\n' + TABLE
    )
    root = mini({"paper/01-first.md": chapter})
    result = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    return root / "build/a-small-paper-1.0.docx", root / "build/a-small-paper-1.0.pdf"


def test_docx_columns_fit_their_words_and_rows_stay_whole(built):
    docx, _ = built
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode()
    table = xml[xml.index("<w:tbl>") : xml.index("</w:tbl>")]
    widths = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', table)]
    assert len(widths) == 6 and sum(widths) <= 9072  # within the text width
    longest = ["2003", "Country", "Prosecutions", "Convictions", "identified", "Non-governmental"]
    for width, word in zip(widths, longest, strict=True):
        assert width >= len(word) * 110 + 230, (word, width)
    assert table.count('w:val="TableText"') == 24  # every cell in the table text style
    rows = table.count("<w:tr>")
    assert table.count("<w:cantSplit/>") == rows == 4
    assert table.count('<w:tblHeader w:val="on"/>') == 1
    assert '<w:tblLayout w:type="fixed"/>' in table
    first_row = table[: table.index("</w:tr>")]
    assert re.findall(r'<w:jc w:val="(\w+)"/>', first_row) == [
        "right",
        "left",
        "right",
        "right",
        "center",
    ]  # fmt: skip  (the last, not aligned by the author, takes the Table Text style's left)


def test_a_captioned_tables_alt_text_is_its_caption_with_its_number(built):
    import docx as python_docx

    body = python_docx.Document(str(built[0])).element.body
    alts = body.xpath("//w:tblPr/w:tblCaption/@w:val")  # (python-docx knows the w: prefix)
    assert alts == ["Table 1: Cases reported"]  # (pandoc's: "Table : Cases reported")


def test_a_short_table_is_kept_on_one_page(built):
    docx, _ = built
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode()
    table = xml[xml.index("<w:tbl>") : xml.index("</w:tbl>")]
    rows = table.split("</w:tr>")[:-1]
    assert all("<w:keepNext/>" in row for row in rows[:-1])
    assert "<w:keepNext/>" not in rows[-1]


def test_column_widths_give_the_room_left_to_the_wordiest_columns():
    texts = [["2003"], ["A long sentence of many words that needs wrapping in its cell"]]
    narrow, wide = column_widths(texts, 5000)
    assert narrow == 4 * 118 + 230 and narrow + wide == 5000
    assert column_widths([["a"], ["b"]], 5000) == [348, 348]  # short: as wide as the text


def test_a_cell_across_columns_has_room_for_its_longest_word_in_both_formats():
    from paperbuild.render.tables import _least

    widths = column_widths([["a", "c"], ["b"]], 9070, [(0, 2, "Internationalisation x")])
    assert sum(widths) >= _least(["Internationalisation"]) and widths[0] - widths[1] in (0, 1)
    assert column_widths([["a"], ["b"]], 9070) == column_widths([["a"], ["b"]], 9070, [])


def test_docx_cells_across_columns_are_as_wide_as_the_columns_they_span(mini):
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        '::: {points="1.1"}\nApples.\n:::\n\n'
        '<table><tr><td rowspan="2">Tall</td><td colspan="2">Internationalisation</td></tr>\n'
        "<tr><td>a</td><td>Prosecutions</td></tr></table>\n"
    )
    root = mini({"paper/01-first.md": chapter})
    assert CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"]).exit_code == 0
    xml = zipfile.ZipFile(root / "build/a-small-paper-1.0.docx").read("word/document.xml")
    table = xml.decode()[xml.decode().index("<w:tbl>") :]
    grid = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', table)]
    cells = re.findall(r'<w:tcW w:w="(\d+)"[^>]*/>(?:<w:gridSpan w:val="(\d+)"/>)?', table)
    assert len(grid) == 3
    assert [(int(w), int(span or 1)) for w, span in cells] == [
        (grid[0], 1),
        (grid[1] + grid[2], 2),  # the spanning cell, the sum of its columns
        (grid[0], 1),  # (merged down: Word keeps its place)
        (grid[1], 1),
        (grid[2], 1),
    ]
    assert grid[1] + grid[2] >= len("Internationalisation") * 110 + 230


def test_typst_columns_the_author_did_not_align_start_at_the_left():
    source = "#table(\n    columns: 3,\n    align: (auto,right,center,),\n"
    assert "align: (left,right,center,)," in start_aligned(source)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_no_word_is_broken_inside_a_cell_when_libreoffice_lays_it_out(built, tmp_path):
    docx, _ = built
    text = subprocess.run(
        ["pdftotext", "-layout", str(libreoffice_pdf(docx, tmp_path)), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for word in ("Prosecutions", "Convictions", "identified", "Country", "Romania", "2005"):
        assert re.search(rf"\b{word}\b", text), (word, text)
    # the heading after the table keeps its bookmark: its page shows in the contents
    assert "Error" not in text and re.search(r"2 +Second section\.{5,} ?\d", text), text


def test_a_long_table_runs_on_over_pages_in_the_pdf_every_row_kept(mini):
    """A table in a figure did not break in Typst: the rows past the page's foot were lost."""

    rows = "".join(f"| {r} | row {r} of the long table, with words enough |\n" for r in range(90))
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        '::: {points="1.1"}\nApples [@smith2020].\n:::\n\n'
        f"| Number | Text |\n|---:|---|\n{rows}\n: A long table {{#tbl:long}}\n"
    )
    root = mini({"paper/01-first.md": chapter})
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "pdf"])
    assert result.exit_code == 0, result.output
    pages = pdf_pages(root / "build/a-small-paper-1.0.pdf")
    text = " ".join(" ".join(pages).split())
    for r in (0, 45, 89):
        assert f"row {r} of the long table" in text, r
    holding = [i for i, p in enumerate(pages) if "of the long table" in p]
    assert len(holding) >= 2 and all("Number" in pages[i] for i in holding)  # header repeated


WIDE_COLUMNS = "".join(f"| {c} " for c in "abcdefghijklmno") + "|\n" + "|---" * 15 + "|\n"


@pytest.mark.parametrize("long_line", [True, False], ids=["widths-given", "auto"])
def test_no_word_is_broken_in_a_pdf_table_whose_columns_pandoc_gave_widths(mini, long_line):
    """A Markdown line past 80 characters makes pandoc give the columns widths (here fifteen
    equal shares): Typst then broke a long word into a syllable a line. The PDF sizes them as
    the DOCX does, each at least its longest word."""
    cells = "| supercalifragilisticexpialidocious " + "| x " * 14 + "|\n"
    if not long_line:
        cells = "| supercalifragilisticexpialidocious |" + "x|" * 14 + "\n"
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        '::: {points="1.1"}\nApples [@smith2020].\n:::\n\n'
        f"{WIDE_COLUMNS}{cells}\n: Fifteen columns {{#tbl:wide}}\n"
    )
    assert (max(len(line) for line in chapter.splitlines()) > 80) is long_line
    root = mini({"paper/01-first.md": chapter})
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "pdf"])
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_pages(root / "build/a-small-paper-1.0.pdf"))
    assert "supercalifragilisticexpialidocious" in text


def test_pdf_table_widths_are_the_docx_ones_as_shares_of_the_text_width():
    from paperbuild.render.tables import TEXT_WIDTH, fitted

    def cell(words: str, note: bool = False) -> list:
        inlines: list = [{"t": "Str", "c": words}]
        if note:
            inlines.append({"t": "Note", "c": [{"t": "Para", "c": [{"t": "Str", "c": "N" * 90}]}]})
        return [["", [], []], {"t": "AlignDefault"}, 1, 1, [{"t": "Plain", "c": inlines}]]

    def table(width: dict) -> dict:
        specs = [[{"t": "AlignDefault"}, width] for _ in range(2)]
        rows = [[["", [], []], [cell("Head"), cell("Value")]]]
        body = [[["", [], []], [cell("Anextraordinarilylongword", note=True), cell("1")]]]
        return {
            "t": "Table",
            "c": [
                ["", [], []],
                [None, []],
                specs,
                [["", [], []], rows],
                [[["", [], []], 0, [], body]],
                [["", [], []], []],
            ],
        }

    assert fitted(table({"t": "ColWidthDefault"})) is None  # Typst sizes these by content
    out = fitted(table({"t": "ColWidth", "c": 0.5}))
    assert out is not None
    shares = [spec[1]["c"] for spec in out["c"][2]]
    expected = column_widths([["Head", "Anextraordinarilylongword"], ["Value", "1"]], TEXT_WIDTH)
    assert shares == [w / TEXT_WIDTH for w in expected]  # the note's words count for nothing
    assert shares[0] > shares[1]


def _captions_near_page_feet(items: int, every: int, code_lines: int) -> str:
    """Return a chapter of short tables (a note in a cell) and, every `every` item, a listing,
    each after a little more text than the one before, so that captions fall at page feet."""
    parts = ["---\nsection: 1\n---\n\n# First section\n\n", '::: {points="1.1"}\nApples.\n:::\n\n']
    for n in range(1, items + 1):
        filler = " ".join(["Words that fill the page up to the next caption."] * (n % 11 + 1))
        parts.append(f"{filler}\n\n")
        if n % every:
            parts.append(
                f"| Head{n} | Value |\n|---|---:|\n| cell{n} | 1[^n{n}] |\n| more | 2 |\n\n"
                f": Caption of table {n} {{#tbl:t{n}}}\n\n[^n{n}]: Note of table {n}.\n\n"
            )
        else:
            code = "".join(f"line{k} = {k}\n" for k in range(code_lines))
            parts.append(f'```{{#lst:l{n} caption="Code {n}"}}\ncode{n} = 1\n{code}```\n\n')
    return "".join(parts)


@pytest.mark.parametrize(
    ("items", "every", "code_lines"), [(30, 3, 1), (40, 2, 12)], ids=["tables", "listings"]
)
@pytest.mark.slow
def test_a_caption_stays_on_the_page_of_its_table_or_listing_and_a_cell_note_with_its_table(
    mini, items, every, code_lines
):
    """A table figure could break: its caption (and its notes) left on one page, the table
    squeezed into narrow columns on the next; a listing's caption could be left alone too."""
    root = mini({"paper/01-first.md": _captions_near_page_feet(items, every, code_lines)})
    result = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    pages = [" ".join(p.split()) for p in pdf_pages(root / "build/a-small-paper-1.0.pdf")]
    assert len(pages) > 4
    for n in range(1, items + 1):
        label = rf"(Table \d+: Caption of table|Listing \d+: Code) {n}\b"
        (caption,) = [i for i, p in enumerate(pages) if re.search(label, p)]
        body = f"Head{n} Value" if n % every else f"code{n} = 1"
        assert body in pages[caption], (n, pages[caption])  # (the columns not squeezed either)
        if n % every:
            assert f"Note of table {n}." in pages[caption], n
    docx = zipfile.ZipFile(root / "build/a-small-paper-1.0.docx")
    styles = docx.read("word/styles.xml").decode()
    listing = re.search(r'<w:style [^>]*w:styleId="ListingCaption".*?</w:style>', styles)
    assert listing and "<w:keepNext/>" in listing.group(0)  # Word keeps it with the code too
    listings = docx.read("word/document.xml").decode().count('w:val="ListingCaption"')
    assert listings == items // every


def test_a_table_too_wide_for_the_page_is_set_smaller_every_column_on_it(mini, tmp_path):
    # (30 short columns: their longest words alone are wider than the text; the last five
    # columns ran off the page in the PDF and in LibreOffice's rendering of the DOCX)
    heads, cells = [f"h{i:02}" for i in range(1, 31)], [f"v{i:02}" for i in range(1, 31)]
    table = "| " + " | ".join(heads) + " |\n|" + "---|" * 30 + "\n| " + " | ".join(cells) + " |\n"
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        f'::: {{points="1.1"}}\nApples.\n:::\n\n{table}\n: Thirty columns\n'
    )
    root = mini({"paper/01-first.md": chapter})
    result = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    assert "too many for the page" not in result.output  # (it fits, in 5.5 to 9 pt)
    reader = pypdf.PdfReader(root / "build/a-small-paper-1.0.pdf")
    page = next(p for p in reader.pages if "h01" in p.extract_text())
    right = float(page.mediabox.width) - 2 * 28.35  # (the text block's right edge, at most)
    placed: dict[str, float] = {}

    def where(text, cm, tm, font, size):  # (a word's place: text matrix times page matrix)
        if text.strip() in heads + cells:
            placed[text.strip()] = tm[4] * cm[0] + cm[4]

    page.extract_text(visitor_text=where)
    assert sorted(placed) == sorted(heads + cells), placed
    assert [w for w, x in placed.items() if not 0 < x < right] == [], (placed, right)
    xml = zipfile.ZipFile(root / "build/a-small-paper-1.0.docx").read("word/document.xml")
    found = xml.decode()[xml.decode().index("<w:tbl>") :]
    found = found[: found.index("</w:tbl>")]
    grid = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', found)]
    assert len(grid) == 30 and sum(grid) <= TEXT_WIDTH, (sum(grid), TEXT_WIDTH)
    sizes = {int(s) for s in re.findall(r'<w:sz w:val="(\d+)"', found)}
    assert len(sizes) == 1 and 11 <= sizes.pop() < 19  # (half points: 5.5 to 9 pt, not 9.5)
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext is not installed: the DOCX's rendering unchecked")
    rendered = " ".join(pdf_pages(libreoffice_pdf(root / "build/a-small-paper-1.0.docx", tmp_path)))
    assert [w for w in heads + cells if w not in rendered] == [], rendered


def test_a_table_too_wide_even_at_the_least_size_is_named_in_the_build(mini):
    heads = [f"col{i:02}" for i in range(1, 61)]
    table = "| " + " | ".join(heads) + " |\n|" + "---|" * 60 + "\n| " + " | ".join(heads) + " |\n"
    chapter = (
        "---\nsection: 1\n---\n\n# First section\n\n"
        f'::: {{points="1.1"}}\nApples.\n:::\n\n{table}\n: Sixty columns\n'
    )
    root = mini({"paper/01-first.md": chapter})
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"])
    assert result.exit_code == 0, result.output
    told = [x for x in result.output.splitlines() if x.startswith("warning: ")]
    assert told == [
        "warning: 'Table 1: Sixty columns' has 60 columns, too many for the page even in 5.5 pt: "
        "its words break in their cells in both drafts (split it in two, or turn it)"
    ], result.output


def test_a_column_that_holds_a_list_has_room_for_its_bullets_in_both_drafts(mini, tmp_path):
    # (a column was as wide as its longest word: in LibreOffice's rendering of the DOCX each
    # bullet stood on a line of its own, its item on the next)
    grid = (
        "+-----------+-----------------------+\n| Stage     | Note                  |\n"
        "+===========+=======================+\n| - arrest  | Police records.       |\n"
        "| - trial   |                       |\n+-----------+-----------------------+\n"
    )
    chapter = (
        f'---\nsection: 1\n---\n\n# First section\n\n::: {{points="1.1"}}\nApples.\n:::\n\n{grid}'
    )
    root = mini({"paper/01-first.md": chapter})
    result = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    xml = zipfile.ZipFile(root / "build/a-small-paper-1.0.docx").read("word/document.xml").decode()
    table = xml[xml.index("<w:tbl>") : xml.index("</w:tbl>")]
    grid_cols = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', table)]
    words = column_widths([["Stage", "arrest trial"], ["Note", "Police records."]], TEXT_WIDTH)
    assert grid_cols[0] == words[0] + 720, (grid_cols, words)  # (0.5 inch: room for the bullet)
    out = fitted_tables(pandoc.parse_chapters([("t.md", grid)])[0])  # (the PDF's, as shares)
    shares = [spec[1]["c"] for spec in out[0]["c"][2]]
    assert shares == [w / TEXT_WIDTH for w in grid_cols]
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext is not installed: the DOCX's rendering unchecked")
    rendered = subprocess.run(
        [
            "pdftotext",
            "-layout",
            str(libreoffice_pdf(root / "build/a-small-paper-1.0.docx", tmp_path)),
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [" ".join(line.split()) for line in rendered.splitlines()]
    assert any(line.startswith("• arrest") for line in lines), lines  # (bullet and item together)


AFTER = """
::: {#boxed}
| Year | Cases |
|-----:|------:|
| 2003 | 12 |
| 2004 | 31 |
:::

Boxedafter words follow the table in a div.

| Year | Cases |
|-----:|------:|
| 2005 | 45 |
| 2006 | 52 |

Plainafter words follow the table.

| Year | Cases |
|-----:|------:|
| 2007 | 60 |

## A heading after a table
"""


def _gap_below(pdf, last_cell: str, first_word: str) -> float:
    """Return the points from the bottom of a table's last cell's text to the top of the words
    that follow the table (pdftotext's word boxes)."""
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = {
        w: (float(a), float(b))
        for a, b, w in re.findall(
            r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', boxes
        )
    }
    return words[first_word][0] - words[last_cell][1]


def test_the_text_after_a_table_stands_as_far_below_it_in_the_docx_as_in_the_pdf(mini, tmp_path):
    # (the DOCX's paragraph after a table began right at its bottom rule; the PDF leaves Typst's
    # gap below a block there)
    import docx as python_docx

    chapter = "---\nsection: 1\n---\n\n# First section\n\n" + AFTER
    root = mini({"paper/01-first.md": chapter})
    result = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    draft = root / "build/a-small-paper-1.0.docx"
    paragraphs = {p.text: p for p in python_docx.Document(str(draft)).paragraphs}
    plain = paragraphs["Plainafter words follow the table."].paragraph_format.space_before
    boxed = paragraphs["Boxedafter words follow the table in a div."].paragraph_format.space_before
    assert plain is not None and plain.pt > 9 and boxed is not None and 6 < boxed.pt < plain.pt
    (heading,) = [p for t, p in paragraphs.items() if t.endswith("A heading after a table")]
    assert heading.paragraph_format.space_before is None  # (its style's own)
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext is not installed: the DOCX's gap not measured")
    pdf, office = root / "build/a-small-paper-1.0.pdf", libreoffice_pdf(draft, tmp_path)
    for cell, word in (("2006", "Plainafter"), ("2004", "Boxedafter")):
        typst, word_processor = _gap_below(pdf, cell, word), _gap_below(office, cell, word)
        assert abs(typst - word_processor) < 1.5, (word, typst, word_processor)
