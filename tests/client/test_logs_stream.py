"""`LogStream` against the sim over loopback: exact bytes through rotations and cut links.

Producers are silenced (`log_lines_per_s=0`), so the only bytes in the log files are the
ones a test writes with `sim.files.write_log`. The sim cuts every stream after
`stream_cut_bytes` bytes (mid-frame) when asked, like a flaky link.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from nomtui.client.blocking import Backoff
from nomtui.client.http import HttpClient
from nomtui.client.link import LinkState, LinkStatus
from nomtui.client.log_files import Cursor, LogFile, advance, from_end, from_start, plan
from nomtui.client.logs import LOST, LineSplitter, LogChunk, LogStream, tail
from nomtui.errors import NotFound
from nomtui.models.frames import FILE_DELETED, FILE_TRUNCATED
from nomtui.sim.server import Sim, SimConfig
from tests.client import set_faults, still

TASK = "http"
FAST = Backoff(base_s=0.01, cap_s=0.05)


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    config = still(sim_config)
    config.log_lines_per_s = 0
    config.frame_heartbeat_s = 0.3
    return config


@pytest.fixture
async def http(sim: Sim) -> AsyncIterator[HttpClient]:
    client = HttpClient(sim.nomad_addr, sim.management_token)
    yield client
    await client.aclose()


@pytest.fixture
def alloc_id(sim: Sim) -> str:
    return str(
        next(
            a["ID"]
            for a in sim.state.allocs.values()
            if (a.get("TaskStates") or {}).get(TASK, {}).get("State") == "running"
        )
    )


def logs_dir(sim: Sim, alloc_id: str) -> str:
    return str(sim.files.path(alloc_id) / "alloc" / "logs")


async def collect(stream: LogStream, until: int | None = None) -> list[LogChunk]:
    """Chunks until the stream ends (or `until` data bytes arrived)."""
    got: list[LogChunk] = []
    async with aclosing(stream.chunks()) as chunks:
        async for chunk in chunks:
            got.append(chunk)
            if until is not None and sum(len(c.data) for c in got) >= until:
                break
    return got


# -- pure planning --------------------------------------------------------------------


FILES = [LogFile(3, "http.stdout.3", 100), LogFile(4, "http.stdout.4", 50)]


def test_positions_from_start_and_end_walk_across_files() -> None:
    assert from_start(FILES, 0) == Cursor(3, 0)
    assert from_start(FILES, 100) == Cursor(3, 100)
    assert from_start(FILES, 120) == Cursor(4, 20)
    assert from_start(FILES, 999) == Cursor(4, 50)
    assert from_end(FILES, 0) == Cursor(4, 50)  # "from now", not the agent's replay
    assert from_end(FILES, 80) == Cursor(3, 70)
    assert from_end(FILES, 999) == Cursor(3, 0)
    assert advance(Cursor(3, 90), 30, {3: 100, 4: 50}) == Cursor(4, 20)


def test_plan_reopens_at_the_cursor_or_the_next_file() -> None:
    assert plan(FILES, Cursor(4, 20)).offset == 120
    assert plan(FILES, Cursor(4, 20)).guard == {3, 4}
    gone = plan(FILES[1:], Cursor(3, 70))  # file 3 deleted while away
    assert (gone.offset, gone.expect, gone.guard) == (0, Cursor(4, 0), frozenset())
    done = plan(FILES, Cursor(3, 100, done=True))
    assert (done.offset, done.expect) == (100, Cursor(4, 0))


def test_line_splitter_keeps_partial_lines_and_split_characters() -> None:
    split = LineSplitter()
    data = "ab\r\nčd\nef".encode()
    out = [line for i in range(len(data)) for line in split.feed(data[i : i + 1])]
    assert out == ["ab", "čd"]
    assert split.flush() == ["ef"]


# -- against the sim --------------------------------------------------------------------


async def test_follow_resumes_exactly_through_cuts_and_rotations(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    sim.config.log_max_file_bytes = 250  # natural rotations, plus explicit ones below
    sim.files.write_log(alloc_id, TASK, "stdout", b"first line\n")
    await set_faults(sim, stream_cut_bytes=300)
    statuses: list[LinkStatus] = []
    stream = LogStream(http, alloc_id, TASK, follow=True, backoff=FAST, on_status=statuses.append)
    written = bytearray(b"first line\n")
    received = bytearray()
    progress = asyncio.Event()

    async def writer() -> None:
        for i in range(45):
            while len(written) - len(received) > 100:  # keep frames under the cut size
                progress.clear()
                await progress.wait()
            piece = f"line {i:03d} {'x' * (i % 17)}\n".encode()
            sim.files.write_log(alloc_id, TASK, "stdout", piece)
            written.extend(piece)
            if i in (10, 11, 30):
                sim.files.rotate(alloc_id, TASK, "stdout")
            await asyncio.sleep(0.005)

    task = asyncio.create_task(writer())
    try:
        async with aclosing(stream.chunks()) as chunks:
            async for chunk in chunks:
                assert chunk.event != LOST
                received.extend(chunk.data)
                progress.set()
                if task.done() and len(received) >= len(written):
                    break
    finally:
        await task
    assert bytes(received) == bytes(written)
    assert sim.injector.cut_streams >= 4
    assert any(s.state is LinkState.RECONNECTING for s in statuses)
    assert statuses[-1].state is LinkState.CLOSED
    assert len(os.listdir(logs_dir(sim, alloc_id))) >= 5  # it did cross rotated files


async def test_non_follow_reads_everything_once_through_cuts(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    sim.config.log_max_file_bytes = 150
    written = b"".join(f"{i:04d} {'y' * (i % 23)}\n".encode() for i in range(60))
    sim.files.write_log(alloc_id, TASK, "stdout", written)
    await set_faults(sim, stream_cut_bytes=300)
    chunks = await collect(LogStream(http, alloc_id, TASK, follow=False, backoff=FAST))
    assert b"".join(c.data for c in chunks) == written
    assert sim.injector.cut_streams >= 3
    assert {c.file for c in chunks} == {
        f"alloc/logs/{n}" for n in os.listdir(logs_dir(sim, alloc_id)) if "stdout" in n
    }


async def test_chunk_offsets_are_positions_in_their_file(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    sim.config.log_max_file_bytes = 100
    sim.files.write_log(alloc_id, TASK, "stdout", bytes(range(250)))
    chunks = await collect(LogStream(http, alloc_id, TASK, follow=False))
    ends = {c.file: c.offset for c in chunks}
    assert ends == {
        "alloc/logs/http.stdout.0": 100,
        "alloc/logs/http.stdout.1": 100,
        "alloc/logs/http.stdout.2": 50,
    }


async def test_origin_end_zero_means_from_now(sim: Sim, http: HttpClient, alloc_id: str) -> None:
    sim.files.write_log(alloc_id, TASK, "stdout", b"old\n" * 50)
    stream = LogStream(http, alloc_id, TASK, follow=True, origin="end", offset=0)
    async with aclosing(stream.chunks()) as chunks:
        first = asyncio.ensure_future(anext(chunks))
        await asyncio.sleep(0.3)
        sim.files.write_log(alloc_id, TASK, "stdout", b"new\n")
        chunk = await asyncio.wait_for(first, 3)
    assert chunk.data == b"new\n"
    assert chunk.offset == 204


async def test_tail_gives_the_last_lines_across_rotation(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    sim.config.log_max_file_bytes = 300
    for i in range(40):
        sim.files.write_log(alloc_id, TASK, "stdout", f"line {i}\n".encode())
    assert await tail(http, alloc_id, TASK, 5) == [f"line {i}" for i in range(35, 40)]
    long = [("z" * 400) + str(i) for i in range(3)]  # lines longer than the 120-byte guess
    sim.files.write_log(alloc_id, TASK, "stdout", "".join(f"{x}\n" for x in long).encode())
    sim.config.log_max_file_bytes = 1024 * 1024
    assert await tail(http, alloc_id, TASK, 2) == long[1:]


async def test_truncation_is_reported_and_followed(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    sim.files.write_log(alloc_id, TASK, "stdout", b"before truncation\n")
    path = Path(logs_dir(sim, alloc_id)) / "http.stdout.0"
    stream = LogStream(http, alloc_id, TASK, follow=True)
    async with aclosing(stream.chunks()) as chunks:
        assert (await anext(chunks)).data == b"before truncation\n"
        path.write_bytes(b"after\n")  # shorter than before: a truncation
        chunk = await asyncio.wait_for(anext(chunks), 3)
    assert (chunk.event, chunk.data, chunk.offset) == (FILE_TRUNCATED, b"after\n", 6)


async def test_deletion_is_reported_then_missing_logs_are_not_found(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    sim.files.write_log(alloc_id, TASK, "stdout", b"doomed\n")
    stream = LogStream(http, alloc_id, TASK, follow=True, backoff=FAST)
    seen: list[LogChunk] = []
    with pytest.raises(NotFound, match="log entry"):
        async with aclosing(stream.chunks()) as chunks:
            async for chunk in chunks:
                seen.append(chunk)
                if chunk.data:
                    os.unlink(os.path.join(logs_dir(sim, alloc_id), "http.stdout.0"))
    assert [(c.data, c.event) for c in seen] == [(b"doomed\n", ""), (b"", FILE_DELETED)]


async def test_plain_mode_gives_raw_bytes_and_resumes_by_count(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    written = bytes(range(256)) * 4
    sim.files.write_log(alloc_id, TASK, "stderr", written)
    await set_faults(sim, stream_cut_bytes=300)
    stream = LogStream(
        http, alloc_id, TASK, stream="stderr", follow=False, plain=True, backoff=FAST
    )
    chunks = await collect(stream)
    assert b"".join(c.data for c in chunks) == written
    assert chunks[-1].offset == len(written) and chunks[-1].file == ""
    assert sim.injector.cut_streams >= 3


async def test_lines_helper(sim: Sim, http: HttpClient, alloc_id: str) -> None:
    sim.files.write_log(alloc_id, TASK, "stdout", b"one\ntwo\r\nthr")
    sim.files.write_log(alloc_id, TASK, "stdout", b"ee\nunfinished")
    stream = LogStream(http, alloc_id, TASK, follow=False)
    assert [line async for line in stream.lines()] == ["one", "two", "three", "unfinished"]


async def test_unknown_task_and_alloc(sim: Sim, http: HttpClient, alloc_id: str) -> None:
    from nomtui.errors import BadRequest

    with pytest.raises(BadRequest, match="unknown task"):
        await collect(LogStream(http, alloc_id, "nope", follow=False))
    with pytest.raises(NotFound, match="Unknown allocation"):
        await collect(LogStream(http, "0" * 36, TASK, follow=False))


@pytest.mark.parametrize("cut", [0, 300])
async def test_output_rotated_out_unread_is_marked_lost(
    sim: Sim, http: HttpClient, alloc_id: str, cut: int
) -> None:
    sim.config.log_max_file_bytes = 100
    first = bytes(range(50))
    sim.files.write_log(alloc_id, TASK, "stdout", first)
    await set_faults(sim, stream_cut_bytes=cut)
    stream = LogStream(http, alloc_id, TASK, follow=True, backoff=FAST)
    got: list[LogChunk] = []
    before = b""
    async with aclosing(stream.chunks()) as chunks:
        got.append(await anext(chunks))
        # 13 more files while nobody reads: the sim keeps 10 (MaxFiles), so 0-3 go.
        rest = bytes(i % 251 for i in range(1300))
        sim.files.write_log(alloc_id, TASK, "stdout", rest)
        kept = sorted(os.listdir(logs_dir(sim, alloc_id)), key=lambda n: int(n.split(".")[-1]))
        kept = [n for n in kept if ".stdout." in n]
        assert kept[0] == "http.stdout.4"
        survivors = b"".join((Path(logs_dir(sim, alloc_id)) / n).read_bytes() for n in kept)
        while sum(len(c.data) for c in got if c.event != LOST) < len(survivors):
            got.append(await asyncio.wait_for(anext(chunks), 5))
            if got[-1].event == LOST:
                before = b"".join(c.data for c in got[:-1])
                got = [got[-1]]
    assert got[0].event == LOST and got[0].file == "alloc/logs/http.stdout.4"
    assert (first + rest[:50]).startswith(before)
    assert b"".join(c.data for c in got) == survivors
