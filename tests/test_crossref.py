"""Cross-references as pure logic, on literal pandoc ASTs: labels, numbers, identifiers, texts."""

from __future__ import annotations

import pytest

from paperbuild.crossref import (
    Numbering,
    Target,
    auto_identifier,
    document_ids,
    label_equations,
    parse_ref,
    render_refs,
)
from paperbuild.furniture import words_for
from tests.render.readers import text_of

EN = words_for("en-GB")


def S(text: str) -> dict:
    return {"t": "Str", "c": text}


SP = {"t": "Space"}


def cite(*ids: str, mode: str = "AuthorInText") -> dict:
    return {
        "t": "Cite",
        "c": [
            [
                {
                    "citationId": i,
                    "citationPrefix": [],
                    "citationSuffix": [],
                    "citationMode": {"t": mode},
                    "citationNoteNum": 1,
                    "citationHash": 0,
                }
                for i in ids
            ],
            [S("@" + ids[0])],
        ],
    }


def figure(ident: str, caption: str) -> dict:
    image = {"t": "Image", "c": [["", [], []], [S(caption)], ["a.png", ""]]}
    cap = [{"t": "Plain", "c": [S(caption)]}] if caption else []
    return {"t": "Figure", "c": [[ident, [], []], [None, cap], [{"t": "Plain", "c": [image]}]]}


@pytest.mark.parametrize(
    ("written", "kind", "label", "bare", "capital"),
    [
        ("fig:cat", "figure", "fig:cat", "cat", False),
        ("Fig:cat", "figure", "fig:cat", "cat", True),
        ("tbl-nums", "table", "tbl-nums", "nums", False),
        ("eq:emc", "equation", "eq:emc", "emc", False),
        ("lst:code", "listing", "lst:code", "code", False),
        ("Sec:intro", "section", "sec:intro", "intro", True),
    ],
)
def test_reference_forms(written, kind, label, bare, capital):
    ref = parse_ref(written)
    assert ref is not None
    assert (ref.kind, ref.label, ref.bare, ref.capital) == (kind, label, bare, capital)


@pytest.mark.parametrize("key", ["smith2020", "figaro:1", "FIG:x", "fig:", "figure-x"])
def test_citation_keys_are_not_references(key):
    assert parse_ref(key) is None


@pytest.mark.parametrize(
    ("text", "ident"),
    [
        ("Results", "results"),
        ("1. Introduction to *it*", "introduction-to-it"),
        ("Dogs?--in *my* house?", "dogs--in-my-house"),
        ("2008", "section"),
        ("Évaluation des résultats", "évaluation-des-résultats"),
    ],
)
def test_heading_identifiers_follow_pandoc(text, ident):
    assert auto_identifier(text) == ident


def test_repeated_headings_across_chapters_get_pandocs_suffixes():
    maps = document_ids(
        [
            [("Results", "results")],
            [("Results", "results"), ("Results", "results-1"), ("Method", "sec:m")],
            [("Method", "method")],
        ]
    )
    assert maps[0] == {"results": "results"}
    assert maps[1] == {"results": "results-1", "results-1": "results-2", "sec:m": "sec:m"}
    assert maps[2] == {"method": "method"}


def test_labelled_display_maths_becomes_an_equation():
    math = {"t": "Math", "c": [{"t": "DisplayMath"}, "E = mc^2"]}
    blocks = label_equations([{"t": "Para", "c": [S("So"), SP, math, SP, S("{#eq:emc}")]}])
    assert blocks[0] == {"t": "Para", "c": [S("So")]}
    assert blocks[1]["t"] == "Div" and blocks[1]["c"][0] == ["eq:emc", ["pb-equation"], []]
    assert blocks[1]["c"][1] == [{"t": "Para", "c": [math]}]
    unlabelled = [{"t": "Para", "c": [math]}]
    assert label_equations(unlabelled) == unlabelled


def test_floats_are_numbered_through_the_document_or_within_sections():
    for within, expected in ((False, ["1", "2", "3"]), (True, ["1.1", "1.2", "2.1"])):
        numbering = Numbering(words=EN, within_section=within)
        numbering.start_section("1")
        first = numbering.blocks([figure("fig:a", "One"), figure("", "Two")])
        numbering.start_section("2")
        second = numbering.blocks([figure("fig:c", "Three"), figure("", "")])
        captions = [text_of(b["c"][1][1]).strip() for b in first + second]
        assert captions == [
            f"Figure {expected[0]}: One",
            f"Figure {expected[1]}: Two",
            f"Figure {expected[2]}: Three",
            "",  # neither caption nor label: not a numbered figure
        ]
        assert numbering.targets["fig:c"].number == expected[2]


def test_subfigures_take_letters_and_the_div_its_caption():
    div = {
        "t": "Div",
        "c": [
            ["fig:both", [], []],
            [figure("fig:l", "Left"), figure("fig:r", "Right"), {"t": "Para", "c": [S("Both")]}],
        ],
    }
    numbering = Numbering(words=EN)
    (out,) = numbering.blocks([div])
    assert out["t"] == "Figure"
    assert text_of(out["c"][1][1]).strip() == "Figure 1: Both"
    assert numbering.targets["fig:r"].number == "1b"
    assert "(a) Left" in text_of(out["c"][2])


def test_the_first_of_duplicate_labels_keeps_it():
    numbering = Numbering(words=EN)
    numbering.blocks([figure("fig:a", "One"), figure("fig:a", "Two")])
    assert numbering.targets["fig:a"].number == "1"


TARGETS = {
    "fig:a": Target(kind="figure", number="1", anchor="fig:a"),
    "fig:b": Target(kind="figure", number="2", anchor="fig:b"),
    "fig:c": Target(kind="figure", number="3", anchor="fig:c"),
    "fig:e": Target(kind="figure", number="5", anchor="fig:e"),
    "eq:x": Target(kind="equation", number="4", anchor="eq:x"),
    "intro": Target(kind="section", number="2.1", anchor="intro"),
}


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (cite("fig:a"), "figure 1"),
        (cite("Fig:a"), "Figure 1"),
        (cite("fig:a", mode="SuppressAuthor"), "1"),
        (cite("fig:a", "fig:b", mode="NormalCitation"), "figures 1 and 2"),
        (cite("fig:a", "fig:b", "fig:c", mode="NormalCitation"), "figures 1–3"),
        (cite("fig:a", "fig:c", "fig:e", mode="NormalCitation"), "figures 1, 3 and 5"),
        (cite("eq:x"), "equation (4)"),
        (cite("sec:intro"), "section 2.1"),
        (cite("fig:zzz"), "figure ??"),
    ],
)
def test_reference_texts(node, text):
    out = render_refs(node, TARGETS, EN)
    assert out is not None
    assert text_of(out).strip() == text


def test_references_link_to_their_target_and_dangling_ones_do_not():
    (span,) = render_refs(cite("fig:b"), TARGETS, EN)
    links = [n for n in span["c"][1] if n["t"] == "Link"]
    assert [link["c"][2][0] for link in links] == ["#fig:b"]
    (span,) = render_refs(cite("fig:zzz"), TARGETS, EN)
    assert not [n for n in span["c"][1] if n["t"] == "Link"]


def test_a_bracket_mixing_references_and_citations_is_split():
    node = cite("fig:a", "smith2020", mode="NormalCitation")
    span, space, kept = render_refs(node, TARGETS, EN, {"smith2020"})
    assert text_of(span["c"][1]).strip() == "figure 1"
    assert not [n for n in span["c"][1] if n["t"] == "Cite"]  # beside the span, not in it
    assert space["t"] == "Space" and kept["t"] == "Cite"
    assert [c["citationId"] for c in kept["c"][0]] == ["smith2020"]
    assert render_refs(cite("smith2020"), TARGETS, EN, {"smith2020"}) is None


def test_a_citation_key_shaped_like_a_reference_stays_a_citation():
    assert render_refs(cite("fig:a"), TARGETS, EN, {"fig:a"}) is None


def test_furniture_follows_the_language():
    fr = words_for("fr-FR")
    numbering = Numbering(words=fr)
    (table,) = numbering.blocks(
        [
            {
                "t": "Table",
                "c": [
                    ["tbl:x", [], []],
                    [None, [{"t": "Plain", "c": [S("Chiffres")]}]],
                    [],
                    [["", [], []], []],
                    [],
                    [["", [], []], []],
                ],
            }
        ]
    )
    assert text_of(table["c"][1][1]).strip() == "Tableau 1 : Chiffres"
    (span,) = render_refs(
        cite("tbl:x", "fig:a", mode="NormalCitation"), {**TARGETS, **numbering.targets}, fr
    )
    assert text_of(span).strip() == "tableau 1; figure 1"


def test_a_reference_keeps_its_capital_mid_sentence_in_german():
    de = words_for("de-DE")
    (span,) = render_refs(cite("fig:a", "fig:b", mode="NormalCitation"), TARGETS, de)
    assert text_of(span).strip() == "Abbildungen 1 und 2"
    (span,) = render_refs(cite("sec:intro"), TARGETS, de)
    assert text_of(span).strip() == "Abschnitt 2.1"
    assert text_of(render_refs(cite("fig:a"), TARGETS, EN)).strip() == "figure 1"  # (English)
