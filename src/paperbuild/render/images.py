"""Images the PDF cannot show: Typst reads PNG, JPEG, GIF, WebP, SVG and PDF, and stops the
whole compile at any other format, a damaged file, or an SVG that links other files."""

from __future__ import annotations

import re
import struct

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
