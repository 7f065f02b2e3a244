"""Cross-references: labelled figures, tables, equations, listings and headings, and @-references.

Authors write pandoc-crossref's syntax (`{#fig:x}`, `@fig:x`, `[-@fig:x]`, `@Fig:x`) or Quarto's
(`{#fig-x}`, `@fig-x`). Numbering and references are plain functions over pandoc JSON: the
assembled document carries caption numbers and reference texts as ordinary inlines, so both
renderers, the snapshot and the redline see the same words.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paperbuild.furniture import Words

if TYPE_CHECKING:  # ast imports this module
    from paperbuild.ast import Node


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
    number: str
    anchor: str


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


# --- labelled equations --------------------------------------------------------------------------


def label_equations(blocks: list[Node]) -> list[Node]:
    """Return blocks with each `$$ … $$ {#eq:x}` paragraph turned into an equation Div."""
    out: list[Node] = []
    for block in blocks:
        out.extend(_split_equation(block) if block.get("t") == "Para" else [_descend(block)])
    return out


def _descend(block: Node) -> Node:
    t = block.get("t")
    if t in ("Div", "BlockQuote"):
        content = block["c"][1] if t == "Div" else block["c"]
        new = label_equations(content)
        return {"t": t, "c": [block["c"][0], new]} if t == "Div" else {"t": t, "c": new}
    if t in ("BulletList", "OrderedList"):
        items = block["c"] if t == "BulletList" else block["c"][1]
        new_items = [label_equations(item) for item in items]
        return {"t": t, "c": new_items if t == "BulletList" else [block["c"][0], new_items]}
    return block


def _split_equation(para: Node) -> list[Node]:
    inlines: list[Node] = para["c"]
    for i, node in enumerate(inlines):
        if node.get("t") != "Math" or node["c"][0]["t"] != "DisplayMath":
            continue
        j = i + 1
        while j < len(inlines) and inlines[j].get("t") in ("Space", "SoftBreak"):
            j += 1
        m = (
            EQ_LABEL.match(inlines[j]["c"])
            if j < len(inlines) and inlines[j]["t"] == "Str"
            else None
        )
        if m is None:
            continue
        before, after = _trim(inlines[:i]), _trim(inlines[j + 1 :])
        equation = {
            "t": "Div",
            "c": [[m.group(1), ["pb-equation"], []], [{"t": "Para", "c": [node]}]],
        }
        rest = _split_equation({"t": "Para", "c": after}) if after else []
        return ([{"t": "Para", "c": before}] if before else []) + [equation] + rest
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
        if t == "Div" and "pb-equation" in block["c"][0][1]:
            return self._equation(block)
        if t == "CodeBlock":
            return self._listing(block)
        if t == "Div":
            return {"t": "Div", "c": [block["c"][0], self.blocks(block["c"][1])]}
        if t == "BlockQuote":
            return {"t": "BlockQuote", "c": self.blocks(block["c"])}
        if t in ("BulletList", "OrderedList"):
            items = block["c"] if t == "BulletList" else block["c"][1]
            new = [self.blocks(item) for item in items]
            return {"t": t, "c": new if t == "BulletList" else [block["c"][0], new]}
        if t == "DefinitionList":
            return {
                "t": t,
                "c": [[term, [self.blocks(d) for d in defs]] for term, defs in block["c"]],
            }
        return block

    def _list(self, kind: str, number: str, caption: Any, ident: str) -> None:
        title = " ".join(_plain(caption).split())
        self.listed.append(Listed(kind=kind, number=number, title=title, anchor=ident))

    def _caption(self, kind: str, number: str, caption: list[Node]) -> list[Node]:
        label = caption_label(self.words, kind, number)
        if caption and caption[0].get("t") in ("Plain", "Para"):
            first = caption[0]
            return [{"t": first["t"], "c": label + first["c"]}, *caption[1:]]
        return [{"t": "Plain", "c": _trim(label)}, *caption]

    def _figure(self, block: Node) -> Node:
        (ident, classes, kvs), (short, caption), content = block["c"]
        subfigures = [b for b in content if b.get("t") == "Figure"]
        if not caption and not ident and not subfigures:
            return block
        number = self.next("figure")
        self.add(ident, Target(kind="figure", number=number, anchor=ident))
        self._list("figure", number, short or caption, ident)
        if subfigures:
            content = self._subfigures(content, number)
        new_caption = self._caption("figure", number, caption)
        return {"t": "Figure", "c": [[ident, classes, kvs], [short, new_caption], content]}

    def _subfigures(self, content: list[Node], number: str) -> list[Node]:
        out: list[Node] = []
        letter = 0
        for block in content:
            if block.get("t") != "Figure":
                out.append(block)
                continue
            (ident, classes, kvs), (short, caption), inner = block["c"]
            sub = chr(ord("a") + letter % 26)
            letter += 1
            self.add(ident, Target(kind="figure", number=f"{number}{sub}", anchor=ident))
            mark: list[Node] = [{"t": "Str", "c": f"({sub})"}, {"t": "Space"}]
            if caption and caption[0].get("t") in ("Plain", "Para"):
                caption = [{"t": caption[0]["t"], "c": mark + caption[0]["c"]}, *caption[1:]]
            else:
                caption = [{"t": "Plain", "c": _trim(mark)}]
            out.append({"t": "Figure", "c": [[ident, classes, kvs], [short, caption], inner]})
        return out

    def _table(self, block: Node) -> Node:
        ident = block["c"][0][0]
        short, caption = block["c"][1]
        if not caption and not ident:
            return block
        number = self.next("table")
        self.add(ident, Target(kind="table", number=number, anchor=ident))
        self._list("table", number, short or caption, ident)
        new = list(block["c"])
        new[1] = [short, self._caption("table", number, caption)]
        return {"t": "Table", "c": new}

    def _equation(self, block: Node) -> Node:
        (ident, classes, kvs), content = block["c"]
        number = self.next("equation")
        self.add(ident, Target(kind="equation", number=number, anchor=ident))
        para = content[0]
        tag: Node = {
            "t": "Span",
            "c": [["", ["pb-equation-number"], []], [{"t": "Str", "c": f"({number})"}]],
        }
        return {"t": "Div", "c": [[ident, classes, kvs], [{"t": "Para", "c": [*para["c"], tag]}]]}

    def _listing(self, block: Node) -> Node:
        (ident, classes, kvs), code = block["c"]
        caption = next((v for k, v in kvs if k in ("caption", "lst-cap")), None)
        if caption is None and not ident.lower().startswith(("lst:", "lst-")):
            return block
        number = self.next("listing")
        self.add(ident, Target(kind="listing", number=number, anchor=ident))
        rest = [[k, v] for k, v in kvs if k not in ("caption", "lst-cap")]
        text = caption_label(self.words, "listing", number) + str_inlines(caption or "")
        return {
            "t": "Div",
            "c": [
                [ident, ["pb-listing"], []],
                [
                    {
                        "t": "Div",
                        "c": [
                            ["", ["pb-listing-caption"], [["custom-style", "Caption"]]],
                            [{"t": "Para", "c": _trim(text)}],
                        ],
                    },
                    {"t": "CodeBlock", "c": [["", classes, rest], code]},
                ],
            ],
        }


def _plain(caption: Any) -> str:
    """Return a caption's text for a list of figures: citations and notes left out."""
    from paperbuild.ast import rewrite, stringify  # ast imports this module

    def drop(node: Node) -> list[Node]:
        return []

    return stringify(rewrite(copy.deepcopy(caption), drop, frozenset(("Cite", "Note"))))


def caption_label(words: Words, kind: str, number: str) -> list[Node]:
    """Return the inlines that open a caption: 'Figure 3:' (the DOCX makes the number a field)."""
    colon = words.caption_colon
    out: list[Node] = [
        {
            "t": "Span",
            "c": [
                ["", ["pb-caption-label"], [["kind", kind], ["number", number]]],
                [{"t": "Str", "c": words.name(kind)}, {"t": "Space"}, {"t": "Str", "c": number}],
            ],
        }
    ]
    if colon.startswith(" "):
        out.append({"t": "Space"})
    out.append({"t": "Str", "c": colon.strip()})
    out.append({"t": "Space"})
    return out


def _is_figure_div(block: Node) -> bool:
    ident = block["c"][0][0].lower()
    return ident.startswith(("fig:", "fig-")) and any(b.get("t") == "Figure" for b in block["c"][1])


def _div_to_figure(block: Node) -> Node:
    """Return a pandoc-crossref sub-figure div as one Figure (its last paragraph the caption)."""
    attr, content = block["c"]
    caption: list[Node] = []
    if content and content[-1].get("t") in ("Para", "Plain"):
        caption = [{"t": "Plain", "c": content[-1]["c"]}]
        content = content[:-1]
    return {"t": "Figure", "c": [attr, [None, caption], content]}


def str_inlines(text: str) -> list[Node]:
    """Return plain text as Str and Space inlines."""
    out: list[Node] = []
    for i, word in enumerate(text.split()):
        if i:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


# --- references ----------------------------------------------------------------------------------


def render_refs(
    cite: Node, targets: dict[str, Target], words: Words, citation_keys: Iterable[str] = ()
) -> list[Node] | None:
    """Return the inlines for a Cite holding cross-references (None when it holds none).

    A bracket mixing cross-references and citations is split: the references rendered here,
    the citations left as a Cite for citeproc.
    """
    keys = set(citation_keys)
    items = cite["c"][0]
    refs = [(c, parse_ref(c["citationId"])) for c in items]
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
    if citations:
        text = "[" + "; ".join("@" + c["citationId"] for c in citations) + "]"
        out += [{"t": "Space"}, {"t": "Cite", "c": [citations, [{"t": "Str", "c": text}]]}]
    return [{"t": "Span", "c": [["", ["crossref"], []], out]}]


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
            out += [{"t": "Str", "c": ";"}, {"t": "Space"}]
        prefix = first.get("citationPrefix") or []
        if prefix:
            out += [*prefix, {"t": "Space"}]
        if not bare:
            out += [{"t": "Str", "c": words.name(kind, plural=len(members) > 1, capital=capital)}]
            out.append({"t": "Space"})
        out += _numbers([t for _, t in members], words)
        last = run[-1][0] if i == len(groups) - 1 else first
        suffix = last.get("citationSuffix") or []
        out += suffix
    return out


def _link(target: Target | None) -> Node:
    if target is None:
        return {"t": "Str", "c": "??"}
    text = f"({target.number})" if target.kind == "equation" else target.number
    return {"t": "Link", "c": [["", [], []], [{"t": "Str", "c": text}], [f"#{target.anchor}", ""]]}


def _numbers(targets: list[Target | None], words: Words) -> list[Node]:
    """Return linked numbers: '1', '1 and 2', '1, 3 and 5', or a range '1–3'."""
    pieces: list[list[Node]] = []
    i = 0
    while i < len(targets):
        j = i
        while j + 1 < len(targets) and _consecutive(targets[j], targets[j + 1]):
            j += 1
        if j - i >= 2:
            pieces.append([_link(targets[i]), {"t": "Str", "c": "–"}, _link(targets[j])])
            i = j + 1
        else:
            pieces.append([_link(targets[i])])
            i += 1
    out: list[Node] = []
    for k, piece in enumerate(pieces):
        if k and k == len(pieces) - 1:
            out += [{"t": "Space"}, {"t": "Str", "c": words.and_}, {"t": "Space"}]
        elif k:
            out += [{"t": "Str", "c": ","}, {"t": "Space"}]
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

TAB = {"t": "RawInline", "c": ["openxml", "<w:r><w:tab/></w:r>"]}
SEQ_NAMES = {"figure": "Figure", "table": "Table", "equation": "Equation", "listing": "Listing"}


def for_docx(node: Node) -> Node | list[Node] | None:
    """Return a caption number as a Word SEQ field, an equation as a tabbed 'Equation' paragraph."""
    if node["t"] == "Span" and "pb-caption-label" in node["c"][0][1]:
        kvs = dict(node["c"][0][2])
        number, kind = kvs.get("number", ""), kvs.get("kind", "")
        inlines = node["c"][1]
        if not number.isdigit() or len(inlines) != 3 or kind not in SEQ_NAMES:
            return None  # numbered within sections, or changed by a redline: keep the text
        field = (
            f'<w:fldSimple w:instr=" SEQ {SEQ_NAMES[kind]} \\* ARABIC "><w:r><w:t>{number}'
            "</w:t></w:r></w:fldSimple>"
        )
        return [inlines[0], inlines[1], {"t": "RawInline", "c": ["openxml", field]}]
    parts = _equation_parts(node)
    if parts is not None:
        (ident, classes, _), _ = node["c"]
        maths, number = parts
        inline = [
            {"t": "Math", "c": [{"t": "InlineMath"}, n["c"][1]]} if n.get("t") == "Math" else n
            for n in maths
        ]
        line = [TAB, *inline, TAB, *number]
        return {
            "t": "Div",
            "c": [[ident, classes, [["custom-style", "Equation"]]], [{"t": "Para", "c": line}]],
        }
    return None


UNLISTED = {"t": "RawBlock", "c": ["typst", "#set figure(outlined: false)"]}


def for_typst(node: Node) -> Node | list[Node] | None:
    """Return an equation as a grid with its number at the right margin.

    A figure's sub-figures are kept out of the list of figures (as Word's list leaves them out).
    """
    if node["t"] == "Figure":
        attr, caption, content = node["c"]
        if any(b.get("t") == "Figure" for b in content):
            return {"t": "Figure", "c": [attr, caption, [UNLISTED, *content]]}
        return None
    parts = _equation_parts(node)
    if parts is None:
        return None
    (ident, classes, kvs), _ = node["c"]
    math, tags = parts
    number = "".join(s["c"] for tag in tags for s in tag["c"][1] if s.get("t") == "Str")
    opening = "#grid(columns: (1fr, auto), align: horizon, ["
    closing = f"], [{typst_text(number)}])"
    return {
        "t": "Div",
        "c": [
            [ident, classes, kvs],
            [
                {"t": "RawBlock", "c": ["typst", opening]},
                {"t": "Para", "c": math},
                {"t": "RawBlock", "c": ["typst", closing]},
            ],
        ],
    }


def _equation_parts(node: Node) -> tuple[list[Node], list[Node]] | None:
    """Return a numbered equation's maths inlines and its number spans (None if not one)."""
    if node["t"] != "Div" or "pb-equation" not in node["c"][0][1]:
        return None
    content = node["c"][1]
    if not content or content[0].get("t") != "Para":
        return None

    def is_number(n: Node) -> bool:
        return n.get("t") == "Span" and "pb-equation-number" in n["c"][0][1]

    inlines = content[0]["c"]
    return [n for n in inlines if not is_number(n)], [n for n in inlines if is_number(n)]


def typst_text(text: str) -> str:
    """Return text safe inside a Typst content block."""
    return re.sub(r"([\\\[\]#*_`$<>@=~/-])", r"\\\1", text)
