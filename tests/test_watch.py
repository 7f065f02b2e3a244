"""`paperbuild watch`: a saved chapter is rebuilt; a broken save is reported and survived.

No sleeps timed against a rebuild: every step waits on a line the watcher prints, and the
watcher says "watching" only once its file watcher is really running.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from paperbuild.build import BuildOptions
from paperbuild.watch import watch, watched
from tests.processes import HAS_PROC, alive, descendants
from tests.render.readers import pandoc_docx_json, text_of


class Lines:
    """What the watcher said, as a queue that a test waits on."""

    def __init__(self) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []

    def say(self, text: str) -> None:
        self.queue.put(text)

    def wait_for(self, needle: str, timeout: float = 60) -> str:
        """Return the first new line containing needle, or fail after timeout seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"{needle!r} not seen in:\n{''.join(self.seen)}")


@pytest.mark.slow
def test_watch_rebuilds_after_a_save_and_survives_a_broken_one(mini):
    root = mini()
    lines, stop = Lines(), threading.Event()
    watcher = threading.Thread(
        target=watch, args=(root, BuildOptions(formats=("docx",)), lines.say, stop), daemon=True
    )
    watcher.start()
    try:
        lines.wait_for("built a-small-paper-1.0.docx")
        lines.wait_for("watching")
        chapter = root / "paper/02-second.md"
        chapter.write_text(chapter.read_text().replace("Pears too.", "Pears and quinces too."))
        lines.wait_for("changed: paper/02-second.md")
        lines.wait_for("built a-small-paper-1.0.docx")
        docx = root / "build/a-small-paper-1.0.docx"
        assert "quinces" in text_of(pandoc_docx_json(docx)["blocks"])
        chapter.write_text(chapter.read_text() + "\nBroken[^nowhere].\n")
        lines.wait_for("error[undefined-footnote]")
        lines.wait_for("not built")
        assert watcher.is_alive(), "the watcher keeps running after a broken save"
        outline = (root / "outline.yaml").read_text()
        (root / "outline.yaml").write_text("document: [unclosed\n")
        lines.wait_for("not built")
        assert watcher.is_alive(), "the watcher keeps running after a broken outline"
        chapter.write_text(chapter.read_text().replace("Broken[^nowhere].", ""))
        (root / "outline.yaml").write_text(outline.replace("Draft for the committee", "S" * 400))
        lines.wait_for("built a-small-paper-1.0.docx")  # a status line past Word's 255
        chapter.write_text(chapter.read_text() + "\n" + "> " * 3000 + "deep\n")
        lines.wait_for("built")  # deep nesting: built, or reported and not built
        assert watcher.is_alive(), "the watcher keeps running after deep nesting"
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()
    assert "quinces" in text_of(pandoc_docx_json(root / "build/a-small-paper-1.0.docx")["blocks"])


@pytest.mark.slow
def test_a_warning_is_printed_once_not_after_every_save(mini):
    root = mini(
        {
            "paper/02-second.md": "---\nsection: 2\n---\n\n# Second section\n\n"
            '[Pears too.]{points="2.1"}\n\n[^spare]: Never used.\n'
        }
    )
    lines, stop = Lines(), threading.Event()
    watcher = threading.Thread(
        target=watch, args=(root, BuildOptions(formats=("docx",)), lines.say, stop), daemon=True
    )
    watcher.start()
    chapter = root / "paper/02-second.md"
    try:
        first = lines.wait_for("warning[unused-footnote]")
        assert first.startswith("paper/02-second.md:9:1: warning[unused-footnote]")
        lines.wait_for("watching")
        chapter.write_text(
            chapter.read_text().replace("# Second section\n", "# Second section\n\nMore.\n")
        )
        lines.wait_for("changed: paper/02-second.md")
        built = lines.wait_for("built a-small-paper-1.0.docx")
        since = lines.seen[
            lines.seen.index(next(x for x in lines.seen if x.startswith("changed"))) :
        ]
        assert "[unused-footnote]" not in "\n".join(since), since  # (its line moved: 11)
        assert "(1 warning as after the last save, not shown again)" in since
        assert "0 errors, 1 warning" in built
        chapter.write_text(chapter.read_text() + "\n[^other]: Also unused.\n")
        new = lines.wait_for("warning[unused-footnote]")
        assert "other" in new and "spare" not in new, new
        lines.wait_for("built a-small-paper-1.0.docx")
        tail = lines.seen[lines.seen.index(new) - 1 :]
        assert "\n".join(tail).count("[unused-footnote]") == 1, tail
    finally:
        stop.set()
        watcher.join(timeout=30)


def _start(root: Path, formats: str = "docx") -> tuple[subprocess.Popen[str], Lines]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperbuild", "-C", str(root), "watch", "--to", formats],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    lines = Lines()

    def pump() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, ""):
            lines.say(line)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


@pytest.mark.slow
@pytest.mark.parametrize("formats", ["docx", "docx,pdf"])
def test_ctrl_c_stops_the_watcher_cleanly_whenever_it_comes(mini, formats):
    """Ctrl-C while idle, or while a rebuild may be running, ends with exit 0 and no traceback;
    the Typst compiler the watcher kept ends with it."""
    root = mini()
    proc, lines = _start(root, formats)
    try:
        lines.wait_for("watching")
        children = descendants(proc.pid)
        if HAS_PROC and formats != "docx":
            assert children, "no Typst compiler kept after the first build"
        chapter = root / "paper/01-first.md"
        chapter.write_text(chapter.read_text().replace("Apples", "Green apples", 1))
        lines.wait_for("changed: paper/01-first.md")
        proc.send_signal(signal.SIGINT)  # during the rebuild or just after it: both must be clean
        assert proc.wait(timeout=60) == 0
        assert not [pid for pid in children if alive(pid)]
        lines.wait_for("stopped watching", timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in "".join(lines.seen)
    leftovers = [p.name for p in (root / "build").glob(".*.tmp")]
    assert leftovers == []


@pytest.mark.slow
def test_the_compiler_watch_keeps_holds_no_lock_and_each_save_is_built(mini):
    """A kept compiler must not hold what its first build held: the build lock (every later
    build, the watcher's own included, would wait for ever)."""
    root = mini()
    proc, lines = _start(root, "docx,pdf")
    try:
        lines.wait_for("watching")
        chapter = root / "paper/01-first.md"
        for fruit in ("Green apples", "Red apples"):
            chapter.write_text(chapter.read_text().replace("pples", f"pples and {fruit}", 1))
            lines.wait_for("changed: paper/01-first.md")
            lines.wait_for("built a-small-paper-1.0.docx, a-small-paper-1.0.pdf", timeout=30)
        other = subprocess.run(
            [sys.executable, "-m", "paperbuild", "-C", str(root), "build", "--to", "docx"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert other.returncode == 0, other.stderr
        assert "waiting" not in other.stdout + other.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def test_the_watcher_follows_every_file_the_outline_names(mini):
    # (a bibliography, style or chapter the outline names outside paper/ was never watched:
    # its saves were not rebuilt)
    outline = (mini() / "outline.yaml").read_text()
    outline = outline.replace(
        "    title: Second section\n", "    title: Second section\n    chapter: text/second.md\n"
    )
    root = mini({"outline.yaml": outline + "bibliography: refs.json\ncsl: styles/house.csl\n"})
    keep = watched(root)
    for name in (
        "refs.json",
        "styles/house.csl",
        "text/second.md",
        "outline.yaml",
        "paper/01-first.md",
    ):
        assert keep(None, str(root / name)), name
    for name in ("notes.json", "text/other.md", "build/x.md", "paper/.draft.md.swp"):
        assert not keep(None, str(root / name)), name
    (root / "outline.yaml").write_text("document: [unclosed\n")  # (unreadable: outline.yaml only)
    assert keep(None, str(root / "outline.yaml")) and not keep(None, str(root / "refs.json"))
