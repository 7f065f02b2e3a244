"""The concept note document (`outline --to docx`) in the drafts' house style."""

from __future__ import annotations

import re
import zipfile

from click.testing import CliRunner

from paperbuild.cli import cli
from tests.render.readers import pandoc_docx_json, text_of


def test_concept_note_in_the_house_style(bundled_copy):
    result = CliRunner().invoke(cli, ["-C", str(bundled_copy), "outline", "--to", "docx"])
    assert result.exit_code == 0, result.output
    path = bundled_copy / "build/child-trafficking-concept-note.docx"
    z = zipfile.ZipFile(path)
    document = z.read("word/document.xml").decode()
    text = text_of(pandoc_docx_json(path))
    assert "UN’s adoption" in text and "UN's" not in text  # typographic quotes
    # the outline table: a header row and one row per section, none split across pages
    table = document[document.index("<w:tbl>") : document.index("</w:tbl>")]
    assert table.count("<w:tr>") == 12 and table.count("<w:cantSplit/>") == 12
    assert table.count('w:val="TableText"') >= 33
    # page 1 opens with the title: no running header there, but every page has its number
    sect = document[document.rindex("<w:sectPr") :]
    assert "<w:titlePg/>" in sect
    headers = re.findall(r'<w:headerReference w:type="(\w+)" r:id="(\w+)"', sect)
    footers = re.findall(r'<w:footerReference w:type="(\w+)" r:id="(\w+)"', sect)
    assert {kind for kind, _ in footers} == {"default", "first"}
    assert "first" not in {kind for kind, _ in headers}
    rels = z.read("word/_rels/document.xml.rels").decode()
    for _, rid in footers:
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(
            rf'Target="([^"]+)"[^>]*Id="{rid}"', rels
        )
        assert target
        footer = z.read(f"word/{target.group(1)}").decode()
        assert "PAGE" in footer and "NUMPAGES" in footer and "page " in footer
    assert 'w:val="en-GB"' in z.read("word/styles.xml").decode()
