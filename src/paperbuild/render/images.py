"""Images a draft cannot show. Typst reads PNG, JPEG, GIF, WebP, SVG and PDF, and stops the
whole compile at any other format, a damaged file, or an SVG that links other files; Word shows
no PDF or EPS image (pandoc embeds them all the same) and no damaged file."""

from __future__ import annotations

import dataclasses
import re
import struct
from collections.abc import Callable
from pathlib import Path

from paperbuild import pandoc_ast as pa
from paperbuild.assemble import IMAGES, Document, image_placeholder
from paperbuild.errors import PaperbuildError
from paperbuild.load.project import Project
from paperbuild.pandoc_ast import Node, image_targets
from paperbuild.safety import read_input

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


MAX_PIXELS = 100_000_000  # an image Typst decodes whole: 100 megapixels are 400 MB of pixels


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
    if data.startswith(b"%PDF") or data[8:12] == b"WEBP":
        return None
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in data[:65536]:
        return "an SVG image that links other files" if LINKED.search(data) else None
    for signature, what in OTHER_FORMATS:
        if data.startswith(signature):
            return what
    return f"no image the PDF can read ({SHOWN} it can)"


def _too_large(data: bytes, kind: str) -> str | None:
    """Return why an image is too large to lay out (a decompression bomb), or None."""
    width, height = _size(data, kind)
    if width * height <= MAX_PIXELS:
        return None
    return f"a {kind} image of {width:,} × {height:,} pixels, more than the PDF lays out"


def _size(data: bytes, kind: str) -> tuple[int, int]:
    """Return an image's width and height as its header gives them ((0, 0) if it cannot)."""
    if kind == "PNG":
        return struct.unpack(">II", data[16:24])
    if kind == "GIF":
        return struct.unpack("<HH", data[6:10])
    i = 2
    while i + 9 < len(data) and data[i] == 0xFF:  # JPEG: the frame header (SOFn) holds it
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
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
    if why is None or why.startswith(("an EPS", "a damaged")) or why.startswith("no image"):
        return why
    return None  # TIFF, BMP, … and an SVG that links files: Word has them or shows the rest


Problem = Callable[[bytes], "str | None"]


def project_images(document: Document, project: Project) -> dict[str, bytes]:
    """Return the bytes of the draft's images that are project files (the usable ones)."""
    found: dict[str, bytes] = {}
    for target in dict.fromkeys(image_targets(document.blocks)):
        if "://" in target or target.startswith(("data:", "/")) or ".." in Path(target).parts:
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
        return image_placeholder(node, f"not shown in the {draft}", Path(target).name)

    blocks = pa.rewrite(pa.copy_tree(document.blocks), placeholder, IMAGES)
    return dataclasses.replace(document, blocks=blocks)
