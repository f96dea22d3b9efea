"""One task log (an allocation, a task, stdout or stderr) turned into `LogLine` batches,
and the choice of which logs a view follows (streams of a mode, allocations of a job).

No Textual here: the logs screen runs one `LogFeed` per source in a worker and hands
each batch to its `LogView`. A feed:

- starts `tail_bytes` before the end (not at the start of ten rotated files), drops the
  first, probably partial, line then, and says so with a marker;
- relies on `LogStream` to resume after drops without losing or repeating bytes, and
  marks a gap the agent really deleted (`LOST`) or a truncated file;
- waits for a log that does not exist yet (a task that has not started, or never wrote
  to stderr: the agent answers 404) while the allocation is live, instead of giving up;
- ends with a marker line on an error retrying cannot fix (403, the allocation gone).
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Literal

from nomtui.client.http import HttpClient
from nomtui.client.link import LinkState, LinkStatus
from nomtui.client.logs import LOST, LineSplitter, LogStream, StreamName
from nomtui.errors import NomtuiError, NotFound
from nomtui.models.allocs import AllocStub
from nomtui.models.frames import FILE_TRUNCATED
from nomtui.tui.widgets.log_view import LogLine

TAIL_BYTES = 256 * 1024
MAX_MERGED = 16
"""Allocations followed at once in the merged view (the newest live ones)."""
StreamMode = Literal["stdout", "stderr", "both"]
_LIVE_CLIENT = ("running", "pending")
WAIT_FOR_LOG_S = 1.0
"""How often a log that does not exist yet is asked for again."""


@dataclass(frozen=True)
class Source:
    alloc_id: str
    task: str
    stream: StreamName


@dataclass(frozen=True)
class Waiting(LinkStatus):
    """The log does not exist yet; asked for again every `WAIT_FOR_LOG_S`."""


Write = Callable[[list[LogLine]], None]
StatusSink = Callable[[Source, LinkStatus], None]


def as_mode(stream: str) -> StreamMode:
    if stream == "stderr":
        return "stderr"
    return "both" if stream == "both" else "stdout"


def streams_of(mode: str) -> tuple[StreamName, ...]:
    if mode == "both":
        return ("stdout", "stderr")
    return ("stderr",) if mode == "stderr" else ("stdout",)


def logs_command(alloc_id: str, task: str, mode: str, job_id: str = "") -> str:
    """The `nomad alloc logs` equivalent (`-job` picks one allocation of the job)."""
    argv = ["nomad", "alloc", "logs", "-f"]
    if mode == "stderr":
        argv.append("-stderr")
    if task:
        argv += ["-task", task]
    argv += ["-job", job_id] if job_id else [alloc_id]
    return shlex.join(argv)


def merged_allocs(allocs: dict[str, AllocStub], streaming: set[str]) -> dict[str, AllocStub | None]:
    """The allocations of a merged view: the newest live ones (at most `MAX_MERGED`),
    plus those already streamed while the job still lists them (their last lines are
    worth reading after they stop). With none live, the newest one, as
    `nomad alloc logs -job` would pick."""
    live = [a for a in allocs.values() if a.ClientStatus in _LIVE_CLIENT][:MAX_MERGED]
    if not live and allocs:
        live = [max(allocs.values(), key=lambda a: a.CreateIndex)]
    wanted: dict[str, AllocStub | None] = {k: a for k, a in allocs.items() if k in streaming}
    wanted.update((a.ID, a) for a in live)
    return wanted


class LogFeed:
    def __init__(
        self,
        http: HttpClient,
        source: Source,
        write: Write,
        *,
        prefix: str = "",
        style: str = "",
        on_status: StatusSink | None = None,
        is_live: Callable[[], bool] = lambda: True,
        tail_bytes: int = TAIL_BYTES,
    ) -> None:
        self.http = http
        self.source = source
        self.write = write
        self.prefix = prefix
        self.style = style
        self.on_status = on_status
        self.is_live = is_live
        self.tail_bytes = tail_bytes

    def line(self, text: str) -> LogLine:
        return LogLine(text, self.prefix, self.style)

    def marker(self, text: str) -> LogLine:
        return LogLine(f"··· {text} ···", self.prefix, self.style, kind="marker")

    def _status(self, status: LinkStatus) -> None:
        if self.on_status is not None:
            self.on_status(self.source, status)

    async def run(self) -> None:
        """Feed lines until cancelled, or until an error retrying cannot fix."""
        source = self.source
        while True:
            try:
                await self._follow()
                return
            except NotFound:
                if not self.is_live():
                    what = f"no {source.stream} log for task {source.task} in this allocation"
                    self.write([self.marker(what)])
                    return
            except NomtuiError as exc:
                self.write([self.marker(exc.message)])
                return
            self._status(Waiting(LinkState.CONNECTING))
            await asyncio.sleep(WAIT_FOR_LOG_S)

    async def _follow(self) -> None:
        source = self.source
        logs = LogStream(
            self.http,
            source.alloc_id,
            source.task,
            stream=source.stream,
            origin="end",
            offset=self.tail_bytes,
            on_status=self._status,
        )
        split = LineSplitter()
        skip_partial: bool | None = None
        try:
            async with aclosing(logs.chunks()) as chunks:
                async for chunk in chunks:
                    out: list[LogLine] = []
                    if skip_partial is None:
                        skip_partial = not logs.from_beginning
                        if skip_partial:
                            out.append(self.marker("earlier output not loaded"))
                    if chunk.event in (LOST, FILE_TRUNCATED):
                        out.extend(self.line(t) for t in split.flush())
                        lost = chunk.event == LOST
                        out.append(self.marker("output lost" if lost else "log file truncated"))
                    texts = split.feed(chunk.data)
                    if skip_partial and texts:
                        texts, skip_partial = texts[1:], False
                    out.extend(self.line(t) for t in texts)
                    if out:
                        self.write(out)
        except NomtuiError:
            self._flush(split)
            raise
        self._flush(split)

    def _flush(self, split: LineSplitter) -> None:
        """Show a partial last line when the stream ends (not when cancelled: the view
        may already belong to another mode by then)."""
        rest = split.flush()
        if rest:
            self.write([self.line(t) for t in rest])


__all__ = [
    "MAX_MERGED",
    "TAIL_BYTES",
    "LogFeed",
    "Source",
    "StreamMode",
    "Waiting",
    "as_mode",
    "logs_command",
    "merged_allocs",
    "streams_of",
]
