"""What a committee member sees when the DOCX is opened in LibreOffice (skipped without it)."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def rendered(bundled_build, tmp_path_factory) -> list[str]:
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
    )
    return pdf_pages(out / (Path(bundled_build["docx"]).stem + ".pdf"))


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
