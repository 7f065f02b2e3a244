"""A bibliography in CSL JSON (`refs.json`, Zotero's and Manubot's) or pandoc's CSL YAML
(`refs.yaml`, a `references:` list): its entries, located syntax errors, duplicates, gaps.

pandoc reads these files itself for citeproc; paperbuild reads them for the checks (keys,
duplicates, incomplete entries) and keeps each entry as CSL JSON for the places that format a
work on its own (status, change summaries).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from paperbuild.diagnostics import Diagnostic, Located, diag
from paperbuild.load.yamlsrc import compose

CSL_FORMATS = {".json": "csljson", ".yaml": "cslyaml", ".yml": "cslyaml"}
NAME_FIELDS = ("author", "editor", "container-author", "collection-editor", "translator")
MAX_NODES = 1_000_000  # YAML values a bibliography may unfold to (aliases count each time)


class _TooLarge(Exception):
    """The YAML unfolds past MAX_NODES values (an alias bomb)."""


def parse_csl(text: str, path: str, form: str) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """Return the entries of a CSL JSON or CSL YAML text as CSL data, and what is wrong with
    the file as a whole (a syntax error, no list of entries)."""
    try:
        data = _json(text, path) if form == "csljson" else _yaml(text, path)
    except Located as exc:
        return [], [exc.diagnostic]
    if form == "cslyaml" and isinstance(data, dict):
        data = data.get("references")
    if not isinstance(data, list):
        what = "a list of entries" if form == "csljson" else "a `references:` list of entries"
        return [], [diag("bib-syntax", f"holds no bibliography: expected {what}", path, 1, 1)]
    return data, []


def csl_entry_problem(item: object, path: str, line: int) -> Diagnostic | None:
    """Return the problem of one entry that is no CSL entry (not a mapping, or no `id`)."""
    if not isinstance(item, dict):
        return diag("bib-syntax", "an entry that is not a mapping of fields", path, line, 1)
    if not isinstance(item.get("id"), str | int) or str(item.get("id")).strip() == "":
        return diag(
            "bib-syntax",
            "an entry without an `id` (its citation key)",
            path,
            line,
            1,
            "give the entry an id: the key chapters cite it by",
        )
    return None


def csl_fields(item: dict[str, Any]) -> dict[str, str]:
    """Return an entry's fields as the checks read them: title, author (any names, or a
    publisher or authority), year (any date)."""
    names = [n for f in NAME_FIELDS for n in _as_list(item.get(f))]
    who = "; ".join(_name(n) for n in names) or str(item.get("publisher") or "")
    who = who or str(item.get("authority") or "")
    issued = item.get("issued")
    return {
        "title": str(item.get("title") or ""),
        "author": who,
        "year": "" if issued in (None, "", {}, []) else json.dumps(issued, ensure_ascii=False),
    }


JSON_ID = re.compile(r'"id"\s*:\s*"?([^",}\s]+)')
YAML_ID = re.compile(r"""^\s*-?\s*id\s*:\s*['"]?([^'"\s#]+)""")


def id_lines(text: str, form: str) -> dict[str, list[int]]:
    """Return the lines each entry's id is given at, by id, in order."""
    pattern = JSON_ID if form == "csljson" else YAML_ID
    found: dict[str, list[int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for m in pattern.finditer(line):
            found.setdefault(m.group(1), []).append(number)
    return found


def _json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Located(
            diag("bib-syntax", f"invalid JSON: {exc.msg}", path, exc.lineno, exc.colno)
        ) from None
    except RecursionError:
        raise Located(diag("bib-syntax", "JSON nested too deeply to read", path, 1, 1)) from None


def _first_block(text: str) -> str:
    """Return a YAML text as pandoc reads a bibliography: where it opens with `---`, up to the
    line that closes the block (`---` or `...`, as `pandoc -s -t markdown` writes one); the
    lines after it blanked, so lines keep their numbers."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return text
    end = next((i for i, x in enumerate(lines[1:], 1) if x.rstrip() in ("---", "...")), None)
    if end is None:
        return text
    return "\n".join(["", *lines[1:end], *([""] * (len(lines) - end))])


def _yaml(text: str, path: str) -> Any:
    root = compose(_first_block(text), path, rule="bib-syntax")  # (YamlProblem: a Located)
    try:
        return _value(root, [MAX_NODES])
    except _TooLarge:
        raise Located(
            diag("bib-syntax", f"unfolds past {MAX_NODES:,} values (aliases)", path, 1, 1)
        ) from None
    except RecursionError:
        raise Located(diag("bib-syntax", "YAML nested too deeply to read", path, 1, 1)) from None


def _value(node: yaml.Node | None, budget: list[int]) -> Any:
    """Return a YAML node's value, scalars as written (as pandoc reads them: text), unfolding
    aliases against a budget."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, yaml.MappingNode):
        return {str(getattr(k, "value", "")): _value(v, budget) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_value(v, budget) for v in node.value]
    if isinstance(node, yaml.ScalarNode):
        return node.value
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _name(name: Any) -> str:
    if isinstance(name, dict):
        parts = (name.get("literal"), name.get("given"), name.get("family"))
        return " ".join(str(p) for p in parts if p)
    return str(name)
