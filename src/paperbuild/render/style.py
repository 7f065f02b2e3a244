"""The house style, defined once: the DOCX reference document and the Typst template read it."""

from __future__ import annotations

from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
BODY_FONT = "Liberation Serif"  # shipped (OFL), embedded in every DOCX, given to Typst
FACES = {  # Word's embedding slot for each face of the body font, and its file
    "embedRegular": "LiberationSerif-Regular.ttf",
    "embedBold": "LiberationSerif-Bold.ttf",
    "embedItalic": "LiberationSerif-Italic.ttf",
    "embedBoldItalic": "LiberationSerif-BoldItalic.ttf",
}
# The page: A4 with 2.5 cm at each side (the DOCX's reference document, the Typst template, the
# tables' column widths).
PAGE_WIDTH_CM = 21.0
PAGE_HEIGHT_CM = 29.7
SIDE_MARGIN_CM = 2.5
TEXT_WIDTH_CM = PAGE_WIDTH_CM - 2 * SIDE_MARGIN_CM
TOP_MARGIN_CM, BOTTOM_MARGIN_CM = 2.5, 2.3  # the DOCX's (the PDF's leave room for its header)
TEXT_HEIGHT_CM = PAGE_HEIGHT_CM - TOP_MARGIN_CM - BOTTOM_MARGIN_CM
BULLETS = ("•", "◦", "▪")  # list markers by depth, in the body face (both formats)
INK = "1F2A44"  # headings, title and status
BODY_SIZE = 11.0
NOTE_SIZE = 9.0
TABLE_SIZE = 9.5
TABLE_INSET = (5.75, 3.0)  # a cell's side and top-and-bottom padding, in points (Word's 115 twips)
CAPTION_SIZE = 10.0
# Lines 14 pt apart and 3.6 pt more between paragraphs, in both formats: Typst's leading and
# spacing (em) are measured from the face's cap height; Word's multiple is of the face's line
# height with its line gap (1.149 em for Liberation Serif).
LEADING_EM = 0.62
SPACING_EM = 0.95
LINE_SPACING = 1.11
PARAGRAPH_GAP = 3.5
# Above and below a table or figure: Typst's block spacing, its own default (a set rule of the
# same value moved the PDF's contents), which the DOCX sets below a table.
BLOCK_GAP_EM = 1.2
HEADING_SIZES = {1: 15.0, 2: 12.5, 3: 11.0, 4: 11.0}  # level 4 in italic
TITLE_SIZE = 26.0
FURNITURE_SIZE = 8.5  # running header and footer


def _points(size: float) -> str:
    """Return a size in Typst's points notation ('12.5pt', '11pt')."""
    return f"{size:g}pt"


def typst_values() -> dict[str, str]:
    """Return the house style as the Typst template's variables."""
    values = {
        "body-font": BODY_FONT,
        "ink": INK.lower(),  # hex digits; the template adds the "#"
        "body-size": _points(BODY_SIZE),
        "note-size": _points(NOTE_SIZE),
        "table-size": _points(TABLE_SIZE),
        "table-inset-x": _points(TABLE_INSET[0]),
        "table-inset-y": _points(TABLE_INSET[1]),
        "caption-size": _points(CAPTION_SIZE),
        "title-size": _points(TITLE_SIZE),
        "furniture-size": _points(FURNITURE_SIZE),
        "leading": f"{LEADING_EM:g}em",
        "side-margin": f"{SIDE_MARGIN_CM:g}cm",
        "spacing": f"{SPACING_EM:g}em",
    }
    values.update({f"bullet-{depth}": mark for depth, mark in enumerate(BULLETS, start=1)})
    values.update({f"h{level}-size": _points(size) for level, size in HEADING_SIZES.items()})
    return values
