"""The one pandoc wrapper: finds the bundled binary, runs it offline, caches chapter parses."""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from paperbuild import pandoc_ast
from paperbuild.errors import BuildError
from paperbuild.pandoc_ast import Node
from paperbuild.pandoc_kept import Gone, KeptPandoc, Refused, TooSlow
from paperbuild.util.fsutil import keep, kept

MIN_VERSION = (3, 1, 1)
LUA_DIR = Path(__file__).parent / "lua"
READER = LUA_DIR / "chapters.lua"
READER_FORMAT = "markdown"
ABBREVIATIONS = Path(__file__).parent / "data" / "abbreviations"
# A chapter read alone by pandoc's command line is read with the options of pandoc's library,
# which the chapter reader's `pandoc.read` has: the 28 abbreviations after which a space does
# not break (the command line reads 80 from a data file: "No. 6" would read "No.\u00a06"), tabs
# left to the reader, and 80 columns for the widths of wide tables (the command line's 72 makes
# some ColWidthDefault columns relative). So either way a chapter reads to the same AST
# (tests/test_parse.py holds this).
LATEX_FILTER = LUA_DIR / "latex.lua"  # (the chapter reader reads through it too)
READER_ARGS = (
    "-f",
    READER_FORMAT,
    "-t",
    "json",
    "--preserve-tabs",
    "--columns=80",
    f"--abbreviations={ABBREVIATIONS}",
)


@functools.cache  # (read when a chapter is first read alone, not at every command's start)
def _latex_commands() -> re.Pattern[str]:
    """Return a pattern for the LaTeX commands lua/latex.lua reads (its SAFE list, read from
    it): the filter runs only on a chapter that has one (it cost a chapter read alone 30 ms,
    138 -> 168 ms, hyperfine on the medium paper's; on any other it changes nothing)."""
    listed = re.findall(r"\(\[\[(.*?)\]\]\)", LATEX_FILTER.read_text(encoding="utf-8"), re.S)
    names = [name for words in listed for name in words.split()]
    return re.compile(r"\\(?:" + "|".join(map(re.escape, names)) + r")(?![A-Za-z])")


def pandoc_path() -> str:
    """Return the path of the pandoc binary (pypandoc-binary's, else one on PATH)."""
    spec = importlib.util.find_spec("pypandoc")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            for name in ("pandoc", "pandoc.exe"):
                candidate = Path(folder) / "files" / name
                if candidate.is_file():
                    return str(candidate)
    found = shutil.which("pandoc")
    if found:
        return found
    raise BuildError(
        "pandoc was not found", hint="install paperbuild with pip so that pypandoc-binary comes too"
    )


# pypandoc-binary's pandoc is built to ask for a 64 MB heap (`-with-rtsopts -H64m`): a parse
# then faults in pages it does not need, 30 ms of a chapter's 80 ms. With the runtime's own
# default (a 4 MB allocation area) a 25 KB chapter parses in 69 ms against 109, 125 KB of
# chapters in the Lua reader in 280 ms against 296, and the Typst writer takes as long either
# way.
HEAP = ("-H4m",)
# citeproc and the DOCX writer allocate far more than they read, and gain from the large heap:
# on the medium paper citeproc 0.42-0.45 s against 0.49-0.50, the DOCX writer 0.19-0.21 s
# against 0.21-0.24; on the bundled paper 158 ms against 164 and 115 against 126 (hyperfine,
# 15-30 runs each, alternating, the same binary, 2026-12-02).
OWN_HEAP: tuple[str, ...] = ()


@functools.cache
def version() -> tuple[int, ...]:
    """Return pandoc's version, checking once that it is new enough."""
    out = run(["--version"]).decode("utf-8", "replace")
    text = out.split()[1] if out.startswith("pandoc") else "0"
    parsed = tuple(int(p) for p in text.split(".") if p.isdigit())
    if parsed < MIN_VERSION:
        needed = ".".join(map(str, MIN_VERSION))
        raise BuildError(
            f"pandoc {text} is too old; paperbuild needs {needed} or newer",
            hint="pip install --upgrade pypandoc-binary",
        )
    return parsed


def run(
    args: Sequence[str],
    data: bytes | None = None,
    *,
    cwd: Path | None = None,
    warnings: list[str] | None = None,
    meanwhile: Callable[[], object] | None = None,
    heap: Sequence[str] = HEAP,
) -> bytes:
    """Return pandoc's output for these arguments, or raise BuildError; pandoc's warnings
    (its standard error) are added to `warnings` when given; `meanwhile` runs while pandoc
    does (if it raises, pandoc is stopped); `heap` is the runtime's heap options.

    pandoc writes to a temporary file rather than a pipe: reading megabytes of JSON from a pipe
    costs a third of the time of the conversion itself (measured on the benchmark paper).
    """
    env = offline_env()
    with tempfile.TemporaryDirectory(prefix="paperbuild-") as tmp:
        out = Path(tmp) / "out"
        seconds, memory = limits()
        try:
            command = _command(args, out, memory, heap)
            proc = _completed(command, data, cwd, env, seconds, meanwhile, Path(tmp) / "in")
        except subprocess.TimeoutExpired as exc:
            raise _too_slow(seconds, citing="--citeproc" in args) from exc
        except OSError as exc:
            raise BuildError(f"could not run pandoc: {exc}") from exc
        _check_ended(proc.returncode, proc.stderr, memory, citing="--citeproc" in args)
        if warnings is not None:
            warnings.append(proc.stderr.decode("utf-8", "replace"))
        return out.read_bytes() if out.exists() else proc.stdout


def _command(args: Sequence[str], out: Path, memory: str, heap: Sequence[str]) -> list[str]:
    """Return pandoc's command line: these arguments, the output file and the runtime's
    limits (its heap's size and options)."""
    return [pandoc_path(), *args, "-o", str(out), "+RTS", f"-M{memory}", *heap, "-RTS"]


def _check_ended(returncode: int, stderr: bytes, memory: str, citing: bool = False) -> None:
    """Raise BuildError if an ended pandoc ran out of its heap or failed (its own words)."""
    if returncode == 251 or b"Heap exhausted" in stderr:
        raise _out_of_memory(memory, citing=citing)
    if returncode != 0:
        message = stderr.decode("utf-8", "replace").strip() or f"exit {returncode}"
        raise BuildError(f"pandoc failed: {message}")


def offline_env() -> dict[str, str]:
    """Return the environment pandoc runs in: this one, with every proxy a dead end."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["http_proxy"] = env["https_proxy"] = "http://127.0.0.1:9"  # never reach the network
    return env


CITEPROC_CAUSE = (  # (what makes citeproc slow or large: not the chapters, which it reads whole)
    "citeproc, which formats the citations, is the one that did not finish: a very large "
    "bibliography, or a style whose macros go round in circles, is the usual cause"
)


MARKUP_CAUSE = (
    "a chapter with pathological markup (thousands of unclosed brackets, say) is the usual cause"
)


def _too_slow(seconds: float, citing: bool = False) -> BuildError:
    cause = CITEPROC_CAUSE if citing else MARKUP_CAUSE
    return BuildError(
        f"pandoc did not finish within {seconds:g} s and was stopped",
        hint=f"{cause}; {TIMEOUT_VARIABLE} raises the limit",
    )


def _out_of_memory(memory: str, citing: bool = False) -> BuildError:
    cause = CITEPROC_CAUSE if citing else "split very large chapters"
    return BuildError(
        f"pandoc needed more than {memory} of memory and was stopped",
        hint=f"{cause}; {MEMORY_VARIABLE} raises the limit",
    )


def _completed(
    command: list[str],
    data: bytes | None,
    cwd: Path | None,
    env: dict[str, str],
    seconds: float,
    meanwhile: Callable[[], object] | None,
    source: Path,
) -> subprocess.CompletedProcess[bytes]:
    """Return the finished pandoc process, `meanwhile` run while it worked (its input then
    comes from the file `source`, so that no pipe waits on this process)."""
    if meanwhile is not None:
        source.write_bytes(data or b"")
        command = [command[0], str(source), *command[1:]]
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL if meanwhile else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
    ) as proc:
        with _RUNNING_LOCK:
            _RUNNING.add(proc)
        try:
            if meanwhile is not None:
                meanwhile()
            stdout, stderr = proc.communicate(None if meanwhile else data, timeout=seconds)
        except BaseException:
            proc.kill()
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


_RUNNING: set[subprocess.Popen[bytes]] = set()  # the pandoc processes running now, in any thread
_RUNNING_LOCK = threading.Lock()


TIMEOUT_VARIABLE = "PAPERBUILD_PANDOC_TIMEOUT"
MEMORY_VARIABLE = "PAPERBUILD_PANDOC_MEMORY"


def limits() -> tuple[float, str]:
    """Return pandoc's time limit in seconds and its heap limit (an RTS -M size, e.g. 3g)."""
    try:
        seconds = float(os.environ.get(TIMEOUT_VARIABLE, "300"))
    except ValueError:
        seconds = 300.0
    memory = os.environ.get(MEMORY_VARIABLE, "3g")
    if not re.fullmatch(r"\d+[kmg]?", memory):
        memory = "3g"
    return max(seconds, 1.0), memory


SERVE = LUA_DIR / "serve.lua"
# The kept process runs with the binary's own 64 MB heap, as citeproc and the writer do: the
# medium paper's DOCX written in a warm process in 0.179 s against 0.194 with a 4 MB heap, and
# 0.236-0.250 s by a pandoc of its own (10 writes each, alternating, in one run).
KEPT_HEAP = OWN_HEAP
KEPT_VARIABLE = "PAPERBUILD_PANDOC_KEPT"  # 0: every conversion in a pandoc process of its own
_KEPT: list[KeptPandoc] = []  # the kept process, when one has been started
_KEPT_LOCK = threading.Lock()  # held by the one thread asking it
_KEPT_OFF: list[bool] = []  # (True once a kept process could not be started: none again)
_KEEPING: list[bool] = []  # (True inside `keeping()`: conversions go to the kept process)


def convert(
    op: str,
    data: bytes,
    options: Mapping[str, Any],
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    meanwhile: Callable[[], object] | None = None,
    heap: Sequence[str] = HEAP,
) -> bytes:
    """Return pandoc's output for one conversion: the kept process's answer to the request
    (`op`, `options`: what `lua/serve.lua` answers) when it gives one, else that of a pandoc
    process of its own run with `args`, the same conversion on pandoc's command line."""
    single = once(meanwhile)
    out = kept_answer(op, data, options, cwd=cwd, meanwhile=single)
    return out if out is not None else run(args, data, cwd=cwd, meanwhile=single, heap=heap)


def kept_answer(
    op: str,
    data: bytes,
    options: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> bytes | None:
    """Return the kept pandoc process's answer to one request, or None where a pandoc process
    of its own is to do it: outside `keeping()`, when another thread is asking, when no process
    can be kept, or when pandoc refused (its command line then says why in its own words)."""
    if not _KEEPING or not _KEPT_LOCK.acquire(blocking=False):
        return None
    try:
        kept = _kept()
        if kept is None:
            return None
        seconds, memory = limits()
        try:
            return kept.ask(op, cwd or Path.cwd(), options, data, seconds, meanwhile)
        except TooSlow as exc:
            raise _too_slow(seconds) from exc
        except Gone as exc:
            if exc.returncode == 251 or "Heap exhausted" in exc.log:
                raise _out_of_memory(memory) from exc
            if not exc.started:  # (no `pandoc lua`, say): pandoc is run each time from now
                _KEPT_OFF.append(True)
        except Refused:
            pass
        return None
    finally:
        _KEPT_LOCK.release()


def once(work: Callable[[], object] | None) -> Callable[[], object] | None:
    """Return `work` made to run at most once, however often it is called."""
    if work is None:
        return None
    done: list[bool] = []

    def call() -> object:
        if not done:
            done.append(True)
            return work()
        return None

    return call


def _kept() -> KeptPandoc | None:
    """Return the kept pandoc process for this environment (None: pandoc is run each time)."""
    if os.environ.get(KEPT_VARIABLE) == "0" or _KEPT_OFF or os.name != "posix":
        return None
    _, memory = limits()
    command = [
        pandoc_path(),
        "lua",
        str(SERVE),
        str(READER),
        "+RTS",
        f"-M{memory}",
        *KEPT_HEAP,
        "-RTS",
    ]
    env = offline_env()
    if (
        _KEPT
        and _KEPT[0].command == command
        and _read_by_pandoc(_KEPT[0].env) == _read_by_pandoc(env)
    ):
        return _KEPT[0]
    _stop_kept()
    _KEPT.append(KeptPandoc(command, env))
    return _KEPT[0]


# What pandoc reads of its environment (its data and temporary folders, the build's date, the
# locale, the runtime's options, the proxies): a kept process whose start saw other values of
# these is replaced.
READ_BY_PANDOC = re.compile(
    r"SOURCE_DATE_EPOCH|HOME|XDG_\w+|LANG|LC_\w+|TMPDIR|PATH|GHCRTS|.*_proxy", re.I
)


def _read_by_pandoc(env: Mapping[str, str]) -> dict[str, str]:
    """Return the part of an environment that pandoc reads."""
    return {k: v for k, v in env.items() if READ_BY_PANDOC.fullmatch(k)}


@contextlib.contextmanager
def keeping() -> Iterator[None]:
    """Keep one pandoc process for the conversions inside (`watch`: each save's chapter is
    read, and its DOCX written, by a warm process).

    Only a process that converts again and again gains: a draft's write in a process just
    started costs what a pandoc of its own costs (pandoc's warm-up is the write's first heap
    and data), so a single command keeps none. Measured on the medium paper: its DOCX written
    by a warm kept process in 0.179 s against 0.236-0.250 s by a pandoc of its own (10 writes
    each, alternating, one run); a cold DOCX build with one kept, 2.02 s of CPU against 2.04.
    """
    _KEEPING.append(True)
    try:
        yield
    finally:
        _KEEPING.pop()


def close_kept() -> None:
    """Stop the kept pandoc process, if there is one (the next conversion tries to start one,
    even after one could not be started), and the chapters still being read ahead."""
    _stop_kept()
    _KEPT_OFF.clear()
    _stop_reading_ahead()


def _stop_kept() -> None:
    while _KEPT:
        _KEPT.pop().close()


atexit.register(close_kept)


@functools.cache
def toolchain_id() -> bytes:
    """Return what identifies this pandoc binary and reader (without starting pandoc)."""
    binary = Path(pandoc_path())
    stat = binary.stat()
    reader = "\0".join(READER_ARGS).encode() + ABBREVIATIONS.read_bytes() + READER.read_bytes()
    reader += LATEX_FILTER.read_bytes()
    return f"{binary}:{stat.st_size}:{stat.st_mtime_ns}:".encode() + reader


def cache_key(text: str) -> str:
    """Return the cache key of one chapter's parse: its text, the pandoc binary and the reader."""
    h = hashlib.sha256(toolchain_id())
    h.update(text.encode("utf-8"))
    return h.hexdigest()


# Told each chapter's blocks as they come, from the thread that reads the cache or from the
# one that waits for pandoc: it keeps to the chapter's own entries (its facts, its cache file).
Each = Callable[[int, list[Node]], object]


def parse_chapters(
    chapters: Sequence[tuple[str, str]],
    cache_dir: Path | None = None,
    keys: Sequence[str] | None = None,
    each: Each | None = None,
) -> list[list[Node]]:
    """Return each chapter's pandoc blocks, running pandoc once for all uncached chapters
    while the cached ones are read; `each` is told every chapter's blocks as soon as they are
    known (a group of chapters parsed while the other groups' pandoc still works)."""
    keys = keys or [cache_key(text) for _, text in chapters]
    ahead = _being_read_ahead(keys)
    missing = [i for i, key in enumerate(keys) if key not in ahead and not _cached(cache_dir, key)]
    results: list[list[Node] | None] = [None] * len(chapters)

    def parsed(i: int, blocks: list[Node]) -> None:
        results[i] = blocks
        _cache_write(cache_dir, keys[i], blocks)
        if each is not None:
            each(i, blocks)

    def read_cached(ids: Iterable[int]) -> None:
        for i in ids:
            results[i] = found = _cache_read(cache_dir, keys[i])
            if found is not None and each is not None:
                each(i, found)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_parsed, chapters, missing, parsed) if missing else None
        later = sorted(i for i, key in enumerate(keys) if key in ahead)
        read_cached(sorted(set(range(len(chapters))) - set(missing) - set(later)))
        if later:  # (the cached chapters were read while pandoc read these ahead)
            _wait_for_ahead(keys)
            read_cached(later)
        if pending:
            pending.result()
    unreadable = [i for i in range(len(chapters)) if results[i] is None and i not in missing]
    if unreadable:
        _parsed(chapters, unreadable, parsed)
    return [r if r is not None else [] for r in results]


def _parsed(chapters: Sequence[tuple[str, str]], ids: list[int], each: Each) -> None:
    """Tell `each` the blocks of the chapters of these ids, parsed by pandoc (its version
    checked meanwhile: a pandoc too old is said to be so, whatever the parse made of it)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        checked = pool.submit(version)
        try:
            _parse_in_parallel([chapters[i] for i in ids], ids, each)
        except BuildError:
            checked.result()
            raise
        checked.result()


def _groups(sizes: Sequence[int], count: int) -> list[list[int]]:
    """Return indexes split into `count` groups of about equal total size (largest first)."""
    groups: list[list[int]] = [[] for _ in range(count)]
    totals = [0] * count
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        smallest = totals.index(min(totals))
        groups[smallest].append(i)
        totals[smallest] += sizes[i]
    return [sorted(g) for g in groups if g]


# A pandoc process with the chapter reader spends 26 ms starting Lua, then reads a chapter of
# 25 KB in 26 ms; a process of pandoc's own reader starts in 3 ms but reads the same chapter in
# 44 ms (its heap grows from nothing: measured here with hyperfine). So a process given one
# chapter reads it itself (a rebuild's changed chapter: 47 ms against 72), and several chapters
# a core go to the chapter reader; below 32,000 characters in all, a second such process saves
# less time than it takes, on a core that something else may want.
PARSED_PER_PROCESS = 32_000


def workers() -> int:
    """Return how many pandoc processes to run at once for one job: one a core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


def _parse_in_parallel(chapters: Sequence[tuple[str, str]], ids: Sequence[int], each: Each) -> None:
    """Tell `each` (id, blocks) for each chapter, group by group as each group's pandoc ends:
    one pandoc process a chapter when there are no more chapters than cores, else one
    chapter-reader process a core (fewer for a small paper)."""
    cores = workers()
    if len(chapters) <= cores:
        groups = [[i] for i in range(len(chapters))]
    else:
        wanted = -(-sum(len(text) for _, text in chapters) // PARSED_PER_PROCESS)
        groups = _groups([len(text) for _, text in chapters], max(1, min(cores, wanted)))

    def tell(i: int, blocks: list[Node]) -> None:
        each(ids[i], blocks)

    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        pending = {
            pool.submit(_read_group, chapters, group, tell): n for n, group in enumerate(groups)
        }
        failed: dict[int, BaseException] = {}
        for done in as_completed(pending):
            error = done.exception()
            if error is not None:
                failed[pending[done]] = error
    if failed:
        raise failed[min(failed)]  # (the first group's failure, as a parse in order would say)


def _read_group(chapters: Sequence[tuple[str, str]], group: list[int], tell: Each) -> None:
    """Tell the blocks of the chapters of one group, read by one pandoc process (the kept one,
    when it is free): a process of its own tells each chapter as soon as it has read it."""
    items = pandoc_ast.dumps([{"name": chapters[i][0], "text": chapters[i][1]} for i in group])
    out = kept_answer("read", items, {})
    if out is None and len(group) > 1:
        _read_told(chapters, group, tell)
        return
    alone = out is None
    if alone:
        text = chapters[group[0]][1]
        latex = (f"--lua-filter={LATEX_FILTER}",) if _latex_commands().search(text) else ()
        out = run((*READER_ARGS, *latex), text.encode("utf-8", "surrogatepass"))
    assert out is not None
    blocks = _blocks(out, [chapters[i][0] for i in group])
    read = [blocks] if alone else [pandoc_ast.blocks(div) for div in blocks]
    for i, chapter in zip(group, read, strict=True):
        tell(i, chapter)


def _blocks(out: bytes, names: Sequence[str]) -> list[Node]:
    """Return the blocks of pandoc's JSON document of the chapters of these names."""
    try:
        document = pandoc_ast.loads(out)
        blocks: list[Node] = document["blocks"]
    except RecursionError as exc:
        raise BuildError(
            f"a chapter nests blocks too deeply to be read ({', '.join(names)})",
            hint="look for hundreds of nested '>' quotes or list levels",
        ) from exc
    if not _API_VERSION:  # (what api_version would start another pandoc to learn)
        _API_VERSION.append(document["pandoc-api-version"])
    return blocks


def _read_told(chapters: Sequence[tuple[str, str]], group: list[int], tell: Each) -> None:
    """Tell each chapter of a group as the chapter reader, in a pandoc process of its own, has
    read it (its JSON in a file, its number on pandoc's standard output): the chapters read
    first are looked into while pandoc reads the others. With run's limits and messages."""
    seconds, memory = limits()
    stopped = threading.Event()
    with tempfile.TemporaryDirectory(prefix="paperbuild-") as tmp:
        folder = Path(tmp)
        items = [
            {"name": chapters[i][0], "text": chapters[i][1], "out": str(folder / f"{n}.json")}
            for n, i in enumerate(group)
        ]
        (folder / "in").write_bytes(pandoc_ast.dumps(items))
        command = _command(
            [str(folder / "in"), "-f", str(READER), "-t", "json"], folder / "out", memory, HEAP
        )
        with open(folder / "err", "w+b") as err:
            try:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    env=offline_env(),
                )
            except OSError as exc:
                raise BuildError(f"could not run pandoc: {exc}") from exc
            with proc:
                _told(proc, folder, chapters, group, tell, seconds, stopped)
            err.seek(0)
            stderr = err.read()
    if stopped.is_set():
        raise _too_slow(seconds)
    _check_ended(proc.returncode, stderr, memory)


def _told(
    proc: subprocess.Popen[bytes],
    folder: Path,
    chapters: Sequence[tuple[str, str]],
    group: list[int],
    tell: Each,
    seconds: float,
    stopped: threading.Event,
) -> None:
    """Tell each chapter the process names on its output, until it ends (stopped, and
    `stopped` set, after `seconds`; killed if telling fails)."""

    def stop() -> None:
        stopped.set()
        proc.kill()

    timer = threading.Timer(seconds, stop)
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            n = int(line) - 1
            name = chapters[group[n]][0]
            tell(group[n], _blocks((folder / f"{n}.json").read_bytes(), [name]))
        proc.wait()
    except BaseException:
        proc.kill()
        raise
    finally:
        timer.cancel()
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)


def read_ahead(chapters: Sequence[tuple[str, str]], cache_dir: Path) -> int:
    """Start reading, in a thread, the chapters (name, text as pandoc is given it) that the
    cache lacks, their parses kept there; return how many.

    A command that will parse the paper calls this first (`readahead`): pandoc then reads a
    changed chapter on another core while the command loads the rest of itself and the
    project, and the parse finds the chapter cached (`parse_chapters` waits for it). What is
    read ahead is keyed like any parse, by the text pandoc was given, so a guess that turns out
    wrong is a parse nobody asks for, never a wrong one. Its failures are the parse's to find.
    """
    keys = [cache_key(text) for _, text in chapters]
    missing = [i for i, key in enumerate(keys) if not _cached(cache_dir, key)]
    if not missing:
        return 0
    wanted = [chapters[i] for i in missing]
    wanted_keys = [keys[i] for i in missing]

    def read() -> None:
        with contextlib.suppress(Exception):  # (the parse reads them again, and says why not)
            parse_chapters(wanted, cache_dir, wanted_keys)

    thread = threading.Thread(target=read, name="paperbuild-read-ahead", daemon=True)
    _AHEAD.append((frozenset(wanted_keys), thread))
    thread.start()
    return len(wanted)


_AHEAD: list[tuple[frozenset[str], threading.Thread]] = []  # chapters being read ahead, by key


def _being_read_ahead(keys: Sequence[str]) -> set[str]:
    """Return those of the keys whose chapters another thread reads ahead (or has read)."""
    me = threading.current_thread()
    wanted = set(keys)
    return {key for ahead, thread in list(_AHEAD) if thread is not me for key in ahead & wanted}


def _wait_for_ahead(keys: Sequence[str]) -> None:
    """Wait until the chapters of these keys that are being read ahead are read."""
    wanted = set(keys)
    for ahead, thread in list(_AHEAD):
        if ahead & wanted and thread is not threading.current_thread():
            thread.join()
        if not thread.is_alive():
            with contextlib.suppress(ValueError):  # (another thread may have removed it)
                _AHEAD.remove((ahead, thread))


def _stop_reading_ahead() -> None:
    """Stop the pandoc processes still reading ahead, so none outlives the command (a chapter
    whose markup takes pandoc minutes, in a command that stopped at an error of its outline)."""
    if not _AHEAD:
        return
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        with contextlib.suppress(OSError):
            proc.kill()
    for _, thread in _AHEAD:
        thread.join(timeout=5)  # (its temporary files removed on the way out)
    _AHEAD.clear()


def _cached(cache_dir: Path | None, key: str) -> bool:
    """Return whether a chapter's parse is in the cache (read later: it may still be unreadable)."""
    return cache_dir is not None and (cache_dir / f"{key}.json").is_file()


def _cache_read(cache_dir: Path | None, key: str) -> list[Node] | None:
    if cache_dir is None:
        return None
    data = kept(cache_dir / f"{key}.json", list)
    if data is None or not all(type(block) is dict for block in data):
        return None  # (not a chapter's blocks: made again)
    blocks: list[Node] = data
    return blocks


def _cache_write(cache_dir: Path | None, key: str, blocks: list[Node]) -> None:
    if cache_dir is None:
        return
    keep(cache_dir / f"{key}.json", pandoc_ast.dumps(blocks))


def api_version() -> list[int]:
    """Return the pandoc-api-version that this pandoc writes (as its last parse said, or asked)."""
    if not _API_VERSION:
        out = run(["-f", "markdown", "-t", "json"], b"")
        _API_VERSION.append(json.loads(out)["pandoc-api-version"])
    return _API_VERSION[0]


_API_VERSION: list[list[int]] = []  # this process's pandoc's, once known
