"""Hostile input: crafted outlines, chapters, refs and reviewed files must never write outside
build/, change a source, leak a file, hang, or end in "internal error".

Each test asserts the guarantee itself: sources hashed before and after, nothing created outside
the project, the secret absent from every output, a clear message and exit code.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from paperbuild.build import BuildOptions, build
from paperbuild.errors import BuildError
from tests.conftest import MINI_FILES, committed, git, run
from tests.processes import HAS_PROC, alive, descendants, kept_pandoc
from tests.render.readers import pandoc_docx_json, text_of

SECRET = "TOP-SECRET-7d1f"


def hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and "build" not in p.relative_to(root).parts
    }


def outputs_text(root: Path) -> str:
    """Return every byte written under build/, as text, zips unpacked."""
    parts = []
    for p in (root / "build").rglob("*"):
        if not p.is_file() or ".cache" in p.parts:
            continue
        data = p.read_bytes()
        if data[:2] == b"PK":
            with zipfile.ZipFile(p) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        if p.suffix == ".pdf":
            import pypdf

            data += " ".join(pg.extract_text() or "" for pg in pypdf.PdfReader(p).pages).encode()
        parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


def assert_clean_failure(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.mark.parametrize("slug", ["../paper/x", "../../../tmp/pb-escape", "/tmp/pb-abs", "a/b"])
def test_a_slug_cannot_lead_outside_build(mini, slug, tmp_path):
    root = mini()
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text().replace("  version:", f"  slug: {slug}\n  version:"))
    before = hashes(root)
    for args in (["build"], ["outline", "--to", "docx"]):
        result = run(root, *args)
        assert result.exit_code == 2, result.output
        assert "document.slug" in result.output and "cannot name a file" in result.output
    assert hashes(root) == before
    assert (
        not Path("/tmp/pb-escape-1.0.docx").exists() and not Path("/tmp/pb-abs-1.0.docx").exists()
    )


@pytest.mark.parametrize("version", ["../../paper/01-first", "/tmp/pb-version", "x" * 300])
def test_a_version_cannot_name_a_path(mini, version):
    root = mini()
    before = hashes(root)
    assert_clean_failure(run(root, "build", "--version", version), "cannot name a draft")
    assert hashes(root) == before


def test_versions_that_differ_only_in_signs_get_their_own_files(mini):
    root = mini()
    assert run(root, "build", "--to", "docx", "--version", "1-0").exit_code == 0
    assert run(root, "release", "1-0").exit_code == 0
    released = (root / "build/a-small-paper-1-0.docx").read_bytes()
    assert run(root, "build", "--to", "docx", "--version", "1+0").exit_code == 0
    assert (root / "build/a-small-paper-1+0.docx").is_file()
    assert (root / "build/a-small-paper-1-0.docx").read_bytes() == released
    assert run(root, "versions", "--verify").exit_code == 0


def test_a_damaged_manifest_is_never_overwritten_and_verify_says_so(mini):
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    manifest = root / "build/versions/1.0/manifest.json"
    for damage in ("[]", '{"words": "many", "released": true}', "{not json"):
        manifest.write_text(damage)
        assert_clean_failure(run(root, "build", "--to", "docx"), "damaged")
        assert manifest.read_text() == damage
        verify = run(root, "versions", "--verify")
        assert verify.exit_code == 1 and "internal error" not in verify.output


def test_feedback_version_from_a_reviewed_file_cannot_pick_the_output_path(mini, tmp_path):
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    before = hashes(root)
    for version in ("../../paper/01-first", "/tmp/pb-feedback"):
        evil = tmp_path / "evil.docx"
        evil.write_bytes(_with_version(root / "build/a-small-paper-1.0.docx", version))
        assert_clean_failure(run(root, "feedback", str(evil), "--patch"))
        assert_clean_failure(run(root, "feedback", str(evil), "--against", version))
    assert hashes(root) == before
    assert not Path("/tmp/pb-feedback.md").exists()


def _with_version(docx: Path, version: str) -> bytes:
    """Return the DOCX with its paperbuild-version property replaced."""
    import io
    import re

    out = io.BytesIO()
    with zipfile.ZipFile(docx) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in ("docProps/custom.xml", "docProps/core.xml"):
                data = re.sub(rb">1\.0<", f">{version}<".encode(), data)
            dst.writestr(item, data)
    return out.getvalue()


def test_git_refs_cannot_be_options(mini):
    root = mini()
    committed(root)
    before = hashes(root)
    for ref in ("--output=paper/01-first.md", "--remote=git://127.0.0.1:9/x", "-o"):
        result = run(root, "diff", f"git:{ref}", ".")
        assert_clean_failure(result, "git ref")
    assert hashes(root) == before


def test_diff_output_cannot_go_into_the_sources(mini):
    root = mini()
    before = hashes(root)
    for out in ("paper", ".", "paper/sub"):
        assert_clean_failure(run(root, "diff", ".", ".", "-o", out), "sources")
    assert hashes(root) == before


def test_a_symlinked_build_folder_or_lock_is_refused(mini, tmp_path):
    root = mini()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    keep = elsewhere / ".keep.tmp"
    keep.write_text("not ours")
    (root / "build").symlink_to(elsewhere)
    assert_clean_failure(run(root, "build"), "symbolic link")
    assert keep.exists() and [p.name for p in elsewhere.iterdir()] == [".keep.tmp"]
    (root / "build").unlink()
    (root / "build").mkdir()
    (root / "build/.lock").symlink_to(elsewhere / "lock-target")
    assert_clean_failure(run(root, "build"), "lock")
    assert not (elsewhere / "lock-target").exists()


def test_init_keeps_chapters_inside_the_new_project(tmp_path):
    outline = tmp_path / "draft.yaml"
    outline.write_text(
        "document:\n  title: T\n  author: A\n  status: S\n  version: '1'\n"
        "sections:\n  - id: ../../escape\n    title: Escape\n"
    )
    result = run(None, "init", str(tmp_path / "new"), "--from-outline", str(outline))
    assert "internal error" not in result.output
    created = [p for p in tmp_path.rglob("*.md")]
    assert created and all((tmp_path / "new") in p.parents for p in created)


def test_raw_typst_reads_nothing_outside_the_sandbox(mini, tmp_path):
    root = mini()
    (tmp_path / "notes").write_text(SECRET)
    (root / "paper/notes").symlink_to(tmp_path / "notes")
    chapter = root / "paper/02-second.md"
    chapter.write_text(
        chapter.read_text()
        + '\n```{=typst}\n#raw(read("/paper/notes"))\n```\n\n```{=typst}\n#raw(read("'
        + str(tmp_path / "notes")
        + '"))\n```\n'
    )
    result = run(root, "build", "--to", "pdf")
    assert "internal error" not in result.output
    if (root / "build").exists():
        assert SECRET not in outputs_text(root)


def test_raw_typst_cannot_import_packages(mini):
    root = mini()
    chapter = root / "paper/02-second.md"
    chapter.write_text(chapter.read_text() + '\n```{=typst}\n#import "@preview/cetz:0.3.0"\n```\n')
    assert_clean_failure(run(root, "build", "--to", "pdf"), "package")


def test_an_image_in_a_bibliography_field_is_held_to_the_project(mini, tmp_path):
    from tests.test_manuscripts import png

    secret = tmp_path / "secret.png"
    secret.write_bytes(png() + SECRET.encode())
    root = mini()
    bib = root / "references.bib"
    bib.write_text(
        bib.read_text()
        + "@misc{evil, author = {A}, year = {2020}, title = {X \\includegraphics{"
        + str(secret)
        + "}}}\n"
    )
    chapter = root / "paper/02-second.md"
    chapter.write_text(chapter.read_text().replace("Pears too.", "Pears too [@evil]."))
    assert run(root, "build", "--to", "docx").exit_code == 0
    text = outputs_text(root)
    assert SECRET not in text and str(tmp_path) not in text
    assert "image outside the project: secret.png" in text


def test_a_bibliography_linked_from_outside_is_not_read(mini, tmp_path):
    root = mini()
    outside = tmp_path / "outside.bib"
    outside.write_text("@misc{" + SECRET + ", title = {S}, author = {A}, year = {2000}}\n")
    (root / "references.bib").unlink()
    (root / "references.bib").symlink_to(outside)
    result = run(root, "build", "--force")
    assert "internal error" not in result.output
    if (root / "build").exists():
        assert SECRET not in outputs_text(root)


@pytest.mark.parametrize("where", ["paper/02-second.md", "references.bib"])
def test_a_fifo_is_refused_not_waited_on(mini, where):
    root = mini()
    outline = root / "outline.yaml"
    outline.write_text(
        outline.read_text().replace(
            "title: Second section", "title: Second section\n    chapter: paper/02-second.md"
        )
    )
    target = root / where
    if target.exists():
        target.unlink()
    os.mkfifo(target)
    began = time.monotonic()
    result = run(root, "check")
    assert time.monotonic() - began < 30
    assert "internal error" not in result.output
    assert "not a regular file" in result.output


def test_a_folder_where_the_outline_names_a_chapter_is_said_to_be_a_folder(bundled_copy):
    root = bundled_copy  # (its outline names each chapter's file)
    (root / "paper/05-protection.md").unlink()
    (root / "paper/05-protection.md").mkdir()
    result = run(root, "check")
    assert result.exit_code == 1, result.output
    assert "paper/05-protection.md is a folder, not a file; it is not read" in result.output
    assert "pipe" not in result.output and "internal error" not in result.output


def test_a_fifo_as_a_reviewed_file_is_refused(mini, tmp_path):
    root = mini()
    fifo = tmp_path / "review.docx"
    os.mkfifo(fifo)
    assert_clean_failure(run(root, "feedback", str(fifo)), "not a regular file")


def test_an_alias_bomb_in_front_matter_stays_small(mini):
    root = mini()
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(15)
    )
    chapter = root / "paper/02-second.md"
    chapter.write_text(
        "---\nsection: 2\n" + bomb + "---\n" + chapter.read_text().split("---\n", 2)[2]
    )
    began = time.monotonic()
    result = run(root, "check")
    assert time.monotonic() - began < 30
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_pathological_markup_stops_at_the_time_limit(mini):
    root = mini()
    (root / "paper/02-second.md").write_text(
        "---\nsection: 2\n---\n\n# Second section\n\n" + "[a](" * 50000 + "\n"
    )
    began = time.monotonic()
    result = run(root, "check", env={"PAPERBUILD_PANDOC_TIMEOUT": "3"})
    assert time.monotonic() - began < 30
    assert_clean_failure(result, "did not finish within 3 s")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep quotes", "> " * 3000 + "deep\n"),
        ("long status", None),
    ],
    ids=["deep quotes", "long status"],
)
def test_known_bad_input_is_never_an_internal_error(mini, name, text):
    root = mini()
    if text is not None:
        (root / "paper/02-second.md").write_text(
            "---\nsection: 2\n---\n\n# Second section\n\n" + text
        )
    else:
        outline = root / "outline.yaml"
        outline.write_text(outline.read_text().replace("Draft for the committee", "S" * 400))
    result = run(root, "build", "--to", "docx", "--force")
    assert "internal error" not in result.output, result.output
    assert result.exit_code in (0, 1, 2)


@pytest.mark.slow
def test_deeply_nested_outline_is_a_located_problem(mini):
    root = mini()
    (root / "outline.yaml").write_text("document: " + "[" * 20000 + "\n")
    result = run(root, "check")
    assert result.exit_code == 2 and "internal error" not in result.output
    assert "outline.yaml" in result.output


@pytest.mark.parametrize("inside", ["versions", ".cache", ".cache/ast"])
def test_a_link_inside_build_is_never_written_through(mini, tmp_path, inside):
    """A pull request may commit build/versions or build/.cache as a link into the sources."""
    root = mini()
    target = root / "paper"
    (root / "build" / inside).parent.mkdir(parents=True, exist_ok=True)
    (root / "build" / inside).symlink_to(target)
    before = hashes(root)
    result = run(root, "build")
    assert_clean_failure(result, "symbolic link")
    assert hashes(root) == before
    assert sorted(p.name for p in target.iterdir()) == ["01-first.md", "02-second.md"]


def test_a_reference_document_is_read_through_the_input_gate(mini, tmp_path):
    root = mini()
    outside = tmp_path / "ref.docx"
    outside.write_bytes(b"PK" + SECRET.encode())
    (root / "ref.docx").symlink_to(outside)
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: ref.docx\n")
    result = run(root, "build", "--to", "docx", "--force")
    assert "internal error" not in result.output
    assert not list((root / "build").glob("*.docx"))
    os.mkfifo(root / "fifo.docx")
    outline.write_text(outline.read_text().replace("ref.docx", "fifo.docx"))
    began = time.monotonic()
    result = run(root, "build", "--to", "docx", "--force")
    assert time.monotonic() - began < 30 and "internal error" not in result.output


def _bomb(path: Path, megabytes: int = 300) -> Path:
    """Write a zip whose word/document.xml unpacks to `megabytes` of zeros (about 1 MB packed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            for _ in range(megabytes):
                part.write(b"\0" * (1 << 20))
    return path


@pytest.mark.slow
def test_a_zip_bomb_is_refused_before_it_is_unpacked(mini, tmp_path):
    """As a reviewed file and as the reference document: a clear message, little memory."""
    root = mini()
    bomb = _bomb(tmp_path / "bomb.docx")
    script = (  # the run's own peak memory (KiB) printed last
        "import sys, resource; from click.testing import CliRunner; from paperbuild.cli import cli;"
        " r = CliRunner().invoke(cli, sys.argv[1:]); print(r.output);"
        " print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(r.exit_code)"
    )
    shutil.copy(bomb, root / "ref.docx")
    with_ref = root / "outline.yaml"
    with_ref.write_text(with_ref.read_text() + "reference-doc: ref.docx\n")
    for args in (["feedback", str(bomb)], ["build", "--to", "docx", "--force"]):
        done = subprocess.run(
            [sys.executable, "-c", script, "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert "unpacks to 300 MB" in done.stdout and "internal error" not in done.stdout
        peak_kib = int(done.stdout.split()[-1])
        assert peak_kib < 250 * 1024  # unpacked, the bomb alone would take 300 MB


def _encrypted(docx: Path, out: Path) -> Path:
    """Write a copy of the DOCX whose parts are marked encrypted (as a zip tool's password sets)."""
    data = bytearray(docx.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 8] |= 0x1  # general purpose flag, bit 0: encrypted
        at = data.find(b"PK\x01\x02", at + 4)
    out.write_bytes(bytes(data))
    return out


def test_an_encrypted_or_damaged_reviewed_file_is_a_clear_error(mini, tmp_path):
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    built = root / "build/a-small-paper-1.0.docx"
    encrypted = _encrypted(built, tmp_path / "locked.docx")
    assert_clean_failure(run(root, "feedback", str(encrypted)), "encrypted zip archive")
    damaged = bytearray(built.read_bytes())
    start = damaged.find(b"word/document.xml") + len("word/document.xml")
    damaged[start + 40 : start + 400] = bytes(360)  # the part's packed bytes, zeroed
    (tmp_path / "damaged.docx").write_bytes(bytes(damaged))
    assert_clean_failure(run(root, "feedback", str(tmp_path / "damaged.docx")), "damaged")


def test_pandocs_own_reference_document_works_and_no_template_path_leaks(mini, tmp_path):
    """pandoc's default reference.docx sets no page size; a Word one links its template by path."""
    from paperbuild import pandoc

    root = mini()
    default = pandoc.run(["--print-default-data-file", "reference.docx"])
    (root / "ref.docx").write_bytes(_leaky(default))
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "reference-doc: ref.docx\n")
    result = run(root, "build", "--to", "docx")
    assert result.exit_code == 0, result.output
    text = outputs_text(root)
    assert "Second section" in text and "/home/alice" not in text


def _leaky(docx: bytes) -> bytes:
    """Return the DOCX with its template linked by an absolute path, as Word saves one."""
    import io
    import re

    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/settings.xml":
                if b"xmlns:r=" not in data:
                    data = data.replace(b"<w:settings ", f'<w:settings xmlns:r="{rel}" '.encode())
                data = re.sub(rb"(<w:settings[^>]*>)", rb'\1<w:attachedTemplate r:id="rT"/>', data)
            if item.filename == "docProps/app.xml":
                data = data.replace(b"Normal.dotm", b"/home/alice/Templates/Normal.dotm")
            dst.writestr(item, data)
        dst.writestr(
            "word/_rels/settings.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rT" Type="{rel}/attachedTemplate" '
            'Target="file:///home/alice/Templates/Normal.dotm" TargetMode="External"/>'
            "</Relationships>",
        )
    return out.getvalue()


CSL_HEAD = '<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0" class="note">'
STYLES = {
    "dependent": f'<?xml version="1.0"?>\n{CSL_HEAD}<info><title>D</title>\n'
    '<link href="{parent}" rel="independent-parent"/></info></style>\n',
    "xxe": '<?xml version="1.0"?>\n<!DOCTYPE style [<!ENTITY x SYSTEM "file://{secret}">]>\n'
    f"{CSL_HEAD}<info><title>&x;</title></info></style>\n",
    "laughs": '<?xml version="1.0"?>\n<!DOCTYPE style [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + f"]>\n{CSL_HEAD}<info><title>&i;</title></info></style>\n",
}


@pytest.mark.parametrize("kind", sorted(STYLES))
def test_a_style_that_reads_elsewhere_is_refused_by_every_command(mini, tmp_path, kind):
    """A dependent style makes citeproc read its parent (a path or URL), even under --sandbox."""
    root = mini()
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    parent = tmp_path / "parent.csl"
    parent.write_text(
        (Path(__file__).parents[1] / "src/paperbuild/render/templates/chicago-notes.csl")
        .read_text()
        .replace("Chicago", SECRET)
    )
    (root / "style.csl").write_text(STYLES[kind].format(parent=parent, secret=secret))
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "csl: style.csl\n")
    check = run(root, "check")
    assert check.exit_code == 1 and "invalid-style" in check.output, check.output
    for args in (["status"], ["build", "--force"]):
        assert_clean_failure(run(root, *args), "style.csl")
    assert not (root / "build").exists() or SECRET not in outputs_text(root)


def test_a_style_whose_macros_call_themselves_is_refused_before_citeproc_runs(mini):
    """citeproc never ends a macro that calls itself: pandoc took 3 GB in 17 s, then its limit
    stopped it, and the message blamed the chapters."""
    style = (
        (Path(__file__).parents[1] / "src/paperbuild/render/templates/chicago-notes.csl")
        .read_text()
        .replace(
            "<macro ",
            '<macro name="a"><group><text macro="b"/></group></macro>\n'
            '<macro name="b"><text macro="a"/></macro>\n<macro ',
            1,
        )
    )
    at = style.index("<citation")
    layout = style.index("<layout", at)
    style = style[:layout] + style[layout:].replace(">", '><text macro="a"/>', 1)
    root = mini()
    (root / "style.csl").write_text(style)
    outline = root / "outline.yaml"
    outline.write_text(outline.read_text() + "csl: style.csl\n")
    check = run(root, "check")
    line = style[: style.index('<macro name="a">')].count("\n") + 1
    assert f"style.csl:{line}: error[invalid-style]" in check.output, check.output
    assert "the CSL macro 'a' calls itself (a → b → a)" in check.output, check.output
    assert_clean_failure(run(root, "build", "--force", "--to", "docx"), "calls itself")


def test_raw_openxml_that_opens_like_another_is_located_at_its_own_place(mini):
    field = '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>INCLUDETEXT "x"'
    root = mini()
    chapter = root / "paper/02-second.md"
    chapter.write_text(
        chapter.read_text() + f"\n```{{=openxml}}\n<w:p>{field}</w:instrText></w:r></w:p>\n```\n\n"
        f"And `{field}</w:instrText></w:r>`{{=openxml}} inline.\n"
    )
    lines = chapter.read_text().splitlines()
    block = next(i for i, text in enumerate(lines, 1) if text.startswith("<w:p>"))
    inline = next(i for i, text in enumerate(lines, 1) if text.startswith("And `"))
    check = run(root, "check")
    assert f"paper/02-second.md:{block}:1: error[unsafe-raw]" in check.output, check.output
    assert f"paper/02-second.md:{inline}:6: error[unsafe-raw]" in check.output, check.output


def test_ill_formed_raw_openxml_is_located_and_left_out(mini):
    root = mini()
    chapter = root / "paper/02-second.md"
    chapter.write_text(
        chapter.read_text() + "\n```{=openxml}\n<w:p><w:r><w:t>broken</w:r></w:p>\n```\n\n"
        "Fine `<w:r><w:t>ok</w:t></w:r>`{=openxml} too.\n"
    )
    check = run(root, "check")
    assert check.exit_code == 1, check.output
    lines = chapter.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "broken" in text)
    assert f"paper/02-second.md:{line}:1: error[invalid-raw]" in check.output
    assert check.output.count("invalid-raw") == 1  # the well-formed one is fine
    result = run(root, "build", "--to", "docx", "--force")
    assert result.exit_code == 0, result.output
    import docx

    draft = docx.Document(root / "build/a-small-paper-1.0.docx")
    text = "\n".join(p.text for p in draft.paragraphs)
    assert "Fine ok too." in text and "broken" not in text


def _with_raw_typst(root: Path, code: str) -> None:
    chapter = root / "paper/02-second.md"
    chapter.write_text(chapter.read_text() + f"\n```{{=typst}}\n{code}\n```\n")


@pytest.mark.slow
def test_raw_typst_that_allocates_without_end_meets_the_memory_limit(mini):
    root = mini()
    _with_raw_typst(root, "#let a = range(0, 300000000).map(x => (x, x))\n#a.len()")
    began = time.monotonic()
    result = run(root, "build", "--to", "pdf", env={"PAPERBUILD_TYPST_MEMORY": "600m"})
    assert_clean_failure(result, "ran out of its 600 MB of memory")
    assert time.monotonic() - began < 60
    assert "stack backtrace" not in result.output
    assert not list((root / "build").glob("*.pdf"))


LOOP = "#for i in range(100000) { for j in range(100000) { } }"


@pytest.mark.slow
def test_raw_typst_that_loops_meets_the_time_limit(mini):
    root = mini()
    _with_raw_typst(root, LOOP)
    began = time.monotonic()
    result = run(root, "build", "--to", "pdf", env={"PAPERBUILD_TYPST_TIMEOUT": "2"})
    assert_clean_failure(result, "did not finish within 2 s")
    assert time.monotonic() - began < 30


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROC, reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("sig", "formats"),
    [(signal.SIGINT, "pdf"), (signal.SIGTERM, "pdf"), (signal.SIGINT, "docx,pdf")],
)
def test_a_signal_during_typst_stops_the_build_within_a_second(mini, sig, formats):
    """With both formats the DOCX is rendered while Typst compiles: a signal then stops both."""
    root = mini()
    _with_raw_typst(root, LOOP)
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperbuild", "-C", str(root), "build", "--to", formats],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    compiler = _compiler(proc)
    time.sleep(0.5)  # the compiler is looping
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 1.0, err
    assert proc.returncode in (130, 128 + signal.SIGTERM), err
    assert b"internal error" not in err and b"Traceback" not in err
    assert not alive(compiler)
    assert not list((root / "build").glob("*.pdf"))


@pytest.mark.skipif(not HAS_PROC, reason="needs Linux's /proc")
def test_a_docx_that_fails_while_typst_compiles_stops_the_compiler(mini, monkeypatch):
    """Both formats: the DOCX is rendered while Typst compiles; when it fails, no compiler is
    left running and no PDF is written."""
    from paperbuild.render import docx

    root = mini()
    _with_raw_typst(root, LOOP)
    seen: list[int] = []

    def failing(*args, **kwargs):
        seen.extend(p for p in descendants(os.getpid()) if not kept_pandoc(p))  # the compiler
        raise BuildError("the DOCX failed")

    monkeypatch.setattr(docx, "render_docx", failing)
    with pytest.raises(BuildError, match="the DOCX failed"):
        build(root, BuildOptions(formats=("docx", "pdf")))
    assert seen, "the compiler was not running while the DOCX was rendered"
    assert not any(alive(pid) for pid in seen)
    assert not list((root / "build").glob("*.pdf"))


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROC, reason="needs Linux's /proc")
def test_a_compiler_does_not_outlive_a_build_killed_outright(mini, tmp_path):
    """SIGKILL gives paperbuild no chance to stop its looping Typst compiler: it must end too."""
    root = mini()
    _with_raw_typst(root, LOOP)
    scratch = tmp_path / "tmp"  # (the killed build's temporary folders stay: here, not in /tmp)
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperbuild", "-C", str(root), "build", "--to", "pdf"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    compiler = _compiler(proc)
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while alive(compiler) and time.monotonic() < deadline:
        time.sleep(0.05)
    running = alive(compiler)
    if running:
        os.kill(compiler, signal.SIGKILL)
    assert not running, "the orphaned Typst compiler was still running 10 s after its build died"


def _compiler(proc: subprocess.Popen[bytes]) -> int:
    """Return the pid of the build's forked Typst compiler (a copy of paperbuild), once running."""
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline and proc.poll() is None
        for pid in descendants(proc.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command[1:3] == [b"-m", b"paperbuild"]:
                return pid
        time.sleep(0.02)


@pytest.mark.parametrize("link", ["absolute", "relative"])
def test_a_link_out_of_a_git_tree_is_not_followed(mini, tmp_path, link):
    """A commit may hold a chapter that is a link to a file of the machine that runs the diff."""
    root = mini()
    secret = tmp_path / "secret.md"
    secret.write_text(f"---\nsection: 2\n---\n\n# Second section\n\n{SECRET}\n")
    chapter = root / "paper/02-second.md"
    chapter.unlink()
    chapter.symlink_to(secret if link == "absolute" else os.path.relpath(secret, chapter.parent))
    committed(root)
    result = run(root, "diff", "git:HEAD", str(tmp_path / "nothing-here"), "--to", "md")
    assert_clean_failure(result, "will not unpack")
    assert not (root / "build").exists() or SECRET not in outputs_text(root)


def _commit_all(root: Path) -> None:
    """Commit the project, build/ included (as a pull request could)."""
    committed(root, "pr", "-f")


def _foreign_seal(path: Path, data: bytes) -> bytes:
    """Return a cache file's bytes sealed as paperbuild on another machine seals them."""
    from paperbuild.util import seal

    mac = hmac.new(b"another machine's key 0123456789"[:32], digestmod=hashlib.sha256)
    mac.update(path.name.encode() + b"\0" + data)
    return data + seal.MARK + mac.hexdigest().encode()


def _our_seal(path: Path, data: bytes) -> bytes:
    from paperbuild.util.seal import sealed

    return sealed(path, data)


# How the planted files are written: each file's bytes through a seal (ours: the files would be
# read but for git), and the clean chapter's parse and facts put under the other key either
# sealed again for their new names or copied as they are (a file of ours, moved).
PLANTS = {
    "committed to git": (_our_seal, "sealed again", True),
    "in an archive, unsealed": (lambda path, data: data, "sealed again", False),
    "in an archive, sealed on another machine": (_foreign_seal, "sealed again", False),
    "in an archive, our files moved to other names": (_our_seal, "copied", False),
}


@pytest.mark.slow
@pytest.mark.parametrize("plant", PLANTS)
def test_a_planted_cache_is_never_read(mini, plant):
    """A pull request or an archive brings build/.cache/: facts that hide a problem, a parse,
    citeproc's output and a reference document of its own. None of it reaches a check or a
    draft: git's files there are not read, and no file is read that was not sealed here under
    its own name."""
    from paperbuild import pandoc
    from paperbuild.load.project import load_project
    from paperbuild.parse import _facts_version
    from paperbuild.util.fsutil import kept_bytes

    seal, moved, commit = PLANTS[plant]

    def key() -> str:  # the cache key of the second chapter's text, as parse computes it
        (chapter,) = [c for c in load_project(root).chapters if c.path == "paper/02-second.md"]
        return pandoc.cache_key(chapter.text)

    def held(path: Path) -> bytes:
        data = kept_bytes(path)
        assert data is not None, path
        return data

    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    cache = root / "build" / ".cache"
    second = root / "paper/02-second.md"
    clean_key = key()
    scans = cache / "scan" / "scans.json"
    clean_scans = json.loads(held(scans))
    second.write_text(second.read_text() + "\nA claim.[^9]\n")  # a note with no text
    bad_key = key()
    assert run(root, "check").exit_code == 1  # (the scan of the text with [^9] kept)
    files = {path: held(path) for path in [*cache.rglob("*.json"), *cache.rglob("*.zip")]}
    planted_scans = json.loads(files[scans])
    for new_key in set(planted_scans) - set(clean_scans):  # the clean chapter's scan, put there
        planted_scans[new_key] = next(v for k, v in clean_scans.items() if k not in planted_scans)
    files[scans] = json.dumps(planted_scans).encode()
    version = _facts_version()
    copies = {}
    for suffix in (".json", f".{version}.facts.json"):  # the clean chapter's, under the bad key
        clean, bad = cache / "ast" / f"{clean_key}{suffix}", cache / "ast" / f"{bad_key}{suffix}"
        files[bad] = files[clean]
        copies[bad] = clean.read_bytes()  # (sealed for the clean chapter's name)
    for path, data in files.items():
        if moved == "copied":  # (our files, moved: nothing else changed, as a change would
            if path in copies:  # make them not ours)
                path.write_bytes(copies[path])
        else:
            path.write_bytes(seal(path, data.replace(b"Apples", b"POISON")))
    (reference,) = cache.glob("reference-*.docx")
    with zipfile.ZipFile(reference) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["word/styles.xml"] = parts["word/styles.xml"].replace(b"Liberation Serif", b"EvilFont")
    with zipfile.ZipFile(reference, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    sealed_reference = reference.with_suffix(".sealed")  # (what the path pandoc reads holds)
    if moved != "copied":
        sealed_reference.write_bytes(seal(sealed_reference, reference.read_bytes()))
    if commit:
        _commit_all(root)

    checked = run(root, "check")
    assert checked.exit_code == 1, checked.output
    assert "paper/02-second.md:11:9: error[undefined-footnote]" in checked.output
    assert ("tracked-cache" in checked.output) == commit
    run(root, "build", "--to", "docx", "--force")
    (draft,) = (root / "build").glob("*.docx")
    with zipfile.ZipFile(draft) as z:
        document, styles = z.read("word/document.xml"), z.read("word/styles.xml")
    assert b"POISON" not in document and b"Apples" in document
    assert b"EvilFont" not in styles
    from paperbuild.load.bibliography import load_bibliography

    assert list(cache.glob("bib/bibliography-*.json"))  # (planted too)
    assert load_bibliography(root, "references.bib").entries[0].fields["title"] == "Apples"


@pytest.mark.parametrize("how", ["committed to git", "in an archive"])
def test_a_planted_snapshot_does_not_stand_for_the_sources(mini, how):
    """`diff … .` reuses the recorded draft of the sources' version only if paperbuild recorded
    it here, as it stands: a committed or archived one could match the sources' hashes and
    show other text (its manifest's digest made to match)."""
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    (planted,) = (root / "build" / "versions").glob("*/document.json")
    planted.write_text(planted.read_text().replace("orchards", "POISON"))
    manifest = planted.parent / "manifest.json"
    data = json.loads(manifest.read_text())
    data["document_sha256"] = hashlib.sha256(planted.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(data, indent=2))
    if how == "committed to git":
        _commit_all(root)
    result = run(root, "diff", planted.parent.name, ".", "--to", "md")
    assert result.exit_code == 0, result.output
    # the sources say "orchards", the planted snapshot "POISON": one word each way
    assert "+1 −1 words" in result.output, result.output


def test_a_snapshot_not_in_utf8_is_a_clear_error_not_read_another_way(mini):
    """A recorded draft is UTF-8 JSON as paperbuild wrote it; the same JSON saved as UTF-16 (an
    editor's "save as Unicode") is reported, not decoded by guessing."""
    root = mini()
    assert run(root, "build", "--to", "docx").exit_code == 0
    (snapshot,) = (root / "build" / "versions").glob("*/document.json")
    snapshot.write_bytes(snapshot.read_text(encoding="utf-8").encode("utf-16"))
    result = run(root, "diff", snapshot.parent.name, ".", "--to", "md")
    assert result.exit_code == 2, result.output
    assert f"the snapshot in {snapshot.parent} cannot be read" in result.output, result.output
    assert "Traceback" not in result.output


def test_whether_git_tracks_the_cache_is_asked_again_when_the_index_changes(mini):
    """The answer is kept for one index: a `git add` in a long-lived process (watch) is seen."""
    from paperbuild.safety import CACHE_DIR, git_tracks

    root = mini()
    git(root, "init", "-q")
    assert run(root, "check").exit_code == 0  # writes build/.cache/
    assert not git_tracks(root, CACHE_DIR) and not git_tracks(root, CACHE_DIR)
    git(root, "add", "-f", "build/.cache")
    assert git_tracks(root, CACHE_DIR)
    git(root, "rm", "-r", "-q", "--cached", "build/.cache")
    assert not git_tracks(root, CACHE_DIR)


def test_a_bibliography_of_nested_strings_is_refused_before_pandoc_builds_it(mini):
    """Eight @string levels of ten make a title of 10^9 characters: pandoc would take 3 GB."""
    levels = ['@string{s0 = "aaaaaaaaaa"}'] + [
        f"@string{{s{i} = " + " # ".join([f"s{i - 1}"] * 10) + "}" for i in range(1, 9)
    ]
    bib = (
        "\n".join(levels) + "\n@book{smith2020, author = {Smith, Jane}, title = s8, year = 2020}\n"
    )
    root = mini({"references.bib": bib})
    started = time.monotonic()
    result = run(root, "check")
    assert result.exit_code == 1 and "references.bib:10:1: error[bib-syntax]" in result.output
    assert "title of 'smith2020' expands to over 10,000,000 characters" in result.output
    forced = run(root, "build", "--force")
    assert forced.exit_code == 2 and "does not give it to pandoc" in forced.output
    assert run(root, "status").exit_code == 0
    assert time.monotonic() - started < 20  # (pandoc took 10 s to reach its 3 GB limit)


@pytest.mark.slow  # reads a crafted 200,000-line chapter
def test_macro_definitions_are_read_within_a_bound(mini):
    """Each chapter is read after the others' macros: that reading, and what it adds, is bounded."""
    from paperbuild.load.chapters import MAX_MACROS, MAX_PRELUDE, macro_definitions
    from paperbuild.load.project import load_project
    from paperbuild.parse import parse_texts

    unclosed = "\n".join("\\def\\x{" + "a" * 30 for _ in range(200_000))
    started = time.monotonic()
    assert macro_definitions(unclosed) == []
    assert time.monotonic() - started < 5
    many = "".join(f"\\newcommand{{\\m{i}}}{{{'b' * 300}}}\n" for i in range(3000))
    root = mini({"paper/01-first.md": many + "\n# First section\n\nApples.\n"})
    texts = parse_texts(load_project(root))
    assert len(macro_definitions(many)) == MAX_MACROS
    second = texts["paper/02-second.md"]
    assert len(second) < MAX_PRELUDE + 1000 and second.count("\\newcommand") < MAX_MACROS
    assert second.split("\n\n")[0].endswith("}")  # whole definitions only


@pytest.mark.slow  # parses a crafted 7,000-entry bibliography
def test_long_chains_of_strings_and_crossrefs_are_read_without_recursion():
    """A string defined by the one before it, 5,000 deep; an entry inheriting 2,000 deep."""
    from paperbuild.load.bibliography import parse_bibtex

    chain = ['@string{s0 = "aaaaaaaaaa"}', *(f"@string{{s{i} = s{i - 1}}}" for i in range(1, 5000))]
    refs = [f"@book{{b{i}, title={{T}}, crossref={{b{i + 1}}}}}" for i in range(2000)]
    refs.append("@book{b2000, title={T}, author={Doe, Ann}, year={2000}}")
    bib = parse_bibtex("\n".join(chain + refs) + "\n", "references.bib")
    assert len(bib.entries) == 2001 and bib.problems == ()  # each inherits author and year


UNSAFE_OPENXML = {  # what a pull request could slip into a chapter, run by the committee's Word
    "dde": '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>DDEAUTO '
    'c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"</w:instrText></w:r>'
    '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
    "fetch": '<w:p><w:fldSimple w:instr=" INCLUDEPICTURE &quot;http://tracker.invalid/x.png&quot;'
    ' \\d"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>',
    "split": '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>INCLUDE'
    '</w:instrText></w:r><w:r><w:instrText>TEXT "c:/secret.txt"</w:instrText></w:r>'
    '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
    "share": '<w:p><w:r><w:pict><v:shape><v:imagedata o:href="\\\\\\\\server\\\\share\\\\a.png"/>'
    "</v:shape></w:pict></w:r></w:p>",
    "chunk": '<w:altChunk r:id="rId1"/>',
}
SAFE_OPENXML = (  # what an author does write: a page number, a caption number, a page break
    '<w:p><w:r><w:t xml:space="preserve">Page </w:t></w:r><w:fldSimple w:instr=" PAGE ">'
    '<w:r><w:t>1</w:t></w:r></w:fldSimple><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    '<w:r><w:instrText xml:space="preserve"> SEQ Figure </w:instrText></w:r><w:r><w:instrText '
    'xml:space="preserve">\\* ARABIC </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/>'
    "</w:r><w:r><w:t>kept words</w:t></w:r></w:p>"
)


def test_raw_openxml_that_fetches_includes_or_runs_is_located_and_left_out(mini):
    root = mini()
    chapter = root / "paper/02-second.md"
    raw = "".join(f"\n```{{=openxml}}\n{xml}\n```\n" for xml in UNSAFE_OPENXML.values())
    chapter.write_text(chapter.read_text() + raw + f"\n```{{=openxml}}\n{SAFE_OPENXML}\n```\n")
    check = run(root, "check")
    assert check.exit_code == 1, check.output
    lines = chapter.read_text().splitlines()
    for xml in UNSAFE_OPENXML.values():
        line = lines.index(xml) + 1
        assert f"paper/02-second.md:{line}:1: error[unsafe-raw]" in check.output, (xml, check)
    assert check.output.count("unsafe-raw") == len(UNSAFE_OPENXML), check.output
    assert "invalid-raw" not in check.output
    assert "DDEAUTO field" in check.output and "\\\\server" in check.output
    assert run(root, "build", "--to", "docx").exit_code == 1  # an error: no draft without --force
    result = run(root, "build", "--to", "docx", "--force")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(root / "build/a-small-paper-1.0.docx") as package:
        body = package.read("word/document.xml").decode()
    for word in ("DDEAUTO", "INCLUDE", "tracker.invalid", "server", "altChunk"):
        assert word not in body, word
    assert "kept words" in body and " SEQ Figure " in body and 'w:instr=" PAGE "' in body


def crafted_reference(path: Path) -> None:
    """Write a reference document whose header, footer and settings would have Word run a
    program, fetch a URL, show a picture linked from a server and query a data source."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml

    declared = " ".join(f'xmlns:{p}="{u}"' for p, u in NAMESPACES.items())

    def xml(snippet: str):
        return parse_xml(f"<w:wrap {declared}>{snippet}</w:wrap>")[0]

    doc = docx.Document()
    section = doc.sections[0]
    header, footer = section.header, section.footer
    header.paragraphs[0].text = "Ministry of Orchards"  # the author's own line: it stays
    logo = io.BytesIO()  # and the author's own logo, embedded (its <a:graphicData uri="http…">)
    Image.new("RGB", (8, 8), (0, 90, 0)).save(logo, format="PNG")
    header.paragraphs[0].add_run().add_picture(logo)
    header._element.append(xml(UNSAFE_OPENXML["dde"]))
    footer._element.append(xml(UNSAFE_OPENXML["fetch"]))
    logo = header.part.relate_to("http://tracker.invalid/logo.png", RT.IMAGE, is_external=True)
    header._element.append(
        xml(
            f'<w:p><w:r><w:pict><v:shape><v:imagedata r:id="{logo}"/></v:shape></w:pict></w:r>'
            "</w:p>"
        )
    )
    doc.part._styles_part.relate_to("http://tracker.invalid/style.png", RT.IMAGE, True)
    settings = doc.part._settings_part
    source = settings.relate_to("file:///c:/secret.odc", f"{RT.IMAGE[:-5]}mailMergeSource", True)
    settings.element.append(
        xml(
            '<w:mailMerge><w:mainDocumentType w:val="formLetters"/><w:dataType w:val="native"/>'
            f'<w:query w:val="SELECT * FROM x"/><w:dataSource r:id="{source}"/></w:mailMerge>'
        )
    )
    doc.save(path)


NAMESPACES = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "v": "urn:schemas-microsoft-com:vml",
    "o": "urn:schemas-microsoft-com:office:office",
}


@pytest.mark.slow
def test_a_reference_document_that_would_fetch_or_run_is_named_and_left_out(mini):
    """pandoc copies the reference document's headers, footers and settings into every draft:
    a field there that runs or fetches, a picture linked from a server and a mail merge are
    errors at the reference document, and no draft carries them; the author's own header
    line and a page number stay."""
    root = mini()
    crafted_reference(root / "house.docx")
    outline = root / "outline.yaml"
    outline.write_text(
        outline.read_text().replace("sections:", "reference-doc: house.docx\nsections:")
    )
    check = run(root, "check")
    assert check.exit_code == 1, check.output
    told = [line for line in check.output.splitlines() if "unsafe-reference-doc" in line]
    assert len(told) == 6, check.output  # 2 fields, 2 links to pictures, a merge, its source
    assert all(line.startswith("house.docx: error[unsafe-reference-doc]") for line in told), told
    for words in ("header1.xml", "DDEAUTO field", "footer1.xml", "INCLUDEPICTURE", "logo.png",
                  "mail merge", "secret.odc", "styles.xml"):  # fmt: skip
        assert words in check.output, words
    assert run(root, "build", "--to", "docx").exit_code == 1
    result = run(root, "build", "--to", "docx", "--force")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(root / "build/a-small-paper-1.0.docx") as package:
        parts = {n: package.read(n).decode("utf-8", "replace") for n in package.namelist()
                 if n.endswith((".xml", ".rels"))}  # fmt: skip
    everything = "".join(parts.values())
    for word in ("DDEAUTO", "INCLUDEPICTURE", "tracker.invalid", "mailMerge", "secret.odc"):
        assert word not in everything, word
    shown = "".join(v for n, v in parts.items() if "header" in n or "footer" in n)
    assert "Ministry of Orchards" in shown and "PAGE" in shown and "A Small Paper" in shown
    assert "graphicData" in shown and "media/" in shown  # (the embedded logo and its link)


@pytest.mark.parametrize(
    ("uri", "unsafe"),
    [("http://schemas.openxmlformats.org/drawingml/2006/picture", False),
     ("http://schemas.microsoft.com/office/word/2010/wordprocessingShape", False),
     ("http://schemas.microsoft.com.tracker.invalid/x", True),
     ("http://tracker.invalid/x.png", True)],
)  # fmt: skip
def test_a_schema_named_by_its_address_is_no_fetch(uri, unsafe):
    """A picture's <a:graphicData uri="http://schemas.…"> names a kind of content: Word
    fetches nothing, so raw OpenXML (and a reference document's header) may hold one."""
    from paperbuild.facts import UNSAFE, openxml_problem

    drawing = (
        '<w:p><w:r><w:drawing><wp:inline><a:graphic><a:graphicData uri="' + uri + '"/>'
        "</a:graphic></wp:inline></w:drawing></w:r></w:p>"
    )
    problem = openxml_problem(drawing)
    assert (problem is not None and problem.startswith(UNSAFE)) == unsafe, problem


@pytest.mark.parametrize("field", ["FILENAME \\p", "DOCPROPERTY Title", "HYPERLINK \\l top"])
def test_the_fields_words_own_headers_hold_are_safe(field):
    """Word's headers and footers hold the file's name, a property, a link: none fetches,
    includes or runs anything, so a reference document may bring them."""
    from paperbuild.facts import openxml_problem

    snippet = (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space='
        f'"preserve"> {field} </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    assert openxml_problem(snippet) is None
    assert openxml_problem(snippet.replace(field.split()[0], "INCLUDETEXT")) is not None


def test_a_chapter_that_is_a_link_to_nothing_is_an_error_not_passed_over(mini):
    root = mini()
    (root / "paper/03-draft.md").symlink_to("moved-away.md")  # in paper/, named by nothing
    (root / "paper/02-second.md").unlink()
    (root / "paper/02-second.md").symlink_to("02-second.md")  # the second section's: a loop
    result = run(root, "check")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert (
        "paper/03-draft.md: error[unreadable-chapter] chapter is a symbolic link to "
        "moved-away.md, which does not exist"
    ) in lines
    assert (
        "paper/02-second.md: error[unreadable-chapter] chapter is a symbolic link to "
        "02-second.md, which leads back to itself"
    ) in lines
    assert "Traceback" not in result.output
    build = run(root, "build", "--force")
    assert build.exit_code == 0, build.output
    doc = pandoc_docx_json(next((root / "build").glob("*.docx")))
    assert "Apples grow in orchards" in text_of(doc)


@pytest.mark.parametrize(
    "damage",
    [b"", b"garbage", b"[" * 100_000 + b"]" * 100_000, b'{"blocks": 3}', b"3", b"[[[]]]"],
    ids=["empty", "not-json", "too-deep", "blocks-not-a-list", "a-number", "wrong-shape"],
)
def test_every_cache_file_damaged_is_made_again_not_fatal(mini, damage):
    """A cache file cut short (a full disk), unpacked from an archive or edited costs time, never
    a command: each kind (parses, facts, scans, the bibliography's parse, citeproc's output,
    the read-ahead's record, the maths' and the BibTeX LaTeX's answers) is read as missing and
    made again."""
    from paperbuild.util.seal import sealed

    first = MINI_FILES["paper/01-first.md"].replace("orchards", "orchards, $E = mc^2$,")
    bib = MINI_FILES["references.bib"] + (  # (uncited: its LaTeX is checked all the same)
        "@book{other, author = {Other, Olga}, title = {\\mbox{DNA} work}, year = {2001}}\n"
    )
    root = mini({"paper/01-first.md": first, "references.bib": bib})
    assert run(root, "build", "--to", "docx").exit_code == 0
    cached = sorted((root / "build" / ".cache").rglob("*.json"))
    kinds = {re.sub(r"[0-9a-f]{8,}", "H", p.relative_to(root / "build").as_posix()) for p in cached}
    assert {  # (each kind the first build writes)
        ".cache/ast/H.json",
        ".cache/ast/H.H.facts.json",
        ".cache/ast/citeproc-H.json",
        ".cache/ast/chapters.json",
        ".cache/bib/bibliography-H-H.json",
        ".cache/scan/scans.json",
        ".cache/ast/maths-H.json",
        ".cache/ast/bibtex-latex-H.json",
    } <= kinds, kinds
    for path in cached:  # (sealed here: read past the seal, as a file of ours would be)
        path.write_bytes(sealed(path, damage))
    checked = run(root, "check")
    assert checked.exit_code == 0, checked.output
    built = run(root, "build", "--to", "docx")
    assert built.exit_code == 0, built.output
    text = text_of(pandoc_docx_json(root / "build/a-small-paper-1.0.docx"))
    assert "Apples grow in orchards" in text and "Smith, Jane. Apples. Orchard Press" in text
