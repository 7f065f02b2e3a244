"""bookdown's cross-references in an R Markdown paper (`(\\#fig:cars)` opening a caption,
`(\\#eq:x)` in an equation, `\\@ref(fig:cars)` for the number) are read as pandoc-crossref's:
pandoc reads none of them, and the drafts showed "@ref(fig:cars)" and "(#fig:cars) Cars plot"."""

from __future__ import annotations

import zlib

from paperbuild.build import BuildOptions, build
from paperbuild.checks import run_checks
from paperbuild.load.project import load_project
from tests.render.readers import pandoc_command, pdf_pages
from tests.test_manuscripts import one_chapter


def png() -> bytes:
    """Return a small grey PNG."""
    import struct

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * 8 for _ in range(6))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


CHAPTER = r"""# Findings {#findings}

As Figure \@ref(fig:cars) and Table \@ref(tab:counts) show, and Equation (\@ref(eq:mass))
gives, Section \@ref(method) explains. A slip: Figure \@ref(fig:nope).

![(\#fig:cars) Cars per household](cars.png)

Table: (\#tab:counts) Counts by year

| Year | Count |
|------|-------|
| 2003 | 12    |

\begin{equation}
E = mc^2
(\#eq:mass)
\end{equation}

$$ a^2 + b^2 = c^2 (\#eq:sides) $$

In code, `\@ref(fig:cars)` is left as written; Equation \@ref(eq:sides) too.

## Method {#method}

Words.
"""


def test_bookdowns_references_and_labels_read_as_numbers_in_both_drafts(tmp_path):
    root = one_chapter(
        tmp_path, "Cars", "Findings", "findings.Rmd", CHAPTER, **{"paper/cars.png": png()}
    )
    found = run_checks(load_project(root)).diagnostics
    unknown = [(d.rule, d.line, d.column) for d in found if "crossref" in d.rule]
    assert unknown == [("unknown-crossref", 4, 55)], found  # (the slip, where it is written)
    out = {p.suffix[1:]: p for p in build(root, BuildOptions(force=True)).outputs}
    import subprocess

    docx = subprocess.run(
        [*pandoc_command(), "-f", "docx", "-t", "plain", "--wrap=none", str(out["docx"])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pdf = " ".join(" ".join(page.split()) for page in pdf_pages(out["pdf"]))
    for text in (" ".join(docx.split()), pdf):
        assert (
            "As Figure 1 and Table 1 show, and Equation (1) gives, Section 1.1 explains." in text
        ), text
        assert text.count("@ref(") == 1  # (only the code's)
        assert "(#fig:cars)" not in text and "(#tab:counts)" not in text and "(\\#eq" not in text
        assert "Equation (2) too." in text
    assert "Figure 1: Cars per household" in pdf and "Table 1: Counts by year" in pdf
    assert "\\@ref(fig:cars)" in docx and "\\@ref(fig:cars)" in pdf  # (code as written)
