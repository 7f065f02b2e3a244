"""One face in both formats: Liberation Serif, set by Typst and embedded in every DOCX."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from paperbuild import pandoc
from paperbuild.cli import cli
from paperbuild.render.fonts import obfuscate
from tests.render.test_visual import font_names

FONTS = Path(__file__).resolve().parents[2] / "src" / "paperbuild" / "fonts"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
SLOTS = {
    "embedRegular": "LiberationSerif-Regular.ttf",
    "embedBold": "LiberationSerif-Bold.ttf",
    "embedItalic": "LiberationSerif-Italic.ttf",
    "embedBoldItalic": "LiberationSerif-BoldItalic.ttf",
}


def deobfuscated(data: bytes, key: str) -> bytes:
    """Return a font part read back as ECMA-376 says (written here, not with our code)."""
    guid = bytes.fromhex(key.strip("{}").replace("-", ""))
    return bytes(b ^ guid[15 - i % 16] for i, b in enumerate(data[:32])) + data[32:]


def embedded_faces(path: Path) -> dict[str, bytes]:
    """Return the house font's embedded faces, by Word's slot, read back from a DOCX."""
    z = zipfile.ZipFile(path)
    table = etree.fromstring(z.read("word/fontTable.xml"))
    rels = etree.fromstring(z.read("word/_rels/fontTable.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    types = z.read("[Content_Types].xml").decode()
    assert 'Extension="odttf"' in types and "obfuscatedFont" in types
    (font,) = [f for f in table.findall(f"{W}font") if f.get(f"{W}name") == "Liberation Serif"]
    faces = {}
    for slot in SLOTS:
        embed = font.find(f"{W}{slot}")
        part = z.read("word/" + targets[embed.get(f"{R}id")])
        faces[slot] = deobfuscated(part, embed.get(f"{W}fontKey"))
    return faces


def test_the_key_is_applied_last_byte_first():
    data = bytes(64)
    once = obfuscate(data, "{00000000-0000-0000-0000-0000000000AB}")
    assert once[0] == once[16] == 0xAB and set(once[1:16] + once[17:]) == {0}
    assert obfuscate(once, "{00000000-0000-0000-0000-0000000000AB}") == data


def test_the_draft_embeds_the_four_faces_it_is_set_in(bundled_build):
    faces = embedded_faces(bundled_build["docx"])
    for slot, file in SLOTS.items():
        assert faces[slot] == (FONTS / file).read_bytes(), slot
        assert faces[slot][:4] == b"\x00\x01\x00\x00"  # a TrueType font, as Word embeds
    z = zipfile.ZipFile(bundled_build["docx"])
    settings = z.read("word/settings.xml").decode()  # kept when a reviewer saves
    assert '<w:embedTrueTypeFonts w:val="true"/>' in settings
    assert 'w:ascii="Liberation Serif"' in z.read("word/styles.xml").decode()


def test_the_pdf_is_set_in_the_same_face(bundled_build):
    names = font_names(Path(bundled_build["pdf"]))
    assert {"LiberationSerif", "LiberationSerif-Italic", "LiberationSerif-Bold"} <= names, names
    assert not any("Libertinus" in n for n in names)


def test_the_concept_note_embeds_the_face_too(bundled_copy):
    result = CliRunner().invoke(cli, ["-C", str(bundled_copy), "outline", "--to", "docx"])
    assert result.exit_code == 0, result.output
    path = bundled_copy / "build/child-trafficking-concept-note.docx"
    faces = embedded_faces(path)
    assert faces["embedRegular"] == (FONTS / SLOTS["embedRegular"]).read_bytes()
    # its bullets are the PDF's, in the house face: no Symbol or Wingdings glyphs
    numbering = zipfile.ZipFile(path).read("word/numbering.xml").decode()
    assert "Symbol" not in numbering and "Wingdings" not in numbering
    bullets = re.findall(
        r'<w:lvl w:ilvl="(\d)">(?:(?!</w:lvl>).)*?<w:lvlText w:val="([^"]+)"', numbering
    )
    assert {("0", "•"), ("1", "◦"), ("2", "▪")} <= set(bullets)


def test_an_authors_reference_document_with_its_own_faces_embeds_nothing(mini):
    root = mini()
    reference = pandoc.run(["--print-default-data-file", "reference.docx"])
    (root / "house.docx").write_bytes(reference)
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: house.docx\n")
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"])
    assert result.exit_code == 0, result.output
    (draft,) = (root / "build").glob("*.docx")
    names = zipfile.ZipFile(draft).namelist()
    assert not [n for n in names if n.endswith(".odttf")]


@pytest.mark.slow
def test_a_draft_used_as_the_reference_document_gives_each_thing_once(mini):
    """A paperbuild draft as `reference-doc:` brings its embedded faces and its header and
    footer along: no relationship id twice, the running header and footer once."""
    root = mini()
    assert CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"]).exit_code == 0
    (first,) = (root / "build").glob("*.docx")
    (root / "house.docx").write_bytes(first.read_bytes())
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: house.docx\n")
    args = ["-C", str(root), "build", "--to", "docx", "--version", "2.0"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    (second,) = (root / "build").glob("*-2.0.docx")
    z = zipfile.ZipFile(second)
    rels = etree.fromstring(z.read("word/_rels/fontTable.xml.rels"))
    ids = [r.get("Id") for r in rels]
    assert len(ids) == len(set(ids)), ids
    targets = {r.get("Id"): r.get("Target") for r in rels}
    table = etree.fromstring(z.read("word/fontTable.xml"))
    embeds = [e for e in table.iter() if e.get(f"{R}id")]
    assert len(embeds) == 4 and all(
        f"word/{targets[e.get(f'{R}id')]}" in z.namelist() for e in embeds
    )
    assert embedded_faces(second)["embedBold"] == (FONTS / SLOTS["embedBold"]).read_bytes()
    furniture = [
        "".join(re.findall(r"<w:t[^>]*>([^<]*)", z.read(n).decode()))
        for n in z.namelist()
        if re.fullmatch(r"word/(header|footer)\d+\.xml", n)
    ]
    headers = [t for t in furniture if "Draft for the committee" in t]
    assert headers and all(t.count("A Small Paper") == 1 for t in headers), furniture
    assert all(t.count("Version 2.0") <= 1 for t in furniture), furniture


def test_a_damaged_font_table_means_no_embedding_not_no_draft(bundled_build):
    """A reference document's parts reach the draft as they are; a broken one is skipped."""
    from paperbuild.render.fonts import embedded_font_parts
    from paperbuild.render.ooxml import zip_parts

    parts = zip_parts(bundled_build["docx"].read_bytes())
    intact = dict(parts)
    parts["word/fontTable.xml"] = b"<w:fonts"
    assert embedded_font_parts(parts) == {}
    assert "word/fonts/paperbuild-font1.odttf" in embedded_font_parts(
        intact
    )  # an intact one embeds


def test_faces_deflated_once_are_stored_exactly_as_zipfile_stores_them():
    """The cached deflate of the faces gives the zip writestr gives, and reads back whole."""
    import io
    import os

    from paperbuild.render.ooxml import write_deflated

    parts = {
        "a.xml": b"<a/>" * 100,
        "word/fonts/f.odttf": (FONTS / SLOTS["embedBold"]).read_bytes(),
        "noise.odttf": os.urandom(5000),
        "z.xml": b"<z/>",
    }
    made = []
    for cached in (False, True):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for name, data in parts.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 2, 3, 4, 6))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                if cached and name.endswith(".odttf"):
                    write_deflated(dst, info, data)
                else:
                    dst.writestr(info, data)
        made.append(out.getvalue())
    assert made[0] == made[1]
    with zipfile.ZipFile(io.BytesIO(made[1])) as back:
        assert back.testzip() is None
        assert {name: back.read(name) for name in back.namelist()} == parts


def test_faces_deflated_in_the_cache_folder_are_used_only_when_they_inflate_to_the_face(
    tmp_path, monkeypatch
):
    import zlib

    from paperbuild.render import ooxml
    from paperbuild.util.fsutil import kept_bytes
    from paperbuild.util.seal import sealed

    face = (FONTS / SLOTS["embedBold"]).read_bytes()
    expected = ooxml._deflated(face)
    monkeypatch.setattr(ooxml, "_DEFLATED", {})
    assert ooxml.deflated(face, tmp_path) == expected
    (kept,) = tmp_path.glob("deflated-*.bin")
    assert kept_bytes(kept) == expected  # kept for the next command

    monkeypatch.setattr(ooxml, "_deflated", lambda data: b"not deflated here")
    other = zlib.compressobj(6, zlib.DEFLATED, -15)  # another face, sealed here; garbage
    for planted in (other.compress(b"another face") + other.flush(), b"\x00garbage"):
        kept.write_bytes(sealed(kept, planted))
        monkeypatch.setattr(ooxml, "_DEFLATED", {})
        assert ooxml.deflated(face, tmp_path) == b"not deflated here"  # (deflated again)
    kept.write_bytes(expected)  # the very deflate, but not sealed here
    monkeypatch.setattr(ooxml, "_DEFLATED", {})
    assert ooxml.deflated(face, tmp_path) == b"not deflated here"
    kept.write_bytes(sealed(kept, expected))
    monkeypatch.setattr(ooxml, "_DEFLATED", {})
    assert ooxml.deflated(face, tmp_path) == expected  # read back, not deflated
