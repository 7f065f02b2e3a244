"""One pandoc process kept between conversions: chapters read and drafts written in a warm
process (`lua/serve.lua` speaks the protocol on the other side)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any


class Gone(Exception):
    """The kept process ended before it answered; `log` is what it said on its way out,
    `started` whether it had begun to serve (if not, it cannot be kept here)."""

    def __init__(self, log: str, returncode: int | None, started: bool) -> None:
        super().__init__(log)
        self.log = log
        self.returncode = returncode
        self.started = started


class TooSlow(Exception):
    """The kept process did not answer within the time allowed (it has been stopped)."""


class Refused(Exception):
    """pandoc's own error for one request (the process goes on)."""


class KeptPandoc:
    """A `pandoc lua` process that answers one request at a time, started on the first."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str]) -> None:
        self.command = list(command)
        self.env = dict(env)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._private: str | None = None
        self._pending = b""
        self._serving = False  # whether the process running now said it serves
        self.answered = 0  # requests answered by the process running now

    def ask(
        self,
        op: str,
        folder: Path,
        options: Mapping[str, Any],
        data: bytes,
        seconds: float,
        meanwhile: Callable[[], object] | None = None,
    ) -> bytes:
        """Return the answer to one request (`meanwhile` run while pandoc works on it); raise
        Refused with pandoc's message, TooSlow or Gone (the process then stopped)."""
        fresh = self._proc is None
        proc = self._proc or self._start()
        where = str(folder).encode("utf-8", "surrogateescape")
        opts = json.dumps(options).encode("utf-8")
        try:
            assert proc.stdin is not None
            proc.stdin.write(f"{op} {len(where)} {len(opts)} {len(data)}\n".encode())
            proc.stdin.write(where + opts + data)
            proc.stdin.flush()
        except OSError:  # (BrokenPipeError: it ended since the last request)
            if fresh:
                raise self._gone() from None
            self.close()
            return self.ask(op, folder, options, data, seconds, meanwhile)
        try:
            if meanwhile is not None:
                meanwhile()
            status, out = self._answer(time.monotonic() + seconds)
        except BaseException:
            self.close()
            raise
        self.answered += 1
        if status == b"error":
            raise Refused(out.decode("utf-8", "replace"))
        return out

    def _start(self) -> subprocess.Popen[bytes]:
        """Return the process, started now."""
        self._log = tempfile.TemporaryFile(prefix="paperbuild-pandoc-")  # noqa: SIM115 (closed by close)
        # `pandoc lua` makes a history file in the temporary folder and removes it only when it
        # ends on its own; a process stopped (as close stops it) left one behind each time.
        self._private = tempfile.mkdtemp(prefix="paperbuild-pandoc-kept-")
        history = os.path.join(self._private, "history")
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**self.env, "PANDOC_REPL_HISTORY": history},
        )
        self._pending = b""
        self._serving = False
        self.answered = 0
        return self._proc

    def _answer(self, deadline: float) -> tuple[bytes, bytes]:
        """Return the status and the bytes of the next answer."""
        if not self._serving:
            greeting = self._until(lambda got: b"\n" in got, deadline)
            self._serving = greeting.startswith(b"serving\n")
            self._pending = greeting.partition(b"\n")[2]
        header = self._until(lambda got: b"\n" in got, deadline)
        line, _, rest = header.partition(b"\n")
        status, _, size = line.partition(b" ")
        wanted = int(size)
        self._pending = rest
        body = self._until(lambda got: len(got) >= wanted, deadline)
        self._pending = body[wanted:]
        return status, body[:wanted]

    def _until(self, enough: Callable[[bytearray], bool], deadline: float) -> bytes:
        """Return what the process has written, read until `enough` of it has come."""
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        got = bytearray(self._pending)  # (grown in place: a draft comes in 64 KB reads)
        while not enough(got):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise TooSlow()
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise self._gone()
            got += chunk
        return bytes(got)

    def _gone(self) -> Gone:
        """Return the error for a process that ended, stopped and with its log read."""
        assert self._proc is not None and self._log is not None
        code = self._proc.wait()
        if not self._serving and self._proc.stdout is not None:  # (what it wrote before it ended)
            said = self._pending + self._proc.stdout.read()
            self._serving = said.startswith(b"serving\n")
        self._log.seek(0)
        log = self._log.read()[-4000:].decode("utf-8", "replace")
        serving = self._serving
        self.close()
        return Gone(log, code, serving)

    def close(self) -> None:
        """Stop the process, if there is one (the next request starts a fresh one)."""
        proc, self._proc = self._proc, None
        self.answered = 0
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                proc.wait(timeout=5)
            for stream in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None
