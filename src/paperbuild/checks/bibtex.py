"""LaTeX in references.bib that pandoc's BibTeX reader drops: the drafts would leave its words out.

pandoc reads most of what BibTeX files hold (accents, `\\emph`, `\\textsc`, `\\url`, dashes as
`--`), but drops some commands with their arguments (`\\mbox{DNA}`, `\\acro{NASA}`,
`\\textendash`, any it does not know) without a word. Each command in a printed field is asked of
pandoc once (the answers kept in `build/.cache/`), and the ones it renders as nothing are named
where the entry writes them.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from paperbuild import pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.errors import BuildError, PaperbuildError
from paperbuild.load.bibliography import Entry
from paperbuild.load.chapters import line_column
from paperbuild.load.project import Project
from paperbuild.safety import cache_dir, read_input
from paperbuild.util.fsutil import keep, kept

COMMAND = re.compile(r"\\([A-Za-z]+)\*?((?:[ \t]*\{(?:[^{}]|\{[^{}]*\})*\})*)")
MATH = re.compile(r"\$[^$]*\$|\\\(.*?\\\)", re.S)
DEFINED = re.compile(r"\\(?:newcommand|renewcommand|providecommand|def)\s*\{?\\([A-Za-z]+)")
NOT_PRINTED = frozenset(("file", "abstract", "keywords", "annote", "mendeley-tags", "url", "doi"))
CACHE = "bibtex-latex-{toolchain}.json"
TAG = re.compile(r"<[^>]*>")


def check(project: Project) -> list[Diagnostic]:
    """Return a warning for each LaTeX command in a printed field that pandoc renders as
    nothing, at the entry's line and column where it is written."""
    bib = project.bibliography
    entries = [e for e in bib.entries if e.format == "bibtex"]  # (CSL JSON holds no LaTeX)
    if not entries or bib.oversized or "\\" not in "".join(e.raw for e in entries):
        return []
    defined = _defined(project)  # (\noopsort and the like, defined in an @preamble)
    found = [
        (entry, name, snippet)
        for entry in entries
        for name, snippet, command in dict.fromkeys(_commands(entry))
        if command not in defined
    ]
    if not found:
        return []
    dropped = _dropped(project.root, sorted({s for _, _, s in found}))
    problems = []
    for entry, name, snippet in found:
        if snippet not in dropped:
            continue
        line, column = _where(entry, snippet)
        words = _words(snippet)
        problems.append(
            diag(
                "dropped-latex",
                f"pandoc's BibTeX reader drops {snippet} ({name} of '{entry.key}'): the drafts "
                "leave it out",
                entry.path or bib.path,
                line,
                column,
                f"write it as plain text or Unicode{f', e.g. {{{words}}}' if words else ''}",
            )
        )
    return problems


def _commands(entry: Entry) -> list[tuple[str, str, str]]:
    """Return (field, command with its brace arguments, command name) for each command in a
    printed field (formulas between dollars left alone: pandoc reads them as maths)."""
    found = []
    for name, value in entry.fields.items():
        if name in NOT_PRINTED or "\\" not in value:
            continue
        for match in COMMAND.finditer(MATH.sub(" ", value)):
            found.append((name, match.group(0).strip(), match.group(1)))
    return found


def _defined(project: Project) -> set[str]:
    """Return the commands the bibliography's files define themselves (in an @preamble)."""
    defined: set[str] = set()
    for name in project.bibliography.files:
        try:
            text = read_input(project.root / name, project.root)
        except PaperbuildError:
            continue
        defined.update(DEFINED.findall(text.decode("utf-8", "replace")))
    return defined


def _words(snippet: str) -> str:
    """Return what the command stands for, as pylatexenc reads it ("–" for `\\textendash`), or
    else the text of its arguments."""
    from pylatexenc.latex2text import LatexNodes2Text

    with contextlib.suppress(Exception):  # (pylatexenc's own parse errors)
        text = " ".join(LatexNodes2Text(math_mode="verbatim").latex_to_text(snippet).split())
        if text:
            return text
    return " ".join(re.sub(r"\\[A-Za-z]+\*?|[{}]", " ", snippet).split())


def _where(entry: Entry, snippet: str) -> tuple[int, int]:
    """Return the line and column of the snippet in the bibliography (the entry's, if it comes
    from an @string)."""
    at = entry.raw.find(snippet)
    if at < 0:
        return entry.line, 1
    line, column = line_column(entry.raw, at)
    return entry.line + line - 1, column


def _dropped(root: Path, snippets: list[str]) -> set[str]:
    """Return the snippets pandoc's BibTeX reader renders as nothing (answers cached)."""
    folder = cache_dir(root, "ast")
    path = (
        folder / CACHE.format(toolchain=pandoc.cache_key("bibtex-latex")[:16]) if folder else None
    )
    known: dict[str, bool] = {}
    if path is not None:
        known = {str(k): bool(v) for k, v in (kept(path, dict) or {}).items()}
    todo = [s for s in snippets if s not in known]
    if todo:
        known.update(_ask_pandoc(todo))
        if path is not None:
            keep(path, pa.dumps({s: known[s] for s in snippets if s in known}))
    return {s for s in snippets if known.get(s)}


def _ask_pandoc(snippets: list[str]) -> dict[str, bool]:
    """Return {snippet: whether pandoc renders it as nothing}, from one run over them all
    (none answered if pandoc cannot read them together)."""
    text = "\n".join(f"@misc{{pb{i}, title = {{{s}}}}}" for i, s in enumerate(snippets))
    try:
        out = pandoc.run(["--sandbox", "-f", "bibtex", "-t", "csljson"], text.encode("utf-8"))
        items = json.loads(out)
    except (BuildError, ValueError):
        return {}
    titles = {str(item.get("id")): str(item.get("title", "")) for item in items}
    return {
        s: not TAG.sub("", titles[f"pb{i}"]).strip()
        for i, s in enumerate(snippets)
        if f"pb{i}" in titles
    }
