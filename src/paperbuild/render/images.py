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


def pdf_problem(data: bytes) -> str | None:
    """Return why Typst could not show an image file (e.g. 'a TIFF image'), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None if _png_whole(data) else "a damaged PNG image"
    if data.startswith(b"\xff\xd8\xff"):
        return None if b"\xff\xd9" in data[-64:] else "a damaged (cut short) JPEG image"
    if data.startswith((b"GIF87a", b"GIF89a", b"%PDF")) or data[8:12] == b"WEBP":
        return None
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in data[:65536]:
        return "an SVG image that links other files" if LINKED.search(data) else None
    for signature, what in OTHER_FORMATS:
        if data.startswith(signature):
            return what
    return f"no image the PDF can read ({SHOWN} it can)"


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


def unshowable(document: Document, project: Project, problem: Problem) -> dict[str, str]:
    """Return {image path: why} for the draft's project images that `problem` finds fault with."""
    found: dict[str, str] = {}
    for target in dict.fromkeys(image_targets(document.blocks)):
        if "://" in target or target.startswith(("data:", "/")) or ".." in Path(target).parts:
            continue
        try:
            why = problem(read_input(project.root / target, project.root))
        except PaperbuildError:
            continue  # the check reported it
        if why:
            found[target] = why
    return found


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
