"""Images a draft cannot show. Typst reads PNG, JPEG, GIF, WebP, SVG and PDF, and stops the
whole compile at any other format, a damaged file, or an SVG that links other files; Word shows
no PDF or EPS image (pandoc embeds them all the same) and no damaged file."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import io
import re
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from paperbuild import pandoc_ast as pa
from paperbuild.assemble import IMAGES, Document, image_placeholder
from paperbuild.errors import PaperbuildError
from paperbuild.load.project import Project, is_data_uri
from paperbuild.pandoc_ast import Node, image_targets
from paperbuild.safety import read_input
from paperbuild.util.fsutil import keep, kept_bytes

SHOWN = "PNG, JPEG, GIF, WebP, SVG and PDF"
OTHER_FORMATS = (  # signatures of formats Typst does not read, for a message that names them
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"%!PS", "an EPS (PostScript) file"),
    (b"\xc5\xd0\xd3\xc6", "an EPS (PostScript) file"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\x00\x00\x01\x00", "an icon (ICO) file"),
)
LINKED = re.compile(rb"""<(?:\w+:)?image\b[^>]*?\bhref\s*=\s*["'](?!data:)""", re.I)


# An image Typst, and pandoc's DOCX writer, decode whole: 100 megapixels are 400 MB of pixels
# (pandoc took 5 s and 1.1 GB for a 150 KB PNG of 30,000 × 30,000, and stopped at its 3 GB
# heap limit for one of 65,000 × 65,000).
MAX_PIXELS = 100_000_000


def pdf_problem(data: bytes) -> str | None:
    """Return why Typst could not show an image file (e.g. 'a TIFF image'), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _too_large(data, "PNG") if _png_whole(data) else "a damaged PNG image"
    if data.startswith(b"\xff\xd8\xff"):
        if b"\xff\xd9" not in data[-64:]:
            return "a damaged (cut short) JPEG image"
        return _too_large(data, "JPEG")
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _too_large(data, "GIF")
    if data[8:12] == b"WEBP":
        return _too_large(data, "WebP")
    if data.startswith(b"%PDF"):
        return None
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in data[:65536]:
        return "an SVG image that links other files" if LINKED.search(data) else None
    for signature, what in OTHER_FORMATS:
        if data.startswith(signature):
            return what
    return f"no image the PDF can read ({SHOWN} it can)"


TOO_LARGE = "pixels, more than a draft lays out"


def _too_large(data: bytes, kind: str) -> str | None:
    """Return why an image is too large to lay out (a decompression bomb), or None."""
    width, height = _size(data, kind)
    if width * height <= MAX_PIXELS:
        return None
    return f"a {kind} image of {width:,} × {height:,} {TOO_LARGE}"


def _size(data: bytes, kind: str) -> tuple[int, int]:
    """Return an image's width and height as its header gives them ((0, 0) if it cannot)."""
    if kind == "PNG":
        return struct.unpack(">II", data[16:24])
    if kind == "GIF":
        return struct.unpack("<HH", data[6:10])
    if kind == "WebP":
        return _webp_size(data)
    i = 2
    while i + 9 < len(data) and data[i] == 0xFF:  # JPEG: the frame header (SOFn) holds it
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    """Return a WebP's width and height from its first chunk ((0, 0) if it cannot): a lossy
    frame's 14-bit sizes, a lossless one's, or the extended format's 24-bit canvas."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return 0, 0


def _png_whole(data: bytes) -> bool:
    """Return whether a PNG opens with its IHDR chunk and ends with IEND."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        return False
    width, height = struct.unpack(">II", data[16:24])
    return width > 0 and height > 0 and b"IEND" in data[-16:]


def docx_problem(data: bytes) -> str | None:
    """Return why Word could not show an image file (e.g. 'a PDF file'), or None."""
    if data.startswith(b"%PDF"):
        return "a PDF file"
    why = pdf_problem(data)
    if why is None or why.startswith(("an EPS", "a damaged", "no image")) or TOO_LARGE in why:
        return why
    return None  # TIFF, BMP, … and an SVG that links files: Word has them or shows the rest


Problem = Callable[[bytes], "str | None"]


def data_uri(target: str) -> bytes | None:
    """Return the bytes a `data:` URI holds (base64 or percent-encoded), or None if it holds
    none (not a data URI, or its base64 damaged)."""
    if not is_data_uri(target) or "," not in target:
        return None
    header, _, payload = target[5:].partition(",")
    if header.lower().endswith(";base64"):
        try:
            return base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
    return unquote_to_bytes(payload)


EXTENSIONS = (  # what a data URI's image is named in the PDF's sandbox, by its first bytes
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF8", "gif"),
    (b"%PDF", "pdf"),
)


def sandbox_name(target: str, data: bytes) -> str:
    """Return the file name a data URI's image takes in the PDF's sandbox (by its content)."""
    ext = next((e for sig, e in EXTENSIONS if data.startswith(sig)), None)
    if ext is None:
        ext = "webp" if data[8:12] == b"WEBP" else "svg"
    return f"data-uri-images/{hashlib.sha256(target.encode()).hexdigest()[:20]}.{ext}"


def project_images(document: Document, project: Project) -> dict[str, bytes]:
    """Return the bytes of the draft's images that are project files or data URIs (the usable
    ones; a data URI that holds nothing, with no bytes)."""
    found: dict[str, bytes] = {}
    shown = pa.IMAGE_MARK in b",".join(document.block_json)
    for target in dict.fromkeys(image_targets(document.blocks) if shown else []):
        if is_data_uri(target):
            found[target] = data_uri(target) or b""
            continue
        if "://" in target or target.startswith("/") or ".." in Path(target).parts:
            continue
        try:
            found[target] = read_input(project.root / target, project.root)
        except PaperbuildError:
            continue  # the check reported it
    return found


def unshowable(images: dict[str, bytes], problem: Problem) -> dict[str, str]:
    """Return {image path: why} for the images that `problem` finds fault with."""
    return {target: why for target, data in images.items() if (why := problem(data))}


def without_images(document: Document, images: dict[str, str], draft: str) -> Document:
    """Return the document with these images shown as placeholders (a copy, if there are any)."""
    if not images:
        return document

    def placeholder(node: Node) -> Node | None:
        target = pa.target(node)[0]
        if target not in images:
            return None
        return image_placeholder(node, f"not shown in the {draft}", shown_target(target))

    blocks = pa.rewrite(pa.copy_tree(document.blocks), placeholder, IMAGES)
    return dataclasses.replace(document, blocks=blocks)


def shown_target(target: str) -> str:
    """Return how a message or placeholder names an image: its file's name, or the start of
    its data URI (`data:image/png;base64,…`)."""
    if is_data_uri(target):
        return target.partition(",")[0] + ",…"
    return Path(target).name


def sandboxed(document: Document, images: dict[str, bytes]) -> tuple[Document, dict[str, bytes]]:
    """Return the document with each data URI image pointing at a file of its own, and the
    images by the names Typst reads them at (pandoc's Typst writer gives a data URI to
    `image.decode`, which Typst no longer has: the PDF failed)."""
    names = {t: sandbox_name(t, data) for t, data in images.items() if is_data_uri(t)}
    if not names:
        return document, images

    def point(node: Node) -> Node | None:
        target = pa.target(node)[0]
        return pa.with_target(node, names[target]) if target in names else None

    blocks = pa.rewrite(pa.copy_tree(document.blocks), point, IMAGES)
    files = {names.get(t, t): data for t, data in images.items()}
    return dataclasses.replace(document, blocks=blocks), files


SVG_BLIP = "{http://schemas.microsoft.com/office/drawing/2016/SVG/main}svgBlip"
SVG_PPI = 192  # twice a screen's: sharp on paper at the size pandoc gives the image
# the SVG drawn at its own size, scaled down to fit the text block (a huge declared size would
# otherwise make a bitmap of gigabytes)
SVG_PAGE = """#set page(width: auto, height: auto, margin: 0pt, fill: none)
#context {
  let drawn = image("drawing.svg")
  let size = measure(drawn)
  let scale = calc.min(1.0, 16cm / calc.max(size.width, 1pt), 24cm / calc.max(size.height, 1pt))
  image("drawing.svg", width: size.width * scale)
}
"""


def add_svg_fallbacks(doc: Any, cache: Path | None) -> None:
    """Give each SVG image pandoc embedded a PNG copy for the readers that show no SVG (Word
    before 2016, LibreOffice: the figure was blank); Word 2016 and later show the SVG itself.

    An image in a note is also linked from the notes' part: pandoc links it from the body's
    only, and Word and LibreOffice then showed no image in the note.
    """
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree

    from paperbuild.render.oxml import parse_xml

    _fallbacks(doc, doc.part.element, cache)
    for rel in list(doc.part.rels.values()):
        notes = rel.target_part if rel.reltype == RT.FOOTNOTES else None
        if notes is None or b"<a:blip" not in notes.blob:
            continue
        element = parse_xml(notes.blob)
        for rid in _fallbacks(doc, element, cache):
            if rid not in notes.rels and rid in doc.part.rels:
                linked = doc.part.rels[rid]
                notes.rels.add_relationship(linked.reltype, linked.target_part, rid)
        # (python-docx keeps the notes as a plain part: its XML as bytes)
        notes._blob = etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def _fallbacks(doc: Any, element: Any, cache: Path | None) -> list[str]:
    """Add the PNG copies to the images in this XML; return every image id it refers to."""
    from paperbuild.render.oxml import qn

    used = []
    for blip in element.iter(qn("a:blip")):
        svg = next(blip.iter(SVG_BLIP), None)
        if svg is not None and not blip.get(qn("r:embed")):
            related = doc.part.rels.get(svg.get(qn("r:embed")))
            png = _svg_as_png(related.target_part.blob, cache) if related is not None else None
            if png is not None:
                blip.set(qn("r:embed"), doc.part.get_or_add_image(io.BytesIO(png))[0])
        used += [blip.get(qn("r:embed")), svg.get(qn("r:embed")) if svg is not None else None]
    return [i for i in used if i]


def _svg_as_png(svg: bytes, cache: Path | None) -> bytes | None:
    """Return the SVG drawn as a PNG by Typst (cached), or None if Typst cannot draw it."""
    from paperbuild.render.typst_run import TypstFailed, compile_limited

    key = hashlib.sha256(svg + SVG_PAGE.encode() + str(SVG_PPI).encode()).hexdigest()[:32]
    kept = cache / f"svg-{key}.png" if cache is not None else None
    known = kept_bytes(kept) if kept is not None else None
    if known is not None:
        return known
    if pdf_problem(svg) is not None:  # (an SVG that links other files: Typst refuses it)
        return None
    with tempfile.TemporaryDirectory(prefix="paperbuild-svg-") as tmp:
        (Path(tmp) / "drawing.svg").write_bytes(svg)
        try:
            png = compile_limited(SVG_PAGE, Path(tmp), ppi=SVG_PPI)
        except (PaperbuildError, TypstFailed):
            return None
    if kept is not None:
        keep(kept, png)
    return png
