"""The house-style reference document, built from pandoc's default with python-docx."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from paperbuild import pandoc
from paperbuild.fsutil import write_atomic

BODY_FONT = "Cambria"
HEADING_FONT = "Calibri"
INK = "1F2A44"


def _style_paragraphs(doc: object) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    styles = doc.styles  # type: ignore[attr-defined]
    normal = styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(11)
    for name in ("Body Text", "First Paragraph"):
        st = styles[name]
        st.paragraph_format.space_before = Pt(0)
        st.paragraph_format.space_after = Pt(8)
        st.paragraph_format.line_spacing = 1.15
        st.paragraph_format.widow_control = True
    sizes = {1: 16, 2: 13, 3: 11.5, 4: 11}
    for level, size in sizes.items():
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
    foot.font.size = Pt(9)
    foot.paragraph_format.space_after = Pt(2)
    title = styles["Title"]
    title.font.name = HEADING_FONT
    title.font.size = Pt(28)
    title.font.color.rgb = RGBColor.from_string(INK)
    title.paragraph_format.space_before = Pt(120)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    extra = {
        "Status": (13, True),
        "Commissioned": (11, False),
        "Draft Version": (11, False),
        "Contents Entry 1": (11, False),
        "Contents Entry 2": (10, False),
        "Running Header": (8.5, False),
        "Running Footer": (8.5, False),
    }
    for name, (size, italic) in extra.items():
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = styles["Normal"]
        st.font.size = Pt(size)
        st.font.italic = italic
        st.paragraph_format.space_after = Pt(4 if name.startswith(("Contents", "Running")) else 10)
    for level, indent in ((1, 0), (2, 22)):
        fmt = styles[f"Contents Entry {level}"].paragraph_format
        fmt.left_indent = Pt(indent + 30)
        fmt.first_line_indent = Pt(-30)
        fmt.tab_stops.add_tab_stop(Pt(indent + 30))
    styles["TOC Heading"].font.color.rgb = RGBColor.from_string(INK)
    styles["TOC Heading"].font.name = HEADING_FONT
    styles["Status"].font.color.rgb = RGBColor.from_string(INK)
    styles["Author"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    styles["Author"].font.size = Pt(13)
    styles["Date"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT


def build_reference_docx() -> bytes:
    """Return the bytes of the house-style reference document."""
    import docx

    base = pandoc.run(["--print-default-data-file", "reference.docx"])
    doc = docx.Document(io.BytesIO(base))
    _style_paragraphs(doc)
    section = doc.sections[0]
    from docx.shared import Cm

    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.3)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def reference_docx(cache_dir: Path) -> Path:
    """Return the path of the reference document, building it once per code and pandoc version."""
    key = hashlib.sha256(Path(__file__).read_bytes())
    key.update(".".join(map(str, pandoc.version())).encode())
    path = cache_dir / f"reference-{key.hexdigest()[:16]}.docx"
    if not path.is_file():
        write_atomic(path, build_reference_docx())
    return path
