"""The sim's /v1/client/fs endpoints over real loopback sockets (PROTOCOLS §5).

Only the fs routes are mounted, behind the sim's real Nomad middleware (ACL, faults, plain-text
errors); allocations and nodes are put into a Sim that is never started. Frames are decoded
with an incremental `raw_decode`, never by splitting on newlines.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from nomtui.sim import fs_api
from nomtui.sim.acl import Acl
from nomtui.sim.allocfs import AllocFiles
from nomtui.sim.allocfs_lines import KINDS
from nomtui.sim.clock import FixedClock, SystemClock
from nomtui.sim.faults import FaultInjector, Faults
from nomtui.sim.http import ApiError, error
from nomtui.sim.ids import IdSource
from nomtui.sim.state import State

ALLOC = "5fc98185-17ff-26bc-a802-0c74fa471c99"
NODE = "f7476465-4d6e-c0de-26d0-e383c49be941"
LOG0 = "alloc/logs/web.stdout.0"


@dataclass
class FakeConfig:
    seed: int = 42
    log_lines_per_s: float = 2.0
    log_max_file_bytes: int = 1024 * 1024
    frame_heartbeat_s: float = 1.0


class FakeSim:
    """The parts of `Sim` the fs/exec modules use, for when the full sim cannot import."""

    def __init__(self, root: Path, **config: Any) -> None:
        self.config = FakeConfig(**config)
        self.clock = SystemClock()
        self.ids = IdSource(self.config.seed)
        self.state = State(self.clock, self.ids)
        self.acl = Acl(self.ids, self.clock.now_ns(), None, None)
        self.injector = FaultInjector(Faults(), self.config.seed)
        self.files = AllocFiles(root, self)  # type: ignore[arg-type]

    @property
    def management_token(self) -> str:
        return self.acl.management.secret_id

    @property
    def read_token(self) -> str:
        return self.acl.read_only.secret_id


def make_sim(root: Path, **config: Any) -> Any:
    """A real, never started `Sim` when the whole sim imports; else the fake."""
    try:
        from nomtui.sim.server import Sim, SimConfig
    except ImportError:
        return FakeSim(root, **config)
    return Sim(SimConfig(data_dir=root, lifecycle=False, **config))


def api_app(sim: Any) -> web.Application:
    """An app with the sim's request conventions: token check, plain-text ApiErrors."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.endswith("/exec"):  # exec authenticates after the upgrade
            denied = sim.acl.check(request, write=False)
            if denied:
                return error(403, denied)
        try:
            response: web.StreamResponse = await handler(request)
        except ApiError as exc:
            return error(exc.status, exc.text)
        return response

    return web.Application(middlewares=[middleware])


@dataclass
class Cluster:
    sim: Any
    url: str
    client: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)

    async def get(self, route: str, /, **params: Any) -> httpx.Response:
        return await self.client.get(f"{self.url}{route}", params=params, headers=self.headers)


def put_alloc(sim: Any, alloc_id: str = ALLOC) -> None:
    sim.state.nodes[NODE] = {"ID": NODE, "Name": "node-1", "Status": "ready"}
    sim.state.allocs[alloc_id] = {
        "ID": alloc_id,
        "Name": "web.web[0]",
        "JobID": "web",
        "Namespace": "default",
        "NodeID": NODE,
        "TaskGroup": "web",
        "JobVersion": 0,
        "ClientStatus": "running",
        "DesiredStatus": "run",
        "TaskStates": {
            "web": {"State": "running", "StartedAt": "2025-11-25T09:00:00Z"},
            "init": {"State": "pending", "StartedAt": "0001-01-01T00:00:00Z"},
        },
    }
    sim.files.create(sim.state.allocs[alloc_id], ["web", "init"])


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    sim = make_sim(tmp_path / "allocs", frame_heartbeat_s=0.25, log_lines_per_s=0)
    put_alloc(sim)
    app = api_app(sim)
    fs_api.add_routes(app, sim)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = httpx.AsyncClient(trust_env=False, timeout=10)
    try:
        yield Cluster(sim, str(server.make_url("")), client, {"X-Nomad-Token": sim.read_token})
    finally:
        await client.aclose()
        await server.close()
        await sim.files.stop()


class FrameReader:
    """Incremental decoder for Nomad's concatenated JSON frames."""

    def __init__(self) -> None:
        self.buf = ""
        self.frames: list[dict[str, Any]] = []
        self._decoder = json.JSONDecoder()

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        self.buf += chunk.decode()
        new: list[dict[str, Any]] = []
        while self.buf:
            try:
                obj, end = self._decoder.raw_decode(self.buf)
            except json.JSONDecodeError:
                break  # incomplete frame: wait for more bytes
            new.append(obj)
            self.buf = self.buf[end:]
        self.frames.extend(new)
        return new

    def data(self) -> bytes:
        return b"".join(base64.b64decode(f["Data"]) for f in self.frames if "Data" in f)


async def read_frames(
    c: Cluster,
    route: str,
    until: Any = None,
    /,
    timeout: float = 5.0,
    **params: Any,
) -> tuple[FrameReader, httpx.Response]:
    """Read a framed stream until `until(reader)` is true, the body ends, or `timeout`."""
    reader = FrameReader()
    async with c.client.stream("GET", f"{c.url}{route}", params=params, headers=c.headers) as r:
        if r.status_code != 200:
            await r.aread()
            return reader, r
        try:
            async with asyncio.timeout(timeout):
                async for chunk in r.aiter_raw():
                    reader.feed(chunk)
                    if until is not None and until(reader):
                        break
        except TimeoutError:
            if until is not None:
                raise
    return reader, r


def log_path(c: Cluster, name: str) -> Path:
    return c.sim.files.path(ALLOC) / "alloc" / "logs" / name


# -- ls / stat / cat / readat ---------------------------------------------------------------


async def test_ls_root_and_logs_dir(cluster: Cluster) -> None:
    r = await cluster.get(f"/v1/client/fs/ls/{ALLOC}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    entries = r.json()
    assert [e["Name"] for e in entries] == ["alloc", "init", "web"]
    for e in entries:
        assert set(e) == {"Name", "IsDir", "Size", "FileMode", "ModTime"}
        assert e["IsDir"] is True
        assert re.fullmatch(r"d[rwx-]{9}", e["FileMode"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", e["ModTime"])
    r = await cluster.get(f"/v1/client/fs/ls/{ALLOC}", path="/alloc")
    assert [e["Name"] for e in r.json()] == ["data", "logs", "tmp"]
    r = await cluster.get(f"/v1/client/fs/ls/{ALLOC}", path="web/local")
    files = {e["Name"]: e for e in r.json()}
    assert files["app.conf"]["FileMode"] == "-rw-r--r--"
    assert files["app.conf"]["IsDir"] is False
    assert (
        files["app.conf"]["Size"]
        == (cluster.sim.files.task_dir(ALLOC, "web") / "local" / "app.conf").stat().st_size
    )


async def test_stat(cluster: Cluster) -> None:
    r = await cluster.get(f"/v1/client/fs/stat/{ALLOC}", path="web/local/app.conf")
    assert r.status_code == 200
    info = r.json()
    assert info["Name"] == "app.conf"
    assert info["ContentType"] == "text/plain; charset=utf-8"
    assert info["IsDir"] is False
    r = await cluster.get(f"/v1/client/fs/stat/{ALLOC}", path="web")
    assert r.json()["IsDir"] is True
    r = await cluster.get(f"/v1/client/fs/stat/{ALLOC}")
    assert (r.status_code, r.text) == (400, "must provide a file name")
    r = await cluster.get(f"/v1/client/fs/stat/{ALLOC}", path="web/nope")
    assert r.status_code == 404
    assert r.text.endswith("no such file or directory")


async def test_cat_and_readat(cluster: Cluster) -> None:
    target = cluster.sim.files.task_dir(ALLOC, "web") / "local" / "data.txt"
    target.write_bytes(b"0123456789" * 10_000)
    r = await cluster.get(f"/v1/client/fs/cat/{ALLOC}", path="web/local/data.txt")
    assert r.status_code == 200
    assert r.content == target.read_bytes()
    assert r.headers["Content-Type"].startswith("text/plain")
    r = await cluster.get(
        f"/v1/client/fs/readat/{ALLOC}", path="web/local/data.txt", offset=5, limit=7
    )
    assert r.content == b"5678901"
    r = await cluster.get(f"/v1/client/fs/readat/{ALLOC}", path="web/local/data.txt", offset=99_995)
    assert r.content == b"56789"
    # HTML is served as plain text, never as something a browser renders.
    r = await cluster.get(f"/v1/client/fs/cat/{ALLOC}", path="web/local/index.html")
    assert r.content.startswith(b"<!DOCTYPE html>")
    assert not r.headers["Content-Type"].startswith("text/html")


async def test_cat_readat_errors(cluster: Cluster) -> None:
    r = await cluster.get(f"/v1/client/fs/cat/{ALLOC}")
    assert (r.status_code, r.text) == (400, "must provide a file name")
    r = await cluster.get(f"/v1/client/fs/cat/{ALLOC}", path="web/local")
    assert (r.status_code, r.text) == (400, 'file "web/local" is a directory')
    r = await cluster.get(f"/v1/client/fs/cat/{ALLOC}", path="web/secrets/api.key")
    assert (r.status_code, r.text) == (500, "Reading secret file prohibited: web/secrets/api.key")
    r = await cluster.get(f"/v1/client/fs/readat/{ALLOC}", path="web/local/app.conf")
    assert r.status_code == 500
    assert r.text.startswith("error parsing offset")
    r = await cluster.get(f"/v1/client/fs/cat/{ALLOC}", path="web/local/missing")
    assert r.status_code == 400
    assert r.text.endswith("no such file or directory")


async def test_path_traversal_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    link = cluster.sim.files.task_dir(ALLOC, "web") / "local" / "escape"
    link.symlink_to(outside)
    for endpoint, path in [
        ("ls", "../"),
        ("ls", "web/../../"),
        ("stat", "../../etc/passwd"),
        ("cat", "../../../../etc/passwd"),
        ("readat", "web/local/escape"),
        ("stream", "alloc/../../outside.txt"),
    ]:
        r = await cluster.get(f"/v1/client/fs/{endpoint}/{ALLOC}", path=path, offset=0)
        assert (r.status_code, r.text) == (400, "Path escapes the alloc directory"), endpoint
    # A leading slash is relative to the alloc dir, as with filepath.Join.
    r = await cluster.get(f"/v1/client/fs/stat/{ALLOC}", path="/web/local/app.conf")
    assert r.status_code == 200


async def test_unknown_alloc_node_down_and_acl(cluster: Cluster) -> None:
    other = "00000000-1111-2222-3333-444444444444"
    r = await cluster.get(f"/v1/client/fs/ls/{other}")
    assert (r.status_code, r.text) == (404, f'Unknown allocation "{other}"')
    r = await cluster.get(f"/v1/client/fs/logs/{other}", task="web", type="stdout")
    assert (r.status_code, r.text) == (404, f'Unknown allocation "{other}"')
    cluster.sim.state.nodes[NODE]["Status"] = "down"
    for endpoint in ("ls", "cat", "logs"):
        r = await cluster.get(
            f"/v1/client/fs/{endpoint}/{ALLOC}",
            path="web/local/app.conf",
            task="web",
            type="stdout",
        )
        assert (r.status_code, r.text) == (404, "No path to node"), endpoint
    cluster.headers = {}
    r = await cluster.get(f"/v1/client/fs/ls/{ALLOC}")
    assert r.status_code == 403


# -- logs: errors ----------------------------------------------------------------------------


async def test_logs_parameter_errors(cluster: Cluster) -> None:
    url = f"/v1/client/fs/logs/{ALLOC}"
    cases = [
        ({}, 400, "must provide task name"),
        ({"task": "web"}, 400, "must provide log type (stdout/stderr)"),
        ({"task": "web", "type": "stdin"}, 400, "must provide log type (stdout/stderr)"),
        ({"task": "web", "type": "stdout", "origin": "middle"}, 400, "origin must be start or end"),
        ({"task": "nope", "type": "stdout"}, 400, 'unknown task name "nope"'),
        ({"task": "init", "type": "stdout"}, 404, 'task "init" not started yet. No logs available'),
        (
            {"task": "web", "type": "stderr"},
            404,
            'log entry for task "web" and log type "stderr" not found',
        ),
    ]
    for params, status, text in cases:
        r = await cluster.get(url, **params)
        assert (r.status_code, r.text) == (status, text), params


# -- logs: frames ----------------------------------------------------------------------------


async def test_logs_frames_decode_to_written_bytes(cluster: Cluster) -> None:
    payload = b"".join(f"line {i} \xe2\x9c\x93\n".encode() for i in range(5000))
    payload += bytes(range(256))  # arbitrary bytes survive the base64 round trip
    cluster.sim.files.write_log(ALLOC, "web", "stdout", payload)
    reader, r = await read_frames(cluster, f"/v1/client/fs/logs/{ALLOC}", task="web", type="stdout")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert reader.buf == ""
    assert reader.data() == payload
    data_frames = [f for f in reader.frames if "Data" in f]
    assert all(f["File"] == LOG0 for f in data_frames)
    assert all(len(base64.b64decode(f["Data"])) <= 64 * 1024 for f in data_frames)
    assert len(data_frames) >= 2
    # One read per frame: Offset is where the frame's data ends in the file.
    end = 0
    for f in data_frames:
        end += len(base64.b64decode(f["Data"]))
        assert f["Offset"] == end


async def test_logs_heartbeats_while_following(cluster: Cluster) -> None:
    cluster.sim.files.write_log(ALLOC, "web", "stdout", b"hello\n")

    def two_heartbeats(reader: FrameReader) -> bool:
        return sum(1 for f in reader.frames if f == {}) >= 2

    reader, _ = await read_frames(
        cluster,
        f"/v1/client/fs/logs/{ALLOC}",
        two_heartbeats,
        task="web",
        type="stdout",
        follow="true",
    )
    assert reader.frames[0] == {
        "Offset": 6,
        "Data": base64.b64encode(b"hello\n").decode(),
        "File": LOG0,
    }


async def test_logs_follow_rotation_without_loss(cluster: Cluster) -> None:
    files = cluster.sim.files
    files.write_log(ALLOC, "web", "stdout", b"first file\n")
    expected = b"first file\nsecond file\nthird\n"

    async def writer() -> None:
        await asyncio.sleep(0.3)
        files.rotate(ALLOC, "web", "stdout")
        files.write_log(ALLOC, "web", "stdout", b"second file\n")
        await asyncio.sleep(0.3)
        files.rotate(ALLOC, "web", "stdout")
        files.write_log(ALLOC, "web", "stdout", b"third\n")

    task = asyncio.create_task(writer())
    reader, _ = await read_frames(
        cluster,
        f"/v1/client/fs/logs/{ALLOC}",
        lambda rd: rd.data() == expected,
        task="web",
        type="stdout",
        follow="true",
    )
    await task
    assert reader.data() == expected
    names = [f["File"] for f in reader.frames if "Data" in f]
    assert names[0] == LOG0 and names[-1] == "alloc/logs/web.stdout.2"
    assert not any("FileEvent" in f for f in reader.frames)


async def test_logs_rotation_at_size_limit_and_max_files(cluster: Cluster) -> None:
    cluster.sim.config.log_max_file_bytes = 100
    files = cluster.sim.files
    data = bytes(range(48, 48 + 50)) * 5  # 250 bytes: .0 and .1 full, .2 half
    files.write_log(ALLOC, "web", "stdout", data)
    sizes = {p.name: p.stat().st_size for p in log_path(cluster, "").iterdir()}
    assert sizes == {"web.stdout.0": 100, "web.stdout.1": 100, "web.stdout.2": 50}
    reader, _ = await read_frames(cluster, f"/v1/client/fs/logs/{ALLOC}", task="web", type="stdout")
    assert reader.data() == data
    # Keep at most LogConfig.MaxFiles (default 10): the oldest go first.
    for _ in range(12):
        files.rotate(ALLOC, "web", "stdout")
    names = sorted(p.name for p in log_path(cluster, "").iterdir())
    assert len(names) == 10
    assert "web.stdout.0" not in names and "web.stdout.14" in names


async def test_logs_origin_end_spans_rotated_files(cluster: Cluster) -> None:
    cluster.sim.config.log_max_file_bytes = 100
    data = bytes(i % 251 for i in range(130))  # .0 = 100 bytes, .1 = 30 bytes
    cluster.sim.files.write_log(ALLOC, "web", "stdout", data)
    url = f"/v1/client/fs/logs/{ALLOC}"
    for offset, want in [(50, data[-50:]), (30, data[-30:]), (10, data[-10:]), (500, data)]:
        reader, _ = await read_frames(
            cluster, url, task="web", type="stdout", origin="end", offset=offset
        )
        assert reader.data() == want, offset
    reader, _ = await read_frames(cluster, url, task="web", type="stdout", origin="end", offset=50)
    assert [f["File"] for f in reader.frames if "Data" in f] == [LOG0, "alloc/logs/web.stdout.1"]
    # Go's findClosest treats offset 0 as "start of the chosen file": origin=end&offset=0
    # replays the whole newest file rather than nothing.
    reader, _ = await read_frames(cluster, url, task="web", type="stdout", origin="end", offset=0)
    assert reader.data() == data[100:]
    # origin=start subtracts the sizes of earlier files.
    reader, _ = await read_frames(cluster, url, task="web", type="stdout", offset=120)
    assert reader.data() == data[120:]
    assert reader.frames[0]["File"] == "alloc/logs/web.stdout.1"


async def test_logs_follow_false_stops_at_end(cluster: Cluster) -> None:
    cluster.sim.files.write_log(ALLOC, "web", "stdout", b"done\n")
    reader, r = await read_frames(
        cluster, f"/v1/client/fs/logs/{ALLOC}", task="web", type="stdout", follow="false", timeout=2
    )
    assert r.is_closed
    assert reader.data() == b"done\n"


async def test_logs_plain(cluster: Cluster) -> None:
    payload = b"plain text\n" * 1000
    cluster.sim.files.write_log(ALLOC, "web", "stdout", payload)
    r = await cluster.get(f"/v1/client/fs/logs/{ALLOC}", task="web", type="stdout", plain="true")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain"
    assert r.content == payload


async def test_stream_truncation_and_deletion_events(cluster: Cluster) -> None:
    target = log_path(cluster, "web.stdout.0")
    target.write_bytes(b"hello\nworld\n")

    async def mutate() -> None:
        await asyncio.sleep(0.3)
        target.write_bytes(b"again\n")  # now shorter than what was read: truncated
        await asyncio.sleep(0.4)
        target.unlink()

    task = asyncio.create_task(mutate())
    reader, _ = await read_frames(
        cluster,
        f"/v1/client/fs/stream/{ALLOC}",
        lambda rd: any(f.get("FileEvent") == "file deleted" for f in rd.frames),
        path=LOG0,
    )
    await task
    frames = [f for f in reader.frames if f]
    assert frames[0] == {
        "Offset": 12,
        "Data": base64.b64encode(b"hello\nworld\n").decode(),
        "File": LOG0,
    }
    assert frames[1] == {
        "Offset": 6,
        "Data": base64.b64encode(b"again\n").decode(),
        "File": LOG0,
        "FileEvent": "file truncated",
    }
    assert frames[2] == {"Offset": 6, "File": LOG0, "FileEvent": "file deleted"}


async def test_stream_origin_end_and_no_follow(cluster: Cluster) -> None:
    log_path(cluster, "web.stdout.0").write_bytes(b"0123456789")
    reader, r = await read_frames(
        cluster, f"/v1/client/fs/stream/{ALLOC}", path=LOG0, origin="end", offset=4, follow="false"
    )
    assert r.status_code == 200
    assert reader.data() == b"6789"
    assert reader.frames[0]["Offset"] == 10


async def test_stream_cut_fault(cluster: Cluster) -> None:
    cluster.sim.files.write_log(ALLOC, "web", "stdout", b"x" * 200_000)
    cluster.sim.injector.faults.stream_cut_bytes = 1000
    got = b""
    with pytest.raises(httpx.HTTPError):
        async with cluster.client.stream(
            "GET",
            f"{cluster.url}/v1/client/fs/logs/{ALLOC}",
            params={"task": "web", "type": "stdout", "follow": "true"},
            headers=cluster.headers,
        ) as r:
            async for chunk in r.aiter_raw():
                got += chunk
    assert 0 < len(got) <= 1000
    assert got.startswith(b'{"Offset":')
    assert cluster.sim.injector.cut_streams == 1
    # The server is fine afterwards.
    cluster.sim.injector.faults.stream_cut_bytes = 0
    r = await cluster.get(f"/v1/client/fs/stat/{ALLOC}", path="web")
    assert r.status_code == 200


async def test_client_disconnect_is_quiet(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    cluster.sim.files.write_log(ALLOC, "web", "stdout", b"a\n")
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        await read_frames(
            cluster,
            f"/v1/client/fs/logs/{ALLOC}",
            lambda rd: rd.data() == b"a\n",
            task="web",
            type="stdout",
            follow="true",
        )
    await asyncio.sleep(0.6)  # let the handlers notice and finish
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- producers ---------------------------------------------------------------------------------


def seqs(text: str) -> list[int]:
    return [int(m) for m in re.findall(r" seq=(\d+)\n", text)]


async def test_producer_rotates_without_gaps(cluster: Cluster) -> None:
    sim = cluster.sim
    sim.config.log_max_file_bytes = 4096
    sim.injector.faults.log_rate_bps = 200_000
    sim.files.start()
    sim.files.run_task(ALLOC, "web", kind="http")
    sim.files.run_task(ALLOC, "web", kind="http")  # idempotent
    await asyncio.sleep(0.5)
    sim.files.stop_task(ALLOC, "web")
    names = sorted(p.name for p in log_path(cluster, "").glob("web.stdout.*"))
    assert len(names) == 10  # rotated well past MaxFiles, oldest purged
    reader, _ = await read_frames(cluster, f"/v1/client/fs/logs/{ALLOC}", task="web", type="stdout")
    numbers = seqs(reader.data().decode())
    assert len(numbers) > 50
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert re.search(rb'127\.0\.0\.1 - - \[.*\] "(GET|POST|PUT|DELETE) /', reader.data())


async def test_producer_lines_rate_and_finite_kinds(cluster: Cluster) -> None:
    sim = cluster.sim
    sim.config.log_lines_per_s = 50
    sim.files.run_task(ALLOC, "web", kind="kv")  # before start(): remembered
    await asyncio.sleep(0.1)
    assert not log_path(cluster, "web.stdout.0").exists()
    sim.files.start()
    await asyncio.sleep(0.5)
    text = log_path(cluster, "web.stdout.0").read_text()
    assert "Ready to accept connections" in text
    assert seqs(text) == [1, 2, 3, 4]
    sim.files.run_task(ALLOC, "web", kind="crash")  # a restart continues the counters
    await asyncio.sleep(0.5)
    assert seqs(log_path(cluster, "web.stdout.0").read_text())[:5] == [1, 2, 3, 4, 5]
    assert "ConnectionRefusedError" in log_path(cluster, "web.stderr.0").read_text()


async def test_remove_deletes_alloc_dir(cluster: Cluster) -> None:
    sim = cluster.sim
    sim.files.start()
    sim.config.log_lines_per_s = 100
    sim.files.run_task(ALLOC, "web", kind="db")
    await asyncio.sleep(0.2)
    sim.files.remove(ALLOC)
    await asyncio.sleep(0.2)
    assert not sim.files.path(ALLOC).exists()
    assert not os.listdir(sim.files.root)


async def test_max_files_comes_from_the_job(cluster: Cluster) -> None:
    cluster.sim.state.job_versions[("default", "web")] = [
        {
            "Version": 0,
            "TaskGroups": [
                {"Name": "web", "Tasks": [{"Name": "web", "LogConfig": {"MaxFiles": 3}}]}
            ],
        }
    ]
    for _ in range(5):
        cluster.sim.files.rotate(ALLOC, "web", "stderr")
    names = sorted(p.name for p in log_path(cluster, "").glob("web.stderr.*"))
    assert names == ["web.stderr.3", "web.stderr.4", "web.stderr.5"]


def test_log_content_is_deterministic() -> None:
    def first_lines(seed: str) -> list[tuple[str, str]]:
        lines = KINDS["http"](random.Random(seed), FixedClock())
        return [next(lines) for _ in range(200)]

    assert first_lines("42:a:web") == first_lines("42:a:web")
    assert first_lines("42:a:web") != first_lines("42:b:web")
    assert {stream for stream, _ in first_lines("42:a:web")} == {"stdout", "stderr"}
