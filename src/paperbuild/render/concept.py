"""`paperbuild outline --to docx`: the concept note with its "Draft outline of contents" table."""

from __future__ import annotations

import io
from html import escape
from pathlib import Path
from typing import Any

from paperbuild import pandoc
from paperbuild.assemble import build_date
from paperbuild.furniture import words_for
from paperbuild.load.outline import Outline
from paperbuild.render.docx import (
    house_bullets,
    no_earlier_marks,
    running_footer,
    running_header,
)
from paperbuild.render.fonts import embedded_font_parts
from paperbuild.render.ooxml import package_zip, set_child, text_width
from paperbuild.render.oxml import OxmlElement, package_parts, qn
from paperbuild.render.reference import reference_docx
from paperbuild.safety import BUILD_DIR, cache_dir, file_name, output_dir, output_file
from paperbuild.util.clock import build_datetime
from paperbuild.util.fsutil import write_atomic


def concept_html(outline: Outline) -> str:
    """Return the concept note as HTML for pandoc: metadata, concept, questions, outline table."""
    meta = outline.document
    parts = [
        f"<h1>{escape(meta.title)}</h1>",
        "<p><strong>Concept Note and Outline</strong></p>",
        f"<p>Author: {escape(meta.author)}</p>",
    ]
    if meta.commissioned_by:
        parts.append(f"<p>Commissioned by {escape(meta.commissioned_by)}</p>")
    if meta.concept or meta.questions:
        parts.append("<h2>Concept</h2>")
        for para in (meta.concept or "").split("\n"):
            if para.strip():
                parts.append(f"<p>{escape(para.strip())}</p>")
        if meta.questions:
            items = "".join(f"<li>{escape(q)}</li>" for q in meta.questions)
            parts.append(f"<ul>{items}</ul>")
    parts.append("<h2>Draft outline of contents</h2>")
    rows = []
    for s in outline.sections:
        points = "".join(f"<li>{escape(p.text)}</li>" for p in s.points)
        cell = f"<ul>{points}</ul>" if points else ""
        rows.append(f"<tr><td>{escape(s.id)}</td><td>{escape(s.title)}</td><td>{cell}</td></tr>")
    parts.append(
        '<table><colgroup><col width="11%"/><col width="29%"/>'
        '<col width="60%"/></colgroup><thead><tr><th>Section</th><th>Section title</th>'
        f"<th>Summary of proposed contents</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return "\n".join(parts)


def concept_docx(root: Path, outline: Outline) -> bytes:
    """Return the concept note as DOCX bytes, in the house style with the running header."""
    import docx

    ref = reference_docx(root, outline.reference_doc)
    html = concept_html(outline).encode("utf-8")
    lang = ["-M", f"lang={outline.document.lang}"]
    args = ["-f", "html+smart", "-t", "docx", "--reference-doc", str(ref), *lang]
    doc = docx.Document(io.BytesIO(pandoc.run(args, html)))
    words = words_for(outline.document.lang)
    when = words.date(build_date(outline.document))
    no_earlier_marks(doc)
    for section in doc.sections:
        section.different_first_page_header_footer = True  # page 1 opens with the title
        running_header(doc, section, outline.document.title, outline.document.status)
        text = f"{outline.document.title} · {when}"
        running_footer(doc, section.footer, section, text, words)
        running_footer(doc, section.first_page_footer, section, text, words)
    _full_width(doc)
    house_bullets(doc)
    for table in doc.element.body.iter(qn("w:tbl")):  # rows never split across pages
        for row in table.iter(qn("w:tr")):
            set_child(row, "trPr", "cantSplit", {})
        for p in table.iter(qn("w:p")):  # the drafts' table text: smaller, not justified
            set_child(p, "pPr", "pStyle", {"val": "TableText"})
    props = doc.core_properties
    props.title = f"{outline.document.title}: Concept Note and Outline"[:255]
    props.author = outline.document.author[:255]
    props.created = props.modified = build_datetime()
    parts = package_parts(doc)
    fonts = embedded_font_parts(parts)
    return package_zip(parts, build_datetime(), fonts, cache_dir(root))


def _full_width(doc: Any) -> None:
    """Give the outline table the text width, in the seed's proportions."""
    width = text_width(doc.sections[0])
    shares = (0.12, 0.29, 0.59)
    for table in doc.tables:
        tbl_pr = table._tbl.tblPr
        for old in tbl_pr.findall(qn("w:tblW")):
            tbl_pr.remove(old)
        tbl_w = OxmlElement("w:tblW")
        tbl_w.set(qn("w:w"), "5000")
        tbl_w.set(qn("w:type"), "pct")
        tbl_pr.append(tbl_w)
        for i, column in enumerate(table.columns):
            for cell in column.cells:
                cell.width = int(width * shares[i % 3])
        grid = table._tbl.tblGrid
        for i, col in enumerate(grid.findall(qn("w:gridCol"))):
            col.set(qn("w:w"), str(int(width * shares[i % 3] / 635)))


def write_concept_note(root: Path, outline: Outline) -> Path:
    """Write build/<slug>-concept-note.docx and return its path."""
    folder = output_dir(root, root / BUILD_DIR)
    path = output_file(folder, f"{file_name(outline.document.file_slug, 'slug')}-concept-note.docx")
    write_atomic(path, concept_docx(root, outline))
    return path
