"""python-docx's XML helpers, python-docx itself imported at their first call.

Importing python-docx takes 45 ms here. No module a build loads imports it at load time: a build
imports it while pandoc works (`load`), so that the wait hides it.
"""

from __future__ import annotations

import functools
from typing import Any


def load() -> None:
    """Import python-docx (a build calls this while pandoc runs)."""
    import docx  # noqa: F401


@functools.cache
def qn(tag: str) -> str:
    """Return a prefixed name ('w:p') in Clark notation, as python-docx's `qn` does."""
    from docx.oxml.ns import qn as docx_qn

    return docx_qn(tag)


def nsdecls(*prefixes: str) -> str:
    """Return the namespace declarations of these prefixes, as python-docx's `nsdecls` does."""
    from docx.oxml.ns import nsdecls as docx_nsdecls

    return docx_nsdecls(*prefixes)


def OxmlElement(
    tag: str, attrs: dict[str, str] | None = None, nsdecls: dict[str, str] | None = None
) -> Any:
    """Return a new python-docx element, as python-docx's `OxmlElement` does."""
    from docx.oxml.parser import OxmlElement as docx_element

    return docx_element(tag, attrs, nsdecls)


def parse_xml(xml: str | bytes) -> Any:
    """Return the python-docx element of an XML text, as python-docx's `parse_xml` does."""
    from docx.oxml.parser import parse_xml as docx_parse

    return docx_parse(xml)


def package_parts(doc: Any) -> dict[str, bytes]:
    """Return the parts of a python-docx document by name, as `doc.save` would zip them and in
    its order, without zipping them (the draft is zipped once, by `ooxml.package_zip`)."""
    from docx.opc.packuri import CONTENT_TYPES_URI, PACKAGE_URI
    from docx.opc.pkgwriter import _ContentTypesItem

    package = doc.part.package
    parts = list(package.iter_parts())
    for part in parts:  # (what OpcPackage.save does first)
        part.before_marshal()
    out = {
        CONTENT_TYPES_URI.membername: _ContentTypesItem.from_parts(parts).blob,  # type: ignore[no-untyped-call]
        PACKAGE_URI.rels_uri.membername: package.rels.xml,
    }
    for part in parts:
        out[part.partname.membername] = part.blob
        if len(part.rels):
            out[part.partname.rels_uri.membername] = part.rels.xml
    return out
