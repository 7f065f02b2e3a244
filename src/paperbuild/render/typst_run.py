"""Running the Typst compiler: in a forked child with a time and a memory limit, or kept
between builds (watch) so that each draft after the first is laid out incrementally."""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from paperbuild.errors import BuildError
from paperbuild.render import style
from paperbuild.util.clock import build_datetime

TYPST_TIMEOUT = "PAPERBUILD_TYPST_TIMEOUT"  # seconds, 300 unless set
TYPST_MEMORY = "PAPERBUILD_TYPST_MEMORY"  # e.g. 3g (the default), 800m


def typst_limits() -> tuple[float, int]:
    """Return Typst's time limit in seconds and its memory limit in bytes."""
    try:
        seconds = max(float(os.environ.get(TYPST_TIMEOUT, "300")), 1.0)
    except ValueError:
        seconds = 300.0
    text = os.environ.get(TYPST_MEMORY, "3g").lower()
    match = re.fullmatch(r"(\d+)([kmg]?)", text)
    number, unit = (match.group(1), match.group(2)) if match else ("3", "g")
    return seconds, int(number) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


class TypstFailed(Exception):
    """The compiler's own error, carried back from the process that compiled."""

    def __init__(self, message: str, diagnostic: str) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostic = diagnostic


def _fonts_and_packages(packages: Path, fonts: Path | None = None) -> dict[str, Any]:
    """Return the settings every compiler here is made with, one-off or kept: the house faces,
    the author's (`fonts`, a folder) and no others, and package folders at `packages`, a path
    that is never made."""
    return {
        "font_paths": [str(style.FONTS_DIR), *([str(fonts)] if fonts else [])],
        "ignore_system_fonts": True,
        "package_path": str(packages),
        "package_cache_path": str(packages),
    }


def _compile(source: str, root: Path, fonts: Path | None, ppi: int | None = None) -> bytes:
    import typst

    compile_pdf: Any = typst.compile  # its overloads tie root's type to input's
    image = {"format": "png", "ppi": ppi} if ppi else {"format": "pdf"}
    pdf: bytes = compile_pdf(
        source.encode("utf-8"),
        root=str(root),
        timestamp=int(build_datetime().timestamp()),
        **image,
        **_fonts_and_packages(root / ".no-packages", fonts),
    )
    return pdf


def compile_limited(
    source: str,
    root: Path,
    meanwhile: Callable[[], object] | None = None,
    fonts: Path | None = None,
    ppi: int | None = None,
) -> bytes:
    """Return the compiled PDF (a PNG of its one page at `ppi` when given), compiled in a
    forked process with a time and a memory limit.

    `fonts` is a folder of the author's faces (outline.yaml's `fonts:`), used where the house
    face has no glyph; such a draft is compiled by a compiler of its own, not the kept one.

    Raw Typst can loop or allocate without end; the child is killed at the time limit and
    cannot grow past the memory limit. Ctrl-C and SIGTERM reach the waiting parent at once,
    which kills the child before going on.
    """
    if not hasattr(os, "fork"):  # no fork (Windows): in a thread, without the limits
        return _compile_in_thread(source, root, meanwhile, fonts, ppi)
    kept: KeptCompiler | None = getattr(_KEPT, "compiler", None)
    if kept is not None and fonts is None and ppi is None:  # (watch)
        return kept.compile(source, root, meanwhile)
    import typst  # noqa: F401  (imported once, before the fork)

    seconds, memory = typst_limits()
    with tempfile.TemporaryDirectory(prefix="paperbuild-typst-out-") as tmp:
        out, failure = Path(tmp) / "draft.pdf", Path(tmp) / "failure.json"
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: compile, write the PDF or the error, exit without cleanup
            _close_inherited()
            _die_with(parent)
            _cpu_limit(seconds)
            os._exit(_child(source, root, fonts, out, failure, memory, ppi))
        status = _wait(pid, seconds, meanwhile)
        _raise_failure(failure)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not out.exists():
            raise _out_of_memory(memory)
        return out.read_bytes()


def _out_of_memory(memory: int) -> BuildError:
    return BuildError(
        f"Typst stopped without a PDF; it ran out of its {memory >> 20} MB of memory "
        f"or crashed (raw Typst in a chapter is the usual cause)",
        hint=f"look for loops or huge arrays in raw Typst; {TYPST_MEMORY} raises the limit",
    )


def _too_slow(seconds: float) -> BuildError:
    return BuildError(
        f"Typst did not finish within {seconds:g} s; raw Typst in a chapter that loops is the "
        "usual cause",
        hint=f"{TYPST_TIMEOUT} raises the limit",
    )


def _raise_failure(failure: Path) -> None:
    """Raise the compiler's error that the child recorded, if it recorded one."""
    if failure.exists():
        data = json.loads(failure.read_text(encoding="utf-8"))
        raise TypstFailed(data["message"], data["diagnostic"])


def _close_inherited(*keep: int) -> None:
    """Close every file this forked child inherited but the standard ones and `keep`.

    Above all the build lock: a lock is held while any process has the file open, so a kept
    compiler holding it would make every later build wait for ever.
    """
    start = 3
    for fd in sorted(keep):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, _max_fd())


def _max_fd() -> int:
    """Return one past the highest file descriptor this process may have open."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if 0 < soft < 1 << 20 else 1 << 20


def _die_with(parent: int) -> None:
    """Make this forked child end when `parent` does.

    The parent kills the child at the time limit and on a signal, but a parent killed outright
    (SIGKILL, the out-of-memory killer) cannot: raw Typst that loops would then run on, an
    orphan, for ever. Linux kills the child with its parent; elsewhere `_cpu_limit` ends it.
    """
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent was gone before the request was made
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # Linux's prctl option: the signal a child gets when its parent dies


def _cpu_limit(seconds: float, *, final: bool = True) -> None:
    """Let this process use the CPU time one compile may take from now, and no more.

    `final`: the hard limit too (a one-off child); else only the soft one, which a kept
    compiler raises again before its next compile.
    """
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + seconds * (os.cpu_count() or 1)) + 10
    with contextlib.suppress(ValueError, OSError):
        hard = cpu + 5 if final else resource.getrlimit(resource.RLIMIT_CPU)[1]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))


def _quiet_child(memory: int) -> None:
    """Prepare a forked child to compile: default signals, no output, the memory limit."""
    with contextlib.suppress(ValueError):  # (only the main thread may set them)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    quiet = os.open(os.devnull, os.O_WRONLY)  # an allocation failure prints a backtrace
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    faulthandler.disable()  # and Python's fault handler, where enabled, would dump a trace
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory,) * 2)


def _record_failure(exc: BaseException, failure: Path) -> None:
    """Write the compiler's error where the parent will read it."""
    message = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    diagnostic = str(getattr(exc, "diagnostic", "") or "")
    failure.write_text(json.dumps({"message": message, "diagnostic": diagnostic}))


def _child(
    source: str,
    root: Path,
    fonts: Path | None,
    out: Path,
    failure: Path,
    memory: int,
    ppi: int | None = None,
) -> int:
    """Compile in the forked child under an address-space limit; return its exit status."""
    try:
        _quiet_child(memory)
        out.write_bytes(_compile(source, root, fonts, ppi))
        return 0
    except BaseException as exc:  # the compiler's error, carried to the parent
        _record_failure(exc, failure)
        return 1


def _address_space() -> int:
    """Return this process's virtual memory size in bytes (what the limit is added to)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4 << 30


def _wait(pid: int, seconds: float, meanwhile: Callable[[], object] | None = None) -> int:
    """Return the child's wait status (after `meanwhile`, run first); kill the child at the
    time limit, when `meanwhile` fails or when this process stops."""
    deadline = time.monotonic() + seconds
    try:
        if meanwhile is not None:
            meanwhile()
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() > deadline:
                raise _too_slow(seconds)
            time.sleep(0.02)
    except BaseException:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        raise


def _compile_in_thread(
    source: str,
    root: Path,
    meanwhile: Callable[[], object] | None = None,
    fonts: Path | None = None,
    ppi: int | None = None,
) -> bytes:
    """Return the compiled PDF (or PNG); Ctrl-C and SIGTERM are honoured within a fraction of a
    second.

    The compiler runs in a daemon thread while the main thread waits in short steps, so a
    signal is handled at once (the thread is abandoned; nothing has been written).
    """
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["pdf"] = _compile(source, root, fonts, ppi)
        except BaseException as exc:  # handed to the waiting thread
            result["error"] = exc

    thread = threading.Thread(target=work, name="typst", daemon=True)
    thread.start()
    if meanwhile is not None:
        meanwhile()  # (a thread cannot be stopped: if this fails, the compiler is abandoned)
    while thread.is_alive():
        thread.join(0.1)
    if "error" in result:
        raise result["error"]
    pdf: bytes = result["pdf"]
    return pdf


class KeptCompiler:
    """One Typst compiler kept in a forked child between builds (`watch`).

    Typst remembers what it laid out, so the draft after an edit is compiled incrementally
    (the medium benchmark paper: 1.05 s the first time, 0.19 to 0.24 s after an edit, the
    same PDF byte for byte). The child has a one-off compiler's memory limit; each compile has
    the same time limit. A child that dies (the memory limit, say, reached after many drafts)
    is replaced, and the draft compiled again by a fresh one before anything is reported.
    """

    def __init__(self) -> None:
        self._pid = 0
        self._requests = -1  # the write end of the pipe the child reads its work from
        self._replies = -1  # the read end of the pipe it answers on: a byte per compile done
        self.started = 0  # children started so far (tests count them)
        self._private = ""  # a folder only this user can write in, for the child's package paths

    def compile(
        self, source: str, root: Path, meanwhile: Callable[[], object] | None = None
    ) -> bytes:
        """Return the compiled PDF (running `meanwhile` first, while the child compiles)."""
        seconds, memory = typst_limits()
        fresh = self._pid == 0
        if fresh:
            self._start(memory)
        with tempfile.TemporaryDirectory(prefix="paperbuild-typst-out-") as tmp:
            job = Path(tmp)
            (job / "main.typ").write_text(source, encoding="utf-8")
            request = {
                "source": str(job / "main.typ"),
                "root": str(root),
                "out": str(job / "draft.pdf"),
                "failure": str(job / "failure.json"),
                "timestamp": int(build_datetime().timestamp()),
                "seconds": seconds,
            }
            try:
                answered = self._ask(request, seconds, meanwhile)
            except BaseException:
                self.close()
                raise
            if not answered:  # the child is gone
                self.close()
                if fresh:
                    raise _out_of_memory(memory)
                return self.compile(source, root)  # (a fresh child; meanwhile has run)
            _raise_failure(job / "failure.json")
            return (job / "draft.pdf").read_bytes()

    def _start(self, memory: int) -> None:
        import typst  # noqa: F401  (imported once, before the fork)

        self._private = tempfile.mkdtemp(prefix="paperbuild-typst-kept-")
        requests, self._requests = os.pipe()
        self._replies, replies = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: serve until the parent closes the pipe, exit without cleanup
            _close_inherited(requests, replies)
            _die_with(parent)
            os._exit(_serve(requests, replies, memory, Path(self._private) / "no-packages"))
        os.close(requests)
        os.close(replies)
        self._pid = pid
        self.started += 1

    def _ask(
        self, request: dict[str, Any], seconds: float, meanwhile: Callable[[], object] | None
    ) -> bool:
        """Send one compile to the child; return whether it answered (False: it died)."""
        import select

        deadline = time.monotonic() + seconds
        try:
            os.write(self._requests, (json.dumps(request) + "\n").encode("utf-8"))
        except BrokenPipeError:
            return False
        if meanwhile is not None:
            meanwhile()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _too_slow(seconds)
            ready, _, _ = select.select([self._replies], [], [], min(remaining, 0.1))
            if ready:
                return bool(os.read(self._replies, 1))

    def close(self) -> None:
        """Stop the child, if there is one (the next compile starts a fresh one)."""
        if not self._pid:
            return
        with contextlib.suppress(OSError):
            os.close(self._requests)
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self._pid, 0)
        with contextlib.suppress(OSError):
            os.close(self._replies)
        shutil.rmtree(self._private, ignore_errors=True)
        self._pid = 0


def _serve(requests: int, replies: int, memory: int, packages: Path) -> int:
    """Compile each request read from the pipe with one kept compiler; return the exit status.

    `packages` is never made: package imports are refused before a compile, and were one to get
    through, Typst would find nothing there (it is inside a folder only this user can write in).
    """
    try:
        _quiet_child(memory)
        import typst

        compiler: Any = typst.Compiler(**_fonts_and_packages(packages))
        with os.fdopen(requests, "rb") as lines:
            for line in lines:
                request = json.loads(line)
                _cpu_limit(request["seconds"], final=False)
                try:
                    pdf = compiler.compile(
                        input=Path(request["source"]).read_bytes(),
                        root=request["root"],
                        format="pdf",
                        timestamp=request["timestamp"],
                    )
                    Path(request["out"]).write_bytes(pdf)
                except Exception as exc:  # the compiler's error, carried to the parent
                    _record_failure(exc, Path(request["failure"]))
                os.write(replies, b".")
        return 0
    except BaseException:
        return 1


_KEPT = threading.local()  # .compiler: the KeptCompiler of this thread's builds, if any


@contextlib.contextmanager
def kept_compiler() -> Iterator[KeptCompiler | None]:
    """Keep one Typst compiler for the builds this thread makes inside (`watch`); yield it
    (None: none is kept, where there is no fork or one is kept already)."""
    if getattr(_KEPT, "compiler", None) is not None or not hasattr(os, "fork"):
        yield None
        return
    kept = _KEPT.compiler = KeptCompiler()
    try:
        yield kept
    finally:
        kept.close()
        _KEPT.compiler = None
