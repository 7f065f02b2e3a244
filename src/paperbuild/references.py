"""Reference formatting with citeproc-py, where pandoc is not in the loop (status, summaries)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from paperbuild.bibliography import Entry

CSL_TYPES = {
    "article": "article-journal",
    "book": "book",
    "booklet": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "manual": "book",
    "mastersthesis": "thesis",
    "phdthesis": "thesis",
    "thesis": "thesis",
    "proceedings": "book",
    "report": "report",
    "techreport": "report",
    "online": "webpage",
    "misc": "article",
}


def _plain(value: str) -> str:
    """Return a BibTeX value without its protective braces and with spaces folded."""
    return " ".join(value.replace("{", "").replace("}", "").split())


def _names(value: str) -> list[dict[str, str]]:
    names = []
    for raw in re.split(r"\s+and\s+", value.strip()):
        if raw.startswith("{") and raw.endswith("}"):
            names.append({"literal": _plain(raw)})
        elif "," in raw:
            family, given = raw.split(",", 1)
            names.append({"family": _plain(family), "given": _plain(given)})
        else:
            parts = _plain(raw).split(" ")
            names.append({"family": parts[-1], "given": " ".join(parts[:-1])})
    return names


def _date(entry: Entry) -> dict[str, Any] | None:
    text = entry.fields.get("date") or entry.fields.get("year") or ""
    ranges = []
    for part in _plain(text).split("/")[:2]:
        numbers = [int(n) for n in re.findall(r"\d+", part)[:3]]
        if numbers:
            ranges.append(numbers)
    return {"date-parts": ranges} if ranges else None


def csl_item(entry: Entry) -> dict[str, Any]:
    """Return the entry as a CSL-JSON item."""
    f = entry.fields
    item: dict[str, Any] = {"id": entry.key, "type": CSL_TYPES.get(entry.type, "article")}
    for field in ("author", "editor"):
        if f.get(field):
            item[field] = _names(f[field])
    if "author" not in item and f.get("organization"):
        item["author"] = [{"literal": _plain(f["organization"])}]
    simple = {
        "title": "title",
        "journal": "container-title",
        "booktitle": "container-title",
        "url": "URL",
        "doi": "DOI",
        "pages": "page",
        "volume": "volume",
        "note": "note",
        "address": "publisher-place",
    }
    for bib_field, csl_field in simple.items():
        if f.get(bib_field):
            item[csl_field] = _plain(f[bib_field])
    publisher = f.get("publisher") or f.get("institution") or f.get("organization")
    if publisher:
        item["publisher"] = _plain(publisher)
    issued = _date(entry)
    if issued:
        item["issued"] = issued
    return item


def format_references(entries: Sequence[Entry], csl: Path) -> list[tuple[str, str]]:
    """Return (key, formatted plain-text reference) for each entry, in the style's order."""
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    if not entries:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns about CSL features it does not know
        source = CiteProcJSON([csl_item(e) for e in entries])
        style = CitationStylesStyle(str(csl), validate=False)
        bibliography = CitationStylesBibliography(style, source, formatter.plain)
        for entry in entries:
            bibliography.register(Citation([CitationItem(entry.key)]))
        bibliography.sort()  # the style's order; keeps keys aligned with the rendered items
        texts = [" ".join(str(item).split()) for item in bibliography.bibliography()]
    keys = [str(k) for k in bibliography.keys]
    return list(zip(keys, texts, strict=False))
