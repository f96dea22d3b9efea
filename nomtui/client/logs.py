"""A task's logs, `/v1/client/fs/logs/:alloc`, that survive dropped connections exactly.

    async for chunk in LogStream(http, alloc_id, "http", follow=True):
        chunk.data, chunk.file, chunk.offset, chunk.event

How resuming works (PROTOCOLS.md §5.2-§5.4). Frames say which `File` their data came
from, but their `Offset` is not reliable as a position: it is taken after the *first*
read merged into a frame, and after a 64 KiB split it runs ahead of the data. So the
stream counts bytes itself from positions it knows exactly: byte 0 of every new file
(the agent always enters the next file at 0), 0 again on `file truncated`, and the
position it asked for. It keeps a cursor (file index, position) after the last byte
it delivered.

On a drop it lists `alloc/logs` and reopens `/logs` with `origin=start` and the
cumulative offset of the cursor: sizes of the existing files below it plus the position
(`log_files.plan`). That offset means the same (file, position) to the agent unless a
file at or below the cursor is deleted between our listing and the agent's. Deletion is
oldest-first and never undone, so listing once more after the first byte arrives (the
agent has listed by then) and finding those files still there proves the agent started
exactly at the cursor; otherwise the connection is dropped and planned again. The same
mechanism opens `origin=end` (tail) streams, computed here instead of by the agent,
which also avoids the agent's `origin=end&offset=0` replaying the whole newest file.
Reopening `/logs` instead of `/fs/stream` for the rest of the file keeps the agent doing
rotation (no polling of our own).

Bytes can still be lost when the agent deleted them (rotated out while we were away, or
between two files); the stream then yields an empty chunk with event `LOST` before the
next data, so a viewer can mark the gap. Plain mode (`plain=True`: raw bytes, no frames,
no file names) resumes by walking the byte count over the file sizes it has listed;
exact unless a file still growing at its last listing was deleted before the reconnect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Literal

from nomtui.client.base import flag, seg
from nomtui.client.blocking import Backoff
from nomtui.client.frames import FrameDecoder, FrameError, TrailingText
from nomtui.client.fs import Fs
from nomtui.client.http import HttpClient
from nomtui.client.link import Link, LinkStatus, Sleep, StatusCallback, dropped, reject_html
from nomtui.client.log_files import (
    Cursor,
    LogFile,
    Plan,
    advance,
    file_index,
    file_path,
    from_end,
    from_start,
    log_files,
    plan,
)
from nomtui.errors import BadResponse, NomtuiError, StreamDropped
from nomtui.models.frames import FILE_DELETED, FILE_TRUNCATED, StreamFrame

LOST = "lost"
"""Client-side event: output between the previous chunk and this one is gone."""
IDLE_TIMEOUT_S = 15.0
READ_ATTEMPTS = 5
"""Tries of a read to the end (no follow) that make no progress before it fails: one
that retried forever would hang `nomtui logs` on an agent that always errs."""
"""Silence after which a framed stream counts as dead (the agent heartbeats every 1 s)."""

Origin = Literal["start", "end"]
StreamName = Literal["stdout", "stderr"]


@dataclass(frozen=True)
class LogChunk:
    """Bytes of one log file; `offset` is the position in `file` just after `data`.

    In plain mode `file` is empty and `offset` counts the bytes of the whole stream.
    `event`: "", `file truncated` (data restarts at 0), `file deleted` (no data) or
    `LOST` (no data: what came before this point was deleted before it could be read).
    """

    data: bytes
    file: str
    offset: int
    event: str = ""


class LineSplitter:
    """Bytes in, complete lines out (`\\n`-terminated, `\\r\\n` too), the partial tail kept.

    Splitting bytes before decoding means a character cut between two chunks is never
    mangled; undecodable bytes become U+FFFD.
    """

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, data: bytes) -> list[str]:
        if not data:
            return []
        parts = (self._partial + data).split(b"\n")
        self._partial = parts.pop()
        return [_text(p) for p in parts]

    def flush(self) -> list[str]:
        """The held partial line, if any (at the end of the stream or of a file)."""
        rest, self._partial = self._partial, b""
        return [_text(rest)] if rest else []


def _text(line: bytes) -> str:
    return line.removesuffix(b"\r").decode("utf-8", errors="replace")


class LogStream:
    """One task's stdout or stderr, from `origin`+`offset`, following when `follow`."""

    def __init__(
        self,
        http: HttpClient,
        alloc_id: str,
        task: str,
        *,
        stream: StreamName = "stdout",
        follow: bool = True,
        origin: Origin = "start",
        offset: int = 0,
        plain: bool = False,
        on_status: StatusCallback | None = None,
        backoff: Backoff | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if stream not in ("stdout", "stderr") or origin not in ("start", "end") or offset < 0:
            raise ValueError(f"bad log stream request: {stream=}, {origin=}, {offset=}")
        self._http = http
        self._fs = Fs(http)
        self.alloc_id = alloc_id
        self.task = task
        self.stream: StreamName = stream
        self.follow = follow
        self.origin: Origin = origin
        self.offset = offset
        self.plain = plain
        self._timeout_s = idle_timeout_s
        self._link = Link(on_status, backoff, sleep)
        self._path = f"/v1/client/fs/logs/{seg(alloc_id)}"
        self._cursor: Cursor | None = None
        self._final: dict[int, int] = {}  # sizes of rotated files (they no longer grow)
        self._sizes: dict[int, int] = {}  # plain mode: every size seen, for `advance`
        self._plain_start: Cursor | None = None
        self._plain_count = 0  # bytes since `_plain_start`
        self._plain_total = 0  # bytes of the whole stream, for chunk offsets
        self.from_beginning = False
        """True once known to have started at byte 0 of the oldest file (for `tail`)."""

    @property
    def status(self) -> LinkStatus:
        return self._link.status

    @property
    def cursor(self) -> Cursor | None:
        """Where the next byte comes from (None before the first byte in framed mode)."""
        if self.plain and self._plain_start is not None:
            return advance(self._plain_start, self._plain_count, self._sizes)
        return self._cursor

    def __aiter__(self) -> AsyncIterator[LogChunk]:
        return self.chunks()

    async def chunks(self) -> AsyncGenerator[LogChunk, None]:
        """The stream; ends at the end of the data without `follow`, else only when the
        consumer stops or on an error retrying cannot fix (403, unknown alloc or task)."""
        try:
            while True:
                try:
                    async with aclosing(self._connect()) as chunks:
                        async for chunk in chunks:
                            yield chunk
                    if not self.follow:
                        return
                    error: NomtuiError = StreamDropped(
                        self._http.address, self._path, "the agent ended the stream"
                    )
                except NomtuiError as exc:
                    error = exc
                if not self.follow and self._link.attempt + 1 >= READ_ATTEMPTS:
                    raise error
                await self._link.retry_after(error)
        finally:
            self._link.closed()

    async def lines(self) -> AsyncGenerator[str, None]:
        """Complete lines (a partial last line is held until its newline arrives, or the
        stream ends). Lines are raw log text: clean them before they reach a terminal."""
        split = LineSplitter()
        async with aclosing(self.chunks()) as chunks:
            async for chunk in chunks:
                if chunk.event in (FILE_TRUNCATED, LOST):
                    for line in split.flush():  # nothing will ever complete it
                        yield line
                for line in split.feed(chunk.data):
                    yield line
        for line in split.flush():
            yield line

    # -- planning -----------------------------------------------------------------------

    async def _list(self) -> list[LogFile]:
        files = log_files(await self._fs.ls(self.alloc_id, "alloc/logs"), self.task, self.stream)
        for f in files[:-1]:
            self._final[f.index] = f.size
        for f in files:
            self._sizes[f.index] = f.size
        return files

    async def _plan(self) -> Plan:
        cursor = self.cursor
        if cursor is None and self.origin == "start" and self.offset == 0 and not self.plain:
            self.from_beginning = True
            return Plan(0, None, frozenset())  # the oldest file at 0: exact without a listing
        files = await self._list()
        if not files:
            return Plan(0, None, frozenset())  # the agent answers why (404)
        if cursor is None:
            if self.origin == "start":
                cursor = from_start(files, self.offset)
            else:
                cursor = from_end(files, self.offset)
            self.from_beginning = cursor == Cursor(files[0].index, 0)
            if self.plain:
                self._plain_start, self._plain_count = cursor, 0
        found = plan(files, cursor)
        if self.plain and found.expect is not None:
            self._plain_start, self._plain_count = found.expect, 0
        return found

    async def _verify(self, planned: Plan) -> None:
        """After the agent has listed: did our offset mean the same files to it?"""
        if not planned.guard:
            return
        present = {f.index for f in await self._list()}
        if not planned.guard <= present:
            reason = "log files rotated while reopening the stream"
            raise StreamDropped(self._http.address, self._path, reason)

    # -- one connection -----------------------------------------------------------------

    async def _connect(self) -> AsyncGenerator[LogChunk, None]:
        planned = await self._plan()
        params = {
            "task": self.task,
            "type": self.stream,
            "follow": flag(self.follow),
            "origin": "start",
            "offset": str(planned.offset),
            "plain": flag(self.plain),
        }
        http = self._http
        # Plain streams send nothing while idle, so only a framed one can time out.
        timeout = None if self.plain else self._timeout_s
        decoder = FrameDecoder(address=http.address, path=self._path)
        verified = False
        first_frame: Plan | None = planned  # handed to the first frame only
        async with http.stream("GET", self._path, params, read_timeout_s=timeout) as body:
            reject_html(http, body, self._path)
            try:
                async for data in body.chunks():
                    if not verified:
                        # Any byte means the agent has listed the files already.
                        await self._verify(planned)
                        verified = True
                        self._link.connected()
                    if self.plain:
                        self._plain_count += len(data)
                        self._plain_total += len(data)
                        self._link.progressed()
                        yield LogChunk(data, "", self._plain_total)
                        continue
                    for frame in decoder.feed(data):
                        chunks = self._advance(frame, first_frame)
                        first_frame = None
                        for chunk in chunks:
                            self._link.progressed()
                            yield chunk
                if not verified:
                    await self._verify(planned)
                decoder.finish()
            except TrailingText as exc:
                if not self.follow:
                    # A read to the end that the agent closed with words, not frames:
                    # asking again gets the same words (a proxy's page, an agent error).
                    cut = dropped(http, self._path, exc.text).reason
                    reason = f"text instead of log frames ({cut})"
                    raise BadResponse(http.address, self._path, reason) from None
                raise dropped(http, self._path, exc.text) from None
            except FrameError as exc:
                if exc.kind != "truncated":
                    raise
                raise StreamDropped(http.address, self._path, "it ended inside a frame") from None

    def _advance(self, frame: StreamFrame, planned: Plan | None) -> list[LogChunk]:
        """Move the cursor over `frame`; the chunks it gives (a LOST marker first when the
        frame starts after a gap). `planned` is set for a connection's first frame."""
        index = file_index(frame.File, self.task, self.stream) if frame.File else None
        cur = self._cursor
        if planned is not None and planned.expect is not None and cur is None:
            cur = planned.expect  # opened at a computed position (tail, offset)
        out: list[LogChunk] = []
        if index is None:
            if cur is None:
                raise BadResponse(self._http.address, self._path, "a frame names no log file")
            index = cur.index
        if cur is None:
            pos = 0  # the oldest file, from its start
        elif index == cur.index:
            pos = cur.pos
        elif index > cur.index:
            first = planned is not None
            if self._gap(cur, index, first=first):
                out.append(LogChunk(b"", file_path(index, self.task, self.stream), 0, LOST))
            if not first and not cur.done:
                self._final[cur.index] = cur.pos  # the agent moves on only at a file's end
            pos = 0
        else:
            reason = f"the agent went back to log file {index} after {cur.index}"
            raise BadResponse(self._http.address, self._path, reason)
        if frame.FileEvent == FILE_TRUNCATED:
            pos = 0
        pos += len(frame.Data)
        self._cursor = Cursor(index, pos, done=frame.FileEvent == FILE_DELETED)
        if frame.Data or frame.FileEvent:
            name = frame.File or file_path(index, self.task, self.stream)
            out.append(LogChunk(frame.Data, name, pos, frame.FileEvent))
        return out

    def _gap(self, cur: Cursor, index: int, *, first: bool) -> bool:
        """Whether moving from `cur` to file `index` skipped bytes."""
        if index > cur.index + 1:
            return True  # rotation numbers files consecutively: some were deleted unread
        if not first:
            return False  # within a connection the agent reads a file to its end first
        return not cur.done and self._final.get(cur.index) != cur.pos


async def tail(
    http: HttpClient, alloc_id: str, task: str, n: int = 10, *, stream: StreamName = "stdout"
) -> list[str]:
    """The last `n` lines, like `nomad alloc logs -tail -n`: read `n` * 120 bytes from the
    end, widening the window while it holds too few lines to be sure the first is whole."""
    window = max(1, n) * 120
    while True:
        logs = LogStream(
            http, alloc_id, task, stream=stream, follow=False, origin="end", offset=window
        )
        lines = [line async for line in logs.lines()]
        if len(lines) > n or logs.from_beginning or window >= MAX_TAIL_WINDOW:
            return lines[-n:] if n > 0 else []
        window *= 4


MAX_TAIL_WINDOW = 16 * 1024 * 1024

__all__ = ["LOST", "LineSplitter", "LogChunk", "LogStream", "tail"]
