"""What an author's reference document must not carry into the drafts: pandoc copies its
headers, footers and settings into every draft, so a field, object or linked picture there would
have the committee's Word fetch, include or run something when it opens a draft."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from paperbuild.facts import OPENXML_PREFIXES, UNSAFE, unsafe_openxml

# the parts whose text shows in every draft (of word/, pandoc copies all but the body's content)
SHOWN = re.compile(r"word/(header|footer)\d*\.xml")
SETTINGS = "word/settings.xml"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
R_NS = OPENXML_PREFIXES["r"]
W_NS = OPENXML_PREFIXES["w"]
# a mail merge has Word query its data source when a draft opens (the attached template, a
# path on the author's machine in most documents Word saves, is dropped without a word)
TEMPLATE = "/attachedTemplate"


@dataclass(frozen=True)
class Danger:
    """One thing a reference document would have Word do: in which part, and what."""

    part: str
    what: str


def scrubbed(data: bytes) -> tuple[bytes, list[Danger]]:
    """Return the reference document with its dangers removed, and the dangers (the same bytes
    when it has none)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # (its sizes checked by open_docx)
        names = archive.namelist()
        scanned = [  # headers, footers and settings; the other parts only for their links
            n
            for n in names
            if SHOWN.fullmatch(n) or n == SETTINGS or (_carried(n) and _rels_of(n) in names)
        ]
        wanted = scanned + [_rels_of(n) for n in scanned if _rels_of(n) in names]
        parts = {name: archive.read(name) for name in wanted}
    dangers: list[Danger] = []
    changed: dict[str, bytes] = {}
    for name in sorted(scanned):
        rels_name = _rels_of(name)
        try:
            root = etree.fromstring(parts[name], parser)
            rels = etree.fromstring(parts[rels_name], parser) if rels_name in parts else None
        except etree.XMLSyntaxError:
            continue  # (invalid-reference-doc says so)
        outside = _linked_outside(rels)
        found = (
            _settings_dangers(root)
            if name == SETTINGS
            else _block_dangers(root, outside)
            if SHOWN.fullmatch(name)
            else []  # (styles, numbering, web settings: only what they link from outside)
        )
        for rel in outside.values():
            assert rels is not None
            rels.remove(rel)
        if found or outside:
            dangers += [Danger(name, what) for what in found]
            dangers += [
                Danger(name, f"{UNSAFE}fetch {r.get('Target', '')[:40]} (a linked {_kind(r)})")
                for r in outside.values()
            ]
            changed[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            if rels is not None:
                changed[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8")
    if not changed:
        return data, []
    return _rezipped(data, changed), dangers


def _carried(name: str) -> bool:
    """Return whether pandoc may copy this part of a reference document into a draft (all of
    word/ but the body, whose content it ignores)."""
    return name.startswith("word/") and name.endswith(".xml") and name != "word/document.xml"


def _rels_of(name: str) -> str:
    folder, _, file = name.rpartition("/")
    return f"{folder}/_rels/{file}.rels"


def _linked_outside(rels: Any) -> dict[str, Any]:
    """Return {id: relationship} of the part's links to files outside the document that Word
    would fetch (a link to click, a hyperlink, is not one)."""
    if rels is None:
        return {}
    return {
        rel.get("Id", ""): rel
        for rel in rels.iter(f"{{{REL_NS}}}Relationship")
        if rel.get("TargetMode") == "External"
        and not rel.get("Type", "").endswith(("/hyperlink", TEMPLATE))
    }


def _kind(rel: Any) -> str:
    return rel.get("Type", "").rpartition("/")[2] or "file"


def _block_dangers(root: Any, outside: dict[str, Any]) -> list[str]:
    """Return what each unsafe block of a header or footer would do, the blocks removed (and
    those that show a file linked from outside, which the link's own danger names)."""
    found = []
    for block in list(root):
        why = unsafe_openxml(block)
        if why is not None:
            found.append(why)
        if why is not None or _references(block, outside):
            root.remove(block)
    if found and not len(root):  # (a header or footer holds a paragraph at least)
        root.append(root.makeelement(f"{{{W_NS}}}p", {}))
    return found


def _references(block: Any, ids: dict[str, Any]) -> bool:
    """Return whether an element below the block names one of these relationship ids."""
    return bool(ids) and any(
        key.startswith(f"{{{R_NS}}}") and value in ids
        for element in block.iter()
        for key, value in element.attrib.items()
    )


def _settings_dangers(root: Any) -> list[str]:
    """Return what the settings would have Word reach for, those settings removed."""
    found = []
    for element in root.findall(f"{{{W_NS}}}mailMerge"):
        root.remove(element)
        found.append(f"{UNSAFE}query a mail merge's data source when a draft opens")
    return found


def _rezipped(data: bytes, changed: dict[str, bytes]) -> bytes:
    """Return the package with some parts replaced, in its order."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info, changed.get(info.filename, src.read(info)))
    return out.getvalue()
