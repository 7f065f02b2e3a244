"""Images the PDF cannot show never stop it: the check names them (at their line), the PDF shows a
placeholder for each, and one Typst rejects that the check could not tell is left out too."""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
import urllib.parse
import zipfile
import zlib

import pypdf
import pytest
from click.testing import CliRunner

from paperbuild.checks import run_checks
from paperbuild.cli import cli
from paperbuild.load.project import load_project
from paperbuild.render.images import docx_problem, pdf_problem
from tests.test_manuscripts import docx_text, pdf_text, png


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


SLY_PNG = (  # whole to look at (IHDR first, IEND last), but its pixels are no zlib stream
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", b"these are not pixels")
    + chunk(b"IEND", b"")
)
# An SVG of uses of uses (10^11 rectangles): Typst's SVG reader stops at its node limit, in the
# SVG's own file, not at a line of the Typst source.
SVG_BOMB = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="100" height="100"><defs><rect id="l0" width="1" height="1"/>'
    + "".join(
        f'<g id="l{i}">' + f'<use xlink:href="#l{i - 1}"/>' * 10 + "</g>" for i in range(1, 12)
    )
    + '</defs><use xlink:href="#l11"/></svg>'
).encode()
LINKING_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    b'width="9" height="9"><image xlink:href="/etc/hostname" width="9" height="9"/></svg>'
)


def vector() -> bytes:
    """Return a PDF figure, compiled in a process of its own (see the last test)."""
    code = (
        "import sys, typst; sys.stdout.buffer.write("
        "typst.compile(b'#set page(width: 2cm, height: 2cm)\\n#rect()'))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout


IMAGES: dict[str, bytes] = {
    "vector.pdf": b"",  # (made by the test: vector())
    "scan.tif": b"II*\x00" + bytes(64),
    "chart.bmp": b"BM" + bytes(64),
    "plot.eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n",
    "cut.png": png()[:40],
    "linked.svg": LINKING_SVG,
    "sly.png": SLY_PNG,
    "bomb.svg": SVG_BOMB,
    "good.png": png(),
    "huge.png": b"\x89PNG\r\n\x1a\n"  # 10^10 pixels Typst would decode (the file is small)
    + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b""))
    + chunk(b"IEND", b""),
}
CHAPTER = '---\nsection: 2\n---\n\n# Second section\n\n[Pears.]{points="2.1"}\n\n' + "".join(
    f"![Figure {name}](img/{name})\n\n" for name in IMAGES
)


@pytest.mark.slow
def test_images_the_pdf_cannot_show_are_named_and_shown_as_placeholders(mini):
    files = {f"img/{n}": d for n, d in {**IMAGES, "vector.pdf": vector()}.items()}
    root = mini({"paper/02-second.md": CHAPTER, **files})
    found = run_checks(load_project(root)).diagnostics
    warned = {
        d.message.split(" ")[0]: (d.line, d.column) for d in found if d.rule == "unsupported-image"
    }
    assert warned == {
        "img/vector.pdf": (9, 22),
        "img/scan.tif": (11, 20),
        "img/chart.bmp": (13, 21),
        "img/plot.eps": (15, 20),
        "img/cut.png": (17, 19),
        "img/linked.svg": (19, 22),
        "img/huge.png": (27, 20),
    }, warned
    messages = " ".join(d.message for d in found)
    assert "a TIFF image" in messages and "an SVG image that links other files" in messages
    for fmt in ("pdf", "docx"):
        result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", fmt])
        assert result.exit_code == 0, result.output
        told = [line for line in result.output.splitlines() if line.startswith("warning: ")]
        if fmt == "pdf":  # the ones the check could not tell are named when they are left out
            assert [line.split(":")[1].strip() for line in told] == ["img/sly.png", "img/bomb.svg"]
            assert all("the PDF shows a placeholder in its place" in line for line in told), told
            assert "nodes limit" in told[1], told
        else:
            assert told == [], told
    text = pdf_text(root / "build/a-small-paper-1.0.pdf")
    assert "100,000 × 100,000 pixels" in messages
    for name in (
        "scan.tif",
        "chart.bmp",
        "plot.eps",
        "cut.png",
        "linked.svg",
        "sly.png",
        "bomb.svg",
        "huge.png",
    ):
        assert f"[image not shown in the PDF: {name}]" in text, (name, text)
    assert "good.png]" not in text and "Figure good.png" in text
    assert "hostname" not in text and "vector.pdf]" not in text  # the PDF shows a PDF figure
    docx = docx_text(root / "build/a-small-paper-1.0.docx")
    # Word shows no PDF, EPS or damaged image; pandoc's writer would decode a huge one whole
    for name in ("vector.pdf", "plot.eps", "cut.png", "huge.png"):
        assert f"[image not shown in the DOCX: {name}]" in docx, (name, docx)
    assert "[image not shown in the DOCX: scan.tif]" not in docx  # (Word shows a TIFF)
    assert "vector.pdf" in warned_drafts(found, "the DOCX cannot show it")
    assert "cut.png" in warned_drafts(found, "the PDF and the DOCX cannot show it")
    assert "huge.png" in warned_drafts(found, "the PDF and the DOCX cannot show it")


def warned_drafts(found, words: str) -> str:
    return " ".join(
        d.message for d in found if d.rule == "unsupported-image" and words in d.message
    )


def test_the_formats_the_pdf_reads_pass():
    # (never typst.compile in the test process: its thread pool, once started, is not there in
    # the compilers later forked from this process, and they would wait on it for ever)
    vector = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'
    for data in (png(), vector, svg, b"GIF89a" + bytes(16), b"RIFF\x00\x00\x00\x00WEBPVP8 "):
        assert pdf_problem(data) is None, data[:12]
    assert pdf_problem(b"\xff\xd8\xff\xe0" + bytes(100)) == "a damaged (cut short) JPEG image"
    assert pdf_problem(b"hello") is not None


GREEN_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">'
    b'<rect width="120" height="60" fill="#00c000"/></svg>'
)
WIDE_SVG = (  # a declared size that drawn as it stands would be a bitmap of gigabytes
    b'<svg xmlns="http://www.w3.org/2000/svg" width="2000000" height="1000000" '
    b'viewBox="0 0 20 10"><rect width="20" height="10" fill="#00c000"/></svg>'
)


def test_an_svg_figure_has_a_png_copy_for_readers_that_show_no_svg(mini):
    """pandoc embeds an SVG for Word 2016 and later only: LibreOffice and older Words showed
    a blank figure. Each now has a PNG drawn from it beside the SVG."""
    import io
    import re
    import zipfile

    from PIL import Image

    chapter = CHAPTER.split("![")[0] + (
        "![Drawn](img/drawing.svg)\n\n![Wide](img/wide.svg)\n\n![Linked](img/linked.svg)\n\n"
        "A note.[^d]\n\n[^d]: ![In a note](img/drawing.svg)\n"
    )
    files = {"img/drawing.svg": GREEN_SVG, "img/wide.svg": WIDE_SVG, "img/linked.svg": LINKING_SVG}
    root = mini({"paper/02-second.md": chapter, **files})
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"])
    assert result.exit_code == 0, result.output
    package = zipfile.ZipFile(root / "build/a-small-paper-1.0.docx")
    seen = []
    for xml_name in ("word/document.xml", "word/footnotes.xml"):
        xml = package.read(xml_name).decode()
        rels = package.read(xml_name.replace("word/", "word/_rels/") + ".rels").decode()
        # (each part's images linked from its own relationships: pandoc linked a note's
        # image from the body's, and no reader showed it)
        targets = dict(re.findall(r'Id="(\w+)"[^>]*Target="([^"]+)"', rels))
        targets.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="(\w+)"', rels)})
        for blip in re.findall(r"<a:blip\b.*?</a:blip>", xml, re.S):
            assert "svgBlip" in blip  # the SVG stays, for the Words that show it
            fallback = re.match(r'<a:blip r:embed="(\w+)"', blip)
            seen.append(
                fallback
                and Image.open(io.BytesIO(package.read(f"word/{targets[fallback.group(1)]}")))
            )
    assert len(seen) == 4, seen
    drawn, wide, linked, in_note = seen
    assert linked is None  # Typst refuses an SVG that links other files: no copy of /etc files
    for image in (drawn, wide, in_note):
        assert image.format == "PNG" and image.width <= 1210 and image.height <= 1815
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
        assert pixel == (0, 192, 0), pixel
    assert drawn.size == (240, 120)  # at twice the SVG's own size, sharp on paper


def test_a_huge_webp_is_too_large_as_its_header_says():
    # A 10 KB lossless WebP of 16,000 × 16,000 had Typst take 1.8 GB; its header says its size.
    lossless = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f" + (
        (16_000 - 1) | ((16_000 - 1) << 14)
    ).to_bytes(4, "little")
    extended = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00" + (
        (20_000 - 1).to_bytes(3, "little") + (9_000 - 1).to_bytes(3, "little")
    )
    lossy = b"RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x9d\x01\x2a" + (
        struct.pack("<HH", 12_000, 12_000)
    )
    for data, size in ((lossless, "16,000 × 16,000"), (extended, "20,000 × 9,000")):
        assert pdf_problem(data) == f"a WebP image of {size} pixels, more than a draft lays out"
        assert docx_problem(data) == pdf_problem(data)
    assert "12,000 × 12,000" in (pdf_problem(lossy) or "")
    small = lossless[:21] + ((300 - 1) | ((200 - 1) << 14)).to_bytes(4, "little")
    assert pdf_problem(small) is None


def test_images_in_data_uris_are_shown_in_both_drafts_or_named_and_placeheld(mini):
    # (pandoc's Typst writer gives a data URI to `image.decode`, which Typst no longer has:
    # one such image failed the whole PDF; a huge or damaged one went unchecked)
    from io import BytesIO

    from PIL import Image

    jpeg = BytesIO()
    Image.new("RGB", (12, 9), (200, 30, 30)).save(jpeg, "JPEG")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
        '<rect width="9" height="9"/></svg>'
    )
    uris = {
        "png": "data:image/png;base64," + base64.b64encode(png()).decode(),
        "jpeg": "data:image/jpeg;base64," + base64.b64encode(jpeg.getvalue()).decode(),
        "svg": "data:image/svg+xml," + urllib.parse.quote(svg),
        "huge": "data:image/png;base64," + base64.b64encode(IMAGES["huge.png"]).decode(),
        "broken": "data:image/png;base64," + base64.b64encode(b"not an image").decode(),
    }
    chapter = '---\nsection: 2\n---\n\n# Second section\n\n[Pears.]{points="2.1"}\n\n' + "".join(
        f"![Picture {name}]({uri})\n\n" for name, uri in uris.items()
    )
    root = mini({"paper/02-second.md": chapter})
    found = run_checks(load_project(root)).diagnostics
    warned = [(d.line, d.message) for d in found if d.rule == "unsupported-image"]
    assert [line for line, _ in warned] == [15, 17], warned
    assert (
        "the image in data:image/png;base64,… is a PNG image of 100,000 × 100,000" in warned[0][1]
    )
    assert "no image the PDF can read" in warned[1][1]
    result = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    text = pdf_text(root / "build/a-small-paper-1.0.pdf")
    assert text.count("[image not shown in the PDF: data:image/png;base64,…]") == 2, text
    reader = pypdf.PdfReader(root / "build/a-small-paper-1.0.pdf")
    pictures = sum(len(page.images) for page in reader.pages)
    assert pictures == 2, pictures  # the PNG and the JPEG (the SVG is drawn as vectors)
    assert "Picture svg" in text
    docx = docx_text(root / "build/a-small-paper-1.0.docx")
    assert docx.count("[image not shown in the DOCX: data:image/png;base64,…]") == 2, docx
    with zipfile.ZipFile(root / "build/a-small-paper-1.0.docx") as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert len(media) >= 3, media  # the PNG, the JPEG and the SVG (with its PNG copy)


def test_an_image_taller_than_the_page_is_made_to_fit_it_in_the_docx(mini):
    # (pandoc fits an image to the text's width only: 50 × 1,500 pixels came out 53 cm tall)
    import io

    import docx
    from PIL import Image

    tall = io.BytesIO()
    Image.new("RGB", (50, 1500), (150, 30, 60)).save(tall, "PNG")
    chapter = (
        '---\nsection: 2\n---\n\n# Second section\n\n[Pears.]{points="2.1"}\n\n'
        "![Tall and thin](tall.png)\n\n![Small](small.png)\n"
    )
    root = mini(
        {"paper/02-second.md": chapter, "paper/tall.png": tall.getvalue(), "paper/small.png": png()}
    )
    result = CliRunner().invoke(cli, ["-C", str(root), "build", "--to", "docx"])
    assert result.exit_code == 0, result.output
    document = docx.Document(str(root / "build/a-small-paper-1.0.docx"))
    section = document.sections[-1]
    room = section.page_height - section.top_margin - section.bottom_margin
    shapes = list(document.inline_shapes)
    assert len(shapes) == 2
    high, small = shapes
    assert 0.7 * room < high.height <= 0.9 * room, (high.height, room)
    assert abs(high.width / high.height - 50 / 1500) < 0.002
    assert small.height < 0.1 * room  # (an image that fits keeps its size)
