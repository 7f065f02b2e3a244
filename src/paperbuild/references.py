"""The citation style and pandoc's citeproc: the style checked, the arguments, works formatted.

The drafts (`cite.py`) and the places no draft is built (status, change summaries) use the same
engine, bibliography reader and style, so "Andrés", "&" and "545–552" read alike everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperbuild import pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.errors import BuildError
from paperbuild.furniture import words_for
from paperbuild.load.bibliography import MAX_EXPANDED, Entry
from paperbuild.load.project import Project, inside
from paperbuild.pandoc_ast import stringify
from paperbuild.safety import read_input


def format_references(
    entries: Sequence[Entry], style: Path, lang: str = "en-GB"
) -> list[tuple[str, str]]:
    """Return (key, formatted plain-text reference) for each entry, in the style's order (the
    BibTeX ones, then those from CSL JSON or YAML)."""
    bibtex = [e for e in entries if e.format != "csljson"]
    csl = [e for e in entries if e.format == "csljson"]
    return _formatted(bibtex, "bibtex", style, lang) + _formatted(csl, "csljson", style, lang)


def _formatted(
    entries: Sequence[Entry], form: str, style: Path, lang: str
) -> list[tuple[str, str]]:
    """Return format_references' answer for entries all written in one form."""
    if not entries:
        return []
    if form == "csljson":
        text = "[" + ",".join(e.raw for e in entries) + "]"
    else:
        macros = dict.fromkeys(e.macros for e in entries if e.macros)
        text = "\n".join([*macros, *(e.raw for e in entries)])
    args = ["--sandbox", "-f", form, "-t", "json", "--citeproc", "--csl", str(style)]
    out = pa.loads(accents_composed(pandoc.run([*args, "-M", f"lang={lang}"], text.encode())))
    found: list[tuple[str, str]] = []
    for block in out["blocks"]:
        if pa.kind(block) != "Div" or pa.ident(block) != "refs":
            continue
        for item in pa.blocks(block):
            ident = pa.ident(item) if pa.kind(item) == "Div" else ""
            if ident.startswith("ref-"):
                found.append((ident[len("ref-") :], " ".join(stringify(pa.blocks(item)).split())))
    return found


DOTLESS_ACCENTED = re.compile("[ıȷ](?=[\u0300-\u036f])")


def accents_composed(data: bytes) -> str:
    """Return citeproc's output with BibTeX's accented dotless letters as the letters themselves.

    BibTeX spells í as `{\\'\\i}` (an accent on a dotless i), which pandoc reads as "ı" and a
    combining accent: most faces set the accent beside the letter, and no search finds "García".
    """
    text = data.decode("utf-8")
    if "ı" not in text and "ȷ" not in text:
        return text
    fixed = DOTLESS_ACCENTED.sub(lambda m: "i" if m.group() == "ı" else "j", text)
    return unicodedata.normalize("NFC", fixed)


CSL_NS = "{http://purl.org/net/xbiblio/csl}"


@dataclass(frozen=True)
class StyleProblem:
    """Why a CSL style cannot be used, and where in it."""

    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None


def style_problem(data: bytes) -> StyleProblem | None:
    """Return why a CSL style cannot be used (None when it can).

    Read without entities, DTDs or network. A DOCTYPE is refused (CSL has none; it is how
    XML reads other files or expands itself), and so is a dependent style, whose parent pandoc
    would read from a path or a URL outside the project.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        reason = re.sub(r"(, line \d+, column \d+)+(\s*\(.*\))?$", "", str(exc.msg))
        return StyleProblem(f"the CSL style is not valid XML: {reason}", line, column)
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return StyleProblem(
            "the CSL style declares a DOCTYPE (XML entities); CSL styles have none",
            1,
            1,
            "remove the <!DOCTYPE …> declaration",
        )
    root = tree.getroot()
    if root.tag not in (f"{CSL_NS}style", "style"):
        name = etree.QName(root).localname
        return StyleProblem(f"the root element is <{name}>, not a CSL <style>", 1, 1)
    for link in root.iter(f"{CSL_NS}link", "link"):
        if link.get("rel") == "independent-parent":
            return StyleProblem(
                f"the CSL style is a dependent style: its rules are in another style "
                f"({link.get('href', '')[:100]}), which paperbuild does not fetch or read",
                link.sourceline,
                None,
                "download the parent style's .csl file into the project and name it in 'csl:'",
            )
    return _macro_cycle(root)


def _macro_cycle(root: Any) -> StyleProblem | None:
    """Return the problem of a macro that calls itself, directly or through others (citeproc
    never finishes it: pandoc took 3 GB in 17 s before its limit stopped it), else None."""
    macros = {m.get("name"): m for m in root.iter(f"{CSL_NS}macro", "macro")}
    calls = {
        name: [e.get("macro") for e in m.iter() if e is not m and e.get("macro") in macros]
        for name, m in macros.items()
    }
    state: dict[str, int] = {}  # 1: its calls being walked, 2: walked, no loop through it
    for first in macros:
        if state.get(first):
            continue
        state[first] = 1
        path, stack = [first], [iter(calls[first])]
        while stack:  # a depth-first walk of the calls
            called = next(stack[-1], None)
            if called is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(called) == 1:
                loop = " → ".join([*path[path.index(called) :], called])
                return StyleProblem(
                    f"the CSL macro '{called}' calls itself ({loop}): citeproc would never finish",
                    macros[called].sourceline,
                    None,
                    "remove the call that leads back to the macro",
                )
            elif not state.get(called):
                state[called] = 1
                path.append(called)
                stack.append(iter(calls[called]))
    return None


DEFAULT_CSL = Path(__file__).parent / "render" / "templates" / "chicago-notes.csl"


def csl_path(project: Project) -> Path:
    """Return the CSL style to use: outline.yaml's `csl:`, else the bundled Chicago notes style."""
    if project.outline.csl is None:
        return DEFAULT_CSL
    path = project.root / project.outline.csl
    if not inside(project.root, path):
        raise BuildError(f"csl: {project.outline.csl} leads outside the project folder")
    if not path.is_file():
        raise BuildError(
            f"the CSL style {project.outline.csl} named in outline.yaml does not exist",
            hint="correct 'csl:' in outline.yaml, or remove it to use the bundled style",
        )
    problem = style_problem(read_input(path, project.root))
    if problem is not None:
        where = f":{problem.line}" if problem.line else ""
        raise BuildError(f"{project.outline.csl}{where}: {problem.message}", hint=problem.hint)
    return path


def citation_args(project: Project, csl: Path) -> list[str]:
    """Return pandoc's arguments for citeproc with the project's bibliography and the style."""
    args = [
        "--citeproc",
        "--csl",
        str(csl),
        "-M",
        f"reference-section-title={words_for(project.outline.document.lang).references}",
        "-M",
        f"lang={project.outline.document.lang}",
    ]
    if project.bibliography.oversized:  # (even under --force: pandoc would build it in memory)
        raise BuildError(
            f"{project.bibliography.path} has @string definitions that expand past "
            f"{MAX_EXPANDED:,} characters; paperbuild does not give it to pandoc",
            hint="run `paperbuild check` to see where, and define the text once",
        )
    for name in project.bibliography.files:  # (pandoc reads them in turn: a key's last is used)
        if inside(project.root, project.root / name):
            args += ["--bibliography", str(project.root / name)]
    return args
