"""Low-level OOXML helpers for python-docx documents: fields, page breaks, deterministic zips."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paperbuild.render.oxml import OxmlElement, qn
from paperbuild.render.style import TEXT_HEIGHT_CM, TEXT_WIDTH_CM
from paperbuild.util.fsutil import keep, kept_bytes

PAGE_BREAK = '<w:p><w:r><w:br w:type="page" /></w:r></w:p>'


def run_with_text(text: str, *, bold: bool = False, italic: bool = False) -> Any:
    """Return a w:r element holding text."""
    r = OxmlElement("w:r")
    if bold or italic:
        rpr = OxmlElement("w:rPr")
        if bold:
            rpr.append(OxmlElement("w:b"))
        if italic:
            rpr.append(OxmlElement("w:i"))
        r.append(rpr)
    t = OxmlElement("w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = text
    r.append(t)
    return r


def field_runs(instruction: str, cached: str) -> list[Any]:
    """Return the runs of a complex field (begin, instruction, separate, cached result, end)."""
    return [
        fld_char("begin"),
        instr_text(instruction),
        fld_char("separate"),
        run_with_text(cached),
        fld_char("end"),
    ]


def fld_char(kind: str) -> Any:
    """Return a run holding one w:fldChar of the given type."""
    r = OxmlElement("w:r")
    fc = OxmlElement("w:fldChar")
    fc.set(qn("w:fldCharType"), kind)
    r.append(fc)
    return r


def instr_text(instruction: str) -> Any:
    """Return a run holding a field instruction."""
    r = OxmlElement("w:r")
    it = OxmlElement("w:instrText")
    it.set(qn("xml:space"), "preserve")
    it.text = f" {instruction} "
    r.append(it)
    return r


def xml_escape(text: str) -> str:
    """Return text escaped for XML character data (as xml.sax.saxutils.escape does)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """Return text as a quoted XML attribute value, as xml.sax.saxutils.quoteattr does.

    (saxutils imports urllib, http and ssl: 25 ms of every build's start for two escapes.)
    """
    value = xml_escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"{}"'.format(value.replace('"', "&quot;"))


def custom_properties(values: dict[str, str]) -> bytes:
    """Return a docProps/custom.xml part holding these text properties."""
    props = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" '
        f"name={quoteattr(name)}><vt:lpwstr>{xml_escape(value)}</vt:lpwstr></property>"
        for i, (name, value) in enumerate(values.items(), start=2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://'
        'schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://'
        f'schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">{props}</Properties>'
    ).encode()


def zip_parts(data: bytes) -> dict[str, bytes]:
    """Return a zip's parts by name, in the zip's order."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def package_zip(
    parts: Mapping[str, bytes],
    when: dt.datetime,
    replace: Mapping[str, bytes] | None = None,
    cache: Path | None = None,
) -> bytes:
    """Return the parts zipped reproducibly: entry times set to `when`, [Content_Types].xml
    first, then the parts in their order, some replaced, new ones last (the embedded faces
    deflated once and kept in `cache`, when given)."""
    replace = replace or {}
    stamp = max(when, dt.datetime(1980, 1, 1)).timetuple()[:6]
    out = io.BytesIO()
    order = {name: i for i, name in enumerate(parts)}
    names = sorted(order, key=lambda n: (n != "[Content_Types].xml", order[n]))
    names += sorted(set(replace) - set(order))  # new parts (embedded fonts) last
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            part = replace[name] if name in replace else parts[name]
            if name.endswith(".odttf"):  # the same embedded faces in every draft
                write_deflated(dst, info, part, cache)
            else:
                dst.writestr(info, part)
    return out.getvalue()


def write_deflated(
    dst: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes, cache: Path | None = None
) -> None:
    """Add `data` to the zip as `writestr` would, byte for byte, deflating it once per process
    (and, with a cache folder, once per project).

    The four embedded faces (1.5 MB) go into every draft, redline and concept note; deflating
    them again each time took 90 ms of every DOCX build in one process, and 45-50 ms of every
    command that writes a DOCX.
    """
    assert dst.fp is not None and not dst._writing  # type: ignore[attr-defined]
    packed = deflated(data, cache)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.flag_bits = 0
    info.file_size, info.compress_size, info.CRC = len(data), len(packed), zlib.crc32(data)
    dst.fp.seek(dst.start_dir)
    info.header_offset = dst.fp.tell()
    dst.fp.write(info.FileHeader(False))
    dst.fp.write(packed)
    dst.start_dir = dst.fp.tell()
    dst.filelist.append(info)
    dst.NameToInfo[info.filename] = info


def deflated(data: bytes, cache: Path | None) -> bytes:
    """Return data deflated as zipfile deflates it: from memory, else from the cache folder
    (used only if it inflates to the very data), else deflated now and kept in both."""
    if data in _DEFLATED:
        return _DEFLATED[data]
    path = cache / f"deflated-{hashlib.sha256(data).hexdigest()[:32]}.bin" if cache else None
    packed = _kept(path, data)
    if packed is None:
        packed = _deflated(data)
        if path is not None:
            keep(path, packed)
    if len(_DEFLATED) >= 8:  # (the faces of a draft or two, not every file ever deflated)
        _DEFLATED.clear()
    _DEFLATED[data] = packed
    return packed


_DEFLATED: dict[bytes, bytes] = {}  # this process's deflated faces


def _kept(path: Path | None, data: bytes) -> bytes | None:
    """Return the deflate kept at path if it inflates to data, else None."""
    if path is None:
        return None
    packed = kept_bytes(path)
    try:
        return packed if packed is not None and zlib.decompress(packed, -15) == data else None
    except zlib.error:
        return None


def _deflated(data: bytes) -> bytes:
    """Return data deflated as zipfile deflates it: raw stream, zlib's default level."""
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def bookmark_name(ident: str) -> str:
    """Return the bookmark pandoc's DOCX writer gives an identifier (Word allows 40 characters).

    An identifier that starts with a letter and fits is kept; any other becomes 'X' and the
    rest of its SHA-1 (as pandoc's toBookmarkName does), so links and PAGEREFs find it.
    """
    import hashlib

    if ident[:1].isalpha() and len(ident) <= 40:
        return ident
    return "X" + hashlib.sha1(ident.encode("utf-8")).hexdigest()[1:]


EMU_PER_TWIP = 635
EMU_PER_CM = 360000


def local_name(tag: str) -> str:
    """Return an element's tag without its namespace ('{…/main}tbl' → 'tbl')."""
    return tag.rpartition("}")[2]


def set_child(
    parent: Any, container: str, tag: str, attrs: dict[str, str], after: tuple[str, ...] = ()
) -> Any:
    """Set <container><tag attrs/></container> on parent, in the schema's order; return the tag.

    The container is made as parent's first child if absent; the element replaces any of its
    name and goes right after the last child named in `after` (the ones the schema puts before
    it), else first.
    """
    box = parent.find(qn(f"w:{container}"))
    if box is None:
        box = OxmlElement(f"w:{container}")
        parent.insert(0, box)
    for old in box.findall(qn(f"w:{tag}")):
        box.remove(old)
    element = OxmlElement(f"w:{tag}")
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    before = [child for child in box if local_name(child.tag) in after]
    if before:
        before[-1].addnext(element)
    else:
        box.insert(0, element)
    return element


def text_width(section: Any) -> int:
    """Return the width between a section's margins in EMU (A4 less 2.5 cm ones if unset)."""
    parts = (section.page_width, section.left_margin, section.right_margin)
    if None in parts:
        return int(TEXT_WIDTH_CM * EMU_PER_CM)
    return int(parts[0] - parts[1] - parts[2])


def text_height(section: Any) -> int:
    """Return the height between a section's top and bottom margins in EMU (A4's, less the
    house margins, if unset)."""
    parts = (section.page_height, section.top_margin, section.bottom_margin)
    if None in parts:
        return int(TEXT_HEIGHT_CM * EMU_PER_CM)
    return int(parts[0] - parts[1] - parts[2])


SETTINGS_ORDER = (  # CT_Settings' sequence, from the element each follows: Word wants this order
    "writeProtection",
    "view",
    "zoom",
    "removePersonalInformation",
    "removeDateAndTime",
    "doNotDisplayPageBoundaries",
    "displayBackgroundShape",
    "printPostScriptOverText",
    "printFractionalCharacterWidth",
    "printFormsData",
    "embedTrueTypeFonts",
    "embedSystemFonts",
    "saveSubsetFonts",
    "saveFormsData",
    "mirrorMargins",
    "alignBordersAndEdges",
    "bordersDoNotSurroundHeader",
    "bordersDoNotSurroundFooter",
    "gutterAtTop",
    "hideSpellingErrors",
    "hideGrammaticalErrors",
    "activeWritingStyle",
    "proofState",
    "formsDesign",
    "attachedTemplate",
    "linkStyles",
    "stylePaneFormatFilter",
    "stylePaneSortMethod",
    "documentType",
    "mailMerge",
    "revisionView",
    "trackRevisions",
    "doNotTrackMoves",
    "doNotTrackFormatting",
    "documentProtection",
    "autoFormatOverride",
    "styleLockTheme",
    "styleLockQFSet",
    "defaultTabStop",
    "autoHyphenation",
    "consecutiveHyphenLimit",
    "hyphenationZone",
    "doNotHyphenateCaps",
    "showEnvelope",
    "summaryLength",
    "clickAndTypeStyle",
    "defaultTableStyle",
    "evenAndOddHeaders",
    "bookFoldRevPrinting",
    "bookFoldPrinting",
    "bookFoldPrintingSheets",
    "drawingGridHorizontalSpacing",
    "drawingGridVerticalSpacing",
    "displayHorizontalDrawingGridEvery",
    "displayVerticalDrawingGridEvery",
    "doNotUseMarginsForDrawingGridOrigin",
    "drawingGridHorizontalOrigin",
    "drawingGridVerticalOrigin",
    "doNotShadeFormData",
    "noPunctuationKerning",
    "characterSpacingControl",
    "printTwoOnOne",
    "strictFirstAndLastChars",
    "noLineBreaksAfter",
    "noLineBreaksBefore",
    "savePreviewPicture",
    "doNotValidateAgainstSchema",
    "saveInvalidXml",
    "ignoreMixedContent",
    "alwaysShowPlaceholderText",
    "doNotDemarcateInvalidXml",
    "saveXmlDataOnly",
    "useXSLTWhenSaving",
    "saveThroughXslt",
    "showXMLTags",
    "alwaysMergeEmptyNamespace",
    "updateFields",
    "hdrShapeDefaults",
    "footnotePr",
    "endnotePr",
    "compat",
    "docVars",
    "rsids",
    "mathPr",
    "attachedSchema",
    "themeFontLang",
    "clrSchemeMapping",
    "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures",
    "forceUpgrade",
    "captions",
    "readModeInkLockDown",
    "smartTagType",
    "schemaLibrary",
    "shapeDefaults",
    "doNotEmbedSmartTags",
    "decimalSymbol",
    "listSeparator",
)


def set_setting(root: Any, name: str) -> None:
    """Turn an on/off setting on in settings.xml's root, at its place in CT_Settings' sequence."""
    for old in root.findall(qn(f"w:{name}")):
        root.remove(old)
    _insert(root, root.makeelement(qn(f"w:{name}"), {qn("w:val"): "true"}), SETTINGS_ORDER)


COMPAT_BEFORE_SHIFT_RETURN = (  # CT_Compat's sequence up to doNotExpandShiftReturn
    "useSingleBorderforContiguousCells",
    "wpJustification",
    "noTabHangInd",
    "noLeading",
    "spaceForUL",
    "noColumnBalance",
    "balanceSingleByteDoubleByteWidth",
    "noExtraLineSpacing",
    "doNotLeaveBackslashAlone",
    "ulTrailSpace",
    "doNotExpandShiftReturn",
)


def keep_line_breaks_unstretched(root: Any) -> None:
    """Set w:compat/w:doNotExpandShiftReturn in settings.xml's root.

    Without it Word (and LibreOffice) stretch a justified line that ends in a line break (a
    line block, an address, a `\\` break) across the whole measure, a word at each margin.
    """
    compat = root.find(qn("w:compat"))
    if compat is None:
        compat = root.makeelement(qn("w:compat"), {})
        _insert(root, compat, SETTINGS_ORDER)
    if compat.find(qn("w:doNotExpandShiftReturn")) is None:
        flag = compat.makeelement(qn("w:doNotExpandShiftReturn"), {})
        later = [c for c in compat if local_name(str(c.tag)) not in COMPAT_BEFORE_SHIFT_RETURN]
        if later:
            later[0].addprevious(flag)
        else:
            compat.append(flag)


def _insert(root: Any, element: Any, order: tuple[str, ...]) -> None:
    """Insert element among root's children at its place in the schema's sequence."""
    later = order[order.index(local_name(str(element.tag))) + 1 :]
    follower = next((child for child in root if local_name(str(child.tag)) in later), None)
    if follower is not None:
        follower.addprevious(element)
    else:
        root.append(element)
