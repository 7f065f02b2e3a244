"""The author's faces (outline.yaml's `fonts:`) and the characters a face has glyphs for, read
from its `cmap` table."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from paperbuild.diagnostics import Diagnostic, diag
from paperbuild.load.outline import OUTLINE_FILE
from paperbuild.load.project import Project
from paperbuild.safety import UnsafePath, read_input

Ranges = list[tuple[int, int]]  # inclusive code point ranges


class NotAFont(ValueError):
    """The bytes are not a TrueType or OpenType face (or collection) whose cmap can be read."""


def covered(data: bytes) -> Ranges:
    """Return the code point ranges of a face's Unicode cmap (the first face of a collection)."""
    try:
        offset = struct.unpack_from(">I", data, 12)[0] if data[:4] == b"ttcf" else 0
        return _merged(_cmap_ranges(data, _table(data, offset, b"cmap")))
    except (struct.error, IndexError) as exc:
        raise NotAFont("its font tables cannot be read") from exc


def _table(data: bytes, offset: int, tag: bytes) -> int:
    """Return where the table `tag` starts in the face whose table directory is at offset."""
    if data[offset : offset + 4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        raise NotAFont("it is not a TrueType or OpenType font")
    (count,) = struct.unpack_from(">H", data, offset + 4)
    for i in range(count):
        entry = offset + 12 + 16 * i
        if data[entry : entry + 4] == tag:
            return int(struct.unpack_from(">I", data, entry + 8)[0])
    raise NotAFont("it has no character map")


def _cmap_ranges(data: bytes, cmap: int) -> Ranges:
    """Return the ranges of the best Unicode subtable: format 12 (full), else format 4 (BMP)."""
    (count,) = struct.unpack_from(">H", data, cmap + 2)
    subtables: dict[int, int] = {}
    for i in range(count):
        platform, encoding, sub = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        if (platform, encoding) in ((3, 1), (3, 10), (0, 3), (0, 4), (0, 6)):
            (fmt,) = struct.unpack_from(">H", data, cmap + sub)
            subtables.setdefault(fmt, cmap + sub)
    if 12 in subtables:
        start = subtables[12]
        (groups,) = struct.unpack_from(">I", data, start + 12)
        return [struct.unpack_from(">II", data, start + 16 + 12 * i)[:2] for i in range(groups)]
    if 4 in subtables:
        start = subtables[4]
        segments = struct.unpack_from(">H", data, start + 6)[0] // 2
        ends = struct.unpack_from(f">{segments}H", data, start + 14)
        starts = struct.unpack_from(f">{segments}H", data, start + 16 + 2 * segments)
        return [(a, b) for a, b in zip(starts, ends, strict=True) if a <= b and a != 0xFFFF]
    raise NotAFont("it has no Unicode character map")


def _merged(ranges: Ranges) -> Ranges:
    """Return the ranges sorted, with touching and overlapping ones joined."""
    out: Ranges = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass(frozen=True)
class Face:
    """A face the author named in outline.yaml: its path, bytes and what it covers."""

    path: str
    data: bytes
    ranges: tuple[tuple[int, int], ...]


def author_faces(project: Project) -> tuple[list[Face], list[Diagnostic]]:
    """Return the faces outline.yaml's `fonts:` names, and why any of them cannot be used."""
    faces: list[Face] = []
    problems: list[Diagnostic] = []
    for rel in project.outline.fonts:
        path = project.root / rel
        if not path.exists() and not path.is_symlink():
            problems.append(
                diag(
                    "missing-file",
                    f"fonts: {rel} does not exist",
                    OUTLINE_FILE,
                    hint="correct the path under 'fonts:' in outline.yaml or remove it",
                )
            )
            continue
        try:
            data = read_input(path, project.root)
            faces.append(Face(path=rel, data=data, ranges=tuple(covered(data))))
        except UnsafePath as exc:
            problems.append(diag("invalid-font", f"fonts: {exc.message}", OUTLINE_FILE))
        except NotAFont as exc:
            problems.append(
                diag(
                    "invalid-font",
                    f"fonts: {rel} cannot be used: {exc}",
                    OUTLINE_FILE,
                    hint="name a TrueType or OpenType face (.ttf, .otf or .ttc)",
                )
            )
    return faces, problems
