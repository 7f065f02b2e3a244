"""citeproc sent each citation's context only: its output, put back together, is what citeproc
makes of the blocks sent whole, on generated paragraphs of every kind of context."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from paperbuild import citecontext, pandoc
from paperbuild import pandoc_ast as pa
from paperbuild.cite import number_notes
from paperbuild.references import DEFAULT_CSL

BIB = """
@book{smith, author = {Smith, Ann}, title = {Apples and Orchards}, year = {2001},
  publisher = {Orchard Press}, address = {London}}
@book{smith2, author = {Smith, Ann}, title = {Pears}, year = {2001}, publisher = {Orchard Press}}
@article{jones, author = {Jones, Bo and Lee, Cy}, title = {On Grafting}, journal = {Fruit},
  volume = {3}, pages = {1--20}, year = {1999}}
@incollection{lee, author = {Lee, Cy}, title = {Roots "and" Stems}, booktitle = {Trees},
  editor = {Park, Di}, year = {2010}, pages = {5--9}, publisher = {Leaf}}
"""
WORDS = ["apples", "Orchards", "the", "In", "grafting", "Pears", "of", "it", "12"]
PUNCTUATION = [".", ",", ";", ":", "?", "!", ")", "(", "—", "–", "...", '."', ".)", "'", ",”"]
CITES = [
    "[@smith]",
    "[@smith, p. 12]",
    "[@jones; @smith2]",
    "@smith",
    "@jones [p. 4]",
    "[-@smith]",
    "[see @lee, chap. 2]",
    "[@lee, 5-6; also @jones]",
    "[@smith2]",
]
OTHERS = [
    '"a quoted phrase"',
    "'single words'",
    "*an emphasis*",
    "*with [@lee]*",
    "**strong [@jones].**",
    "^2^",
    "[a link](https://example.org)",
    "[a span]{.csl-note}",
    "`code`",
    "$x$",
    "^[A note.]",
    "^[A note citing [@jones].]",
    "^[[@smith] opens this note.]",
    "^[@smith says so.]",
    "^[See @lee [p. 3]. And more.]",
    '^["Quoted," [@jones]. Then Words.]',
    "[^two]",
]


def _piece(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(WORDS)
    if roll < 0.55:
        return rng.choice(PUNCTUATION)
    if roll < 0.8:
        return rng.choice(CITES)
    return rng.choice(OTHERS)


def _paragraph(rng: random.Random) -> str:
    text = ""
    for _ in range(rng.randint(3, 22)):
        text += rng.choice([" ", " ", "", "\n"]) + _piece(rng)
    lead = rng.choice(["", "", "", "> ", "- ", "1. "])
    return lead + text.strip().replace("\n", "\n" + " " * len(lead))


def _markdown(seed: int, count: int) -> str:
    rng = random.Random(seed)
    paragraphs = [_paragraph(rng) for _ in range(count)]
    paragraphs.append("[^two]: A note of two paragraphs [@lee].\n\n    Its second, [@smith].")
    paragraphs.insert(count // 2, "# A heading [@jones]\n\n::: {#refs}\n:::")
    reset = "::: part\n## Again {.reset-citation-positions}\n\nSee [@lee].\n:::"
    paragraphs.insert(count // 3, reset)
    others = [  # a table, a figure, a definition list and a line block that cite
        "| Fruit | Source |\n|---|---|\n| Apples | [@smith]. |\n| Pears | @jones says. |\n\n"
        ": Fruit, as [@lee] counts it.",
        "![An orchard, after [@smith2, p. 2].](orchard.png)",
        "Grafting\n:   A term [@jones]; see also [@smith].",
        "| A line [@lee],\n| and another [@smith].",
    ]
    for i, other in enumerate(others):
        paragraphs.insert((i + 1) * count // 5, other)
    return "\n\n".join(paragraphs) + "\n"


def _citeproc(blocks: list[pa.Node], csl: Path, bib: Path, lang: str) -> list[pa.Node]:
    args = ["--sandbox", "-f", "json", "-t", "json", "--citeproc", "--csl", str(csl)]
    args += ["-M", "reference-section-title=References", "-M", f"lang={lang}"]
    payload = {"pandoc-api-version": pandoc.api_version(), "meta": {}, "blocks": blocks}
    out = pandoc.run([*args, "--bibliography", str(bib)], pa.dumps(payload))
    found: list[pa.Node] = pa.loads(out)["blocks"]
    return found


SUPERSCRIPT = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Numbers raised (a test's)</title><id>raised</id>
    <updated>2020-01-01T00:00:00+00:00</updated></info>
  <citation collapse="citation-number">
    <sort><key variable="citation-number"/></sort>
    <layout vertical-align="sup" delimiter=","><text variable="citation-number"/></layout>
  </citation>
  <bibliography><layout suffix="."><text variable="citation-number" suffix=". "/>
    <names variable="author"/><text variable="title" prefix=", "/></layout></bibliography>
</style>
"""


@pytest.fixture(scope="module")
def author_date(tmp_path_factory) -> Path:
    """Return pandoc's own default style (Chicago author-date) as a file."""
    path = tmp_path_factory.mktemp("csl") / "author-date.csl"
    path.write_bytes(pandoc.run(["--print-default-data-file", "default.csl"]))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("style", "lang", "seed"),
    [
        ("notes", "en-GB", 1),
        ("notes", "en-US", 2),
        ("author-date", "en-US", 3),
        ("superscript", "en-GB", 4),  # (pandoc moves punctuation before a raised number too)
    ],
)
def test_citeproc_on_the_contexts_gives_what_it_gives_on_the_whole_blocks(
    tmp_path, author_date, style, lang, seed
):
    bib = tmp_path / "references.bib"
    bib.write_text(BIB, encoding="utf-8")
    csl = {"notes": DEFAULT_CSL, "author-date": author_date}.get(style, tmp_path / "raised.csl")
    (tmp_path / "raised.csl").write_text(SUPERSCRIPT, encoding="utf-8")
    text = _markdown(seed, 160)
    blocks: list[pa.Node] = pa.loads(pandoc.run(["-f", "markdown", "-t", "json"], text.encode()))[
        "blocks"
    ]
    held = number_notes(blocks, note_style=style == "notes")
    sent = [blocks[i] for i in held]
    assert len(sent) > 100
    whole = _citeproc(pa.copy_tree(sent), csl, bib, lang)
    context, plan = citecontext.reduced(pa.copy_tree(sent))
    rendered = _citeproc(context, csl, bib, lang)
    put_back = citecontext.restored(sent, rendered[: len(sent)], plan)
    assert put_back is not None
    for i, (mine, theirs) in enumerate(zip(put_back, whole, strict=False)):
        assert mine == theirs, f"block {i}: {pa.stringify(theirs)[:200]}"
    assert len(put_back) == len(sent)
    assert rendered[len(sent) :] == whole[len(sent) :]  # the bibliography


def test_a_cited_paragraph_is_sent_as_its_citation_and_the_words_beside_it():
    words = " ".join(f"word{i}" for i in range(200))
    text = f"{words} after “quoted” [@smith, p. 3], so. {words}\n"
    (block,) = pa.loads(pandoc.run(["-f", "markdown", "-t", "json"], text.encode()))["blocks"]
    context, _ = citecontext.reduced([block])
    shown = pa.stringify(context)
    assert shown == "\ue000 “quoted” [@smith, p. 3], so. \ue000"  # (the marker spans' text)
    assert "word100" not in shown and len(pa.dumps(context)) < len(pa.dumps(block)) / 20


def test_output_that_cannot_be_cut_as_the_input_was_is_refused():
    words = pa.str_inlines("one two three four five six")
    block = pa.para([*words, pa.space(), pa.cite([], []), pa.space(), *words])
    context, plan = citecontext.reduced([block])
    assert citecontext.restored([block], context, plan) == [block]  # (citeproc changed nothing)
    lost = [pa.element("Para", [v for v in pa.inlines(context[0]) if pa.kind(v) != "Span"])]
    assert citecontext.restored([block], lost, plan) is None
    added = pa.span(pa.Attr(citecontext.MARKER + "9"), [])
    doubled = [pa.element("Para", [*pa.inlines(context[0]), added])]
    assert citecontext.restored([block], doubled, plan) is None


def test_blocks_nested_too_deeply_to_be_cut_are_sent_whole():
    inner = [pa.cite([], []), *pa.str_inlines("deep words")]
    for _ in range(1500):
        inner = [pa.span(pa.Attr(), inner)]
    block = pa.para(inner)
    context, plan = citecontext.reduced([block])
    assert context == [block] and plan == citecontext.WHOLE
