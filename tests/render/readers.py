"""Readers we did not write, for reading outputs back: pandoc's DOCX reader, python-docx, pypdf."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from paperbuild.pandoc import HEAP, pandoc_path


def pandoc_command() -> list[str]:
    """Return the command that starts pandoc as paperbuild does (its binary, its heap)."""
    return [pandoc_path(), "+RTS", *HEAP, "-RTS"]


_DOCX_JSON: dict[tuple[str, str], bytes] = {}  # pandoc's reading of each DOCX seen, by its bytes


def pandoc_docx_json(path: Path, track_changes: str = "accept") -> dict[str, Any]:
    """Return pandoc's own reading of a DOCX file as its JSON AST (a fresh copy each call; a
    file with the same bytes is read by pandoc once)."""
    data = Path(path).read_bytes()
    key = (hashlib.sha256(data).hexdigest(), track_changes)
    if key not in _DOCX_JSON:
        out = subprocess.run(
            [*pandoc_command(), "-f", "docx", "-t", "json", f"--track-changes={track_changes}"],
            input=data,
            capture_output=True,
            check=True,
        )
        _DOCX_JSON[key] = out.stdout
    parsed: dict[str, Any] = json.loads(_DOCX_JSON[key])
    return parsed


def walk(value: Any):
    """Yield every pandoc element below value, in document order."""
    if isinstance(value, dict):
        if "t" in value:
            yield value
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def text_of(value: Any) -> str:
    """Return the plain text of pandoc JSON: a document, blocks or inlines (notes included)."""
    parts: list[str] = []
    if isinstance(value, dict) and "blocks" in value:
        value = value["blocks"]

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            t = v.get("t")
            if t == "Str":
                parts.append(v["c"])
            elif t in ("Space", "SoftBreak", "LineBreak"):
                parts.append(" ")
            elif "c" in v:
                walk(v["c"])
            if t in ("Para", "Plain", "Header"):
                parts.append("\n")
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return "".join(parts)


def headers(doc: dict[str, Any], level: int = 1) -> list[str]:
    """Return the texts of the headings of a level, in order."""
    return [
        " ".join(text_of(b["c"][2]).split())
        for b in doc["blocks"]
        if b["t"] == "Header" and b["c"][0] == level
    ]


def note_texts(doc: dict[str, Any]) -> list[str]:
    """Return the text of every note of a document, in order, spaces folded."""
    return [" ".join(text_of(n["c"]).split()) for n in walk(doc["blocks"]) if n["t"] == "Note"]


def notes_after(doc: dict[str, Any], phrase: str) -> list[str]:
    """Return the texts of the notes in the paragraph that contains phrase."""
    for block in _paras(doc["blocks"]):
        if phrase in " ".join(text_of([i for i in block["c"] if i["t"] != "Note"]).split()):
            return [" ".join(text_of(i["c"]).split()) for i in block["c"] if i["t"] == "Note"]
    raise AssertionError(f"no paragraph contains {phrase!r}")


def _paras(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        if value.get("t") == "Para":
            found.append(value)
        for v in value.values():
            found += _paras(v)
    elif isinstance(value, list):
        for v in value:
            found += _paras(v)
    return found


def docx_part(path: Path, name: str) -> str:
    """Return one XML part of a DOCX file as text."""
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


_PDF_PAGES: dict[str, tuple[str, ...]] = {}  # pypdf's reading of each PDF seen, by its bytes


def pdf_pages(path: Path | str) -> list[str]:
    """Return the text of each page of a PDF (pypdf; a file with the same bytes read once)."""
    from pypdf import PdfReader

    data = Path(path).read_bytes()
    key = hashlib.sha256(data).hexdigest()
    if key not in _PDF_PAGES:
        pages = PdfReader(io.BytesIO(data)).pages
        _PDF_PAGES[key] = tuple(page.extract_text() or "" for page in pages)
    return list(_PDF_PAGES[key])


def pdf_words(path: Path | str) -> list[str]:
    """Return the text of each page of a PDF with its white space made single spaces."""
    return [" ".join(page.split()) for page in pdf_pages(path)]


def pdf_text(path: Path | str) -> str:
    """Return the text of a whole PDF, its white space made single spaces."""
    return " ".join(pdf_words(path))


def libreoffice_pdf(docx: Path, out: Path, env: dict[str, str] | None = None) -> Path:
    """Return the PDF LibreOffice makes of a DOCX in folder out (a profile of its own there)."""
    subprocess.run(
        [
            shutil.which("soffice") or "soffice",
            f"-env:UserInstallation=file://{out}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=env,
    )
    return out / (Path(docx).stem + ".pdf")
