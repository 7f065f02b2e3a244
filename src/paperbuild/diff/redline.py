"""`paperbuild diff`: align two drafts section by section and write the redline and summary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from paperbuild import pandoc_ast as pa
from paperbuild.assemble import Document, Part, parts
from paperbuild.diff.align import DELETE, INSERT, Differ, Stats
from paperbuild.diff.sides import Side, safe_label
from paperbuild.diff.summary import (
    SectionChange,
    Summary,
    cited_keys,
    formatted,
    markdown,
    works,
)
from paperbuild.load.project import Project
from paperbuild.pandoc_ast import Node, rewrite
from paperbuild.queries import QUERY_MARK, without_queries
from paperbuild.references import csl_path
from paperbuild.render.common import Previous, RenderOptions
from paperbuild.safety import output_file
from paperbuild.util.fsutil import write_atomic

FORMATS = ("docx", "pdf", "md")


@dataclass(frozen=True, kw_only=True)
class Redline:
    """The redline document (new draft with tracked changes) and its summary."""

    document: Document
    front: list[Node]
    summary: Summary


def change_date(document: Document) -> str:
    """Return the new draft's date as a tracked-change timestamp."""
    return f"{document.date.isoformat()}T00:00:00Z"


def compare(old: Side, new: Side, *, author: str, csl: Path) -> Redline:
    """Return the redline of two drafts: sections aligned by outline id, then blocks, then words."""
    from paperbuild.render.docx import front_matter_blocks

    old, new = _without_queries(old), _without_queries(new)  # a redline shows text, not queries
    date = change_date(new.document)
    front_differ = Differ(author=author, date=date)
    front = front_differ.blocks(
        front_matter_blocks(old.document), front_matter_blocks(new.document)
    )
    old_parts = {p.id: p for p in parts(old.document)}
    new_parts = {p.id: p for p in parts(new.document)}
    order = SequenceMatcher(None, list(old_parts), list(new_parts), autojunk=False)
    keys = {
        sid: (cited_keys(old_parts.get(sid)), cited_keys(new_parts.get(sid)))
        for sid in {*old_parts, *new_parts}
    }
    changed_keys = set().union(*(a ^ b for a, b in keys.values()))
    cited = works(changed_keys, {**old.entries, **new.entries}, csl, new.document.meta.lang)
    blocks: list[Node] = []
    changes = [SectionChange(id="", title="Title page", stats=front_differ.stats)]
    total = Stats()
    total.add(front_differ.stats)
    for tag, i1, i2, j1, j2 in order.get_opcodes():
        ids = (
            list(new_parts)[j1:j2]
            if tag == "equal"
            else (list(old_parts)[i1:i2] + list(new_parts)[j1:j2])
        )
        for sid in dict.fromkeys(ids):
            differ = Differ(author=author, date=date)
            o, n = old_parts.get(sid), new_parts.get(sid)
            if o and n:
                blocks += differ.blocks(o.blocks, n.blocks)
            elif n:
                blocks += differ.mark(n.blocks, INSERT)
            elif o:
                blocks += differ.mark(o.blocks, DELETE)
            total.add(differ.stats)
            change = _section_change(sid, o, n, differ.stats, old, new, keys[sid], cited)
            changes.append(dataclasses.replace(change, samples=tuple(differ.samples)))
    summary = Summary(old=old.label, new=new.label, sections=tuple(changes), total=total)
    document = dataclasses.replace(new.document, blocks=blocks)
    return Redline(document=document, front=front, summary=summary)


def _without_queries(side: Side) -> Side:
    """Return the side with its queries to the committee reduced to their passages."""
    if QUERY_MARK not in pa.dumps(side.document.blocks):
        return side
    document = dataclasses.replace(side.document, blocks=without_queries(side.document.blocks))
    return dataclasses.replace(side, document=document)


def _section_change(
    sid: str,
    o: Part | None,
    n: Part | None,
    stats: Stats,
    old: Side,
    new: Side,
    keys: tuple[set[str], set[str]],
    cited: dict[str, str],
) -> SectionChange:
    before, after = old.coverage.get(sid, frozenset()), new.coverage.get(sid, frozenset())
    keys_old, keys_new = keys
    return SectionChange(
        id=sid if sid not in ("front", "references") else "",
        title=_title(n, o, sid),
        stats=stats,
        points_gained=tuple(sorted(after - before)),
        points_lost=tuple(sorted(before - after)),
        citations_added=formatted(keys_new - keys_old, cited),
        citations_removed=formatted(keys_old - keys_new, cited),
    )


def _words_apart(inlines: list[Node]) -> list[list[Node]]:
    """Return inlines in runs: each a word (what stands between spaces) or its spaces."""
    runs: list[list[Node]] = []
    for node in inlines:
        spacing = node.get("t") in pa.SPACES
        if runs and (runs[-1][0].get("t") in pa.SPACES) == spacing:
            runs[-1].append(node)
        else:
            runs.append([node])
    return runs


def _title(n: Part | None, o: Part | None, sid: str) -> str:
    part = n or o
    return part.title if part is not None else sid


def typst_changes(blocks: list[Node]) -> list[Node]:
    """Return blocks with tracked-change spans as Typst calls (underlined / struck, in colour).

    Each word is its own call, so each line a change runs over gets its own change bar.
    """

    def convert(node: Node) -> Node | list[Node] | None:
        for kind, fn in ((INSERT, "pbins"), (DELETE, "pbdel")):
            if pa.has_class(node, kind):
                out: list[Node] = []
                for chunk in _words_apart(pa.inlines(node)):
                    if pa.kind(chunk[0]) in pa.SPACES:
                        out.extend(chunk)
                        continue
                    out.append(pa.raw_inline("typst", f"#{fn}["))
                    out.extend(chunk)
                    out.append(pa.raw_inline("typst", "]"))
                return out
        return None

    copied: list[Node] = pa.copy_tree(blocks)
    result: list[Node] = rewrite(copied, convert, frozenset(("Span",)))
    return result


@dataclass(frozen=True, kw_only=True)
class DiffOptions:
    """Where and what to write."""

    out_dir: Path
    formats: tuple[str, ...] = FORMATS
    author: str = "paperbuild"
    render: RenderOptions = dataclasses.field(default_factory=RenderOptions)


def write_diff(
    project: Project, old: Side, new: Side, options: DiffOptions
) -> tuple[Summary, list[Path]]:
    """Write OLD..NEW.docx / .pdf / .md into the output folder; return the summary and paths."""
    redline = compare(old, new, author=options.author, csl=csl_path(project))
    stem = f"{safe_label(old.label)}..{safe_label(new.label)}"
    previous = Previous(
        version=old.document.version,
        date=old.document.display_date,
        author=options.author,
        when=change_date(new.document),
    )
    options = dataclasses.replace(
        options, render=dataclasses.replace(options.render, previous=previous, queries=False)
    )
    written: list[Path] = []

    def write_docx() -> None:
        from paperbuild.render.docx import render_docx

        data = render_docx(
            redline.document, project, options.render, front=redline.front, tracked=True
        )
        written.append(_write(options.out_dir / f"{stem}.docx", data))

    if "pdf" in options.formats:
        from paperbuild.render.pdf import render_typst

        document = dataclasses.replace(
            redline.document, blocks=typst_changes(redline.document.blocks)
        )
        # Typst compiles in a process of its own: the DOCX is rendered meanwhile.
        meanwhile = write_docx if "docx" in options.formats else None
        pdf = render_typst(document, project, options.render, meanwhile)
        written.append(_write(options.out_dir / f"{stem}.pdf", pdf))
    elif "docx" in options.formats:
        write_docx()
    if "md" in options.formats:
        written.append(
            _write(options.out_dir / f"{stem}.md", markdown(redline.summary).encode("utf-8"))
        )
    return redline.summary, written


def _write(path: Path, data: bytes) -> Path:
    path = output_file(path.parent, path.name)
    write_atomic(path, data)
    return path
