"""Resources and raw markup: remote or missing images, paths that leave the project, raw HTML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from paperbuild.ast import Facts
from paperbuild.chapters import Chapter
from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.outline import OUTLINE_FILE
from paperbuild.project import Project, inside, resolve_resource

MESSAGES = {
    "remote": (
        "remote-resource",
        "{t} is a remote resource: paperbuild never fetches it, and the drafts show a placeholder",
        "download it into the project and link the file",
    ),
    "outside": (
        "path-outside-project",
        "{t} leads outside the project folder; it is left out of the drafts",
        "copy the file into the project",
    ),
    "missing": (
        "missing-resource",
        "{t} does not exist; the drafts show a placeholder",
        "check the path (relative to the project or to the chapter)",
    ),
}


def _locate(chapter: Chapter, needle: str, nth: int = 0) -> tuple[int, int]:
    """Return where needle appears (its nth time) in the chapter, else the chapter's start."""
    return chapter.find(needle, nth) or (1, 1)


def check_chapter(project: Project, chapter: Chapter, facts: Facts) -> list[Diagnostic]:
    """Return the resource and raw-markup problems of one chapter."""
    found = []
    for target in dict.fromkeys(facts.resources):
        _, problem = resolve_resource(project.root, chapter.path, target)
        if problem:
            rule, message, hint = MESSAGES[problem]
            line, col = _locate(chapter, target)
            found.append(diag(rule, message.format(t=target), chapter.path, line, col, hint))
    times: dict[tuple[str, str], int] = {}
    for fmt, text in facts.raw:  # each occurrence, at its own line (a block at its first line)
        nth = times[(fmt, text)] = times.get((fmt, text), -1) + 1
        line, col = _locate(chapter, text[:30], nth)
        found.append(
            diag(
                "dropped-raw",
                f"raw {fmt.upper()} ({text[:40]}…) is left out of the DOCX and PDF drafts",
                chapter.path,
                line,
                col,
                "write it in Markdown instead",
            )
        )
    return found


def check_styles(project: Project) -> list[Diagnostic]:
    """Return problems with the CSL style and reference document named in outline.yaml."""
    found: list[Diagnostic] = []
    outline = project.outline
    for key, rel in (("csl", outline.csl), ("reference-doc", outline.reference_doc)):
        if rel is None:
            continue
        path = project.root / rel
        if not inside(project.root, path):
            found.append(
                diag(
                    "path-outside-project", f"{key}: {rel} leads outside the project", OUTLINE_FILE
                )
            )
        elif not path.is_file():
            found.append(
                diag(
                    "missing-file",
                    f"{key}: {rel} does not exist",
                    OUTLINE_FILE,
                    hint=f"correct '{key}:' in outline.yaml or remove it",
                )
            )
        elif key == "csl":
            found += _csl_problems(path, rel)
        elif not _is_docx(path):
            found.append(
                diag(
                    "invalid-reference-doc",
                    f"{rel} is not a Word document (.docx)",
                    rel,
                    hint="save it from Word or LibreOffice as .docx",
                )
            )
    return found


def _csl_problems(path: Path, rel: str) -> list[Diagnostic]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        reason = re.sub(r": line \d+, column \d+$", "", str(exc.msg))
        message = f"the CSL style is not valid XML: {reason}"
        return [diag("invalid-style", message, rel, line, col + 1)]
    except OSError as exc:
        return [diag("invalid-style", f"the CSL style cannot be read: {exc.strerror}", rel)]
    if not root.tag.endswith("}style") and root.tag != "style":
        return [
            diag("invalid-style", f"the root element is <{root.tag}>, not a CSL <style>", rel, 1, 1)
        ]
    return []


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "word/document.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def check(project: Project, facts: dict[str, Facts]) -> list[Diagnostic]:
    """Return resource, raw markup and style problems."""
    found = check_styles(project)
    for chapter in project.chapters:
        if chapter.path in facts:
            found += check_chapter(project, chapter, facts[chapter.path])
    return found
