"""Benchmarks: paperbuild against the tools a user would otherwise run, as ratios measured side
by side in the same run, each command and its baseline in turn (absolute times on shared machines
are noise; ratios are not).

    python bench/run.py --size medium [--repeat 5]

Prints a Markdown table and writes bench/results/<date>-<size>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import edit, generate  # noqa: E402

PAPERBUILD = [sys.executable, "-m", "paperbuild"]
RSS_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,"
    " stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def pandoc_bin() -> str:
    """Return the pandoc binary paperbuild uses."""
    from paperbuild.pandoc import pandoc_path

    return pandoc_path()


def timed(fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None):
    """Return (median, min, max) seconds of fn over `repeat` runs after one warm-up."""
    times = []
    for i in range(repeat + 1):
        if before:
            before()
        start = time.perf_counter()
        fn()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def paired(
    ours: Callable[[], object],
    base: Callable[[], object],
    repeat: int,
    before_ours: Callable[[], object] | None = None,
    before_base: Callable[[], object] | None = None,
):
    """Return timed()'s answer for ours and for the baseline, run in turn, one then the other,
    after one warm-up each: a burst of load from the shared machine then falls on both alike
    (timed one after the other, the same code's ratio moved by up to 0.3 between runs)."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(repeat + 1):
        for side, (fn, before) in enumerate(((ours, before_ours), (base, before_base))):
            if before:
                before()
            start = time.perf_counter()
            fn()
            if i:
                times[side].append(time.perf_counter() - start)
    return tuple((statistics.median(t), min(t), max(t)) for t in times)


def sh(*args: str, cwd: Path | None = None) -> None:
    """Run a command, failing loudly."""
    subprocess.run(
        list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def max_rss_mb(args: list[str], cwd: Path) -> float:
    """Return the peak resident memory (MiB) of a command and all its children."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_WRAPPER, *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip()) / 1024


class Bench:
    """Holds the project under test and the rows measured."""

    def __init__(self, root: Path, repeat: int) -> None:
        self.root = root
        self.repeat = repeat
        self.rows: list[dict[str, object]] = []
        self.pandoc = pandoc_bin()
        self.concat = root / "concatenated.md"
        self.concat.write_text(
            "\n\n".join(p.read_text() for p in sorted((root / "paper").glob("*.md")))
        )

    def clear_cache(self) -> None:
        shutil.rmtree(self.root / "build", ignore_errors=True)

    def pb(self, *args: str) -> Callable[[], None]:
        return lambda: sh(*PAPERBUILD, "-C", str(self.root), "-q", *args)

    def row(self, name: str, ours, base, target: float | None, base_name: str) -> None:
        ratio = ours[0] / base[0]
        self.rows.append(
            {
                "measurement": name,
                "paperbuild_s": ours,
                "baseline": base_name,
                "baseline_s": base,
                "ratio": ratio,
                "target": target,
                "ok": None if target is None else ratio <= target,
            }
        )
        print(_line(self.rows[-1]), flush=True)

    def skip(self, name: str, why: str) -> None:
        self.rows.append({"measurement": name, "skipped": why})
        print(f"| {name} | skipped: {why} | | | | |", flush=True)


def _fmt(t) -> str:
    return f"{t[0]:.2f} s ({t[1]:.2f}–{t[2]:.2f})"


def _line(r: dict[str, object]) -> str:
    target = "" if r["target"] is None else f"≤ {r['target']}"
    ok = "" if r["ok"] is None else ("yes" if r["ok"] else "**no**")
    return (
        f"| {r['measurement']} | {_fmt(r['paperbuild_s'])} | {r['baseline']}: "
        f"{_fmt(r['baseline_s'])} | {r['ratio']:.2f} | {target} | {ok} |"
    )


def measure(size: str, repeat: int, work: Path) -> Bench:
    """Run every measurement on a generated project of the given size."""
    b = Bench(generate(work / size, size), repeat)
    pandoc, concat, bib = b.pandoc, str(b.concat), str(b.root / "references.bib")

    def bare_parse() -> None:
        sh(pandoc, "-f", "markdown", "-t", "json", concat, "-o", os.devnull)

    cold_check, parse = paired(b.pb("check"), bare_parse, repeat, b.clear_cache)
    b.row("cold check (empty cache)", cold_check, parse, 1.5, "bare pandoc parse")
    b.pb("check")()
    warm_check, parse = paired(b.pb("check"), bare_parse, repeat)
    b.row("warm check (nothing changed)", warm_check, parse, 0.5, "bare pandoc parse")
    out = str(b.root / "bare.docx")

    def bare_docx() -> None:
        sh(pandoc, concat, "--citeproc", "--bibliography", bib, "-o", out)

    cold_docx, bare = paired(
        b.pb("build", "--to", "docx", "--force"), bare_docx, repeat, b.clear_cache
    )
    b.row("cold DOCX build", cold_docx, bare, 1.3, "bare pandoc → DOCX")
    chapter = b.root / "paper" / "01.md"
    original = chapter.read_text()
    flip = [0]

    def touch() -> None:
        flip[0] += 1
        chapter.write_text(original + f"\nAn added sentence number {flip[0]}.\n")

    # the rebuild and the cold build it is measured against, in turn, each in its own copy
    twin = b.root.parent / f"{b.root.name}-cold"
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(b.root, twin, ignore=shutil.ignore_patterns("build"))
    cold_twin = lambda: sh(*PAPERBUILD, "-C", str(twin), "-q", "build", "--to", "docx", "--force")  # noqa: E731
    clear_twin = lambda: shutil.rmtree(twin / "build", ignore_errors=True)  # noqa: E731
    b.pb("build", "--to", "docx", "--force")()
    warm, cold = paired(
        b.pb("build", "--to", "docx", "--force"), cold_twin, repeat, touch, clear_twin
    )
    chapter.write_text(original)
    b.row("DOCX rebuild, one chapter changed", warm, cold, 0.5, "cold DOCX build")
    saves, cold = watch_saves(b.root, repeat, between=lambda: (clear_twin(), cold_twin()))
    b.row("`watch`: a save to the DOCX rebuilt", saves, cold, 0.33, "cold DOCX build")
    typ = str(b.root / "bare.typ")
    pdf = str(b.root / "bare.pdf")
    compile_py = f"import typst; typst.compile({typ!r}, output={pdf!r})"

    def bare_pdf() -> None:
        sh(pandoc, concat, "--citeproc", "--bibliography", bib, "-t", "typst", "-s", "-o", typ)
        sh(sys.executable, "-c", compile_py)

    cold_pdf, bare = paired(
        b.pb("build", "--to", "pdf", "--force"), bare_pdf, repeat, b.clear_cache
    )
    b.row("cold PDF build", cold_pdf, bare, 1.3, "bare pandoc → Typst + typst.compile")
    diff_rows(b, repeat)
    edited = b.root.parent / f"{b.root.name}-v2"  # recorded by diff_rows: drafts v1 and v2
    commands = (
        (b.root, ["check"], "check"),
        (b.root, ["build", "--to", "docx", "--force"], "DOCX build"),
        (b.root, ["build", "--to", "pdf", "--force"], "PDF build"),
        (edited, ["diff", "v1", "v2", "--to", "docx,md", "-o", str(edited / "mem")], "diff"),
    )
    for root, args, name in commands:
        if name != "diff":
            b.clear_cache()
        mib = max_rss_mb([*PAPERBUILD, "-C", str(root), *args], root)
        b.rows.append({"measurement": f"peak memory, {name}", "max_rss_mib": mib})
        print(
            f"| peak memory, {name} | {mib:.0f} MiB | | | < 1024 MiB | "
            f"{'yes' if mib < 1024 else '**no**'} |"
        )
    return b


def watch_saves(root: Path, repeat: int, between: Callable[[], object]):
    """Return (median, min, max) seconds from a chapter saved to its DOCX rewritten by a running
    `paperbuild watch` (its file-event wait included), over `repeat` saves after one warm-up,
    and the same of `between` (the baseline), timed before each save while the watcher idles."""
    chapter = root / "paper" / "01.md"
    original = chapter.read_text()
    docx = next((root / "build").glob("*.docx"))
    watcher = subprocess.Popen(
        [*PAPERBUILD, "-C", str(root), "watch", "--to", "docx", "--force"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    times, base = [], []
    try:
        for line in watcher.stdout or ():  # its first build, then it watches
            if line.startswith("watching"):
                break
        for i in range(repeat + 1):
            start = time.perf_counter()
            between()
            if i:
                base.append(time.perf_counter() - start)
            before = docx.stat().st_mtime_ns
            start = time.perf_counter()
            chapter.write_text(original + f"\nA sentence saved while watching, number {i}.\n")
            while docx.stat().st_mtime_ns == before:
                if time.perf_counter() - start > 60:
                    raise RuntimeError("paperbuild watch did not rebuild the DOCX within 60 s")
                time.sleep(0.002)
            if i:
                times.append(time.perf_counter() - start)
            for line in watcher.stdout or ():  # its report of the build: it is idle again
                if line.startswith(("built", "not built")):
                    break
    finally:
        watcher.terminate()
        watcher.communicate(timeout=30)
        chapter.write_text(original)
    return (
        (statistics.median(times), min(times), max(times)),
        (statistics.median(base), min(base), max(base)),
    )


def two_drafts(root: Path, share: float = 0.1) -> Path:
    """Record draft v1 of the project, edit a share of its paragraphs, record v2; return root."""
    sh(*PAPERBUILD, "-C", str(root), "-q", "build", "--to", "docx", "--force", "--version", "v1")
    edited = edit(root, root.parent / f"{root.name}-v2", share)
    shutil.copytree(root / "build" / "versions", edited / "build" / "versions")
    sh(*PAPERBUILD, "-C", str(edited), "-q", "build", "--to", "docx", "--force", "--version", "v2")
    return edited


def diff_cmd(edited: Path) -> Callable[[], None]:
    """Return a call of `paperbuild diff v1 v2` writing the DOCX redline and the summary."""
    out = edited / "build" / "bench-diff"
    return lambda: sh(
        *PAPERBUILD, "-C", str(edited), "-q", "diff", "v1", "v2", "--to", "docx,md", "-o", str(out)
    )


def diff_rows(b: Bench, repeat: int) -> None:
    """Add the diff row: paperbuild diff v1 v2 against pandiff on the same two texts."""
    edited = two_drafts(b.root)
    pandiff = shutil.which("pandiff")
    if pandiff is None:
        ours = timed(diff_cmd(edited), repeat)
        b.skip(
            "diff v1..v2 (DOCX redline + summary)",
            "pandiff not on PATH (npm install pandiff); paperbuild alone: " + _fmt(ours),
        )
        return
    v1, v2 = b.root / "v1.md", b.root / "v2.md"
    for path, project in ((v1, b.root), (v2, edited)):
        chapters = sorted((project / "paper").glob("*.md"))
        path.write_text("\n\n".join(p.read_text() for p in chapters))
    env = {**os.environ, "PATH": f"{Path(b.pandoc).parent}{os.pathsep}{os.environ['PATH']}"}
    out = str(b.root / "pandiff.docx")
    ours, base = paired(
        diff_cmd(edited),
        lambda: subprocess.run(
            [pandiff, str(v1), str(v2), "-o", out], env=env, check=True, capture_output=True
        ),
        repeat,
    )
    b.row("diff v1..v2 (DOCX redline + summary)", ours, base, 0.2, "pandiff → DOCX")


def growth(repeat: int, work: Path) -> list[dict[str, object]]:
    """Return cold-check and diff times at 1x and 4x the medium text, to show linear growth."""
    rows: list[dict[str, object]] = []
    base: dict[str, float] = {}
    for scale in (1, 4):
        root = generate(work / f"growth{scale}", "medium", scale=scale)
        b = Bench(root, repeat)
        edited = two_drafts(root)
        for name, fn, before in (
            ("cold check", b.pb("check"), b.clear_cache),
            ("diff v1..v2", diff_cmd(edited), None),
        ):
            t = timed(fn, repeat, before)
            base.setdefault(name, t[0])
            ratio = t[0] / base[name]
            rows.append(
                {"measurement": f"{name} at {scale}x text", "paperbuild_s": t, "ratio_to_1x": ratio}
            )
            target = "≤ 4.4" if scale == 4 else ""
            print(
                f"| {name} at {scale}x text | {_fmt(t)} | same at 1x | | {ratio:.2f} | {target} |",
                flush=True,
            )
    return rows


def _compile_package() -> None:
    """Compile paperbuild's bytecode first, as `pip install` does.

    An editable install under PYTHONDONTWRITEBYTECODE (set on these machines) would otherwise
    recompile every module on every run: 60 ms of each command measured, which no installed
    copy pays.
    """
    import compileall

    import paperbuild

    compileall.compile_dir(Path(paperbuild.__file__).parent, quiet=1)


def main() -> None:
    """Run the benchmarks and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=["small", "medium", "large"], default="medium")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-growth", action="store_true", help="skip the 1x/4x growth rows")
    args = parser.parse_args()
    _compile_package()
    print(f"# paperbuild benchmarks, size {args.size}, median of {args.repeat} runs (min–max)\n")
    print("| measurement | paperbuild | baseline | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        bench = measure(args.size, args.repeat, Path(tmp))
        rows = bench.rows + ([] if args.no_growth else growth(args.repeat, Path(tmp)))
    stamp = dt.date.today().isoformat()
    out = HERE / "results" / f"{stamp}-{args.size}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"date": stamp, "size": args.size, "repeat": args.repeat, "rows": rows}, indent=2
        )
    )
    print(f"\nwritten: {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
