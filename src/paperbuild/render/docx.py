"""DOCX drafts: pandoc writes with the house reference document, python-docx adds the furniture."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild import pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.assemble import Document, TocEntry
from paperbuild.crossref import LISTED_KINDS
from paperbuild.errors import BuildError
from paperbuild.furniture import Words, words_for
from paperbuild.load.project import Project
from paperbuild.pandoc_ast import Node
from paperbuild.render import oxml, splice, style
from paperbuild.render.common import Previous, RenderOptions, document_pieces
from paperbuild.render.fonts import deflated_faces, embedded_font_parts
from paperbuild.render.images import (
    add_svg_fallbacks,
    docx_problem,
    project_images,
    unshowable,
    without_images,
)
from paperbuild.render.ooxml import (
    EMU_PER_TWIP,
    PAGE_BREAK,
    bookmark_name,
    custom_properties,
    field_runs,
    keep_line_breaks_unstretched,
    package_zip,
    run_with_text,
    set_child,
    set_setting,
    text_height,
    text_width,
)
from paperbuild.render.oxml import OxmlElement, nsdecls, parse_xml, qn
from paperbuild.render.reference import reference_docx
from paperbuild.render.style import BODY_FONT, BULLETS, TABLE_SIZE
from paperbuild.render.tables import (
    CELL_MARGINS,
    LEAST_SIZE,
    LIST_INDENT,
    column_widths,
    fitting,
    table_scale,
)
from paperbuild.render.tracked import renumber_changes, track_paragraph_marks
from paperbuild.safety import cache_dir
from paperbuild.util.clock import build_datetime

TOC_PLACEHOLDER = "\u2063paperbuild-contents\u2063"
LIST_PLACEHOLDER = "\u2063paperbuild-list-{kind}\u2063"


def _styled(style: str, text: str) -> Node:
    return pa.div(pa.Attr("", [], [["custom-style", style]]), [pa.para(pa.str_inlines(text))])


def front_matter_blocks(document: Document) -> list[Node]:
    """Return the title page and the contents page, as pandoc blocks."""
    meta = document.meta
    words = words_for(meta.lang)
    blocks = [_styled("Title", meta.title)]
    if meta.subtitle:
        blocks.append(_styled("Subtitle", meta.subtitle))
    blocks.append(_styled("Status", meta.status))
    blocks.append(_styled("Author", meta.author))
    if meta.commissioned_by:
        who = words.commissioned.format(who=meta.commissioned_by)
        blocks.append(_styled("Commissioned", who))
    version = f"{words.version} {document.version} · {document.display_date}"
    blocks.append(_styled("Draft Version", version))
    raw_break = pa.raw_block("openxml", PAGE_BREAK)
    blocks += [
        raw_break,
        _styled("TOC Heading", words.contents),
        pa.para([pa.str_node(TOC_PLACEHOLDER)]),
    ]
    for kind in LISTED_KINDS:
        if any(e.kind == kind for e in document.listed):
            blocks.append(_styled("TOC Heading", words.list_title(kind)))
            placeholder = LIST_PLACEHOLDER.format(kind=kind)
            blocks.append(pa.para([pa.str_node(placeholder)]))
    blocks.append(raw_break)
    return blocks


def pandoc_docx(
    document: Document,
    project: Project,
    front: list[Node] | None = None,
    queries: bool = True,
    meanwhile: Callable[[], object] | None = None,
    keep: bool = False,
) -> bytes:
    """Return pandoc's DOCX of the document (title and contents pages first), in house style
    (`meanwhile` run while pandoc writes it). With `keep`, pandoc's DOCX is kept, and the next
    one is spliced into it where it can be (`splice`): a draft's, not a redline's."""
    ref = reference_docx(project.root, project.outline.reference_doc)
    blocks = front_matter_blocks(document) if front is None else front
    args = [
        "-f",
        "json",
        "-t",
        "docx",
        "--reference-doc",
        str(ref),
    ]
    lang = {"lang": pa.meta_string(document.meta.lang)}  # w:lang in styles.xml
    head, pieces = document_pieces(document, blocks, target="docx", meta=lang, queries=queries)

    def while_pandoc_writes() -> None:
        oxml.load()  # (python-docx, needed next, imported in pandoc's time)
        if meanwhile is not None:
            meanwhile()

    merged = splice.Sent(pa.merged_words(head), _merged(pieces))
    request = {"to": "docx", "reference_doc": str(ref)}
    waiting = pandoc.once(while_pandoc_writes)  # (while pandoc writes, whatever it writes)

    def write(sent: bytes) -> bytes:
        heap = pandoc.OWN_HEAP if len(sent) < OWN_HEAP_BELOW else pandoc.HEAP
        return pandoc.convert(
            "write", sent, request, args, cwd=project.root, meanwhile=waiting, heap=heap
        )

    written = splice.written(merged, write, _kept_write(project, args, ref) if keep else None)
    if waiting is not None:
        waiting()  # (no pandoc wrote: the kept DOCX was the one)
    return written


_MERGED: list[dict[bytes, bytes]] = []  # inside `merging_remembered`: the last draft's blocks


@contextlib.contextmanager
def merging_remembered() -> Iterator[None]:
    """Remember, for the DOCX builds inside, each block's JSON with its words merged, from one
    draft to the next (`watch`: only the blocks a save changed are merged again; the large
    bench paper's 84 ms). A single build keeps none (the large paper's 19 MB)."""
    _MERGED.append({})
    try:
        yield
    finally:
        _MERGED.pop()


def _merged(pieces: list[bytes]) -> tuple[bytes, ...]:
    """Return each block's JSON with its words merged (`pa.merged_words`), the last draft's
    blocks remembered where `merging_remembered` asks."""
    if not _MERGED:
        return tuple(pa.merged_words(piece) for piece in pieces)
    last = _MERGED[-1]
    merged = {piece: last.get(piece) or pa.merged_words(piece) for piece in pieces}
    last.clear()
    last.update(merged)
    return tuple(merged[piece] for piece in pieces)


def _kept_write(project: Project, args: list[str], ref: Path) -> Path | None:
    """Return the file that keeps the last draft's DOCX as pandoc wrote it (for `splice`),
    named by pandoc, its arguments and the reference document; None without a cache."""
    cache = cache_dir(project.root, "docx")
    if cache is None:
        return None
    h = hashlib.sha256(pandoc.toolchain_id())
    h.update("\0".join(args).encode("utf-8"))
    h.update(ref.read_bytes())
    return cache / f"written-{h.hexdigest()[:24]}.zip"


# pandoc's DOCX writer is faster with the binary's own 64 MB heap on a paper of up to about a
# megabyte of JSON, and slower on a larger one (hyperfine, 10 runs each, alternating: 0.55 MB
# 270 ms against 279 with the 4 MB heap, 1.1 MB 454 against 492; 2.2 MB 828 against 729, the
# large bench paper's 3.3 MB 1.29 s against 1.07).
OWN_HEAP_BELOW = 1_500_000


def prepare_docx(project: Project) -> None:
    """Make ready what a DOCX of the project needs besides its text: python-docx imported, the
    reference document built and the house faces deflated (a build does this while citeproc
    works: 130 ms of a cold build's own time, measured on the medium paper)."""
    oxml.load()
    reference_docx(project.root, project.outline.reference_doc)
    deflated_faces(cache_dir(project.root))


def render_docx(
    document: Document,
    project: Project,
    options: RenderOptions,
    *,
    front: list[Node] | None = None,
    tracked: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> bytes:
    """Return the finished DOCX draft's bytes (a redline's when `tracked`; `meanwhile` run
    while pandoc writes it)."""
    unshown = unshowable(project_images(document, project), docx_problem)  # (checked already)
    document = without_images(document, unshown, "DOCX")
    written = pandoc_docx(document, project, front, options.queries, meanwhile, keep=not tracked)
    import docx

    try:
        doc = docx.Document(io.BytesIO(written))
    except Exception as exc:  # lxml's XMLSyntaxError, python-docx's own: an unreadable package
        raise BuildError(
            f"the DOCX pandoc wrote cannot be read back ({exc})",
            hint="raw OpenXML (```{=openxml}) in a chapter is the likely cause: check it",
        ) from exc
    add_svg_fallbacks(doc, cache_dir(project.root))
    if tracked:
        track_paragraph_marks(doc)
    toc = document.toc
    if document.cited:
        title = words_for(document.meta.lang).references
        toc += (TocEntry(level=1, number="", title=title, anchor="bibliography"),)
    _contents(doc, toc)
    _lists(doc, document)
    fit_images(doc.element.body, text_height(doc.sections[0]))
    width = text_width(doc.sections[0]) // EMU_PER_TWIP
    for table in doc.element.body.iter(qn("w:tbl")):
        overfull = fit_table(table, width)
        caption_alt_text(table)
        if overfull and options.report:
            options.report(_overfull(table))
    spacers = close_bookmarks_after_tables(doc.element.body)
    space_after_tables(doc.element.body, spacers)
    house_bullets(doc)
    settings(doc, update_fields=not tracked)
    _continuous_footnotes(doc)
    no_earlier_marks(doc)
    _header_footer(doc, document, options.previous)
    if options.line_numbers:
        _line_numbers(doc)
    if options.watermark:
        from paperbuild.render.watermark import add_watermark

        add_watermark(doc, options.watermark)
    _properties(doc, document)
    parts = oxml.package_parts(doc)
    # pandoc stores its own options (with absolute paths) as custom properties: replace them.
    custom = custom_properties(
        {"paperbuild-version": document.version, "paperbuild-status": document.meta.status}
    )
    replace = {"docProps/custom.xml": custom}
    replace.update(embedded_font_parts(parts))
    if tracked:
        replace.update(renumber_changes(parts))
    return package_zip(parts, build_datetime(), replace, cache_dir(project.root))


@dataclass(frozen=True)
class _Entry:
    style: str
    label: str
    anchor: str
    bold: bool = False


def _contents(doc: Any, toc: tuple[TocEntry, ...]) -> None:
    """Replace the placeholder by the headings to level 2, linked, with their page numbers."""
    entries = [
        _Entry(
            "ContentsEntry1" if e.level == 1 else "ContentsEntry2",
            f"{e.number}\t{e.title}" if e.number else e.title,
            e.anchor,
        )
        for e in toc
        if e.level <= 2
    ]
    _field_list(doc, TOC_PLACEHOLDER, entries)


def _lists(doc: Any, document: Document) -> None:
    """Replace each list's placeholder by its figures or tables, linked, with page numbers."""
    words = words_for(document.meta.lang)
    colon = words.caption_colon
    for kind in LISTED_KINDS:
        entries = [
            _Entry("TableofFigures", f"{words.name(kind)} {e.number}{colon}{e.title}", e.anchor)
            for e in document.listed
            if e.kind == kind
        ]
        if entries:
            _field_list(doc, LIST_PLACEHOLDER.format(kind=kind), entries)


def _field_list(doc: Any, placeholder_text: str, entries: list[_Entry]) -> None:
    """Replace a placeholder paragraph by the entries: links with PAGEREF page numbers.

    Not a TOC field: Word would rebuild one in its own styles when it updates fields, and
    LibreOffice shows a TOC field's stored text, so its page numbers would stay blank. A PAGEREF
    alone is computed by LibreOffice as it lays the pages out and filled by Word on opening.
    """

    placeholder = next((p for p in doc.paragraphs if placeholder_text in p.text), None)
    if placeholder is None:
        return
    entries = entries or [_Entry("ContentsEntry1", "", "")]
    anchor_el = placeholder._p
    for entry in entries:
        p = OxmlElement("w:p")
        ppr = OxmlElement("w:pPr")
        style = OxmlElement("w:pStyle")
        style.set(qn("w:val"), entry.style)
        ppr.append(style)
        p.append(ppr)
        run = run_with_text(entry.label, bold=entry.bold)
        if entry.anchor:
            bookmark = bookmark_name(entry.anchor)
            link = OxmlElement("w:hyperlink")
            link.set(qn("w:anchor"), bookmark)
            link.append(run)
            link.append(_tab_run())  # to the right margin, over a dot leader
            for field in field_runs(f"PAGEREF {bookmark} \\h", ""):
                link.append(field)
            p.append(link)
        else:
            p.append(run)
        anchor_el.addprevious(p)
    anchor_el.getparent().remove(anchor_el)


SYMBOL_FACES = ("Symbol", "Wingdings", "Courier New")  # pandoc's bullets: private-use glyphs


def house_bullets(doc: Any) -> None:
    """Set the bullets as the PDF has them (•, ◦, ▪ by depth), in the body face.

    pandoc's are private-use glyphs of Symbol and Wingdings, which a machine without those
    faces shows as boxes.
    """
    try:
        numbering = doc.part.numbering_part.element
    except NotImplementedError:  # python-docx: a document without lists has no numbering part
        return
    for lvl in numbering.iter(qn("w:lvl")):
        fonts = lvl.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        text = lvl.find(qn("w:lvlText"))
        if fonts is None or text is None or fonts.get(qn("w:ascii")) not in SYMBOL_FACES:
            continue
        text.set(qn("w:val"), BULLETS[int(lvl.get(qn("w:ilvl"), "0")) % len(BULLETS)])
        for attr in ("ascii", "hAnsi", "cs"):
            fonts.set(qn(f"w:{attr}"), BODY_FONT)


def settings(doc: Any, *, update_fields: bool) -> None:
    """Hyphenate, keep lines that end in a line break unstretched, have Word fill page numbers.

    `w:updateFields` makes Word offer, on opening, to update the fields: the contents' page
    numbers (PAGEREF) are then filled in. LibreOffice computes them as it lays the pages out.
    """
    set_setting(doc.settings.element, "autoHyphenation")
    keep_line_breaks_unstretched(doc.settings.element)
    if update_fields:
        set_setting(doc.settings.element, "updateFields")


KEEP_WHOLE_ROWS = 12  # a table this short is kept on one page
TBLW_AFTER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize")
TBLBORDERS_AFTER = (*TBLW_AFTER, "tblW", "jc", "tblCellSpacing", "tblInd")
TBLLAYOUT_AFTER = (
    *TBLW_AFTER,
    "tblStyleColBandSize",
    "tblW",
    "jc",
    "tblCellSpacing",
    "tblInd",
    "tblBorders",
    "shd",
)


IMAGE_HEIGHT_SHARE = 0.85  # of the text block's height: an image leaves room for its caption


def fit_images(body: Any, height: int) -> None:
    """Make each image taller than the page's text block (less room for its caption) smaller,
    its proportions kept: pandoc's writer fits an image to the text's width, not its height,
    so a tall one ran past the page's foot and was cut off."""
    most = int(height * IMAGE_HEIGHT_SHARE)
    for extent in body.iter(qn("wp:extent")):
        cx, cy = int(extent.get("cx", "0")), int(extent.get("cy", "0"))
        if cy <= most:
            continue
        drawing = extent.getparent()
        sizes = [extent, *drawing.iter(qn("a:ext"))]
        for size in (e for e in sizes if e.get("cx") is not None and e.get("cy") is not None):
            size.set("cx", str(cx * most // cy))
            size.set("cy", str(most))


OVERFULL_MARGIN = 1.15


def _overfull(table: Any) -> str:
    """Return the notice of a table too wide for the page at the least text size."""
    alt = table.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
    named = f"'{alt.get(qn('w:val'))}'" if alt is not None and alt.get(qn("w:val")) else None
    first = "".join(t.text or "" for t in next(table.iter(qn("w:tr"))).iter(qn("w:t")))
    named = named or f"the table whose first row reads '{first[:60]}'"
    columns = len(table.findall(f"{qn('w:tblGrid')}/{qn('w:gridCol')}"))
    return (
        f"{named} has {columns} columns, too many for the page even in {LEAST_SIZE:g} pt: "
        "its words break in their cells in both drafts (split it in two, or turn it)"
    )


def fit_table(table: Any, width: int) -> bool:
    """Size a table's columns from their content, keep rows (and short tables) whole.

    Each column gets at least its longest word, so no word breaks inside a cell; what is
    left of the text width goes to the columns with the most text. The header row repeats on
    every page (pandoc marks it); a row never splits across pages. Return whether the table is
    too wide for the page even in its least text size (its words then break in their cells).
    """
    rows = [r for r in table if r.tag == qn("w:tr")]
    grid = table.find(qn("w:tblGrid"))
    if not rows or grid is None:
        return False
    cols = grid.findall(qn("w:gridCol"))
    texts: list[list[str]] = [[] for _ in cols]
    indents = [0] * len(cols)
    spanning: list[tuple[int, int, str]] = []
    for row in rows:
        for column, span, cell in _grid_cells(row):
            text = " ".join(_paragraph_text(p) for p in cell.iter(qn("w:p")))  # (as the PDF's)
            if span == 1 and column < len(texts):
                texts[column].append(text)
                indents[column] = max(indents[column], _list_indent(cell))
            elif column < len(texts):
                spanning.append((column, span, text))
    widths = column_widths(texts, width, spanning, indents)
    scale = table_scale(widths, width)
    # (the widths allow for wide letters: 30 columns of three-letter words, reckoned 12 %
    # too wide for the page at 5.5 pt, fit it whole in both drafts)
    overfull = sum(int(w * scale) for w in widths) > width * OVERFULL_MARGIN
    if scale < 1.0:  # too wide for the page: set smaller, as the PDF sets it
        widths = fitting(widths, width)
        _smaller(table, scale)
    for col, w in zip(cols, widths, strict=True):
        col.set(qn("w:w"), str(w))
    set_child(table, "tblPr", "tblW", {"w": str(sum(widths)), "type": "dxa"}, TBLW_AFTER)
    set_child(table, "tblPr", "tblLayout", {"type": "fixed"}, TBLLAYOUT_AFTER)
    _rules(table)
    for row in rows:
        for column, span, cell in _grid_cells(row):
            if column < len(widths):  # a spanning cell: the columns it spans
                w = sum(widths[column : column + span])
                set_child(cell, "tcPr", "tcW", {"w": str(w), "type": "dxa"}, ("cnfStyle",))
        set_child(row, "trPr", "cantSplit", {})
    for p in table.iter(qn("w:p")):  # the house's table text: a size smaller than the body
        style = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        if style is not None and style.get(qn("w:val")) == "Compact":
            style.set(qn("w:val"), "TableText")
    if len(rows) <= KEEP_WHOLE_ROWS:
        for row in rows[:-1]:
            for p in row.iter(qn("w:p")):
                set_child(p, "pPr", "keepNext", {}, ("pStyle",))
    return overfull


def _paragraph_text(p: Any) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def _list_indent(cell: Any) -> int:
    """Return how far the deepest list item in a table cell is indented (twips; 0: none)."""
    levels = [int(lvl.get(qn("w:val"), "0")) for lvl in cell.iter(qn("w:ilvl"))]
    return (max(levels) + 1) * LIST_INDENT if levels else 0


def _smaller(table: Any, scale: float) -> None:
    """Set a table's text and its cells' side margins at `scale` of their size."""
    half_points = str(round(2 * TABLE_SIZE * scale))
    for run in table.iter(qn("w:r")):
        for name in ("sz", "szCs"):
            set_child(run, "rPr", name, {"val": half_points}, SZ_AFTER)
    margins = set_child(table, "tblPr", "tblCellMar", {}, (*TBLLAYOUT_AFTER, "tblLayout"))
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(int(CELL_MARGINS / 2 * scale)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)


SZ_AFTER = (  # what comes before a run's size in its properties (the schema's order)
    *("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike"),
    *("outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden"),
    *("color", "spacing", "w", "kern", "position", "sz"),
)


def _grid_cells(row: Any) -> Iterator[tuple[int, int, Any]]:
    """Yield each cell of a row with its first grid column and how many it spans (a cell
    merged down from the row above is there too, as OOXML writes it)."""
    column = 0
    for cell in row:
        if cell.tag != qn("w:tc"):
            continue
        span = cell.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
        value = span.get(qn("w:val"), "1") if span is not None else "1"
        across = int(value) if value.isdigit() and int(value) > 0 else 1
        yield column, across, cell
        column += across


def caption_alt_text(table: Any) -> None:
    """Set a captioned table's alt text (`w:tblCaption`, what a screen reader says) to its
    caption as shown: pandoc's lacks the number, a SEQ field ("Table : Cases")."""
    alt = table.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
    before = table.getprevious()
    while before is not None and before.tag == qn("w:bookmarkStart"):
        before = before.getprevious()
    if alt is None or before is None or before.tag != qn("w:p"):
        return
    style = before.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    if style is not None and style.get(qn("w:val")) == "TableCaption":
        alt.set(qn("w:val"), "".join(t.text or "" for t in before.iter(qn("w:t"))))


def _rules(table: Any) -> None:
    """Give the table a rule above and below (the header's rule comes with its style)."""
    borders = set_child(table, "tblPr", "tblBorders", {}, TBLBORDERS_AFTER)
    for edge in ("top", "bottom"):
        rule = OxmlElement(f"w:{edge}")
        for key, value in (("val", "single"), ("sz", "6"), ("space", "0"), ("color", "1F2A44")):
            rule.set(qn(f"w:{key}"), value)
        borders.append(rule)


def close_bookmarks_after_tables(body: Any) -> list[Any]:
    """Close in a thin paragraph of their own the bookmarks that pandoc ends right after a
    table; return those paragraphs.

    LibreOffice loses the bookmark of a heading that follows such a table (its PAGEREF in the
    contents then reads "Error: Reference source not found").
    """
    spacers = []
    for table in [c for c in body if c.tag == qn("w:tbl")]:
        nxt = table.getnext()
        if nxt is not None and nxt.tag == qn("w:bookmarkEnd"):
            spacer = _spacer()
            table.addnext(spacer)
            while spacer.getnext() is not None and spacer.getnext().tag == qn("w:bookmarkEnd"):
                spacer.append(spacer.getnext())
            spacers.append(spacer)
    return spacers


def space_after_tables(body: Any, spacers: list[Any]) -> None:
    """Set the text that follows a table (past the thin paragraph `spacers` may put after it)
    off from its bottom rule as the PDF does (Typst's gap below a block): the paragraph's space
    before, where its style sets none of its own (a heading keeps its own)."""
    for table in [c for c in body if c.tag == qn("w:tbl")]:
        gap = AFTER_TABLE
        nxt = table.getnext()
        if any(nxt is spacer for spacer in spacers):
            gap -= SPACER_TWIPS
            nxt = nxt.getnext()
        if nxt is None or nxt.tag != qn("w:p") or _style_of(nxt) not in SPACED_AFTER_TABLES:
            continue
        spacing = nxt.get_or_add_pPr().get_or_add_spacing()
        if spacing.get(qn("w:before")) is None:
            spacing.set(qn("w:before"), str(gap))


def _style_of(paragraph: Any) -> str | None:
    style = paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    return None if style is None else str(style.get(qn("w:val")))


SPACER_TWIPS = 60  # (`_spacer`: 3 pt)
# The body's paragraph styles (pandoc's), which set no space above themselves; a caption's or a
# heading's own space stands.
SPACED_AFTER_TABLES = frozenset((None, "BodyText", "FirstParagraph", "Compact"))
# Typst's gap below a table is measured from its rule to the next line's cap height, Word's
# from the rule to the top of the line's box, which holds about 3.6 pt above the capitals (at
# 14 pt lines of 11 pt Liberation Serif): measured in LibreOffice's rendering against the PDF,
# from the last cell's words to the next line's (11.0 pt in both).
AFTER_TABLE = round((style.BLOCK_GAP_EM * style.BODY_SIZE - 3.6) * 20)


def _spacer() -> Any:
    """Return a thin empty paragraph (3 pt) to stand after a table."""

    return parse_xml(
        f'<w:p {nsdecls("w")}><w:pPr><w:spacing w:before="0" w:after="0" w:line="{SPACER_TWIPS}" '
        'w:lineRule="exact"/></w:pPr></w:p>'
    )


def _tab_run() -> Any:

    r = OxmlElement("w:r")
    r.append(OxmlElement("w:tab"))
    return r


def _continuous_footnotes(doc: Any) -> None:
    """Number footnotes through the whole document (LibreOffice reads eachSect as per chapter)."""

    for restart in doc.element.body.iter(qn("w:numRestart")):
        restart.set(qn("w:val"), "continuous")


def running_header(doc: Any, section: Any, title: str, status: str) -> None:
    """Write the running header of a section: the title in bold, the status line in italics."""
    header = section.header
    header.is_linked_to_previous = False
    first = _furniture_paragraph(header, doc.styles["Running Header"])
    first._p.append(run_with_text(title, bold=True))
    second = header.add_paragraph(style=doc.styles["Running Header"])
    second._p.append(run_with_text(status, italic=True))


def no_earlier_marks(doc: Any) -> None:
    """Remove line numbering and watermarks a reference document brought (an earlier draft).

    pandoc takes the reference document's section properties and headers; a draft built with
    --line-numbers or --watermark would pass them on to every later draft.
    """
    from paperbuild.render.watermark import SHAPE_ID

    for section in doc.sections:
        for numbering in section._sectPr.findall(qn("w:lnNumType")):
            section._sectPr.remove(numbering)
        for header in (section.header, section.first_page_header, section.even_page_header):
            if header.is_linked_to_previous:
                continue
            shapes = header._element.iter("{urn:schemas-microsoft-com:vml}shape")
            for shape in [s for s in shapes if s.get("id") == SHAPE_ID]:
                run = next(a for a in shape.iterancestors() if a.tag == qn("w:r"))
                run.getparent().remove(run)


def _furniture_paragraph(part: Any, style: Any) -> Any:
    """Return the paragraph of a header or footer to write paperbuild's furniture in.

    Furniture a reference document brings (an earlier draft used as one) is removed first, so
    it is not shown twice; the author's own (a logo, a line of their style) stays, and ours
    follows it. An empty first paragraph (pandoc's) is used rather than adding one.
    """
    for old in [p for p in part.paragraphs if p.style is not None and p.style.name == style.name]:
        old._p.getparent().remove(old._p)
    paragraphs = part.paragraphs
    blank = paragraphs and not paragraphs[0]._p.xpath("./w:r | ./w:hyperlink | ./w:fldSimple")
    paragraph = paragraphs[0] if blank else part.add_paragraph()
    paragraph.style = style
    return paragraph


def _header_footer(doc: Any, document: Document, previous: Previous | None = None) -> None:
    """Add the running header (title, status line) and footer (version, page X of Y).

    A redline's header says what is compared; its footer's version line is a tracked change.
    """
    words = words_for(document.meta.lang)
    version = f"{words.version} {document.version} · {document.display_date}"
    for section in doc.sections:
        section.different_first_page_header_footer = True
        running_header(doc, section, document.meta.title, document.meta.status)
        running_footer(doc, section.footer, section, version, words)
        if previous is not None:
            compared = words.changes.format(old=previous.version, new=document.version)
            line = section.header.add_paragraph(style=doc.styles["Running Header"])
            line._p.append(run_with_text(compared, bold=True))
            old = f"{words.version} {previous.version} · {previous.date}"
            if old != version:
                _track_footer_version(section.footer, old, previous)


def running_footer(doc: Any, footer: Any, section: Any, text: str, words: Words) -> None:
    """Write a footer: text at the left, "page X of Y" (PAGE and NUMPAGES fields) at the right."""
    footer.is_linked_to_previous = False
    f = _furniture_paragraph(footer, doc.styles["Running Footer"])
    before, middle, after = words.page_parts()
    f._p.append(run_with_text(f"{text}\t{before}"))
    for r in field_runs("PAGE", "1"):
        f._p.append(r)
    f._p.append(run_with_text(middle))
    for r in field_runs("NUMPAGES", "1"):
        f._p.append(r)
    if after:
        f._p.append(run_with_text(after))
    _right_tab(f, section)


def _track_footer_version(footer: Any, old: str, previous: Previous) -> None:
    """Make the footer's version line a tracked change: the old one deleted, the new inserted."""

    p = footer.paragraphs[0]._p
    runs = [r for r in p if r.tag == qn("w:r")]
    first = runs[0]
    text = first.find(qn("w:t"))
    version, _, rest = (text.text or "").partition("\t")
    text.text = "\t" + rest
    for kind, words in (("del", old), ("ins", version)):
        change = OxmlElement(f"w:{kind}")
        change.set(qn("w:id"), "0")
        change.set(qn("w:author"), previous.author)
        change.set(qn("w:date"), previous.when)
        run = run_with_text(words)
        if kind == "del":
            t = run.find(qn("w:t"))
            t.tag = qn("w:delText")
        change.append(run)
        first.addprevious(change)


def _right_tab(paragraph: Any, section: Any) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT

    paragraph.paragraph_format.tab_stops.add_tab_stop(text_width(section), WD_TAB_ALIGNMENT.RIGHT)


def _line_numbers(doc: Any) -> None:
    """Number lines in the margin, restarting on each page (as reviewers cite them)."""

    for section in doc.sections:
        sect_pr = section._sectPr
        for old in sect_pr.findall(qn("w:lnNumType")):
            sect_pr.remove(old)
        ln = OxmlElement("w:lnNumType")
        ln.set(qn("w:countBy"), "1")
        ln.set(qn("w:restart"), "newPage")
        ln.set(qn("w:distance"), "283")
        # lnNumType must come before pgNumType/cols/titlePg in CT_SectPr's sequence.
        successor = next(
            (
                sect_pr.find(qn(t))
                for t in (
                    "w:pgNumType",
                    "w:cols",
                    "w:formProt",
                    "w:vAlign",
                    "w:noEndnote",
                    "w:titlePg",
                    "w:textDirection",
                    "w:bidi",
                    "w:rtlGutter",
                    "w:docGrid",
                )
                if sect_pr.find(qn(t)) is not None
            ),
            None,
        )
        if successor is not None:
            successor.addprevious(ln)
        else:
            sect_pr.append(ln)


def _properties(doc: Any, document: Document) -> None:
    """Set the document properties: title, author, subject (status), version and dates."""
    props = doc.core_properties
    meta = document.meta
    # Word's core properties hold at most 255 characters
    props.title = meta.title[:255]
    props.author = meta.author[:255]
    props.subject = meta.status[:255]
    props.version = document.version
    props.keywords = f"paperbuild draft {document.version}"[:255]
    props.last_modified_by = "paperbuild"
    props.revision = 1
    when = build_datetime()
    props.created = when
    props.modified = when
