"""What a committee member sees when the DOCX is opened in LibreOffice (skipped without it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.render.readers import pdf_pages

OFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(OFFICE is None, reason="LibreOffice is not installed"),
]


FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/lib/libreoffice/share/fonts")


def fonts_without_the_house_face(folder: Path) -> dict[str, str]:
    """Return an environment whose fontconfig sees every installed face but Liberation's.

    The draft's Liberation Serif can then only come from the fonts embedded in the DOCX, as
    on a committee member's machine that lacks it.
    """
    dirs = {  # the folders holding faces (fontconfig reads a <dir> with its subfolders)
        face.parent
        for root in map(Path, FONT_DIRS)
        if root.is_dir()
        for face in root.rglob("*.[ot]tf")
        if "liberation" not in str(face.parent).lower()
    }
    listed = "".join(f"<dir>{d}</dir>" for d in sorted(dirs))
    conf = folder / "fonts.conf"
    conf.write_text(
        f'<?xml version="1.0"?><fontconfig>{listed}<cachedir>{folder / "cache"}</cachedir>'
        "</fontconfig>"
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


@pytest.fixture(scope="module")
def lo_pdf(bundled_build, tmp_path_factory) -> Path:
    """Return the PDF LibreOffice makes of the DOCX, on a system without Liberation Serif."""
    out = tmp_path_factory.mktemp("lo")
    profile = out / "profile"
    subprocess.run(
        [
            OFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(bundled_build["docx"]),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=fonts_without_the_house_face(out),
    )
    return out / (Path(bundled_build["docx"]).stem + ".pdf")


@pytest.fixture(scope="module")
def rendered(lo_pdf) -> list[str]:
    return pdf_pages(lo_pdf)


def font_names(pdf: Path) -> set[str]:
    """Return the base names of the fonts a PDF uses, without subset tags ('LiberationSerif')."""
    from pypdf import PdfReader

    names = set()
    for page in PdfReader(str(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def test_the_embedded_face_sets_the_docx_where_the_system_lacks_it(lo_pdf):
    names = font_names(lo_pdf)
    assert names >= {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"}, names
    assert not any(n.startswith(("DejaVu", "Noto", "Droid")) for n in names), names


def test_both_formats_are_set_in_one_face(lo_pdf, bundled_build):
    assert font_names(Path(bundled_build["pdf"])) == font_names(lo_pdf)


def test_contents_show_with_page_numbers_without_updating_fields(rendered):
    contents = " ".join(rendered[1].split())
    assert "Contents" in contents
    assert "3 Law enforcement" in contents and "11 Recommendations" in contents
    # dot leaders, then the page each section starts on, as LibreOffice laid it out
    pages = {number: " ".join(text.split()) for number, text in enumerate(rendered, start=1)}
    for title in ("Law enforcement", "Recommendations"):
        match = re.search(rf"\d+ {title}[^.]*?\.{{5,}} ?(\d+)", contents)
        assert match, contents
        assert title in pages[int(match.group(1))]


def test_header_and_page_x_of_y_on_every_page_after_the_title(rendered):
    assert "page 1 of" not in rendered[0]  # the title page has no running header or footer
    for number, text in enumerate(rendered[1:], start=2):
        flat = " ".join(text.split())
        assert "First draft submitted to the Congress Coordinating Committee" in flat
        assert f"page {number} of {len(rendered)}" in flat


def test_footnotes_are_numbered_through_the_document(rendered):
    text = " ".join(" ".join(rendered).split())
    # chapter 2's own notes follow the citation notes of chapter 1: they are 3 and 4, not 1 and 2
    assert "3 Optional Protocol to the Convention" in text
    assert "4 UN Protocol to Prevent" in text


def test_docx_and_pdf_page_counts_are_within_a_page(rendered, bundled_build):
    """One house style: the DOCX (as LibreOffice lays it out) and the PDF run alike."""
    assert abs(len(rendered) - len(pdf_pages(bundled_build["pdf"]))) <= 1
