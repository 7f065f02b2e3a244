"""The bibliography: BibTeX parsed with bibtexparser (CSL JSON and YAML in `cslbib.py`), located
syntax errors, duplicates, entry checks."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.load.cslbib import CSL_FORMATS, csl_entry_problem, csl_fields, id_lines, parse_csl
from paperbuild.pandoc_ast import dumps
from paperbuild.safety import UnsafePath, loading_cache_dir, read_input
from paperbuild.util.fsutil import keep_alone, kept

# bibtexparser logs its parse failures; we report them as diagnostics instead.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").propagate = False

NAME_FIELDS = ("author", "editor", "organization", "institution", "publisher")
DATE_FIELDS = ("year", "date")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One bibliography entry."""

    key: str
    type: str
    fields: dict[str, str] = field(default_factory=dict)
    line: int = 1
    raw: str = ""  # the entry's BibTeX text, as written (CSL JSON for a CSL bibliography's)
    macros: str = ""  # the file's @string definitions, which the entry may use
    format: str = "bibtex"  # or "csljson": what `raw` is written in
    path: str = ""  # the file it is written in


@dataclass(frozen=True, kw_only=True)
class Bibliography:
    """The parsed bibliography and what was wrong with it."""

    path: str  # the file, or the files ("a.bib or b.bib"): what a message names
    entries: tuple[Entry, ...] = ()
    problems: tuple[Diagnostic, ...] = ()
    oversized: bool = False  # an @string or field expands past MAX_EXPANDED: never given pandoc
    files: tuple[str, ...] = ()  # the files read, in the order given (their entries' order)
    missing: tuple[str, ...] = ()  # the files named that do not exist

    @property
    def keys(self) -> set[str]:
        """Return the set of entry keys."""
        return {e.key for e in self.entries}


@functools.lru_cache(maxsize=8)  # (`watch` reads the same text after each save: parsed once)
def parse_bibtex(text: str, path: str) -> Bibliography:
    """Return the entries of a BibTeX text with a diagnostic for each broken or duplicate one."""
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock, ParsingFailedBlock
    from bibtexparser.model import Entry as BtEntry

    library = bibtexparser.parse_string(text)  # type: ignore[attr-defined]
    entries: list[Entry] = []
    problems: list[Diagnostic] = []
    first_line: dict[str, int] = {}
    macros = "\n".join(s.raw or "" for s in library.strings)
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            earlier = f"first defined at line {first_line.get(block.key)}"
            problems.append(_duplicate(block.key, earlier, path, line))
            later = _reparsed(macros, block.ignore_error_block)
            if later is not None:  # (what pandoc reads: the last)
                entries = [e for e in entries if e.key != block.key]
                entries.append(_entry(later, line, macros, path))
        elif isinstance(block, ParsingFailedBlock):
            problems.append(_syntax_problem(block, text, path, line))
        elif isinstance(block, BtEntry):
            entries.append(_entry(block, line, macros, path))
            first_line.setdefault(block.key, line)
    bombs = _string_bombs(library, path)
    problems.extend(bombs)
    inherited = _inherited(entries)
    problems.extend(_incomplete(e, path) for e in inherited if _missing(e))
    problems.extend(d for e in entries for d in _list_and(e, path, text))
    return Bibliography(
        path=path,
        entries=tuple(entries),
        problems=tuple(problems),
        oversized=bool(bombs),
        files=(path,),
    )


def _reparsed(macros: str, block: Any) -> Any:
    """Return a duplicate's entry as bibtexparser reads any entry (its braces and @strings
    resolved, which it leaves undone in a duplicate), or None."""
    import bibtexparser

    raw = getattr(block, "raw", None)
    if not raw:
        return None
    found = bibtexparser.parse_string(f"{macros}\n{raw}").entries  # type: ignore[attr-defined]
    return found[0] if len(found) == 1 else None


def _entry(block: Any, line: int, macros: str, path: str) -> Entry:
    """Return the entry of one of bibtexparser's entry blocks."""
    return Entry(
        key=block.key,
        type=block.entry_type.lower(),
        fields={f.key.lower(): str(f.value) for f in block.fields},
        line=line,
        raw=block.raw or "",
        macros=macros,
        path=path,
    )


def parse_csl_bibliography(text: str, path: str, form: str) -> Bibliography:
    """Return the entries of a CSL JSON or CSL YAML text, with a diagnostic for each broken,
    duplicate or incomplete one."""
    items, problems = parse_csl(text, path, form)
    lines = id_lines(text, form)
    seen: dict[str, int] = {}
    times: dict[str, int] = {}  # (how often each key came before: which of its lines is this)
    entries: list[Entry] = []
    for item in items:
        key = str(item.get("id", "")).strip() if isinstance(item, dict) else ""
        places = lines.get(key) or [1]
        line = places[min(times.get(key, 0), len(places) - 1)]
        times[key] = times.get(key, 0) + 1
        problem = csl_entry_problem(item, path, line)
        if problem is not None:
            problems.append(problem)
            continue
        if key in seen:
            problems.append(_duplicate(key, f"first defined at line {seen[key]}", path, line))
            entries = [e for e in entries if e.key != key]
        seen.setdefault(key, line)
        raw = json.dumps(item, ensure_ascii=False)
        fields = csl_fields(item)
        kind = str(item.get("type", ""))
        entries.append(
            Entry(
                key=key, type=kind, fields=fields, line=line, raw=raw, format="csljson", path=path
            )
        )
    problems.extend(_incomplete(e, path) for e in entries if _missing(e))
    return Bibliography(path=path, entries=tuple(entries), problems=tuple(problems), files=(path,))


def parse_any(text: str, path: str) -> Bibliography:
    """Return the bibliography read as its file's extension says: CSL JSON (.json), CSL YAML
    (.yaml, .yml), else BibTeX or BibLaTeX (as pandoc reads them)."""
    form = CSL_FORMATS.get(Path(path).suffix.lower())
    return parse_bibtex(text, path) if form is None else parse_csl_bibliography(text, path, form)


MAX_EXPANDED = 1_000_000  # characters an @string or a field may expand to
IDENTIFIER = re.compile(r"^[A-Za-z_][\w:.+/-]*$")


def _string_bombs(library: Any, path: str) -> list[Diagnostic]:
    """Return an error for each @string or field that expands past MAX_EXPANDED characters.

    `@string{b = a # a # a}` nests: eight levels of ten make a field of a billion characters,
    which pandoc's BibTeX reader builds in memory (3 GB, then it is stopped).
    """
    strings = {s.key.lower(): (str(s.value), (s.start_line or 0) + 1) for s in library.strings}
    sizes: dict[str, int] = {}  # in file order: BibTeX defines a string before its use

    def size(expression: str) -> int:
        return sum(
            sizes.get(part.lower(), len(part)) if IDENTIFIER.match(part) else len(part)
            for part in (p.strip() for p in expression.split(" # "))
        )

    for key, (value, _) in strings.items():
        sizes[key] = min(size(value), 10 * MAX_EXPANDED)

    found = []
    for key, (value, line) in strings.items():
        if size(value) > MAX_EXPANDED:
            found.append(_bomb(f"the @string '{key}'", size(value), path, line))
    for entry in library.entries:
        for f in entry.fields:
            if size(str(f.value)) > MAX_EXPANDED:
                line = (entry.start_line or 0) + 1
                found.append(_bomb(f"{f.key} of '{entry.key}'", size(str(f.value)), path, line))
    return found


def _bomb(what: str, size: int, path: str, line: int) -> Diagnostic:
    shown = f"{size:,}" if size < 10 * MAX_EXPANDED else f"over {10 * MAX_EXPANDED:,}"
    return diag(
        "bib-syntax",
        f"{what} expands to {shown} characters (@string definitions that repeat each other); "
        f"paperbuild reads at most {MAX_EXPANDED:,}",
        path,
        line,
        1,
        "define the text once, without nesting @string definitions",
    )


def _syntax_problem(block: object, text: str, path: str, line: int) -> Diagnostic:
    error = getattr(block, "error", None)
    reason = " ".join(str(getattr(error, "abort_reason", "") or error or "").split())
    reason = reason or "syntax error"
    raw = getattr(block, "raw", "") or ""
    head = raw.strip().split("\n")[0][:60]
    return diag(
        "bib-syntax",
        f"entry starting '{head}' cannot be parsed: {reason}",
        path,
        line,
        1,
        "check that every { has its } and every field ends with a comma",
    )


LIST_FIELDS = ("publisher", "institution", "organization", "location", "address", "school")


def _top_level_and(value: str) -> bool:
    """Return whether ' and ' stands outside braces in a BibTeX value (a list separator)."""
    depth = 0
    for i, ch in enumerate(value):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and value.startswith(" and ", i):
            return True
    return False


def _list_and(entry: Entry, path: str, text: str) -> list[Diagnostic]:
    """Return a warning per list field whose unbraced ' and ' BibTeX splits into two names."""
    found = []
    for name in LIST_FIELDS:
        value = entry.fields.get(name, "")
        if not _top_level_and(value):
            continue
        parts = re.split(r"\s+and\s+", value, maxsplit=1)
        line = _field_line(text, entry, name)
        found.append(
            diag(
                "list-field-and",
                f"{name} of '{entry.key}' reads as two names, “{parts[0]}” and "
                f"“{parts[1]}”: BibTeX splits list fields at an unbraced ' and '",
                path,
                line,
                1,
                f"brace the word: {name} = {{{value.replace(' and ', ' {and} ', 1)}}}",
            )
        )
    return found


def _field_line(text: str, entry: Entry, name: str) -> int:
    """Return the line of a field inside an entry (the entry's line if it cannot be found)."""
    lines = text.split("\n")
    for number in range(entry.line, min(len(lines), entry.line + 200) + 1):
        if re.match(rf"\s*{name}\s*=", lines[number - 1], re.IGNORECASE):
            return number
    return entry.line


def _inherited(entries: list[Entry]) -> list[Entry]:
    """Return the entries with the fields they inherit (BibLaTeX's crossref and xdata) added."""
    by_key = {e.key.lower(): e for e in entries}

    def ancestors(entry: Entry) -> list[Entry]:
        """Return the entries it inherits from, nearest first (a chain of any length)."""
        found: list[Entry] = []
        seen, todo = {entry.key.lower()}, [entry]
        while todo:
            child = todo.pop(0)
            for name in ("crossref", "xdata"):
                for parent in child.fields.get(name, "").split(","):
                    key = parent.strip().lower()
                    if key in by_key and key not in seen:
                        seen.add(key)
                        found.append(by_key[key])
                        todo.append(by_key[key])
        return found

    def fields(entry: Entry) -> dict[str, str]:
        merged: dict[str, str] = {}
        for ancestor in reversed(ancestors(entry)):  # the nearer ancestor's fields win
            merged.update(ancestor.fields)
        return {**merged, **entry.fields}

    return [
        dataclasses.replace(e, fields=fields(e))
        if "crossref" in e.fields or "xdata" in e.fields
        else e
        for e in entries
    ]


def _missing(entry: Entry) -> list[str]:
    """Return what a reader needs to find the entry and it lacks."""
    lacks = []
    if not entry.fields.get("title"):
        lacks.append("a title")
    if not any(entry.fields.get(f) for f in NAME_FIELDS):
        lacks.append("an author, editor or organisation")
    if not any(entry.fields.get(f) for f in DATE_FIELDS):
        lacks.append("a year or date")
    return lacks


def _incomplete(entry: Entry, path: str) -> Diagnostic:
    return diag(
        "incomplete-reference",
        f"entry '{entry.key}' lacks {', '.join(_missing(entry))}",
        path,
        entry.line,
        1,
    )


def load_bibliography(root: Path, relpaths: str | Sequence[str]) -> Bibliography:
    """Return the project's bibliography, read from one file or several, or one that records
    why it could not be read."""
    names = (relpaths,) if isinstance(relpaths, str) else tuple(relpaths)
    parts = [_load_file(root, name) for name in names]
    if len(parts) == 1:
        return parts[0]
    return _merged(parts, " or ".join(names))


def _merged(parts: list[Bibliography], name: str) -> Bibliography:
    """Return one bibliography of several files' entries. A key written in two files is the
    later file's, as pandoc reads them, and is reported where that file writes it."""
    entries: dict[str, Entry] = {}
    problems = [d for part in parts for d in part.problems]
    for part in parts:
        for entry in part.entries:
            first = entries.pop(entry.key, None)
            if first is not None:
                earlier = f"also in {first.path} at line {first.line}"
                problems.append(_duplicate(entry.key, earlier, entry.path, entry.line))
            entries[entry.key] = entry
    return Bibliography(
        path=name,
        entries=tuple(entries.values()),
        problems=tuple(problems),
        oversized=any(part.oversized for part in parts),
        files=tuple(f for part in parts for f in part.files),
        missing=tuple(f for part in parts for f in part.missing),
    )


def _duplicate(key: str, earlier: str, path: str, line: int) -> Diagnostic:
    """Return the problem of a key written again at path:line (`earlier` says where before)."""
    return diag(
        "duplicate-reference",
        f"duplicate key '{key}' ({earlier}); the drafts use this entry, as pandoc takes the last",
        path,
        line,
        1,
        "rename one of the two entries or delete the copy",
    )


def _load_file(root: Path, relpath: str) -> Bibliography:
    """Return one bibliography file's entries, or a bibliography that says why it has none."""
    path = root / relpath
    if not path.exists():
        return Bibliography(path=relpath, missing=(relpath,))
    try:
        text = read_input(path, root).decode("utf-8-sig")
    except UnsafePath as exc:
        return Bibliography(
            path=relpath, problems=(diag("bib-syntax", exc.message, relpath, hint=exc.hint),)
        )
    except UnicodeDecodeError as exc:
        return Bibliography(
            path=relpath,
            problems=(
                diag(
                    "bib-syntax",
                    f"not valid UTF-8 (byte offset {exc.start})",
                    relpath,
                    hint="save the file as UTF-8",
                ),
            ),
        )
    except OSError as exc:
        return Bibliography(
            path=relpath, problems=(diag("bib-syntax", f"cannot be read: {exc.strerror}", relpath),)
        )
    return _parsed_through_cache(root, text.replace("\r\n", "\n"), relpath)


def _parsed_through_cache(root: Path, text: str, relpath: str) -> Bibliography:
    """Return parse_bibtex's answer for the text, kept in build/.cache/ for the next command
    (the parse and bibtexparser's import cost each command about 25 ms: -X importtime)."""
    cache = loading_cache_dir(root, "bib")
    if cache is None:
        return parse_any(text, relpath)
    h = hashlib.sha256(_parser_id())
    name = relpath.encode("utf-8", "surrogatepass")
    h.update(name + b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    file = hashlib.sha256(name).hexdigest()[:8]  # (each file's own entry: one kept a file)
    path = cache / f"bibliography-{file}-{h.hexdigest()[:32]}.json"
    data = kept(path, dict)
    try:
        if data is not None:
            return _from_json(data)
    except (ValueError, KeyError, TypeError):
        pass
    found = parse_any(text, relpath)
    keep_alone(path, dumps(_to_json(found)), f"bibliography-{file}-*.json")
    return found


@functools.cache
def _parser_id() -> bytes:
    """Return what identifies the parsing code: this module, bibtexparser and pylatexenc
    (their files' sizes and times, found without importing them)."""
    parts = [Path(__file__).read_bytes(), (Path(__file__).parent / "cslbib.py").read_bytes()]
    for name in ("bibtexparser", "pylatexenc"):
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin) if spec and spec.origin else None
        stat = origin.stat() if origin else None
        parts.append(f"{name}:{origin}:{stat and (stat.st_size, stat.st_mtime_ns)}".encode())
    return b"\0".join(parts)


def _to_json(bib: Bibliography) -> dict[str, Any]:
    """Return the bibliography as JSON-ready data (the file's @string text stored once)."""
    macros = list(dict.fromkeys(e.macros for e in bib.entries))
    data = dataclasses.asdict(bib)
    for entry, original in zip(data["entries"], bib.entries, strict=True):
        entry["macros"] = macros.index(original.macros)
    data["macros"] = macros
    return data


def _from_json(data: dict[str, Any]) -> Bibliography:
    """Return a bibliography read back from `_to_json`'s data."""
    macros: list[str] = data["macros"]
    return Bibliography(
        path=data["path"],
        entries=tuple(Entry(**{**e, "macros": macros[e["macros"]]}) for e in data["entries"]),
        problems=tuple(Diagnostic(**d) for d in data["problems"]),
        oversized=bool(data["oversized"]),
        files=tuple(data["files"]),
        missing=tuple(data["missing"]),
    )
