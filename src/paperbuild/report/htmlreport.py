"""`paperbuild report`: build/report.html, one self-contained page on where the paper stands."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from paperbuild.checks import CheckResult, run_checks
from paperbuild.checks.coverage import suggest
from paperbuild.diagnostics import Diagnostic, summary_line
from paperbuild.diff.summary import Summary
from paperbuild.load.project import Project
from paperbuild.report.status import Status, status
from paperbuild.safety import output_dir, output_file
from paperbuild.util.fsutil import write_atomic

CSS = """
body{font:15px/1.45 Georgia,'Times New Roman',serif;color:#1f2a44;margin:2rem auto;max-width:70rem;
padding:0 1.5rem}h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;
border-bottom:1px solid #ccd;padding-bottom:.2rem}.sub{color:#556;margin-top:0}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{padding:.3rem .5rem;
border-bottom:1px solid #e4e6ee;text-align:left;vertical-align:top}th{font-weight:600}
.cell{display:inline-block;min-width:2.6rem;margin:1px;padding:.1rem .25rem;border-radius:3px;
font:600 .75rem/1.3 monospace;text-align:center}.covered{background:#d7f0dc;color:#1d5c2e}
.uncovered{background:#f8d7da;color:#842029}.suggested{background:#fff1c2;color:#7a5b00}
.bar{background:#e9ecf3;height:.8rem;border-radius:3px;position:relative;min-width:10rem}
.fill{background:#5b7bb8;height:100%;border-radius:3px}.over .fill{background:#c0392b}
.target{position:absolute;top:-.2rem;height:1.2rem;border-left:2px solid #1f2a44}
.error{color:#a11}.warning{color:#8a5a00}.info{color:#356}.num{text-align:right}
.legend span{margin-right:1rem}code{font-size:.85rem}
"""


def _matrix(project: Project, result: CheckResult) -> str:
    rows = []
    for section in project.outline.sections:
        path = result.parsed.assignment.get(section.id)
        chapter = project.chapter(path) if path else None
        cells = []
        for point in section.points:
            if point.id in result.covered_ids:
                kind, mark = "covered", "✓"
            elif chapter is not None and suggest(point.text, chapter.text):
                kind, mark = "suggested", "?"
            else:
                kind, mark = "uncovered", "✗"
            cells.append(
                f'<span class="cell {kind}" title="{escape(point.text)}">'
                f"{escape(point.id)} {mark}</span>"
            )
        rows.append(
            f"<tr><td>{escape(section.id)}</td><td>{escape(section.title)}</td>"
            f"<td>{''.join(cells) or '<em>no points</em>'}</td></tr>"
        )
    return "<table><tr><th>§</th><th>Section</th><th>Points</th></tr>" + "".join(rows) + "</table>"


def _words(st: Status) -> str:
    scale = max(
        [s.words for s in st.sections]
        + [s.words_max or s.words_min or 0 for s in st.sections]
        + [1]
    )
    rows = []
    for s in st.sections:
        target = s.words_max or s.words_min
        over = s.words_max is not None and s.words > s.words_max
        marker = (
            f'<span class="target" style="left:{100 * target / scale:.1f}%"></span>'
            if target
            else ""
        )
        label = f"{s.words}" + (f" / {s.words_min or 0}–{s.words_max or '∞'}" if target else "")
        rows.append(
            f"<tr><td>{escape(s.id)}</td><td>{escape(s.title)}</td>"
            f'<td class="num">{label}</td><td><div class="bar{" over" if over else ""}">'
            f'<div class="fill" style="width:{100 * s.words / scale:.1f}%"></div>'
            f"{marker}</div></td></tr>"
        )
    return (
        '<table><tr><th>§</th><th>Section</th><th class="num">Words</th><th></th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _diagnostics(diagnostics: tuple[Diagnostic, ...]) -> str:
    if not diagnostics:
        return "<p>No problems found.</p>"
    rows = [
        f'<tr><td class="{d.severity}">{d.severity}</td><td><code>{escape(d.location)}'
        f"</code></td><td><code>{escape(d.rule)}</code></td><td>{escape(d.message)}"
        + (f"<br><small>{escape(d.hint)}</small>" if d.hint else "")
        + "</td></tr>"
        for d in diagnostics
    ]
    return (
        "<table><tr><th>Severity</th><th>Where</th><th>Rule</th><th>Message</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _changes(summary: Summary | None) -> str:
    if summary is None:
        return (
            "<p>No earlier draft is recorded yet (<code>paperbuild build</code> records one).</p>"
        )
    if not summary.changed:
        return f"<p>No changes since {escape(summary.old)}.</p>"
    rows = []
    for s in summary.sections:
        if s.changed:
            st = s.stats
            details = [escape(d) for d in s.details()]
            rows.append(
                f"<tr><td>{escape(s.label)}</td>"
                f'<td class="num">+{st.words_added}</td><td class="num">'
                f'−{st.words_removed}</td><td class="num">{st.paragraphs_changed}</td>'
                f"<td>{'<br>'.join(details)}</td></tr>"
            )
    return (
        f"<p>Since draft {escape(summary.old)}:</p><table><tr><th>Section</th>"
        '<th class="num">Words added</th><th class="num">Removed</th>'
        '<th class="num">Paragraphs</th><th>Details</th></tr>' + "".join(rows) + "</table>"
    )


def previous_summary(project: Project, result: CheckResult) -> Summary | None:
    """Return what changed since the newest recorded draft of another version, if any."""
    from paperbuild.diff.redline import compare
    from paperbuild.diff.sides import resolve_side, side_from_project
    from paperbuild.references import csl_path
    from paperbuild.versions import list_snapshots

    current = project.outline.document.version
    older = [s for s in list_snapshots(project) if s.version != current]
    if not older:
        return None
    old = resolve_side(older[-1].version, project, project.root)
    new = side_from_project(project, current, result)
    return compare(old, new, author="paperbuild", csl=csl_path(project)).summary


def report_html(project: Project) -> str:
    """Return the report page: coverage matrix, words against targets, diagnostics, changes."""
    result = run_checks(project, with_blocks=True)  # one check serves every part of the page
    st = status(project, result)
    meta = project.outline.document
    generated = dt.datetime.now().strftime("%d %B %Y, %H:%M")
    return f"""<!DOCTYPE html>
<html lang="{escape(meta.lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(meta.title)}: report</title><style>{CSS}</style></head><body>
<h1>{escape(meta.title)}</h1>
<p class="sub">{escape(meta.status)} · version {escape(meta.version)} · report of {generated}</p>
<p><strong>{escape(summary_line(list(result.diagnostics), result.coverage_line))}</strong>;
{st.words} words.</p>
<h2>Outline coverage</h2>
<p class="legend"><span class="cell covered">✓</span>covered
<span class="cell suggested">?</span>uncovered, a paragraph seems to address it
<span class="cell uncovered">✗</span>uncovered</p>
{_matrix(project, result)}
<h2>Words</h2>
{_words(st)}
<h2>Check</h2>
{_diagnostics(result.diagnostics)}
<h2>Changes</h2>
{_changes(previous_summary(project, result))}
</body></html>
"""


def write_report(project: Project) -> Path:
    """Write build/report.html and return its path."""
    path = output_file(output_dir(project.root, project.build_dir), "report.html")
    write_atomic(path, report_html(project).encode("utf-8"))
    return path
