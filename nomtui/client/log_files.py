"""Where a log stream is, and where to reopen it: pure arithmetic over `alloc/logs`.

Task output lives in `alloc/logs/<task>.<type>.<N>`, N increasing by one per rotation;
old files are deleted (`max_files`). `/v1/client/fs/logs` takes only a cumulative offset
over the files that exist when the agent lists them (PROTOCOLS.md §5.3), so reopening at
an exact (file, position) means: offset = sizes of the existing files below + position.
That is exact as long as no file at or below the target is deleted between our listing
and the agent's; `Plan.guard` names the files whose survival proves it (see logs.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nomtui.models.frames import AllocFileInfo

LOGS_DIR = "alloc/logs"


@dataclass(frozen=True)
class LogFile:
    index: int
    name: str
    size: int

    @property
    def path(self) -> str:
        return f"{LOGS_DIR}/{self.name}"


@dataclass(frozen=True)
class Cursor:
    """The position just after the last byte delivered: file `index`, byte `pos`.

    `done`: the agent reported the file deleted after sending its tail, so nothing of
    it is left to read.
    """

    index: int
    pos: int
    done: bool = False


@dataclass(frozen=True)
class Plan:
    """How to (re)open `/logs`: `origin=start&offset=<offset>`.

    `expect` is where the first byte will come from (None: the lowest file, at 0, which
    needs no listing); `guard` the indexes that must still exist once the agent has
    listed, for `offset` to have meant the same files to both sides.
    """

    offset: int
    expect: Cursor | None
    guard: frozenset[int]


def _pattern(task: str, stream: str) -> re.Pattern[str]:
    return re.compile(re.escape(f"{task}.{stream}.") + r"(\d+)")


def log_files(entries: Iterable[AllocFileInfo], task: str, stream: str) -> list[LogFile]:
    """The task's files of one stream, oldest first (names that do not parse are skipped)."""
    pattern = _pattern(task, stream)
    found = [
        LogFile(int(m.group(1)), e.Name, e.Size)
        for e in entries
        if not e.IsDir and (m := pattern.fullmatch(e.Name))
    ]
    return sorted(found, key=lambda f: f.index)


def file_index(path: str, task: str, stream: str) -> int | None:
    """N of a frame's `File` (`alloc/logs/<task>.<type>.<N>`), None when it is not one."""
    m = _pattern(task, stream).fullmatch(path.rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None


def file_path(index: int, task: str, stream: str) -> str:
    return f"{LOGS_DIR}/{task}.{stream}.{index}"


def from_start(files: list[LogFile], offset: int) -> Cursor:
    """`offset` bytes into the concatenation of `files` (clamped to its end)."""
    remaining = offset
    for f in files[:-1]:
        if remaining <= f.size:
            return Cursor(f.index, remaining)
        remaining -= f.size
    last = files[-1]
    return Cursor(last.index, min(remaining, last.size))


def from_end(files: list[LogFile], back: int) -> Cursor:
    """`back` bytes before the end of the newest file, across rotations (clamped to the
    start of the oldest). Unlike the agent's `origin=end&offset=0`, which replays the
    whole newest file, 0 means "from now"."""
    remaining = back
    for f in reversed(files):
        if remaining <= f.size:
            return Cursor(f.index, f.size - remaining)
        remaining -= f.size
    return Cursor(files[0].index, 0)


def advance(start: Cursor, count: int, sizes: Mapping[int, int]) -> Cursor:
    """`count` bytes after `start`, walking over files of known `sizes` (plain mode)."""
    index, pos = start.index, start.pos + count
    for nxt in sorted(i for i in sizes if i > start.index):
        size = sizes.get(index)
        if size is None or pos <= size:
            break
        pos -= size
        index = nxt
    return Cursor(index, pos)


def plan(files: list[LogFile], cursor: Cursor) -> Plan:
    """Reopen just after `cursor`: in its file when that still exists and was not
    finished, else at the start of the next newer file."""
    present = {f.index for f in files}
    if cursor.index in present and not cursor.done:
        target = cursor
    else:
        newer = [f.index for f in files if f.index > cursor.index]
        if not newer:
            # Nothing after it exists: let the agent answer (it 404s without files).
            return Plan(0, None, frozenset())
        target = Cursor(newer[0], 0)
    below = sum(f.size for f in files if f.index < target.index)
    offset = below + target.pos
    guard = frozenset(i for i in present if i <= target.index) if offset else frozenset()
    return Plan(offset, target, guard)


__all__ = [
    "LOGS_DIR",
    "Cursor",
    "LogFile",
    "Plan",
    "advance",
    "file_index",
    "file_path",
    "from_end",
    "from_start",
    "log_files",
    "plan",
]
