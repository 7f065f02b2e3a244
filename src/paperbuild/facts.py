"""What the checks need of one chapter's AST (citations, markers, labels, words), in one walk."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from paperbuild import pandoc_ast
from paperbuild.crossref import EQ_LABEL, parse_ref
from paperbuild.load.chapters import MACRO_START
from paperbuild.load.project import is_file_link
from paperbuild.pandoc_ast import (
    ATTR_AT,
    Node,
    attr,
    citations,
    content,
    has_class,
    ident,
    inlines,
    kind,
    raw_format,
    stringify,
    target,
)
from paperbuild.queries import QUERY, question

LITERAL_NOTE = re.compile(r"\[\^([^\]\s]+)\]")


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
    file_links: tuple[str, ...] = ()  # links to local files (`results.md#x`): maybe a chapter
    headings: tuple[tuple[str, str], ...] = ()  # (text, identifier) of the top-level headings
    literal_notes: tuple[str, ...] = ()  # [^x] left as text by pandoc: a note with no definition
    broken_raw: tuple[tuple[str, str], ...] = ()  # (opening text, why) of ill-formed raw OpenXML
    queries: tuple[str, ...] = ()  # the questions of [passage]{.query question="…"}
    maths: tuple[str, ...] = ()  # the TeX of each distinct formula

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
            file_links=tuple(data.get("file_links") or ()),
            headings=tuple((t, i) for t, i in data["headings"]),
            literal_notes=tuple(data["literal_notes"]),
            broken_raw=tuple((t, w) for t, w in data.get("broken_raw") or ()),
            queries=tuple(data.get("queries") or ()),
            maths=tuple(data.get("maths") or ()),
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


TEX = frozenset(("tex", "latex"))  # pandoc's names for raw LaTeX
PAGE_BREAK = re.compile(r"\\(?:newpage|pagebreak|clearpage|cleardoublepage)(?:\{\}|\[4\])?")


MATH_ENV = re.compile(
    r"\\begin\{(equation|align|gather|multline|eqnarray|displaymath)(\*?)\}(.*)\\end\{\1\2\}", re.S
)
MATH_LABEL = re.compile(r"\\label\{([^{}]+)\}")
ALIGNED = {"align": "aligned", "eqnarray": "aligned", "gather": "gathered", "multline": "gathered"}


def tex_equation(fmt: str, code: str) -> tuple[str, str | None] | None:
    """Return (TeX maths, equation label) of a raw LaTeX maths environment, else None.

    `\\begin{equation} … \\label{eq:x} \\end{equation}` reads as `$$ … $$ {#eq:x}`; align and
    eqnarray as aligned, gather and multline as gathered (a label without `eq:` gets it).
    """
    m = MATH_ENV.fullmatch(code.strip()) if fmt.lower() in TEX else None
    if m is None:
        return None
    env, body = m.group(1), m.group(3)
    labels = MATH_LABEL.findall(body)
    body = re.sub(r"\\(?:nonumber|notag)\b", "", MATH_LABEL.sub("", body)).strip()
    if env in ALIGNED:
        body = f"\\begin{{{ALIGNED[env]}}}{body}\\end{{{ALIGNED[env]}}}"
    label = labels[0] if labels else None
    if label and not label.startswith(("eq:", "eq-")):
        label = f"eq:{label}"
    return body, label


def page_break(fmt: str, code: str) -> bool:
    """Return whether raw TeX is a page break (`\\newpage`, `\\pagebreak`, `\\clearpage`)."""
    return fmt.lower() in TEX and PAGE_BREAK.fullmatch(code.strip()) is not None


def openxml_problem(snippet: str) -> str | None:
    """Return why raw OpenXML cannot go into the DOCX (None when it can): ill-formed XML would
    make the DOCX unreadable, and a field or object that fetches, includes or runs something
    would do so on the committee's machines (UNSAFE starts that answer)."""
    from lxml import etree

    declared = " ".join(f'xmlns:{p}="{uri}"' for p, uri in OPENXML_PREFIXES.items())
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(f"<pb-raw {declared}>{snippet}</pb-raw>".encode(), parser)
    except etree.XMLSyntaxError as exc:
        return re.sub(r", line \d+, column \d+.*$", "", str(exc.msg))
    return unsafe_openxml(root)


UNSAFE = "Word would "
# Field codes that only number, refer within the draft or show its properties; any other
# (DDEAUTO and DDE run programs, INCLUDETEXT, INCLUDEPICTURE, LINK and IMPORT read files or
# URLs, MACROBUTTON runs macros, FILLIN and ASK prompt) is refused.
SAFE_FIELDS = frozenset(
    "PAGE NUMPAGES SECTIONPAGES SECTION SEQ REF PAGEREF NOTEREF STYLEREF TOC TC TA TOA INDEX XE "
    "DATE TIME CREATEDATE SAVEDATE PRINTDATE TITLE AUTHOR SUBJECT KEYWORDS NUMWORDS NUMCHARS "
    "LISTNUM AUTONUM AUTONUMLGL AUTONUMOUT BIDIOUTLINE EQ SYMBOL ADVANCE = IF COMPARE "
    # what Word's own headers and footers hold: the file's name and size, its properties and
    # variables, who saved it, a link to click or a place to jump to, a merge field's placeholder
    "FILENAME FILESIZE DOCPROPERTY DOCVARIABLE INFO LASTSAVEDBY EDITTIME REVNUM TEMPLATE "
    "USERNAME USERINITIALS USERADDRESS HYPERLINK GOTOBUTTON MERGEFIELD QUOTE".split()
)
EMBEDDING = frozenset(("altChunk", "object", "control", "subDoc", "OLEObject", "embedObject"))


ADDRESS = re.compile(r"\s*(\\\\|[a-z][a-z0-9+.-]*://|file:|mhtml:|javascript:|ms-[a-z-]+:)", re.I)
# Schema names written as addresses (a picture's <a:graphicData uri="http://schemas.…">, an
# extension's uri): Word names a kind of content with them and never fetches them.
SCHEMA = re.compile(
    r"\s*https?://(schemas\.openxmlformats\.org|schemas\.microsoft\.com|purl\.oclc\.org/ooxml)/"
)
W_NS = f"{{{OPENXML_PREFIXES['w']}}}"


def unsafe_openxml(root: Any) -> str | None:
    """Return why well-formed raw OpenXML would have Word fetch, include or run something."""
    for element in root.iter():
        name = _local(element)
        if name in EMBEDDING:
            return f"{UNSAFE}embed or run another file or program (<{name}>)"
        for value in element.attrib.values():
            if name != "hyperlink" and ADDRESS.match(value) and not SCHEMA.match(value):
                return f"{UNSAFE}fetch {value.strip()[:40]} (an address in its <{name}>)"
    for word in _field_words(root):
        if word.upper() not in SAFE_FIELDS:
            return f"{UNSAFE}run its {word.upper()} field (a field that fetches, includes or runs)"
    return None


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _field_words(root: Any) -> list[str]:
    """Return the keyword of each field the XML opens (PAGE, SEQ, …), and the first word of an
    instruction it continues without opening its field (judged as if it opened one)."""
    words = [v for e in root.iter() for k, v in e.attrib.items() if k == f"{W_NS}instr"]
    pending: str | None = None  # the instruction of the field opened last, so far
    loose = []
    for element in root.iter():
        name, kind = _local(element), element.get(f"{W_NS}fldCharType")
        if name == "fldChar" and kind == "begin":
            words += [pending] if pending is not None else []
            pending = ""
        elif name == "fldChar" and pending is not None:
            words.append(pending)
            pending = None
        elif name == "instrText":
            if pending is None:
                loose.append(element.text or "")
            else:
                pending += element.text or ""
    words += [pending] if pending is not None else []
    firsts = [_first_word(w) for w in [*words, *loose]]
    return [w for w in firsts if w]


def _first_word(instruction: str) -> str:
    """Return a field instruction's keyword ("" for none, or one that opens with a switch or a
    quoted text: the rest of an instruction begun elsewhere)."""
    match = re.match(r'\s*([A-Za-z]+|=|\\|")', instruction)
    return match.group(1) if match and match.group(1) not in ("\\", '"') else ""


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
        file_links=tuple(found.file_links),
        headings=tuple((stringify(inlines(b)), ident(b)) for b in blocks if kind(b) == "Header"),
        literal_notes=tuple(found.literal_notes),
        broken_raw=tuple(found.broken_raw),
        queries=tuple(found.queries),
        maths=tuple(dict.fromkeys(found.maths)),
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
        self.file_links: list[str] = []
        self.literal_notes: list[str] = []
        self.broken_raw: list[tuple[str, str]] = []
        self.queries: list[str] = []
        self.maths: list[str] = []

    def walk(self, blocks: list[Node]) -> None:
        stack: list[tuple[Any, bool]] = [(blocks, True)]  # (value, counts as text a reader reads)
        while stack:
            value, read = stack.pop()
            if type(value) is list:
                stack.extend(
                    [
                        (v, read)
                        for v in reversed(value)
                        if type(v) is not dict or v.get("t") not in pandoc_ast.SPACES
                    ]
                )
            elif type(value) is dict:
                if value.get("t") == "Str":  # half the elements: handled here, without a call
                    self.word(pandoc_ast.text(value), read)
                else:
                    self.element(value, read, stack)

    def word(self, text: str, read: bool) -> None:
        """Count a word a reader reads; note a literal [^x] or an equation's {#eq:x} label."""
        self.words += read and any(ch.isalnum() for ch in text)
        if "[^" in text:
            self.literal_notes += LITERAL_NOTE.findall(text)
        if text.startswith("{#"):
            eq = EQ_LABEL.match(text)
            if eq:
                self.labels.append((eq.group(1), "Equation"))

    def element(self, value: Node, read: bool, stack: list[tuple[Any, bool]]) -> None:
        t = value.get("t")
        if t == "Cite":
            for c in citations(value):
                key = c["citationId"]
                (self.crossrefs if parse_ref(key) else self.cites).append(key)
        elif t in ("RawBlock", "RawInline"):
            fmt, code = raw_format(value), pandoc_ast.text(value)
            equation = tex_equation(fmt, code)
            if equation is not None:
                if equation[1]:
                    self.labels.append((equation[1], "Equation"))  # maths in both (assemble)
            elif t == "RawBlock" and page_break(fmt, code):
                pass  # a page break in both formats (assemble)
            elif fmt.lower() in TEX and MACRO_START.match(code.lstrip()):
                pass  # a macro definition: pandoc expanded it (parse gives it to every chapter)
            elif fmt.lower() in DROPPED_RAW and not code.lstrip().startswith("<!--"):
                self.raw.append((fmt, code.strip()[:60]))  # (an HTML comment is invisible)
            elif fmt.lower() == "openxml":
                why = openxml_problem(code)
                if why:
                    self.broken_raw.append((code.strip()[:60], why))
            return
        if content(value) is None:
            return
        self.notes += t == "Note"
        if t == "Math":
            self.maths.append(pandoc_ast.text(value))
        elif t == "Image":  # (its alt text is no text of the drafts: a figure's repeats its
            self.resources.append(target(value)[0])  # caption, which is counted and checked)
            return
        elif t == "Link":
            url = target(value)[0]
            if url.startswith("#"):
                self.links.append(url[1:])
            elif is_file_link(url):
                self.file_links.append(url)
        elif t == "Span" and has_class(value, QUERY):
            self.queries.append(question(value))
        if t in ATTR_AT:
            a = attr(value)
            if a:
                if a.ident:
                    self.labels.append((a.ident, t))
                self.points += [
                    i for k, v in a.pairs if k == "points" for i in v.replace(",", " ").split()
                ]
        stack.append((content(value), read and t not in NOT_READ))
