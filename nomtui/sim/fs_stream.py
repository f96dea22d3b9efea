"""File following and log-rotation streaming, shaped like Nomad's client FileSystem RPCs.

`FrameSink` is Nomad's StreamFramer: frames are JSON objects `{Offset, Data, File,
FileEvent}` (all omitempty) written back to back without separators; data is batched until
the next 200 ms flush tick or 64 KiB; `{}` heartbeats go out on their own ticker whether or
not data flows; `plain` writes only the data bytes. `stream_file` is `streamFile` (read to
EOF, then poll for growth, truncation, deletion or a newer log index) and `stream_logs` is
`logsImpl` with `findClosest` (PROTOCOLS §5.2/§5.3).

File changes are detected by polling every 100 ms (Nomad polls with hpcloud/tail), which
keeps this free of inotify and works the same on every platform.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nomtui.sim.traffic import StreamWriter

FRAME_SIZE = 64 * 1024
BATCH_WINDOW_S = 0.2
POLL_S = 0.1
LOGS_DIR = "alloc/logs"
DELETE_EVENT = "file deleted"
TRUNCATE_EVENT = "file truncated"
_MAX_INDEX = 2**63 - 1


class LogsError(Exception):
    """A logs-stream failure with the HTTP status Nomad gives it."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def encode_frame(offset: int, data: bytes, file: str, event: str) -> bytes:
    """Nomad's StreamFrame as its JSON handle writes it: field order kept, zero values left out."""
    frame: dict[str, object] = {}
    if offset:
        frame["Offset"] = offset
    if data:
        frame["Data"] = base64.b64encode(data).decode()
    if file:
        frame["File"] = file
    if event:
        frame["FileEvent"] = event
    # HTMLCharsAsIs and raw UTF-8, like go-msgpack's JsonHandle.
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()


class FrameSink:
    """Batches file data into frames and writes them (and heartbeats) through the guard."""

    def __init__(
        self,
        guard: StreamWriter,
        *,
        plain: bool,
        heartbeat_s: float,
        alive: Callable[[], bool],
    ) -> None:
        self._guard = guard
        self._plain = plain
        self._heartbeat_s = heartbeat_s
        self.alive = alive
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._next_flush = now + BATCH_WINDOW_S
        self._next_heartbeat = now + heartbeat_s
        # The working frame; "cleared" when it has neither file, event, offset nor data.
        self._file = ""
        self._event = ""
        self._offset = 0
        self._data = bytearray()
        self._cleared = True

    async def send(self, file: str, event: str, data: bytes, offset: int) -> None:
        """StreamFramer.Send: merge into the working frame or flush it first."""
        if not self._cleared and (self._file != file or self._event != event):
            await self._flush_frame()
        if self._cleared:
            self._file, self._event, self._offset = file, event, offset
            self._cleared = False
        self._data += data
        force = not self._data and bool(self._event)  # an event without data goes out now
        while len(self._data) >= FRAME_SIZE or force:
            force = False
            sent = await self._flush_frame(keep=True)
            self._offset += sent
        if not self._data:
            self._clear()
        await self.tick()

    async def tick(self) -> None:
        """Run the flush and heartbeat tickers that are due."""
        now = self._loop.time()
        if now >= self._next_flush:
            self._next_flush = _next_tick(self._next_flush, BATCH_WINDOW_S, now)
            if not self._cleared:
                await self._flush_frame()
        if now >= self._next_heartbeat:
            self._next_heartbeat = _next_tick(self._next_heartbeat, self._heartbeat_s, now)
            await self._write(b"" if self._plain else b"{}")

    async def idle(self, seconds: float) -> None:
        """Sleep `seconds` while keeping the tickers running."""
        end = self._loop.time() + seconds
        while True:
            now = self._loop.time()
            if now >= end:
                return
            await asyncio.sleep(min(end, self._next_flush, self._next_heartbeat) - now)
            await self.tick()

    async def close(self) -> None:
        """Flush what is pending, as StreamFramer.Destroy does."""
        if not self._cleared:
            await self._flush_frame()

    async def _flush_frame(self, *, keep: bool = False) -> int:
        chunk = bytes(self._data[:FRAME_SIZE])
        del self._data[:FRAME_SIZE]
        if self._plain:
            await self._write(chunk)
        else:
            await self._write(encode_frame(self._offset, chunk, self._file, self._event))
        if not keep:
            self._clear()
        return len(chunk)

    def _clear(self) -> None:
        self._file, self._event, self._offset = "", "", 0
        self._data.clear()
        self._cleared = True

    async def _write(self, payload: bytes) -> None:
        if payload:
            await self._guard.write(payload)


def _next_tick(previous: float, period: float, now: float) -> float:
    # A ticker drops ticks it could not deliver, like Go's time.Ticker.
    nxt = previous + period
    return nxt if nxt > now else now + period


async def stream_file(
    sink: FrameSink,
    base: Path,
    rel: str,
    offset: int,
    *,
    follow: bool,
    next_log: Callable[[], bool] | None = None,
) -> bool:
    """Stream `base/rel` from `offset`; False when the client went away.

    Without `follow` it stops at the first EOF. With `next_log`, once that reports a newer
    log file it reads to EOF one last time and returns (no data lost at rotation).
    Raises FileNotFoundError when the file cannot be opened (rotated out).
    """
    path = base / rel
    fd = os.open(path, os.O_RDONLY)
    try:
        inode = os.fstat(fd).st_ino
        pos = os.lseek(fd, offset, os.SEEK_SET)
        event = ""
        cancel_received = not follow
        while True:
            data = os.read(fd, FRAME_SIZE)
            pos += len(data)
            if data or event:
                await sink.send(rel, event, data, pos)
                event = ""
            if data:
                await asyncio.sleep(0)  # a big file must not starve the loop
                continue
            await sink.tick()
            if cancel_received:
                return True
            while True:
                if not sink.alive():
                    return False
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    st = None
                if st is None or st.st_ino != inode:
                    tail = os.read(fd, FRAME_SIZE)
                    while tail:  # keep what was written before the delete
                        pos += len(tail)
                        await sink.send(rel, "", tail, pos)
                        tail = os.read(fd, FRAME_SIZE)
                    await sink.send(rel, DELETE_EVENT, b"", pos)
                    return True
                if st.st_size < pos:
                    pos = os.lseek(fd, 0, os.SEEK_SET)
                    event = TRUNCATE_EVENT
                    break
                if st.st_size > pos:
                    break
                if next_log is not None and next_log():
                    cancel_received = True  # read once more to catch the tail
                    break
                await sink.idle(POLL_S)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LogEntry:
    index: int
    name: str
    size: int


def list_logs(base: Path, task: str, log_type: str) -> list[LogEntry]:
    """logIndexes: `<task>.<type>.<N>` files in alloc/logs, sorted by N."""
    prefix = f"{task}.{log_type}."
    entries: list[LogEntry] = []
    try:
        scan = list(os.scandir(base / LOGS_DIR))
    except FileNotFoundError:
        scan = []
    for item in scan:
        if not item.name.startswith(prefix) or item.is_dir():
            continue
        raw = item.name[len(prefix) :]
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise LogsError(500, f'failed to convert "{raw}" to a log index')
        try:
            size = item.stat().st_size
        except FileNotFoundError:
            continue  # rotated out between listing and stat
        entries.append(LogEntry(int(raw), item.name, size))
    if not entries:
        raise LogsError(404, f'log entry for task "{task}" and log type "{log_type}" not found')
    entries.sort(key=lambda e: e.index)
    return entries


def find_closest(entries: list[LogEntry], desired_idx: int, offset: int) -> tuple[LogEntry, int]:
    """findClosest: the file and in-file offset for (index, offset); negative = from the end."""
    i = next((n for n, e in enumerate(entries) if e.index >= desired_idx), len(entries) - 1)
    last = len(entries) - 1
    while offset != 0:
        size = entries[i].size
        if offset < 0:
            if size + offset >= 0:
                offset = size + offset
                break
            if i == 0:
                offset = 0
                break
            offset, i = size + offset, i - 1
        else:
            if offset <= size:
                break
            if i == last:
                offset = size
                break
            offset, i = offset - size, i + 1
    return entries[i], offset


async def stream_logs(
    sink: FrameSink,
    base: Path,
    task: str,
    log_type: str,
    *,
    offset: int,
    origin: str,
    follow: bool,
) -> None:
    """logsImpl: walk the rotated files from (origin, offset), following newer indexes."""
    next_idx = 0
    if origin == "end":
        next_idx, offset = _MAX_INDEX, -offset

    def newer_exists(than: int) -> Callable[[], bool]:
        return lambda: any(e.index > than for e in _quiet_list(base, task, log_type))

    while True:
        entries = list_logs(base, task, log_type)
        max_index = entries[-1].index if not follow else _MAX_INDEX
        entry, open_offset = find_closest(entries, next_idx, offset)
        stop_after = False
        next_log: Callable[[], bool] | None = None
        if not follow and entry.index > max_index:
            return
        if not follow and entry.index == max_index:
            stop_after = True
        else:
            next_log = newer_exists(entry.index)
        try:
            alive = await stream_file(
                sink,
                base,
                f"{LOGS_DIR}/{entry.name}",
                open_offset,
                follow=not stop_after,
                next_log=next_log,
            )
        except FileNotFoundError:
            continue  # rotated out from under us: list again
        if not alive or stop_after:
            return
        offset, next_idx = 0, entry.index + 1


def _quiet_list(base: Path, task: str, log_type: str) -> list[LogEntry]:
    try:
        return list_logs(base, task, log_type)
    except LogsError:
        return []
