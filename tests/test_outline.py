"""The outline model: the bundled outline is the seed's, and every malformation is located."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperbuild.load.outline import Outline, OutlineInvalid, parse_outline
from tests.conftest import MINI_OUTLINE, REPO, SEED, run


def bundled():
    return parse_outline((REPO / "outline.yaml").read_text(encoding="utf-8"))


def test_bundled_outline_has_the_seed_structure():
    outline = bundled()
    assert len(outline.sections) == 11
    assert len(outline.points) == 41
    assert [len(s.points) for s in outline.sections] == [4, 5, 6, 7, 4, 4, 3, 4, 2, 2, 0]
    assert outline.sections[10].title == "Recommendations"
    assert outline.document.commissioned_by == "ECPAT International"
    assert outline.document.status == "First draft submitted to the Congress Coordinating Committee"
    assert outline.document.period == (2000, 2008)
    assert len(outline.document.questions) == 3
    assert all(p.id.startswith(f"{s.id}.") for s in outline.sections for p in s.points)


def _flatten_seed_table(text: str) -> str:
    table = text[text.index("DRAFT OUTLINE OF CONTENTS") :]
    table = table.replace("## Child Trafficking for Sexual Purposes", " ")
    table = table.replace("First draft submitted to the Congress Coordinating Committee", " ")
    table = re.sub(r"<[^>]+>", " ", table).replace("•", " ")
    return " ".join(table.split())


@pytest.mark.skipif(not SEED.is_file(), reason="the seed (../shared/seed) is not beside the repo")
def test_every_point_and_title_is_verbatim_from_the_seed():
    seed = _flatten_seed_table(SEED.read_text(encoding="utf-8"))
    outline = bundled()
    for section in outline.sections:
        assert section.title in seed, section.title
        for point in section.points:
            assert point.text in seed, point.id
    # the two bullets that run across a page break are joined into one point each
    assert outline.points[6].text.endswith("needs of children into account.")
    assert "(April 2007)." in outline.section("6").points[3].text


def problems(text: str) -> list[tuple[str, int | None, int | None, str]]:
    with pytest.raises(OutlineInvalid) as info:
        parse_outline(text)
    return [(d.rule, d.line, d.column, d.message) for d in info.value.diagnostics]


def test_yaml_syntax_error_is_located():
    found = problems("document:\n  title: [unclosed\nsections: []\n")
    assert found[0][0] == "outline-syntax"
    assert found[0][1] == 3


def test_tab_indentation_is_explained():
    with pytest.raises(OutlineInvalid) as info:
        parse_outline("document:\n\ttitle: x\n")
    d = info.value.diagnostics[0]
    assert (d.rule, d.line, d.column) == ("outline-syntax", 2, 1)
    assert "tab" in (d.hint or "").lower()


def test_empty_outline():
    assert problems("") == [("outline-schema", 1, 1, "outline.yaml is empty")]


def test_top_level_must_be_a_mapping():
    found = problems("- a\n- b\n")
    assert found == [("outline-schema", 1, 1, "the top level must be a mapping, not a list")]


def test_unknown_key_suggests_the_close_one():
    text = MINI_OUTLINE.replace("    title: First section", "    titel: First section")
    with pytest.raises(OutlineInvalid) as info:
        parse_outline(text)
    unknown = next(d for d in info.value.diagnostics if "unknown key" in d.message)
    assert (unknown.line, unknown.column) == (8, 5)
    assert unknown.hint == "did you mean 'title'?"
    missing = next(d for d in info.value.diagnostics if "missing 'title'" in d.message)
    assert missing.line == 7


def test_wrong_types_are_reported_with_their_place():
    text = MINI_OUTLINE.replace(
        '    points:\n      - id: "2.1"', '    final: maybe\n    points:\n      - id: "2.1"'
    )
    text = text.replace('  version: "1.0"', "  version: [1, 0]")
    found = problems(text)
    assert ("outline-schema", 5, 12, "document.version must be text, not a list") in found
    assert ("outline-schema", 14, 12, "sections[2].final must be true or false, not text") in found


def test_an_empty_text_field_is_said_to_be_empty():
    found = problems(MINI_OUTLINE.replace('  version: "1.0"', '  version: "  "'))
    assert ("outline-schema", 5, 12, "document.version must be text, not empty") in found


def test_missing_document_fields():
    found = problems("document:\n  title: T\nsections:\n  - id: 1\n    title: S\n")
    messages = [m for *_, m in found]
    assert "document is missing 'author'" in messages
    assert "document is missing 'status'" in messages
    assert all(line == 2 for _, line, _, m in found if m.startswith("document is missing"))


def test_duplicate_section_and_point_ids():
    text = MINI_OUTLINE.replace("  - id: 2\n", "  - id: 1\n").replace('"2.1"', '"1.1"')
    found = problems(text)
    assert ("duplicate-id", 12, 5, "section id 1 is used twice (first at line 7)") in found
    assert ("duplicate-id", 15, 13, "point id 1.1 is used twice (first at line 10)") in found


def test_duplicate_keys_are_reported():
    text = MINI_OUTLINE.replace("  author: A. Author\n", "  author: A. Author\n  author: B\n")
    found = problems(text)
    assert found == [("outline-schema", 4, 3, "duplicate key 'author' (first at line 3)")]


def test_point_without_id_is_an_error():
    text = MINI_OUTLINE.replace(
        '      - id: "2.1"\n        text: Something about pears\n',
        "      - Something about pears\n",
    )
    found = problems(text)
    assert found == [("outline-schema", 15, 9, "sections[2].points[1] must be a mapping, not text")]


@pytest.mark.parametrize("path", ["../elsewhere.md", "/etc/passwd", "paper/../../x.md"])
def test_chapter_path_may_not_leave_the_project(path):
    text = MINI_OUTLINE.replace(
        "    title: Second section\n", f"    title: Second section\n    chapter: {path}\n"
    )
    found = problems(text)
    assert found[0][0] == "path-outside-project"
    assert found[0][1:3] == (14, 14)


def test_unknown_rule_and_bad_severity():
    text = MINI_OUTLINE + "rules:\n  unused-footnot: off\n  unused-reference: loud\n"
    found = problems(text)
    assert found[0][:3] == ("outline-schema", 18, 3)
    assert "did you mean" not in found[0][3]
    assert found[1][:3] == ("outline-schema", 19, 21)


def test_rules_accept_off_and_severities():
    text = MINI_OUTLINE + "rules:\n  unused-footnote: off\n  title-drift: error\n"
    outline = parse_outline(text)
    assert outline.rules == {"unused-footnote": "off", "title-drift": "error"}


NASTY = [
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "\t",
    '"',
    "'",
    "#",
    "&a",
    "*a",
    "!!python/object:os.system",
    "?",
    "|",
    "> ",
    "%",
    "@",
    "`",
    "  ",
    "\n",
    "null",
    "1e9",
    "true",
    "- id: 1",
]


@st.composite
def mutated_outlines(draw):
    lines = MINI_OUTLINE.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "indent", "dedent"]))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "insert":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.sampled_from(NASTY)) + lines[i][pos:]
        elif kind == "indent":
            lines[i] = "  " + lines[i]
        else:
            lines[i] = lines[i].lstrip()
    return "\n".join(lines)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(mutated_outlines())
def test_random_outline_mutations_never_raise_anything_else(text):
    try:
        result = parse_outline(text)
    except OutlineInvalid as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.path == "outline.yaml" and d.message
            assert d.line is None or d.line >= 1
    else:
        assert isinstance(result, Outline)


def test_numbering_and_lists_are_read_and_checked():
    outline = parse_outline(MINI_OUTLINE + "numbering: section\nlists: [tables, figures]\n")
    assert outline.numbering == "section" and outline.lists == ("figures", "tables")
    assert parse_outline(MINI_OUTLINE).lists == ()
    found = problems(MINI_OUTLINE + "numbering: chapter\nlists: [figures, equations, 3]\n")
    assert [f[:3] for f in found] == [
        ("outline-schema", 17, 12),
        ("outline-schema", 18, 18),
        ("outline-schema", 18, 29),
    ]
    assert "lists may hold figures and tables, not 'equations'" in found[1][3]


def test_libyaml_and_the_python_reader_give_the_same_nodes_at_the_same_places():
    import yaml

    from paperbuild.load import yamlsrc

    def nodes(node):  # (kind, tag, line, column, value) of every node, depth first
        if isinstance(node.value, list):
            found = [(type(node).__name__, node.tag, node.start_mark.line, node.start_mark.column)]
            for child in node.value:
                for part in child if isinstance(child, tuple) else (child,):
                    found += nodes(part)
            return found
        return [(node.tag, node.start_mark.line, node.start_mark.column, node.value)]

    text = (REPO / "outline.yaml").read_text() + (
        "extra:\n  - &a {é: 'ü ''q''', n: 1}\n  - *a\n  - >-\n    Zoë Ñandú\n    folded\n"
        '  - |\n    literal ☃\n  - "tab\\there"\n  - 2026-12-01\n'
    )
    fast = yamlsrc.compose(text, "outline.yaml")
    assert fast is not None and fast.start_mark.buffer is None  # (libyaml's: marks hold no text)
    assert nodes(fast) == nodes(yaml.compose(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize(
    ("lang", "hint"),
    [
        ("en_GB", "did you mean 'en-GB'?"),
        ("pt_br", "did you mean 'pt-br'?"),
        ("english", "write a BCP 47 language tag"),
        ("en-", "write a BCP 47 language tag"),
    ],
)
def test_a_lang_that_is_no_language_tag_is_located_with_what_to_write(lang, hint):
    text = MINI_OUTLINE.replace('  version: "1.0"\n', f'  version: "1.0"\n  lang: "{lang}"\n')
    with pytest.raises(OutlineInvalid) as info:
        parse_outline(text)
    (problem,) = info.value.diagnostics
    assert (problem.line, problem.column) == (6, 9)
    assert f"document.lang '{lang}' is not a language tag" in problem.message
    assert hint in (problem.hint or "")


@pytest.mark.parametrize(
    ("lang", "warned"),
    [
        ("en-GB", []),
        ("fr", []),
        ("de-CH-1996", []),
        ("es-419", []),
        ("EN-gb", []),
        ("zh-Hant-TW", ["unknown-language"]),
    ],
)
def test_a_language_tag_is_taken_and_one_without_furniture_words_warned_of(lang, warned):
    text = MINI_OUTLINE.replace('  version: "1.0"\n', f'  version: "1.0"\n  lang: "{lang}"\n')
    outline = parse_outline(text)
    assert outline.document.lang == lang
    assert [w.rule for w in outline.warnings] == warned


def test_a_language_without_furniture_words_is_a_warning_at_its_line(mini):
    root = mini(
        {
            "outline.yaml": MINI_OUTLINE.replace(
                '  version: "1.0"\n', '  version: "1.0"\n  lang: ja-JP\n'
            )
        }
    )
    result = run(root, "check")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "[unknown-language]" in x)
    assert line.startswith("outline.yaml:6:9: warning[unknown-language]")
    assert "'ja-JP'" in line and "in English" in line


def test_a_number_given_as_an_id_or_version_reads_as_written():
    # (`id: 1.10` read as the number 1.1: its marker {points="1.10"} named an unknown point)
    text = MINI_OUTLINE.replace('id: "1.1"', "id: 1.10").replace('version: "1.0"', "version: 2.10")
    outline = parse_outline(text.replace("  - id: 2\n", "  - id: 2.0\n"))
    assert [p.id for p in outline.points] == ["1.10", "2.1"]
    assert [s.id for s in outline.sections] == ["1", "2.0"]
    assert outline.document.version == "2.10"


def test_a_chapter_claiming_a_section_by_number_claims_it_as_written(mini):
    outline = MINI_OUTLINE.replace("  - id: 2\n", "  - id: 2.10\n")
    second = '---\nsection: 2.10\n---\n\n# Second section\n\n[Pears.]{points="2.1"}\n'
    root = mini({"outline.yaml": outline, "paper/02-second.md": second})
    result = run(root, "check")
    assert "missing-chapter" not in result.output and "orphan-chapter" not in result.output
    assert "2/2 sections" in result.output, result.output
    status = run(root, "status")
    assert "2.10  Second section" in status.output, status.output  # (not 2.1)
