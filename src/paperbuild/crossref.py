"""Cross-references: labelled figures, tables, equations, listings and headings, and @-references.

Authors write pandoc-crossref's syntax (`{#fig:x}`, `@fig:x`, `[-@fig:x]`, `@Fig:x`) or Quarto's
(`{#fig-x}`, `@fig-x`). Numbering and references are plain functions over pandoc JSON: the
assembled document carries caption numbers and reference texts as ordinary inlines, so both
renderers, the snapshot and the redline see the same words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from paperbuild import pandoc_ast as pa
from paperbuild.furniture import Words
from paperbuild.load.chapters import bookdown_reference
from paperbuild.pandoc_ast import Node, rewrite, str_inlines, stringify

KINDS = {"fig": "figure", "tbl": "table", "eq": "equation", "lst": "listing", "sec": "section"}
REF = re.compile(r"^(fig|tbl|eq|lst|sec)([:-])(\S+)$", re.IGNORECASE)
EQ_LABEL = re.compile(r"^\{#((?:eq)[:-][^\s{}]+)\}$")


@dataclass(frozen=True, kw_only=True)
class Ref:
    """A cross-reference as written: `@Fig:cat` is kind 'figure', label 'fig:cat', capitalised."""

    kind: str
    label: str
    bare: str
    capital: bool


def parse_ref(citation_id: str) -> Ref | None:
    """Return the reference a citation id spells, or None for an ordinary citation key."""
    m = REF.match(citation_id)
    if m is None:
        return None
    prefix = m.group(1)
    if prefix not in (prefix.lower(), prefix.capitalize()):
        return None
    return Ref(
        kind=KINDS[prefix.lower()],
        label=f"{prefix.lower()}{m.group(2)}{m.group(3)}",
        bare=m.group(3),
        capital=prefix[0].isupper(),
    )


@dataclass(frozen=True, kw_only=True)
class Target:
    """A numbered element a reference can point at."""

    kind: str
    number: str  # "" for an unnumbered heading
    anchor: str
    title: str = ""  # what a reference to an unnumbered heading reads


def lookup(targets: dict[str, Target], ref: Ref) -> Target | None:
    """Return the element a reference names: its own label, else a bare id (`@sec:x` -> `x`)."""
    return targets.get(ref.label) or targets.get(ref.bare)


# --- heading identifiers, as pandoc makes them -------------------------------------------------


def auto_identifier(text: str) -> str:
    """Return the identifier pandoc's auto_identifiers extension gives a heading's text."""
    kept = "".join(
        ch for ch in text if ch.isalnum() or ch in "_-. " or unicodedata.category(ch) == "Zs"
    )
    ident = re.sub(r"\s+", "-", kept.strip()).lower()
    ident = re.sub(r"^[^a-z\u00c0-\uffff]+", "", ident)
    return ident or "section"


def unused_identifier(base: str, used: set[str]) -> str:
    """Return base, or the first of base-1, base-2, … not in used (as pandoc numbers repeated
    headings' identifiers); it is added to used."""
    ident, n = base, 0
    while ident in used:
        n += 1
        ident = f"{base}-{n}"
    used.add(ident)
    return ident


def is_automatic(text: str, ident: str) -> bool:
    """Return whether a heading's identifier is pandoc's own (`results`, `results-2`)."""
    base = auto_identifier(text)
    return ident == base or re.fullmatch(re.escape(base) + r"-\d+", ident) is not None


def document_ids(chapters: Sequence[Sequence[tuple[str, str]]]) -> list[dict[str, str]]:
    """Return per chapter {local heading id: document id}, deduplicated as pandoc would.

    Each chapter is parsed on its own, so two chapters may both have `results`; pandoc given
    the whole text would call the second `results-1`. Explicit identifiers are kept as written.
    """
    used: set[str] = set()
    maps: list[dict[str, str]] = []
    for headings in chapters:
        mapping: dict[str, str] = {}
        for text, local in headings:
            base = auto_identifier(text)
            if not is_automatic(text, local):
                used.add(local)
                mapping.setdefault(local, local)
                continue
            candidate, n = base, 0
            while candidate in used:
                n += 1
                candidate = f"{base}-{n}"
            used.add(candidate)
            mapping.setdefault(local, candidate)
        maps.append(mapping)
    return maps


def bibliography_ids(cited: Iterable[str]) -> set[str]:
    """Return the identifiers citeproc gives the bibliography and each cited entry's place in it."""
    keys = list(cited)
    return {"refs", "bibliography", *(f"ref-{k}" for k in keys)} if keys else set()


# --- bookdown's syntax --------------------------------------------------------------------------

BOOKDOWN_MARKS = ("\\@ref(", "(\\#")  # (in a chapter's text: it may use bookdown's syntax)
BOOKDOWN_REF = re.compile(r"@ref\(([^()\s]+)\)")  # (as pandoc reads `\@ref(x)`: its Str)
BOOKDOWN_LABEL = re.compile(r"\(#([A-Za-z]+[:-][^()\s]+)\)")  # `(\#fig:x)` opening a caption
BOOKDOWN_EQUATION = re.compile(r"\s*\(\\#(eq[:-][^()\s]+)\)\s*")  # `(\#eq:x)` in maths


def has_bookdown(text: str) -> bool:
    """Return whether a chapter's text may use bookdown's cross-references (a quick test)."""
    return any(mark in text for mark in BOOKDOWN_MARKS)


def read_bookdown(blocks: list[Node]) -> list[Node]:
    r"""Return the blocks with bookdown's cross-references read as pandoc-crossref's (in place).

    An R Markdown paper labels a figure or table by opening its caption with `(\#fig:cars)`
    or `(\#tab:x)` and an equation with `(\#eq:x)` inside it, and refers to them, and to
    headings, with `\@ref(fig:cars)`, which reads as the number alone (`[-@fig:cars]`; tab: as
    tbl:, a heading's `\@ref(intro)` as `[-@sec:intro]`). pandoc reads none of it: the drafts
    showed "@ref(fig:cars)" and "(#fig:cars) Cars".
    """
    pa.rewrite_lists(blocks, _bookdown_list)
    return blocks


def _bookdown_list(value: list[Any]) -> list[Any]:
    """Return a list of inlines or of blocks with bookdown's syntax in it read."""
    if any(pa.kind(v) in ("Str", "Math") for v in value):
        return _bookdown_inlines(value)
    return [_bookdown_block(v) for v in value]


def _bookdown_block(node: Any) -> Any:
    """Return a figure or table labelled by its caption's `(\\#fig:x)`, or a raw LaTeX equation
    with its `(\\#eq:x)` a `\\label`; anything else as it is."""
    kind = pa.kind(node)
    if kind in ("Figure", "Table"):
        return _bookdown_caption(node)
    if kind in ("RawBlock", "RawInline") and "(\\#eq" in pa.text(node):
        label = BOOKDOWN_EQUATION.sub(lambda m: f"\\label{{{m.group(1)}}}", pa.text(node))
        return pa.with_text(node, label)
    return node


def _bookdown_inlines(inlines: list[Node]) -> list[Node]:
    r"""Return inlines with each `@ref(x)` a reference and each `(\#eq:x)` in maths its label."""
    out: list[Node] = []
    for node in inlines:
        kind = pa.kind(node)
        text = pa.text(node) if kind in ("Str", "Math") else ""
        if kind == "Str" and "@ref(" in text:
            out += _references_in(text)
        elif kind == "Math" and pa.math_display(node) and (found := BOOKDOWN_EQUATION.search(text)):
            out += [pa.math(BOOKDOWN_EQUATION.sub(" ", text).strip(), display=True), pa.space()]
            out.append(pa.str_node(f"{{#{found.group(1)}}}"))
        else:
            out.append(node)
    return out


def _references_in(text: str) -> list[Node]:
    """Return a Str's text with each `@ref(x)` in it a reference to its number.

    An equation's number is shown in brackets, "(2)", so the brackets an author puts around
    `\\@ref(eq:x)`, as bookdown shows the number alone, go with the reference.
    """
    out: list[Node] = []
    start = 0
    for m in BOOKDOWN_REF.finditer(text):
        ident = bookdown_reference(m.group(1))
        before, after = m.start(), m.end()
        if (
            ident.startswith(("eq:", "eq-"))
            and text[before - 1 : before] + text[after:][:1] == "()"
        ):
            before, after = before - 1, after + 1
        if before > start:
            out.append(pa.str_node(text[start:before]))
        record = {
            "citationId": ident,
            "citationPrefix": [],
            "citationSuffix": [],
            "citationMode": {"t": "SuppressAuthor"},
            "citationNoteNum": 0,
            "citationHash": 0,
        }
        out.append(pa.cite([record], [pa.str_node(f"[-@{ident}]")]))
        start = after
    if start < len(text):
        out.append(pa.str_node(text[start:]))
    return out


def _bookdown_caption(node: Node) -> Node:
    r"""Return a figure or table whose caption opens with `(\#fig:x)` labelled by it, the words
    dropped from the caption and from its image's alt text; else the node as it is."""
    _, blocks = pa.caption(node)
    inlines = pa.inlines(blocks[0]) if blocks else []
    first = inlines[0] if inlines and pa.kind(inlines[0]) == "Str" else None
    m = BOOKDOWN_LABEL.fullmatch(pa.text(first)) if first else None
    if m is None:
        return node
    _drop_label(inlines, m.group(0))
    for image in (n for n in pa.walk(pa.blocks(node)) if pa.kind(n) == "Image"):
        _drop_label(pa.inlines(image), m.group(0))
    a = pa.attr(node) or pa.Attr()
    return node if a.ident else pa.with_attr(node, a._replace(ident=bookdown_reference(m.group(1))))


def _drop_label(inlines: list[Node], label: str) -> None:
    """Remove the `(#fig:x)` that opens inlines, and the space after it (in place)."""
    if inlines and pa.kind(inlines[0]) == "Str" and pa.text(inlines[0]) == label:
        del inlines[: 2 if len(inlines) > 1 and pa.kind(inlines[1]) == "Space" else 1]


# --- labelled equations --------------------------------------------------------------------------


def label_equations(blocks: list[Node]) -> list[Node]:
    """Return blocks with each `$$ … $$ {#eq:x}` paragraph turned into an equation Div."""
    out: list[Node] = []
    for block in blocks:
        if pa.kind(block) == "Para":
            out.extend(_split_equation(block))
        else:
            out.append(pa.map_block_lists(block, label_equations))
    return out


def _split_equation(para: Node) -> list[Node]:
    inlines = pa.inlines(para)
    for i, node in enumerate(inlines):
        if node.get("t") != "Math" or not pa.math_display(node):
            continue
        j = i + 1
        while j < len(inlines) and inlines[j].get("t") in ("Space", "SoftBreak"):
            j += 1
        m = (
            EQ_LABEL.match(pa.text(inlines[j]))
            if j < len(inlines) and pa.kind(inlines[j]) == "Str"
            else None
        )
        if m is None:
            continue
        before, after = _trim(inlines[:i]), _trim(inlines[j + 1 :])
        equation = pa.div(pa.Attr(m.group(1), ["pb-equation"]), [pa.para([node])])
        rest = _split_equation(pa.para(after)) if after else []
        return ([pa.para(before)] if before else []) + [equation] + rest
    return [para]


def _trim(inlines: list[Node]) -> list[Node]:
    spaces = ("Space", "SoftBreak")
    while inlines and inlines[0].get("t") in spaces:
        inlines = inlines[1:]
    while inlines and inlines[-1].get("t") in spaces:
        inlines = inlines[:-1]
    return inlines


# --- numbering floats ----------------------------------------------------------------------------


LISTED_KINDS = ("figure", "table")  # what a list after the contents can list, in its order


@dataclass(frozen=True, kw_only=True)
class Listed:
    """A numbered figure or table as a list of figures or tables shows it."""

    kind: str  # figure | table
    number: str
    title: str  # the short caption if the author gave one, else the caption's text
    anchor: str  # the element's identifier ("" when it has none)


@dataclass(kw_only=True)
class Numbering:
    """Counters for figures, tables, equations and listings, through the document or a section."""

    words: Words
    within_section: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    listed: list[Listed] = field(default_factory=list)
    section: str = ""

    def start_section(self, section_id: str) -> None:
        """Begin a section (counters restart when numbering within sections)."""
        self.section = section_id
        if self.within_section:
            self.counts.clear()

    def next(self, kind: str) -> str:
        """Return the next number of a kind of element."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        n = str(self.counts[kind])
        return f"{self.section}.{n}" if self.within_section and self.section else n

    def add(self, ident: str, target: Target) -> None:
        """Record a target by its identifier; the first element with an id keeps it.

        A second element with the same id is the check's `duplicate-label`.
        """
        if ident:
            self.targets.setdefault(ident, target)

    def blocks(self, blocks: list[Node]) -> list[Node]:
        """Return blocks with every float numbered and captioned, recording its target."""
        return [self._block(b) for b in blocks]

    def _block(self, block: Node) -> Node:
        t = block.get("t")
        if t == "Div" and _is_figure_div(block):
            return self._figure(_div_to_figure(block))
        if t == "Figure":
            return self._figure(block)
        if t == "Table":
            return self._table(block)
        if t == "Div" and pa.has_class(block, "pb-equation"):
            return self._equation(block)
        if t == "CodeBlock":
            return self._listing(block)
        return pa.map_block_lists(block, self.blocks)

    def _list(self, kind: str, number: str, caption: Any, ident: str) -> None:
        title = " ".join(plain_text(caption, self.words.quotes).split())
        self.listed.append(Listed(kind=kind, number=number, title=title, anchor=ident))

    def _caption(self, kind: str, number: str, caption: list[Node]) -> list[Node]:
        label = caption_label(self.words, kind, number)
        if caption and pa.kind(caption[0]) in ("Plain", "Para"):
            first = caption[0]
            return [pa.with_inlines(first, label + pa.inlines(first)), *caption[1:]]
        return [pa.plain(_trim(label)), *caption]

    def _figure(self, block: Node) -> Node:
        ident, (short, caption), content = pa.ident(block), pa.caption(block), pa.blocks(block)
        subfigures = [b for b in content if pa.kind(b) == "Figure"]
        if not caption and not ident and not subfigures:
            return block
        number = self.next("figure")
        self.add(ident, Target(kind="figure", number=number, anchor=ident))
        self._list("figure", number, short or caption, ident)
        if subfigures:
            content = self._subfigures(content, number)
        new_caption = self._caption("figure", number, caption)
        return pa.with_blocks(pa.with_caption(block, new_caption), content)

    def _subfigures(self, content: list[Node], number: str) -> list[Node]:
        out: list[Node] = []
        letter = 0
        for block in content:
            if pa.kind(block) != "Figure":
                out.append(block)
                continue
            ident, caption = pa.ident(block), pa.caption(block)[1]
            sub = chr(ord("a") + letter % 26)
            letter += 1
            self.add(ident, Target(kind="figure", number=f"{number}{sub}", anchor=ident))
            mark: list[Node] = [pa.str_node(f"({sub})"), pa.space()]
            if caption and pa.kind(caption[0]) in ("Plain", "Para"):
                caption = [pa.with_inlines(caption[0], mark + pa.inlines(caption[0])), *caption[1:]]
            else:
                caption = [pa.plain(_trim(mark))]
            out.append(pa.with_caption(block, caption))
        return out

    def _table(self, block: Node) -> Node:
        ident = pa.ident(block)
        short, caption = pa.caption(block)
        if not caption and not ident:
            return block
        number = self.next("table")
        self.add(ident, Target(kind="table", number=number, anchor=ident))
        self._list("table", number, short or caption, ident)
        return pa.with_caption(block, self._caption("table", number, caption))

    def _equation(self, block: Node) -> Node:
        ident, para = pa.ident(block), pa.blocks(block)[0]
        number = self.next("equation")
        self.add(ident, Target(kind="equation", number=number, anchor=ident))
        tag = pa.span(pa.Attr("", ["pb-equation-number"]), [pa.str_node(f"({number})")])
        return pa.with_blocks(block, [pa.para([*pa.inlines(para), tag])])

    def _listing(self, block: Node) -> Node:
        (ident, classes, kvs), code = pa.attr(block) or pa.Attr(), pa.text(block)
        caption = next((v for k, v in kvs if k in ("caption", "lst-cap")), None)
        if caption is None and not ident.lower().startswith(("lst:", "lst-")):
            return block
        number = self.next("listing")
        self.add(ident, Target(kind="listing", number=number, anchor=ident))
        rest = [[k, v] for k, v in kvs if k not in ("caption", "lst-cap")]
        text = caption_label(self.words, "listing", number) + str_inlines(caption or "")
        heading = pa.div(
            pa.Attr("", ["pb-listing-caption"], [["custom-style", "Listing Caption"]]),
            [pa.para(_trim(text))],
        )
        return pa.div(
            pa.Attr(ident, ["pb-listing"]),
            [heading, pa.code_block(pa.Attr("", classes, rest), code)],
        )


def plain_text(value: Any, quotes: tuple[str, str, str, str]) -> str:
    """Return a caption's or heading's text for a list or the contents: citations and notes
    left out (they belong to the text, not to its entry in a list)."""

    def drop(node: Node) -> list[Node]:
        return []

    return stringify(rewrite(pa.copy_tree(value), drop, frozenset(("Cite", "Note"))), quotes)


def caption_label(words: Words, kind: str, number: str) -> list[Node]:
    """Return the inlines that open a caption: 'Figure 3:' (the DOCX makes the number a field)."""
    colon = words.caption_colon
    label = pa.Attr("", ["pb-caption-label"], [["kind", kind], ["number", number]])
    out = [pa.span(label, [pa.str_node(words.name(kind)), pa.space(), pa.str_node(number)])]
    if colon.startswith(" "):
        out.append(pa.space())
    out += [pa.str_node(colon.strip()), pa.space()]
    return out


def _is_figure_div(block: Node) -> bool:
    ident = pa.ident(block).lower()
    return ident.startswith(("fig:", "fig-")) and any(
        pa.kind(b) == "Figure" for b in pa.blocks(block)
    )


def _div_to_figure(block: Node) -> Node:
    """Return a pandoc-crossref sub-figure div as one Figure (its last paragraph the caption)."""
    content = pa.blocks(block)
    caption: list[Node] = []
    if content and pa.kind(content[-1]) in ("Para", "Plain"):
        caption = [pa.plain(pa.inlines(content[-1]))]
        content = content[:-1]
    return pa.figure(pa.attr(block) or pa.Attr(), None, caption, content)


# --- references ----------------------------------------------------------------------------------


def render_refs(
    cite: Node, targets: dict[str, Target], words: Words, citation_keys: Iterable[str] = ()
) -> list[Node] | None:
    """Return the inlines for a Cite holding cross-references (None when it holds none).

    A bracket mixing cross-references and citations is split: the references rendered here,
    the citations left as a Cite for citeproc, beside the references' span rather than inside
    it, so that a citation next to one of the author's notes still joins it
    (`@sec:x [@key, p. 4].[^1]`, which pandoc reads as one Cite, has one note marker).
    """
    keys = set(citation_keys)
    refs = [(c, parse_ref(c["citationId"])) for c in pa.citations(cite)]
    if all(r is None or c["citationId"] in keys for c, r in refs):
        return None
    out: list[Node] = []
    run: list[tuple[Node, Ref]] = []
    citations: list[Node] = []
    for c, r in refs:
        if r is not None and c["citationId"] not in keys:
            run.append((c, r))
            continue
        citations.append(c)
    if run:
        out += _render_run(run, targets, words)
    spanned = [pa.span(pa.Attr("", ["crossref"]), out)]
    if citations:
        text = "[" + "; ".join("@" + c["citationId"] for c in citations) + "]"
        spanned += [pa.space(), pa.cite(citations, [pa.str_node(text)])]
    return spanned


def _render_run(
    run: list[tuple[Node, Ref]], targets: dict[str, Target], words: Words
) -> list[Node]:
    groups: list[tuple[str, bool, bool, list[tuple[Ref, Target | None]], Node]] = []
    for citation, ref in run:
        target = lookup(targets, ref)
        kind = target.kind if target else ref.kind
        bare = citation["citationMode"]["t"] == "SuppressAuthor"
        if groups and groups[-1][0] == kind and groups[-1][2] == bare:
            groups[-1][3].append((ref, target))
        else:
            groups.append((kind, ref.capital, bare, [(ref, target)], citation))
    out: list[Node] = []
    for i, (kind, capital, bare, members, first) in enumerate(groups):
        if i:
            out += [pa.str_node(";"), pa.space()]
        prefix = first.get("citationPrefix") or []
        if prefix:
            out += [*prefix, pa.space()]
        if not bare:
            out += [pa.str_node(words.name(kind, plural=len(members) > 1, capital=capital))]
            out.append(pa.space())
        out += _numbers([t for _, t in members], words)
        last = run[-1][0] if i == len(groups) - 1 else first
        suffix = last.get("citationSuffix") or []
        out += suffix
    return out


def _link(target: Target | None) -> Node:
    if target is None:
        return pa.str_node("??")
    text = f"({target.number})" if target.kind == "equation" else target.number or target.title
    return pa.link(pa.Attr(), [pa.str_node(text)], f"#{target.anchor}")


def _numbers(targets: list[Target | None], words: Words) -> list[Node]:
    """Return linked numbers: '1', '1 and 2', '1, 3 and 5', or a range '1–3'."""
    pieces: list[list[Node]] = []
    i = 0
    while i < len(targets):
        j = i
        while j + 1 < len(targets) and _consecutive(targets[j], targets[j + 1]):
            j += 1
        if j - i >= 2:
            pieces.append([_link(targets[i]), pa.str_node("–"), _link(targets[j])])
            i = j + 1
        else:
            pieces.append([_link(targets[i])])
            i += 1
    out: list[Node] = []
    for k, piece in enumerate(pieces):
        if k and k == len(pieces) - 1:
            out += [pa.space(), pa.str_node(words.and_), pa.space()]
        elif k:
            out += [pa.str_node(","), pa.space()]
        out += piece
    return out


def _consecutive(a: Target | None, b: Target | None) -> bool:
    if a is None or b is None or a.kind == "section":
        return False
    head_a, _, last_a = a.number.rpartition(".")
    head_b, _, last_b = b.number.rpartition(".")
    return (
        head_a == head_b
        and last_a.isdigit()
        and last_b.isdigit()
        and int(last_b) == int(last_a) + 1
    )


# --- what each renderer needs --------------------------------------------------------------------

TAB = pa.raw_inline("openxml", "<w:r><w:tab/></w:r>")
SEQ_NAMES = {"figure": "Figure", "table": "Table", "equation": "Equation", "listing": "Listing"}


def for_docx(node: Node) -> Node | list[Node] | None:
    """Return a caption number as a Word SEQ field, an equation as a tabbed 'Equation' paragraph."""
    if pa.kind(node) == "Span" and pa.has_class(node, "pb-caption-label"):
        a = pa.attr(node) or pa.Attr()
        number, kind = a.get("number"), a.get("kind")
        inlines = pa.inlines(node)
        if not number.isdigit() or len(inlines) != 3 or kind not in SEQ_NAMES:
            return None  # numbered within sections, or changed by a redline: keep the text
        field = (
            f'<w:fldSimple w:instr=" SEQ {SEQ_NAMES[kind]} \\* ARABIC "><w:r><w:t>{number}'
            "</w:t></w:r></w:fldSimple>"
        )
        return [inlines[0], inlines[1], pa.raw_inline("openxml", field)]
    parts = _equation_parts(node)
    if parts is not None:
        a = pa.attr(node) or pa.Attr()
        maths, tags = parts
        inline = [pa.math(pa.text(n)) if pa.kind(n) == "Math" else n for n in maths]
        line = [TAB, *inline, TAB, *tags]
        return pa.div(a._replace(pairs=[["custom-style", "Equation"]]), [pa.para(line)])
    return None


UNLISTED = pa.raw_block("typst", "#set figure(outlined: false)")
STICKY, CLOSE = pa.raw_block("typst", "#block(sticky: true)["), pa.raw_block("typst", "]")


def for_typst(node: Node) -> Node | list[Node] | None:
    """Return an equation as a grid with its number at the right margin.

    A figure's sub-figures are kept out of the list of figures (as Word's list leaves them out);
    a listing's caption is kept on the page of its code's first lines.
    """
    if pa.kind(node) == "Figure":
        content = pa.blocks(node)
        if any(pa.kind(b) == "Figure" for b in content):
            return pa.with_blocks(node, [UNLISTED, *content])
        return None
    if pa.kind(node) == "Div" and pa.has_class(node, "pb-listing-caption"):  # kept with its code
        return [STICKY, *pa.blocks(node), CLOSE]
    parts = _equation_parts(node)
    if parts is None:
        return None
    math, tags = parts
    number = "".join(pa.text(s) for tag in tags for s in pa.inlines(tag) if pa.kind(s) == "Str")
    opening = "#grid(columns: (1fr, auto), align: horizon, ["
    closing = f"], [{typst_text(number)}])"
    grid = [pa.raw_block("typst", opening), pa.para(math), pa.raw_block("typst", closing)]
    return pa.with_blocks(node, grid)


def _equation_parts(node: Node) -> tuple[list[Node], list[Node]] | None:
    """Return a numbered equation's maths inlines and its number spans (None if not one)."""
    if pa.kind(node) != "Div" or not pa.has_class(node, "pb-equation"):
        return None
    content = pa.blocks(node)
    if not content or pa.kind(content[0]) != "Para":
        return None

    def is_number(n: Node) -> bool:
        return pa.kind(n) == "Span" and pa.has_class(n, "pb-equation-number")

    inlines = pa.inlines(content[0])
    return [n for n in inlines if not is_number(n)], [n for n in inlines if is_number(n)]


def typst_text(text: str) -> str:
    """Return text safe inside a Typst content block."""
    return re.sub(r"([\\\[\]#*_`$<>@=~/-])", r"\\\1", text)
