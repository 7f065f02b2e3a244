"""Maths that pandoc cannot convert: both drafts would print its TeX source instead."""

from __future__ import annotations

import re
from pathlib import Path

from paperbuild import pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.errors import BuildError
from paperbuild.facts import Facts
from paperbuild.load.chapters import Chapter, macro_definitions
from paperbuild.load.project import Project
from paperbuild.parse import parse_texts
from paperbuild.safety import cache_dir
from paperbuild.util.fsutil import keep, kept

WARNING = re.compile(
    r"\[WARNING\] Could not convert TeX math (.*?), rendering as TeX:\n(.*?)(?=\n\[|\Z)", re.S
)
CACHE = "maths-{toolchain}.json"


def check(project: Project, facts: dict[str, Facts]) -> list[Diagnostic]:
    """Return each formula pandoc's maths reader cannot read, where the chapter writes it."""
    wanted = list(dict.fromkeys(m for f in facts.values() for m in f.maths))
    if not wanted:
        return []
    problems = _problems(project.root, wanted)
    found: list[Diagnostic] = []
    for chapter in project.chapters:
        written: dict[str, str] | None = None
        for tex in facts.get(chapter.path, Facts()).maths:
            if tex not in problems or not problems[tex]:
                continue
            place = chapter.find(tex)
            if place is None:  # a macro changed it: find it as the chapter writes it
                written = _as_written(project, chapter) if written is None else written
                place = chapter.find(written[tex]) if written.get(tex) else None
            line, col = place or (1, 1)
            shown = " ".join(tex.split())
            found.append(
                diag(
                    "unconverted-maths",
                    f"the maths {shown[:60]} cannot be converted ({problems[tex]}); both drafts "
                    "show its TeX source instead",
                    chapter.path,
                    line,
                    col,
                    "correct the TeX (an unknown command? define it with \\newcommand)",
                )
            )
    return found


def _as_written(project: Project, chapter: Chapter) -> dict[str, str]:
    """Return {TeX as pandoc read it: TeX as the chapter writes it} for the chapter's formulas.

    The chapter is read with its macros left alone, then each formula so read is expanded on
    its own after the definitions pandoc saw; two pandoc runs, made only for a formula that
    cannot be converted and is not in the source as read.
    """
    raw = _formulas(chapter.text, "markdown-latex_macros")
    definitions = "\n".join(macro_definitions(parse_texts(project)[chapter.path]))  # (in order)
    shown = "\n\n".join(f"$${tex}$$" if display else f"${tex}$" for display, tex in raw)
    expanded = _formulas(f"{definitions}\n\n{shown}", "markdown")
    if len(expanded) != len(raw):
        return {}
    return {read: written for (_, read), (_, written) in zip(expanded, raw, strict=True)}


def _formulas(text: str, reader: str) -> list[tuple[bool, str]]:
    """Return (display?, TeX) of each formula pandoc reads in a Markdown text, in order."""
    try:
        out = pandoc.run(["-f", reader, "-t", "json"], text.encode("utf-8"))
    except BuildError:
        return []
    found = []
    for node in pa.walk(pa.loads(out)["blocks"]):
        if pa.kind(node) == "Math":
            found.append((pa.math_display(node), pa.text(node)))
    return found


def _problems(root: Path, maths: list[str]) -> dict[str, str]:
    """Return {TeX: why it cannot be converted, or ""} for each formula (cached by toolchain)."""
    cache = cache_dir(root, "ast")
    path = cache / CACHE.format(toolchain=pandoc.cache_key("maths")[:16]) if cache else None
    known: dict[str, str] = {}
    if path is not None:
        known = {str(k): str(v) for k, v in (kept(path, dict) or {}).items()}
    todo = [m for m in maths if m not in known]
    if todo:
        known.update(_convert(todo))
        if path is not None:
            keep(path, pa.dumps({m: known[m] for m in maths}))
    return {m: known.get(m, "") for m in maths}


def _convert(maths: list[str]) -> dict[str, str]:
    """Return {TeX: why pandoc cannot convert it, or ""}, from one pandoc run over them all."""
    blocks = [pa.para([pa.math(m)]) for m in maths]
    payload = {"pandoc-api-version": pandoc.api_version(), "meta": {}, "blocks": blocks}
    warnings: list[str] = []
    pandoc.run(["-f", "json", "-t", "typst"], pa.dumps(payload), warnings=warnings)
    failed: dict[str, str] = {}
    for tex, details in WARNING.findall("".join(warnings)):
        lines = [line.strip() for line in details.split("\n") if line.strip()]
        reason = next((line for line in lines if line.startswith("unexpected")), "")
        failed[tex] = reason or (lines[-1] if lines else "unreadable")
    return {m: failed.get(m, "") for m in maths}
