"""Allocation directories on local disk, and the log producers that fill them.

The layout is Nomad's: `<root>/<alloc id>/alloc/{logs,data,tmp}` shared by the group, and
`<root>/<alloc id>/<task>/{local,secrets,tmp}` per task. Task output goes to
`alloc/logs/<task>.<stdout|stderr>.<N>` and rotates like logmon's FileRotator: a file is
filled up to the size limit (lines may be split across files), the next write opens N+1, and
only the newest `LogConfig.MaxFiles` files are kept.

Log content is deterministic per (seed, alloc, task) and every line ends in `seq=<n>`, a
per-stream counter, so tests can detect lost or duplicated lines across rotations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nomtui.sim.allocfs_lines import INDEX_HTML, KINDS, template

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

Json = dict[str, Any]
log = logging.getLogger(__name__)

DEFAULT_MAX_FILES = 10
WRITE_CHUNK = 64 * 1024
BYTES_TICK_S = 0.05
STREAMS = ("stdout", "stderr")


class AllocFiles:
    """Owns every allocation directory under `root` and the tasks' log producers."""

    def __init__(self, root: Path, sim: Sim) -> None:
        self.root = root
        self._sim = sim
        self._producers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._pending: dict[tuple[str, str], str] = {}
        self._logs: dict[tuple[str, str, str], _LogFile] = {}
        self._seq: dict[tuple[str, str, str], int] = {}
        self._started = False

    # -- directories ------------------------------------------------------------------

    def path(self, alloc_id: str) -> Path:
        return self.root / alloc_id

    def task_dir(self, alloc_id: str, task: str) -> Path:
        return self.root / alloc_id / task

    def create(self, alloc: Json, tasks: list[str]) -> Path:
        """Build the alloc dir tree (idempotent; existing files are left alone)."""
        base = self.path(alloc["ID"])
        now = self._sim.clock.now_ns()
        made: list[Path] = []
        for sub in ("alloc/logs", "alloc/data", "alloc/tmp"):
            made.append(base / sub)
        for task in tasks:
            for sub in ("local", "secrets", "tmp"):
                made.append(base / task / sub)
        for d in made:
            d.mkdir(parents=True, exist_ok=True)
        for task in tasks:
            tdir = base / task
            self._seed_file(tdir / "local" / "app.conf", template(alloc, task), now)
            self._seed_file(tdir / "local" / "index.html", INDEX_HTML, now)
            key_rng = random.Random(f"{alloc['ID']}:{task}")
            secret = f"{key_rng.getrandbits(128):032x}\n"
            self._seed_file(tdir / "secrets" / "api.key", secret, now)
        # Directory times from the sim clock too, so snapshots of `ls` stay stable.
        for d in [*made, base / "alloc", *(base / t for t in tasks), base]:
            os.utime(d, ns=(now, now))
        return base

    @staticmethod
    def _seed_file(path: Path, content: str, now_ns: int) -> None:
        if not path.exists():
            path.write_text(content)
            os.utime(path, ns=(now_ns, now_ns))

    def remove(self, alloc_id: str) -> None:
        """Stop the alloc's producers and delete its directory (alloc GC)."""
        for key in [k for k in self._producers if k[0] == alloc_id]:
            self._producers.pop(key).cancel()
        for key in [k for k in self._pending if k[0] == alloc_id]:
            del self._pending[key]
        for lkey in [k for k in self._logs if k[0] == alloc_id]:
            del self._logs[lkey]
        for skey in [k for k in self._seq if k[0] == alloc_id]:
            del self._seq[skey]
        shutil.rmtree(self.path(alloc_id), onerror=_log_rmtree_error)

    # -- producers --------------------------------------------------------------------

    def run_task(self, alloc_id: str, task: str, *, kind: str = "http") -> None:
        """Start writing `task`'s logs (no-op while a producer for it is still running).

        Finite kinds (crash, kv, batch) end on their own; calling this again afterwards is
        a task restart: output continues in the same files with the same seq counters.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown log kind {kind!r}")
        key = (alloc_id, task)
        if not self._started:
            self._pending[key] = kind
            return
        running = self._producers.get(key)
        if running is not None and not running.done():
            return
        self._producers[key] = asyncio.create_task(
            self._produce(alloc_id, task, kind), name=f"logs:{alloc_id[:8]}:{task}"
        )

    def stop_task(self, alloc_id: str, task: str) -> None:
        self._pending.pop((alloc_id, task), None)
        producer = self._producers.pop((alloc_id, task), None)
        if producer is not None:
            producer.cancel()

    def start(self) -> None:
        self._started = True
        pending, self._pending = self._pending, {}
        for (alloc_id, task), kind in pending.items():
            self.run_task(alloc_id, task, kind=kind)

    async def stop(self) -> None:
        self._started = False
        producers = list(self._producers.values())
        self._producers.clear()
        for producer in producers:
            producer.cancel()
        for producer in producers:
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    # -- test hooks -------------------------------------------------------------------

    def write_log(self, alloc_id: str, task: str, stream: str, data: bytes) -> None:
        """Append `data` to the task's current log file, rotating at the size limit.

        Test hook: the bytes land exactly as given (a chunk may straddle two files when it
        crosses the rotation size, as with logmon).
        """
        self._log(alloc_id, task, stream).write(data)

    def rotate(self, alloc_id: str, task: str, stream: str) -> None:
        """Test hook: start the next log index now (the new, empty file appears at once)."""
        self._log(alloc_id, task, stream).rotate()

    # -- internals --------------------------------------------------------------------

    def _log(self, alloc_id: str, task: str, stream: str) -> _LogFile:
        if stream not in STREAMS:
            raise ValueError(f"stream must be stdout or stderr, not {stream!r}")
        key = (alloc_id, task, stream)
        lf = self._logs.get(key)
        if lf is None:
            lf = _LogFile(self.path(alloc_id) / "alloc" / "logs", task, stream, self._sim)
            lf.max_files = self._max_files(alloc_id, task)
            self._logs[key] = lf
        return lf

    def _max_files(self, alloc_id: str, task: str) -> int:
        alloc = self._sim.state.allocs.get(alloc_id)
        if alloc is None:
            return DEFAULT_MAX_FILES
        job = self._sim.state.job_version(
            alloc.get("Namespace", "default"), alloc.get("JobID", ""), alloc.get("JobVersion", 0)
        )
        for group in (job or {}).get("TaskGroups") or []:
            if group.get("Name") != alloc.get("TaskGroup"):
                continue
            for t in group.get("Tasks") or []:
                if t.get("Name") == task:
                    files = (t.get("LogConfig") or {}).get("MaxFiles")
                    return int(files) if files else DEFAULT_MAX_FILES
        return DEFAULT_MAX_FILES

    def _line(self, alloc_id: str, task: str, stream: str, text: str) -> bytes:
        key = (alloc_id, task, stream)
        seq = self._seq.get(key, 0) + 1
        self._seq[key] = seq
        return f"{text} seq={seq}\n".encode()

    async def _produce(self, alloc_id: str, task: str, kind: str) -> None:
        sim = self._sim
        rng = random.Random(f"{sim.config.seed}:{alloc_id}:{task}")
        lines = KINDS[kind](rng, sim.clock)
        loop = asyncio.get_running_loop()
        last = loop.time()
        credit = 0.0
        bytes_mode = False
        try:
            while True:
                rate_bps = sim.injector.faults.log_rate_bps
                lps = sim.config.log_lines_per_s
                if (rate_bps > 0) != bytes_mode:
                    bytes_mode, credit = rate_bps > 0, 0.0  # units changed: start afresh
                # Wake only when a line is due: scale mode runs thousands of producers.
                if bytes_mode:
                    tick = BYTES_TICK_S
                elif lps > 0:
                    tick = max(0.01, min(1.0, 1.0 / lps))
                else:
                    tick = 1.0
                await asyncio.sleep(tick)
                now = loop.time()
                dt, last = now - last, now
                # Cap the credit so a stalled loop does not cause a burst of a minute's output.
                if bytes_mode:
                    credit = min(credit + rate_bps * dt, rate_bps)
                elif lps > 0:
                    credit = min(credit + lps * dt, max(1.0, lps))
                alive, credit = self._emit(alloc_id, task, lines, bytes_mode, credit)
                if not alive:
                    return
        except OSError as exc:
            # The alloc dir vanished under us (GC, test cleanup): the task's output just ends.
            log.warning("log producer for %s/%s stopped: %s", alloc_id, task, exc)

    def _emit(
        self,
        alloc_id: str,
        task: str,
        lines: Iterator[tuple[str, str]],
        bytes_mode: bool,
        credit: float,
    ) -> tuple[bool, float]:
        """Write what `credit` allows; returns (still producing, credit left).

        The credit may go negative (a line is never cut short); the debt is paid off by
        the next ticks so the average rate stays exact.
        """
        out: dict[str, bytearray] = {s: bytearray() for s in STREAMS}
        alive = True
        while credit >= 1.0 or (bytes_mode and credit > 0):
            item = next(lines, None)
            if item is None:
                alive = False
                break
            stream, text = item
            data = self._line(alloc_id, task, stream, text)
            credit -= len(data) if bytes_mode else 1.0
            buf = out[stream]
            buf += data
            if len(buf) >= WRITE_CHUNK:
                self._log(alloc_id, task, stream).write(bytes(buf))
                buf.clear()
        for stream, buf in out.items():
            if buf:
                self._log(alloc_id, task, stream).write(bytes(buf))
        return alive, credit


class _LogFile:
    """One task stream's rotating files, like logmon's FileRotator."""

    def __init__(self, logs_dir: Path, task: str, stream: str, sim: Sim) -> None:
        self.dir = logs_dir
        self.prefix = f"{task}.{stream}."
        self.max_files = DEFAULT_MAX_FILES
        self._sim = sim
        indexes = self._indexes()
        self.index = indexes[-1] if indexes else 0

    def _indexes(self) -> list[int]:
        pattern = re.compile(re.escape(self.prefix) + r"(\d+)$")
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for n in names if (m := pattern.match(n)))

    def _path(self, index: int) -> Path:
        return self.dir / f"{self.prefix}{index}"

    def write(self, data: bytes) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        limit = max(1, self._sim.config.log_max_file_bytes)
        view = memoryview(data)
        while view:
            fd = os.open(self._path(self.index), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                room = limit - os.fstat(fd).st_size
                if room > 0:
                    chunk = view[:room]
                    while chunk:
                        chunk = chunk[os.write(fd, chunk) :]
                    view = view[room:]
                now = self._sim.clock.now_ns()
                os.utime(fd, ns=(now, now))
            finally:
                os.close(fd)
            if view:
                self.rotate()

    def rotate(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.index += 1
        path = self._path(self.index)
        path.touch()
        now = self._sim.clock.now_ns()
        os.utime(path, ns=(now, now))
        for old in self._indexes():
            if old <= self.index - self.max_files:
                with contextlib.suppress(FileNotFoundError):  # already purged: fine
                    self._path(old).unlink()


def _log_rmtree_error(func: Any, path: str, exc_info: Any) -> None:
    if not isinstance(exc_info[1], FileNotFoundError):
        log.warning("could not remove %s: %s", path, exc_info[1])
