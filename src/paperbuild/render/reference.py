"""The house-style reference document, built from pandoc's default with python-docx."""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path
from typing import Any

from paperbuild import pandoc
from paperbuild.errors import BuildError
from paperbuild.render.ooxml import set_child, text_width
from paperbuild.render.oxml import OxmlElement, qn
from paperbuild.render.refscrub import scrubbed
from paperbuild.render.style import (
    BODY_FONT,
    BODY_SIZE,
    BOTTOM_MARGIN_CM,
    CAPTION_SIZE,
    FURNITURE_SIZE,
    HEADING_SIZES,
    INK,
    LINE_SPACING,
    NOTE_SIZE,
    PAGE_HEIGHT_CM,
    PAGE_WIDTH_CM,
    PARAGRAPH_GAP,
    SIDE_MARGIN_CM,
    TABLE_SIZE,
    TITLE_SIZE,
    TOP_MARGIN_CM,
)
from paperbuild.safety import CACHE_DIR, cache_dir, open_docx, output_dir, read_input
from paperbuild.util.fsutil import keep, kept_bytes, write_atomic

HEADING_FONT = BODY_FONT  # one serif family throughout, as in the PDF


def _one_family(doc: object, family: str) -> None:
    """Replace the theme's fonts (pandoc's headings are in the theme's sans) by one family."""
    root = doc.styles.element  # type: ignore[attr-defined]
    for fonts in root.iter(qn("w:rFonts")):
        themed = False
        for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            if fonts.get(qn(f"w:{attr}")) is not None:
                del fonts.attrib[qn(f"w:{attr}")]
                themed = True
        if themed:  # a face the author's styles name (code's monospace) stays
            fonts.set(qn("w:ascii"), family)
            fonts.set(qn("w:hAnsi"), family)


def _style_paragraphs(doc: object) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    styles = doc.styles  # type: ignore[attr-defined]
    normal = styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(BODY_SIZE)
    for name in ("Body Text", "First Paragraph"):
        st = styles[name]
        st.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY  # as the PDF, hyphenated
        st.paragraph_format.space_before = Pt(0)
        st.paragraph_format.space_after = Pt(PARAGRAPH_GAP)
        st.paragraph_format.line_spacing = LINE_SPACING
        st.paragraph_format.widow_control = True
    for level, size in HEADING_SIZES.items():
        st = styles[f"Heading {level}"]
        st.font.name = HEADING_FONT
        st.font.size = Pt(size)
        st.font.bold = True
        st.font.italic = level == 4
        st.font.color.rgb = RGBColor.from_string(INK)
        st.paragraph_format.space_before = Pt(18 if level == 1 else 12)
        st.paragraph_format.space_after = Pt(6)
        st.paragraph_format.keep_with_next = True
    foot = styles["Footnote Text"]
    foot.font.size = Pt(NOTE_SIZE)
    foot.paragraph_format.space_after = Pt(2)
    title = styles["Title"]
    title.font.name = HEADING_FONT
    title.font.size = Pt(TITLE_SIZE)
    title.font.color.rgb = RGBColor.from_string(INK)
    title.paragraph_format.space_before = Pt(120)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    styles["TOC Heading"].font.color.rgb = RGBColor.from_string(INK)
    styles["TOC Heading"].font.name = HEADING_FONT
    styles["TOC Heading"].font.bold = True  # as the PDF's contents title; entries in roman
    styles["Author"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    styles["Author"].font.size = Pt(13)
    styles["Date"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT


UNNUMBERED = (  # --line-numbers counts the body's lines only, as the PDF does
    "Title",
    "Subtitle",
    "Status",
    "Author",
    "Commissioned",
    "Draft Version",
    "TOC Heading",
    "Contents Entry 1",
    "Contents Entry 2",
    "Table of Figures",
    "Running Header",
    "Running Footer",
    "Footnote Text",
    "Header",
    "Footer",
)
PPR_BEFORE_SUPPRESS = (
    "pStyle",
    "keepNext",
    "keepLines",
    "pageBreakBefore",
    "framePr",
    "widowControl",
    "numPr",
)


def _suppress_line_numbers(style: Any) -> None:
    """Leave a paragraph style's lines out of line numbering (w:suppressLineNumbers)."""
    style.element.get_or_add_pPr()
    set_child(style.element, "pPr", "suppressLineNumbers", {}, PPR_BEFORE_SUPPRESS)


def _paperbuild_styles(doc: Any) -> None:
    """Add the styles paperbuild's furniture uses, where the reference document lacks them."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Pt, RGBColor

    styles = doc.styles
    names = {s.name for s in styles}
    extra = {
        "Status": (13, True),
        "Commissioned": (11, False),
        "Draft Version": (11, False),
        "Contents Entry 1": (11, False),
        "Contents Entry 2": (10, False),
        "Table of Figures": (10, False),
        "Running Header": (FURNITURE_SIZE, False),
        "Running Footer": (FURNITURE_SIZE, False),
    }
    for name, (size, italic) in extra.items():
        if name in names:
            continue
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = styles["Normal"]
        st.font.size = Pt(size)
        st.font.italic = italic
        listing = name.startswith(("Contents", "Running", "Table of"))
        st.paragraph_format.space_after = Pt(4 if listing else 10)
        if name == "Table of Figures":
            st.paragraph_format.left_indent = Pt(60)
            st.paragraph_format.first_line_indent = Pt(-60)
        if name.startswith(("Contents Entry", "Table of Figures")):  # page numbers at the right
            st.paragraph_format.tab_stops.add_tab_stop(
                text_width(doc.sections[0]), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
            )
        if name.startswith("Contents Entry"):
            indent = 0 if name.endswith("1") else 22
            st.paragraph_format.left_indent = Pt(indent + 30)
            st.paragraph_format.first_line_indent = Pt(-30)
            st.paragraph_format.tab_stops.add_tab_stop(Pt(indent + 30))
        if name == "Status":
            st.font.color.rgb = RGBColor.from_string(INK)
    if "Equation" not in names:  # a numbered equation: centred maths, its number at the right
        from docx.enum.text import WD_TAB_ALIGNMENT
        from docx.shared import Cm

        eq = styles.add_style("Equation", WD_STYLE_TYPE.PARAGRAPH)
        eq.base_style = styles["Normal"]
        eq.paragraph_format.space_before = Pt(6)
        eq.paragraph_format.space_after = Pt(6)
        eq.paragraph_format.tab_stops.add_tab_stop(Cm(8.0), WD_TAB_ALIGNMENT.CENTER)
        eq.paragraph_format.tab_stops.add_tab_stop(Cm(16.0), WD_TAB_ALIGNMENT.RIGHT)
    bibliography = (
        styles["Bibliography"]
        if "Bibliography" in names
        else styles.add_style("Bibliography", WD_STYLE_TYPE.PARAGRAPH)
    )
    bibliography.paragraph_format.left_indent = Pt(22)  # hanging: the author's name stands out
    bibliography.paragraph_format.first_line_indent = Pt(-22)
    bibliography.paragraph_format.space_after = Pt(5)
    bibliography.paragraph_format.alignment = 0  # left: no stretched gaps in long titles
    by_name = {s.name: s for s in styles}  # (styles["Caption"] would warn: a built-in name)
    for name in ("Caption", "Table Caption", "Image Caption"):  # as the PDF: upright, 10 pt
        if name in by_name:
            by_name[name].font.italic = False
            by_name[name].font.size = Pt(CAPTION_SIZE)
    if "Image Caption" in by_name:
        by_name["Image Caption"].paragraph_format.alignment = 1  # centred under the figure
    if "Captioned Figure" in by_name:  # the figure's image: centred as in the PDF, and kept
        by_name["Captioned Figure"].paragraph_format.alignment = 1  # with its caption
        by_name["Captioned Figure"].paragraph_format.keep_with_next = True
    if "Table Caption" in by_name:
        by_name["Table Caption"].paragraph_format.alignment = 0  # at the left, above the table
        by_name["Table Caption"].paragraph_format.keep_with_next = True
    if "Listing Caption" not in names:  # above a listing, kept with its code (as the PDF's)
        listing_caption = styles.add_style("Listing Caption", WD_STYLE_TYPE.PARAGRAPH)
        listing_caption.base_style = by_name.get("Caption", styles["Normal"])
        listing_caption.font.italic = False
        listing_caption.font.size = Pt(CAPTION_SIZE)
        listing_caption.paragraph_format.keep_with_next = True
    if "Table Text" not in names:  # table cells: a size smaller than the body, tight spacing
        table_text = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
        table_text.base_style = styles["Compact"] if "Compact" in names else styles["Normal"]
        table_text.font.size = Pt(TABLE_SIZE)
        table_text.paragraph_format.space_before = Pt(1)
        table_text.paragraph_format.space_after = Pt(1)
        table_text.paragraph_format.alignment = 0  # left, unless the column says otherwise
    by_name = {s.name: s for s in styles}
    for name in UNNUMBERED:
        if name in by_name:
            _suppress_line_numbers(by_name[name])
    _callout_styles(doc, names)
    if "Line Number" not in names:  # the character style Word uses for --line-numbers
        numbers = styles.add_style("Line Number", WD_STYLE_TYPE.CHARACTER)
        numbers.font.size = Pt(7.5)
        numbers.font.color.rgb = RGBColor.from_string("808080")


def _callout_styles(doc: Any, names: set[str]) -> None:
    """Add Callout (a callout's text: indented, a rule at the left) and Callout Title."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    styles = doc.styles
    if "Callout" not in names:
        callout = styles.add_style("Callout", WD_STYLE_TYPE.PARAGRAPH)
        callout.base_style = styles["Normal"]
        callout.paragraph_format.left_indent = Pt(10)
        callout.paragraph_format.space_after = Pt(3)
        borders = set_child(callout.element, "pPr", "pBdr", {}, PPR_BEFORE_PBDR)
        left = OxmlElement("w:left")  # one rule down the left of the callout's paragraphs
        for key, value in (("val", "single"), ("sz", "12"), ("space", "8"), ("color", INK)):
            left.set(qn(f"w:{key}"), value)
        borders.append(left)
    if "Callout Title" not in names:
        title = styles.add_style("Callout Title", WD_STYLE_TYPE.PARAGRAPH)
        title.base_style = styles["Callout"]
        title.paragraph_format.keep_with_next = True
        title.paragraph_format.space_before = Pt(6)


PPR_BEFORE_PBDR = (  # CT_PPrBase's sequence before pBdr
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers",
)  # fmt: skip


def build_reference_docx(user: bytes | None = None) -> bytes:
    """Return the reference document: the house style, or the author's with our styles added."""
    import docx
    from docx.shared import Cm

    if user is not None:
        user = scrubbed(user)[0]  # (check's unsafe-reference-doc names what goes)
    base = user or pandoc.run(["--print-default-data-file", "reference.docx"])
    doc = docx.Document(io.BytesIO(base))
    if user is None:
        _style_paragraphs(doc)
        _one_family(doc, BODY_FONT)
    for section in doc.sections:  # the house page, or where the author's document sets none
        if user is None or section.page_width is None or section.page_height is None:
            section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
        if user is None or None in (section.left_margin, section.right_margin):
            section.left_margin = section.right_margin = Cm(SIDE_MARGIN_CM)
        if user is None or None in (section.top_margin, section.bottom_margin):
            section.top_margin, section.bottom_margin = Cm(TOP_MARGIN_CM), Cm(BOTTOM_MARGIN_CM)
    _paperbuild_styles(doc)
    _drop_template_link(doc)
    out = io.BytesIO()
    doc.save(out)
    return _scrub_app_properties(out.getvalue())


def _drop_template_link(doc: object) -> None:
    """Remove the link to the author's template (a path on their machine) from the settings."""
    part = doc.part._settings_part  # type: ignore[attr-defined]
    for linked in part.element.findall(qn("w:attachedTemplate")):
        part.element.remove(linked)
    rels = part.rels
    for rid in [k for k, r in rels.items() if r.reltype.endswith("/attachedTemplate")]:
        del rels[rid]


APP_PROPERTIES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    b"<Application>paperbuild</Application><DocSecurity>0</DocSecurity></Properties>"
)


def _scrub_app_properties(data: bytes) -> bytes:
    """Return the package with its application properties (template path, company) replaced."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = APP_PROPERTIES if info.filename == "docProps/app.xml" else src.read(info)
            dst.writestr(info, part)
    return out.getvalue()


@functools.lru_cache(maxsize=4)
def _built(key: str, user: bytes | None) -> bytes:
    """Return the reference document for this key, built once per process (watch, tests)."""
    return build_reference_docx(user)


def reference_docx(root: Path, reference_doc: str | None = None) -> Path:
    """Return the reference document's path, built once per code, pandoc and author's file.

    The author's file (outline.yaml's `reference-doc:`) is read through the input gate; the
    result is cached in build/.cache/ through the output gate.
    """
    user = root / reference_doc if reference_doc else None
    user_bytes = read_input(user, root) if user else None
    if user and user_bytes is not None:
        open_docx(user_bytes, user)  # bounded, unencrypted, a Word document
    trusted = cache_dir(root)  # None: git tracks build/.cache/, so a file there is not ours
    folder = trusted or output_dir(root, root / CACHE_DIR)
    key = hashlib.sha256(Path(__file__).read_bytes())
    key.update((Path(__file__).parent / "style.py").read_bytes())  # the house style's values
    key.update(".".join(map(str, pandoc.version())).encode())
    key.update(user_bytes or b"")
    path = folder / f"reference-{key.hexdigest()[:16]}.docx"
    sealed_copy = path.with_suffix(".sealed")  # (pandoc reads the path: the seal is kept apart)
    data = kept_bytes(sealed_copy) if trusted is not None else None
    if data is None:
        try:
            data = _built(key.hexdigest(), user_bytes)
        except Exception as exc:  # python-docx raises several kinds for a broken package
            raise BuildError(
                f"the reference document {user} cannot be used: {exc}",
                hint="save it again from Word or LibreOffice as .docx",
            ) from exc
        if trusted is not None:
            keep(sealed_copy, data)
    if _bytes_of(path) != data:  # (missing, or not what paperbuild made: put there by another)
        write_atomic(path, data)
    return path


def _bytes_of(path: Path) -> bytes | None:
    """Return a file's bytes, or None if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None
