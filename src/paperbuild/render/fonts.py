"""The house font embedded in a DOCX as Word does it: obfuscated font parts (ECMA-376 17.8.1)."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from paperbuild.render.ooxml import deflated, set_setting
from paperbuild.render.style import BODY_FONT, FACES, FONTS_DIR

if TYPE_CHECKING:
    from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
FONT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"
OBFUSCATED = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
FONT_TABLE = "word/fontTable.xml"
FONT_TABLE_RELS = "word/_rels/fontTable.xml.rels"
SETTINGS = "word/settings.xml"


def _w(name: str) -> str:
    """Return a WordprocessingML element or attribute name in Clark notation."""
    return f"{{{W}}}{name}"


@functools.cache
def _face(file: str) -> tuple[str, bytes]:
    """Return a face's font key (a GUID made from its bytes, so builds repeat) and its bytes."""
    data = (FONTS_DIR / file).read_bytes()
    key = uuid.UUID(bytes=hashlib.sha256(data).digest()[:16])
    return "{" + str(key).upper() + "}", data


def obfuscate(data: bytes, font_key: str) -> bytes:
    """Return the font with its first 32 bytes XORed with the key's bytes, last byte first.

    The same operation undoes it: Word and LibreOffice read the part back this way.
    """
    key = bytes.fromhex(font_key.strip("{}").replace("-", ""))[::-1]
    head = bytes(b ^ key[i % 16] for i, b in enumerate(data[:32]))
    return head + data[32:]


def deflated_faces(cache: Path | None) -> None:
    """Deflate the house faces' parts now (kept in memory and in `cache`), as a DOCX that
    embeds them will want them."""
    for file in FACES.values():
        key, data = _face(file)
        deflated(obfuscate(data, key), cache)


def embedded_font_parts(package: Mapping[str, bytes]) -> dict[str, bytes]:
    """Return the parts to add or replace so the DOCX embeds the house font's four faces.

    Nothing is returned when no style or text names the house font (an author's own
    reference document with its own faces): embedding it would only add weight.
    """
    from lxml import etree  # (imported here: a build imports it in pandoc's time, with python-docx)

    names = set(package)
    if FONT_TABLE not in names or not any(
        BODY_FONT.encode() in package[part]
        for part in ("word/styles.xml", "word/document.xml")
        if part in names
    ):
        return {}
    parts: dict[str, bytes] = {}
    try:  # (parts an author's reference document brought, as they are)
        table = etree.fromstring(package[FONT_TABLE])
        rels = (
            etree.fromstring(package[FONT_TABLE_RELS])
            if FONT_TABLE_RELS in names
            else etree.Element(f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS})
        )
        types = etree.fromstring(package["[Content_Types].xml"])
        settings = etree.fromstring(package[SETTINGS]) if SETTINGS in names else None
    except etree.XMLSyntaxError:
        return {}  # a damaged part: the draft goes without embedded faces rather than not at all
    ours = {f"rIdPaperbuildFont{i}" for i in range(1, len(FACES) + 1)}
    for old in table.findall(_w("font")):
        if old.get(_w("name")) == BODY_FONT:  # (a reference document made by paperbuild has it)
            ours |= {e.get(f"{{{R}}}id") for e in old if e.get(f"{{{R}}}id")}
            table.remove(old)
    for rel in list(rels):  # their relationships go too: each id once, each target once
        if rel.get("Id") in ours or rel.get("Target", "").startswith("fonts/paperbuild-font"):
            rels.remove(rel)
    font = etree.SubElement(table, _w("font"), {_w("name"): BODY_FONT})
    for child, value in (("charset", "00"), ("family", "roman"), ("pitch", "variable")):
        etree.SubElement(font, _w(child), {_w("val"): value})
    for i, (slot, file) in enumerate(FACES.items(), start=1):
        key, data = _face(file)
        target = f"fonts/paperbuild-font{i}.odttf"
        rid = f"rIdPaperbuildFont{i}"
        etree.SubElement(font, _w(slot), {f"{{{R}}}id": rid, _w("fontKey"): key})
        etree.SubElement(rels, f"{{{PKG_RELS}}}Relationship", Id=rid, Type=FONT_REL, Target=target)
        parts[f"word/{target}"] = obfuscate(data, key)
    parts[FONT_TABLE] = _xml(table)
    parts[FONT_TABLE_RELS] = _xml(rels)
    parts["[Content_Types].xml"] = _with_odttf(types)
    if settings is not None:
        parts[SETTINGS] = _embedding_kept(settings)
    return parts


def _xml(root: etree._Element) -> bytes:
    """Return an XML part's bytes, with the declaration Word writes."""
    from lxml import etree

    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return data


def _with_odttf(root: etree._Element) -> bytes:
    """Return [Content_Types].xml declaring the obfuscated font parts' type."""
    from lxml import etree

    if not any(d.get("Extension") == "odttf" for d in root.findall(f"{{{CONTENT_TYPES}}}Default")):
        default = etree.Element(
            f"{{{CONTENT_TYPES}}}Default", Extension="odttf", ContentType=OBFUSCATED
        )
        root.insert(0, default)
    return _xml(root)


def _embedding_kept(root: etree._Element) -> bytes:
    """Return settings.xml with w:embedTrueTypeFonts, so Word keeps the fonts when it saves."""
    set_setting(root, "embedTrueTypeFonts")
    return _xml(root)
