"""Small helpers over pandoc's JSON AST: walking, text, citations, markers, word counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from paperbuild.crossref import EQ_LABEL, parse_ref
from paperbuild.queries import QUERY, question

Node = dict[str, Any]

ATTR_AT = {
    "Header": 1,
    "Div": 0,
    "Span": 0,
    "CodeBlock": 0,
    "Code": 0,
    "Link": 0,
    "Image": 0,
    "Table": 0,
    "Figure": 0,
}
LITERAL_NOTE = re.compile(r"\[\^([^\]\s]+)\]")


def attr(node: Node) -> list[Any] | None:
    """Return the element's [id, classes, key-values] attribute, if it has one."""
    index = ATTR_AT.get(node.get("t", ""))
    if index is None:
        return None
    content = node["c"]
    if node["t"] == "Header":
        return list(content[1])
    a = content[index] if isinstance(content, list) else None
    return list(a) if isinstance(a, list) and len(a) == 3 and isinstance(a[1], list) else None


def stringify(value: Any) -> str:
    """Return the plain text of an element or list of elements (notes left out)."""
    parts: list[str] = []
    _text(value, parts)
    return "".join(parts).strip()


def _text(value: Any, parts: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _text(item, parts)
        return
    if not isinstance(value, dict):
        return
    t = value.get("t")
    if t == "Str":
        parts.append(value["c"])
    elif t in ("Space", "SoftBreak", "LineBreak"):
        parts.append(" ")
    elif t == "Note":
        return
    elif t in ("Code", "Math"):
        parts.append(value["c"][1])
    elif t == "Quoted":
        q = "“”" if value["c"][0]["t"] == "DoubleQuote" else "‘’"
        parts.append(q[0])
        _text(value["c"][1], parts)
        parts.append(q[1])
    elif t == "Cite":
        _text(value["c"][1], parts)
    elif t == "Header":
        _text(value["c"][2], parts)
    elif "c" in value:
        _text(value["c"], parts)
    if t in ("Para", "Plain", "Header"):
        parts.append(" ")


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What the checks need to know of one chapter's AST, gathered in one pass."""

    citations: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    words: int = 0
    first_heading: str | None = None
    notes: int = 0
    resources: tuple[str, ...] = ()  # image and other resource targets
    raw: tuple[tuple[str, str], ...] = ()  # (format, opening text) of raw HTML / LaTeX
    crossrefs: tuple[str, ...] = ()  # @fig:x and the like, as written
    labels: tuple[tuple[str, str], ...] = ()  # (identifier, element) of every labelled element
    links: tuple[str, ...] = ()  # internal link targets (#x), without the '#'
    headings: tuple[tuple[str, str], ...] = ()  # (text, identifier) of the top-level headings
    literal_notes: tuple[str, ...] = ()  # [^x] left as text by pandoc: a note with no definition
    broken_raw: tuple[tuple[str, str], ...] = ()  # (opening text, why) of ill-formed raw OpenXML
    queries: tuple[str, ...] = ()  # the questions of [passage]{.query question="…"}

    def to_json(self) -> dict[str, Any]:
        """Return the facts as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        """Return facts read back from JSON data."""
        return cls(
            citations=tuple(data["citations"] or ()),
            points=tuple(data["points"] or ()),
            words=int(data["words"]),
            first_heading=data["first_heading"],
            notes=int(data["notes"]),
            resources=tuple(data["resources"]),
            raw=tuple((f, t) for f, t in data["raw"]),
            crossrefs=tuple(data["crossrefs"]),
            labels=tuple((i, k) for i, k in data["labels"]),
            links=tuple(data["links"]),
            headings=tuple((t, i) for t, i in data["headings"]),
            literal_notes=tuple(data["literal_notes"]),
            broken_raw=tuple((t, w) for t, w in data.get("broken_raw") or ()),
            queries=tuple(data.get("queries") or ()),
        )


DROPPED_RAW = frozenset(("html", "html4", "html5", "latex", "tex", "context", "rtf"))
NOT_READ = frozenset(("Header", "CodeBlock", "RawBlock", "RawInline", "Code", "Math"))


OPENXML_PREFIXES = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "m": "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "pic": "http://schemas.openxmlformats.org/drawingml/2006/picture",
    "v": "urn:schemas-microsoft-com:vml",
    "o": "urn:schemas-microsoft-com:office:office",
}


def openxml_problem(snippet: str) -> str | None:
    """Return why raw OpenXML would make the DOCX unreadable (None when it is well-formed)."""
    from lxml import etree

    declared = " ".join(f'xmlns:{p}="{uri}"' for p, uri in OPENXML_PREFIXES.items())
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        etree.fromstring(f"<pb-raw {declared}>{snippet}</pb-raw>".encode(), parser)
    except etree.XMLSyntaxError as exc:
        return re.sub(r", line \d+, column \d+.*$", "", str(exc.msg))
    return None


def chapter_facts(blocks: list[Node]) -> Facts:
    """Return citations, coverage markers, words, labels and links of blocks, in one walk."""
    found = _FactFinder()
    found.walk(blocks)
    return Facts(
        citations=tuple(found.cites),
        points=tuple(found.points),
        words=found.words,
        first_heading=next((stringify(b) for b in blocks if b.get("t") == "Header"), None),
        notes=found.notes,
        resources=tuple(found.resources),
        raw=tuple(found.raw),
        crossrefs=tuple(found.crossrefs),
        labels=tuple(found.labels),
        links=tuple(found.links),
        headings=tuple(
            (stringify(b["c"][2]), b["c"][1][0]) for b in blocks if b.get("t") == "Header"
        ),
        literal_notes=tuple(found.literal_notes),
        broken_raw=tuple(found.broken_raw),
        queries=tuple(found.queries),
    )


class _FactFinder:
    """One iterative walk over a chapter's AST, collecting what the checks need."""

    def __init__(self) -> None:
        self.cites: list[str] = []
        self.crossrefs: list[str] = []
        self.points: list[str] = []
        self.words = self.notes = 0
        self.resources: list[str] = []
        self.raw: list[tuple[str, str]] = []
        self.labels: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.literal_notes: list[str] = []
        self.broken_raw: list[tuple[str, str]] = []
        self.queries: list[str] = []

    def walk(self, blocks: list[Node]) -> None:
        stack: list[tuple[Any, bool]] = [(blocks, True)]  # (value, counts as text a reader reads)
        while stack:
            value, read = stack.pop()
            if type(value) is list:
                stack.extend([(v, read) for v in reversed(value)])
            elif type(value) is dict:
                self.element(value, read, stack)

    def element(self, value: Node, read: bool, stack: list[tuple[Any, bool]]) -> None:
        t = value.get("t")
        if t == "Str":
            text = value["c"]
            self.words += read and any(ch.isalnum() for ch in text)
            if "[^" in text:
                self.literal_notes += LITERAL_NOTE.findall(text)
            if text.startswith("{#"):
                eq = EQ_LABEL.match(text)
                if eq:
                    self.labels.append((eq.group(1), "Equation"))
            return
        if t == "Cite":
            for c in value["c"][0]:
                key = c["citationId"]
                (self.crossrefs if parse_ref(key) else self.cites).append(key)
        elif t in ("RawBlock", "RawInline"):
            if value["c"][0].lower() in DROPPED_RAW and not value["c"][1].lstrip().startswith(
                "<!--"
            ):  # an HTML comment is meant to be invisible
                self.raw.append((value["c"][0], value["c"][1].strip()[:60]))
            elif value["c"][0].lower() == "openxml":
                why = openxml_problem(value["c"][1])
                if why:
                    self.broken_raw.append((value["c"][1].strip()[:60], why))
            return
        if "c" not in value:
            return
        self.notes += t == "Note"
        if t == "Image":
            self.resources.append(value["c"][2][0])
        elif t == "Link" and value["c"][2][0].startswith("#"):
            self.links.append(value["c"][2][0][1:])
        elif t == "Span" and QUERY in value["c"][0][1]:
            self.queries.append(question(value))
        if t in ATTR_AT:
            a = attr(value)
            if a:
                if a[0]:
                    self.labels.append((a[0], t))
                self.points += [
                    i for k, v in a[2] if k == "points" for i in v.replace(",", " ").split()
                ]
        stack.append((value["c"], read and t not in NOT_READ))


LEAVES = frozenset(
    (
        "Str",
        "Space",
        "SoftBreak",
        "LineBreak",
        "Code",
        "Math",
        "RawInline",
        "RawBlock",
        "CodeBlock",
        "HorizontalRule",
    )
)


def rewrite(
    value: Any, fn: Callable[[Node], Node | list[Node] | None], kinds: frozenset[str]
) -> Any:
    """Return value with fn applied bottom-up to elements of the given kinds, in place.

    fn returns None to keep an element, an element to replace it, or a list to splice in its
    place. The tree is changed in place (it must be one the caller owns, e.g. fresh JSON).
    """
    if type(value) is list:
        i = 0
        while i < len(value):
            item = value[i]
            if type(item) is dict and (item.get("t") not in LEAVES or item.get("t") in kinds):
                new = rewrite(item, fn, kinds)
                if type(new) is list and "t" in item:
                    value[i : i + 1] = new
                    i += len(new)
                    continue
                value[i] = new
            elif type(item) is list:
                rewrite(item, fn, kinds)
            i += 1
        return value
    if type(value) is dict:
        content = value.get("c")
        if type(content) is list:
            rewrite(content, fn, kinds)
        if value.get("t") in kinds:
            result = fn(value)
            return value if result is None else result
    return value


def image_targets(value: Any) -> list[str]:
    """Return the target of every Image below value, in document order."""
    found: list[str] = []
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(reversed(v))
        elif type(v) is dict and "c" in v:
            if v.get("t") == "Image":
                found.append(v["c"][2][0])
            stack.append(v["c"])
    return found
