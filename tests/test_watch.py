"""`paperbuild watch`: a saved chapter is rebuilt; a broken save is reported and survived."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

from tests.render.readers import pandoc_docx_json, text_of


def reader(stream, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)


def wait_for(lines: queue.Queue, needle: str, seen: list[str], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} not seen in {''.join(seen)}")


def test_watch_rebuilds_after_a_save_and_survives_a_broken_one(mini):
    root = mini()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperbuild", "-C", str(root), "watch", "--to", "docx"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        wait_for(lines, "built a-small-paper-1.0.docx", seen)
        wait_for(lines, "watching", seen)
        chapter = root / "paper/02-second.md"
        text = chapter.read_text().replace("Pears too.", "Pears and quinces too.")
        for _ in range(20):  # the watcher starts just after it says so: save until it notices
            chapter.write_text(text)
            try:
                wait_for(lines, "changed: paper/02-second.md", seen, timeout=2)
                break
            except AssertionError:
                continue
        wait_for(lines, "built a-small-paper-1.0.docx", seen)
        docx = root / "build/a-small-paper-1.0.docx"
        assert "quinces" in text_of(pandoc_docx_json(docx)["blocks"])
        chapter.write_text(chapter.read_text() + "\nBroken[^nowhere].\n")
        wait_for(lines, "error[undefined-footnote]", seen)
        wait_for(lines, "not built", seen)
        assert proc.poll() is None, "the watcher keeps running after a broken save"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    rest = "".join(seen) + "".join(
        iter(lambda: lines.get_nowait() if not lines.empty() else "", "")
    )
    assert "Traceback" not in rest
