"""Deterministic generator of synthetic paper projects for benchmarks (and an edit mode).

python bench/generate.py DIR --size medium [--seed 1]
python bench/generate.py DIR --size medium --edit-from OTHER_DIR --share 0.1
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

SIZES = {  # chapters, words per chapter, footnotes per chapter, references
    "small": (11, 400, 2, 8),
    "medium": (11, 2650, 27, 150),
    "large": (60, 4800, 30, 400),
}

VOCABULARY = """trafficking children protection law enforcement prevention coordination cooperation
evidence report protocol guidelines states agencies donors programmes identification interception
repatriation assistance recovery care standards national regional local border police prosecution
victims exploitation commercial sexual labour migration mobility risk assessment interests
guardians procedures training expertise referral mechanisms networks multi-disciplinary teams
investment funds results impact campaigns publicity demand supply origin transit destination
private sector transport codes enterprises informal economy practice organisations committee
review period changes patterns responses implementation obstacles justice compensation damages
""".split()
FILLER = (
    "the of and to in a that for on with as by is are was were be has have it this which".split()
)


def words(rng: random.Random, n: int) -> str:
    """Return n pseudo-words: content words mixed with function words, like prose."""
    out = []
    for _ in range(n):
        pool = VOCABULARY if rng.random() < 0.55 else FILLER
        out.append(rng.choice(pool))
    out[0] = out[0].capitalize()
    return " ".join(out)


def outline_yaml(chapters: int, points: int) -> str:
    """Return an outline.yaml with `chapters` sections of `points` points each."""
    lines = [
        "document:",
        "  title: Synthetic Benchmark Paper",
        "  author: paperbuild bench",
        "  status: Benchmark draft",
        '  version: "1.0"',
        "  date: 2026-01-01",
        "rules:",
        "  unused-reference: off",
        "sections:",
    ]
    for c in range(1, chapters + 1):
        lines += [
            f"  - id: {c}",
            f"    title: Section {c} on trafficking responses",
            f"    chapter: paper/{c:02d}.md",
            "    points:",
        ]
        for p in range(1, points + 1):
            lines += [f'      - id: "{c}.{p}"', f"        text: Point {p} of section {c}"]
    return "\n".join(lines) + "\n"


def bibliography(n: int) -> str:
    """Return a references.bib with n entries."""
    entries = []
    for i in range(n):
        entries.append(
            f"@report{{ref{i},\n  author = {{{{Agency {i % 17}}}}},\n"
            f"  title = {{Report number {i} on child protection}},\n"
            f"  year = {{{2000 + i % 9}}},\n  institution = {{Agency {i % 17}}},\n}}\n"
        )
    return "\n".join(entries)


def chapter(
    rng: random.Random, c: int, n_words: int, n_notes: int, n_refs: int, points: int
) -> str:
    """Return a chapter: heading, subsections, paragraphs with notes and citations, tables."""
    parts = [f"# Section {c} on trafficking responses", ""]
    written, note, sub = 0, 0, 0
    while written < n_words:
        if written // 900 >= sub:
            sub += 1
            marker = f' {{points="{c}.{sub}"}}' if sub <= points else ""
            parts += [f"## Subsection {c}.{sub}{marker}", ""]
        size = rng.randint(60, 120)
        text = words(rng, size)
        if note < n_notes and rng.random() < 0.9:
            note += 1
            text += f".[^{note}] " + words(rng, 8)
        if rng.random() < 0.4:
            text += f" [@ref{rng.randrange(n_refs)}, p. {rng.randint(1, 300)}]"
        parts += [text + ".", ""]
        written += size
        roll = rng.random()
        if roll < 0.06:
            parts += [f"- {words(rng, 9)}" for _ in range(3)] + [""]
        elif roll < 0.09:
            parts += ["| Country | Cases | Note |", "|---|---|---|"]
            parts += [
                f"| {rng.choice(VOCABULARY)} | {rng.randint(1, 900)} | {words(rng, 4)} |"
                for _ in range(4)
            ] + [""]
        elif roll < 0.11:
            parts += [f"> {words(rng, 40)}.", ""]
    parts += [f"[^{i}]: {words(rng, rng.randint(8, 30))}." for i in range(1, note + 1)]
    return "\n".join(parts) + "\n"


def generate(root: Path, size: str, seed: int = 1, scale: float = 1.0) -> Path:
    """Write a synthetic project of the given size (text scaled by `scale`) and return its root."""
    chapters, per_chapter, notes, refs = SIZES[size]
    per_chapter = int(per_chapter * scale)
    rng = random.Random(f"{size}-{seed}")
    if root.exists():
        shutil.rmtree(root)
    (root / "paper").mkdir(parents=True)
    points = max(1, per_chapter // 900)
    (root / "outline.yaml").write_text(outline_yaml(chapters, points))
    (root / "references.bib").write_text(bibliography(refs))
    for c in range(1, chapters + 1):
        text = chapter(rng, c, per_chapter, int(notes * scale), refs, points)
        (root / "paper" / f"{c:02d}.md").write_text(text)
    return root


def edit(source: Path, target: Path, share: float, seed: int = 2) -> Path:
    """Copy a project and edit a share of its paragraphs (insert, delete, move, change a note)."""
    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("build"))
    for path in sorted((target / "paper").glob("*.md")):
        paras = path.read_text().split("\n\n")
        for i in range(len(paras)):
            if rng.random() >= share or paras[i].startswith(("#", "|", "-")):
                continue
            action = rng.choice(["insert", "delete", "move", "words"])
            if action == "insert":
                paras.insert(i, words(rng, 50) + ".")
            elif action == "delete" and not paras[i].startswith("[^"):
                paras[i] = words(rng, 5) + "."
            elif action == "move" and i + 2 < len(paras):
                paras[i], paras[i + 2] = paras[i + 2], paras[i]
            else:
                tokens = paras[i].split(" ")
                tokens.insert(rng.randrange(len(tokens)), rng.choice(VOCABULARY))
                paras[i] = " ".join(tokens)
        path.write_text("\n\n".join(paras))
    return target


def main() -> None:
    """Command line: generate a project, or an edited copy of one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--size", choices=sorted(SIZES), default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--edit-from", type=Path, default=None)
    parser.add_argument("--share", type=float, default=0.1)
    args = parser.parse_args()
    if args.edit_from:
        edit(args.edit_from, args.dir, args.share, args.seed)
    else:
        generate(args.dir, args.size, args.seed, args.scale)
    print(args.dir)


if __name__ == "__main__":
    main()
