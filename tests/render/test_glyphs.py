"""Text in a script the PDF's faces cannot show is reported where it is, and a face the author
names under `fonts:` sets it in the PDF (read back: the face is embedded, the warning gone)."""

from __future__ import annotations

import io

import pypdf
from click.testing import CliRunner

from paperbuild.checks import run_checks
from paperbuild.checks.glyphs import unshown
from paperbuild.cli import cli
from paperbuild.load.project import load_project

CHAPTER = (
    '---\nsection: 2\n---\n\n# Second section\n\n[Pears.]{points="2.1"}\n\n'
    "In Chinese, 梨 (pears), 🍐.\n"
)


def face(chars: str) -> bytes:
    """Return a TrueType face named Test Han whose glyphs (squares) are the given characters."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def glyph(filled: bool):
        pen = TTGlyphPen(None)
        if filled:
            pen.moveTo((100, 0))
            pen.lineTo((100, 700))
            pen.lineTo((800, 700))
            pen.lineTo((800, 0))
            pen.closePath()
        return pen.glyph()

    names = [".notdef", *(f"u{ord(c):04X}" for c in chars)]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"u{ord(c):04X}" for c in chars})
    fb.setupGlyf({n: glyph(n != ".notdef") for n in names})
    fb.setupHorizontalMetrics({n: (1000, 100) for n in names})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable(
        {
            "familyName": "Test Han",
            "styleName": "Regular",
            "uniqueFontIdentifier": "TestHan-Regular",
            "fullName": "Test Han Regular",
            "psName": "TestHan-Regular",
            "version": "Version 1.0",
        }
    )
    fb.setupOS2(sTypoAscender=880, usWinAscent=880, usWinDescent=120)
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def glyph_warnings(root) -> list[tuple[str, int | None, int | None, str]]:
    found = run_checks(load_project(root)).diagnostics
    return [(d.path, d.line, d.column, d.message) for d in found if d.rule == "missing-glyphs"]


def embedded_faces(pdf) -> set[str]:
    names: set[str] = set()
    for page in pypdf.PdfReader(pdf).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object().get("/BaseFont")))
    return names


def test_text_no_face_can_show_is_reported_at_its_line_and_column(mini):
    root = mini({"paper/02-second.md": CHAPTER})
    warnings = glyph_warnings(root)
    assert [(p, line, col) for p, line, col, _ in warnings] == [
        ("paper/02-second.md", 9, 13),
        ("paper/02-second.md", 9, 24),
    ], warnings
    assert "Chinese, Japanese or Korean text (梨: one character)" in warnings[0][3]
    assert "emoji" in warnings[1][3]
    # what the PDF's faces do show is not reported
    assert unshown("Ελληνικά, русский, עברית, العربية, हिन्दी, ∑ → “quoted” — café") == {}


def test_a_face_named_under_fonts_sets_that_text_in_the_pdf(mini):
    root = mini({"paper/02-second.md": CHAPTER, "fonts/han.ttf": face("梨")})
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "fonts: [fonts/han.ttf]\n")
    warnings = glyph_warnings(root)
    assert [w[3] for w in warnings if "Chinese" in w[3]] == []  # the face covers it now
    assert any("emoji" in w[3] for w in warnings)  # and nothing more
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "pdf"])
    assert result.exit_code == 0, result.output
    faces = embedded_faces(root / "build/a-small-paper-1.0.pdf")
    assert any("TestHan" in f for f in faces), faces


def test_a_face_that_is_missing_or_no_font_is_an_error_of_the_outline(mini):
    root = mini({"fonts/notes.ttf": b"these are my notes, not a font"})
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "fonts: [fonts/notes.ttf, fonts/gone.otf]\n")
    found = {d.rule: d for d in run_checks(load_project(root)).diagnostics}
    assert found["invalid-font"].path == "outline.yaml"
    assert "fonts/notes.ttf" in found["invalid-font"].message
    assert "fonts/gone.otf does not exist" in found["missing-file"].message
    result = CliRunner().invoke(cli, ["-C", str(root), "check"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    outline.write_text(outline.read_text().replace("fonts/gone.otf", "../elsewhere.ttf"))
    result = CliRunner().invoke(cli, ["-C", str(root), "check"])
    assert result.exit_code == 2 and "leaves the project folder" in result.output, result.output


def test_a_face_that_leads_out_of_the_project_or_is_a_pipe_is_refused_unread(mini, tmp_path):
    import os

    secret = tmp_path / "secret.ttf"
    secret.write_bytes(face("梨"))
    root = mini({"paper/02-second.md": CHAPTER})
    (root / "linked.ttf").symlink_to(secret)
    os.mkfifo(root / "pipe.ttf")
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "fonts: [linked.ttf, pipe.ttf]\n")
    found = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "invalid-font"]
    assert len(found) == 2 and "outside the project" in found[0].message, found
    assert "not a regular file" in found[1].message
    # the face outside was not used: the Chinese text is still reported
    assert any("Chinese" in w[3] for w in glyph_warnings(root))
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "pdf", "--force"])
    assert result.exit_code == 0, result.output
    assert not any("TestHan" in f for f in embedded_faces(root / "build/a-small-paper-1.0.pdf"))


def test_letters_the_body_face_lacks_are_reported_where_typst_sets_them_in_its_own(mini):
    # (Arabic and Devanagari were set in a face of Typst's own, monospaced or unjoined; the
    # check said nothing, as those faces have the glyphs)
    chapter = CHAPTER.replace(
        "In Chinese, 梨 (pears), 🍐.",
        "Greek Ελληνικά, Hebrew עברית.\n\nSaid: «تم بيعنا» and «हमें बेच दिया».",
    )
    root = mini({"paper/02-second.md": chapter})
    found = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "fallback-face"]
    assert [(d.path, d.line, d.column) for d in found] == [
        ("paper/02-second.md", 11, 8),
        ("paper/02-second.md", 11, 23),
    ], found
    assert "no Arabic letters (تمبيعنا: 7 characters)" in found[0].message
    assert "Devanagari" in found[1].message and "fonts:" in found[1].hint
    root = mini({"paper/02-second.md": chapter, "fonts/ar.ttf": face("تمبيعنا")})
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "fonts: [fonts/ar.ttf]\n")
    found = [d for d in run_checks(load_project(root)).diagnostics if d.rule == "fallback-face"]
    assert [d.message.split(" (")[0] for d in found] == [
        "the PDF's body face has no Devanagari letters"  # (the author's face has the Arabic)
    ]
