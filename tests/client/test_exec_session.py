"""`ExecSession` against the sim's exec WebSocket: real commands in the alloc's task dir."""

from __future__ import annotations

import hashlib
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.frames import Close

from nomtui.client.exec import ExecSession, ExecTimeout, OutputChunk
from nomtui.client.exec_errors import close_error
from nomtui.client.http import HttpClient
from nomtui.client.nomad import NomadClient
from nomtui.config.model import NomadSettings
from nomtui.config.secret import Secret
from nomtui.errors import (
    BadRequest,
    NotFound,
    ServerError,
    StreamDropped,
    TlsError,
    Unauthorized,
)
from nomtui.sim.server import Sim, SimConfig
from tests.client import set_faults, still

TASK = "http"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    config = still(sim_config)
    config.log_lines_per_s = 0
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


async def run(session: ExecSession) -> tuple[bytes, bytes, int]:
    out = {"stdout": bytearray(), "stderr": bytearray()}
    async for stream, data in session.output():
        out[stream] += data
    return bytes(out["stdout"]), bytes(out["stderr"]), await session.wait()


async def test_echo_and_exit_codes(http: HttpClient, alloc_id: str) -> None:
    async with ExecSession.open_with(http, alloc_id, TASK, ["echo", "hello"]) as s:
        assert await run(s) == (b"hello\n", b"", 0)
    cmd = ["sh", "-c", "echo out; echo err >&2; exit 3"]
    async with ExecSession.open_with(http, alloc_id, TASK, cmd) as s:
        assert await run(s) == (b"out\n", b"err\n", 3)


async def test_stdin_then_close_ends_cat(http: HttpClient, alloc_id: str) -> None:
    async with ExecSession.open_with(http, alloc_id, TASK, ["cat"]) as s:
        await s.send_stdin(b"line one\n")
        await s.send_stdin(b"line two\n")
        await s.close_stdin()
        assert await run(s) == (b"line one\nline two\n", b"", 0)


async def test_wait_alone_discards_output_and_returns_the_code(
    http: HttpClient, alloc_id: str
) -> None:
    cmd = ["sh", "-c", "head -c 2000000 /dev/zero; exit 4"]  # more than the output queue
    async with ExecSession.open_with(http, alloc_id, TASK, cmd) as s:
        assert await s.wait(timeout=5) == 4


async def test_tty_resize_reaches_the_terminal(http: HttpClient, alloc_id: str) -> None:
    cmd = ["sh", "-c", "read go; stty size"]
    async with ExecSession.open_with(http, alloc_id, TASK, cmd, tty=True) as s:
        await s.resize(40, 100)
        await s.send_stdin(b"go\r")
        out, err, code = await run(s)
    assert b"40 100" in out and code == 0 and err == b""


async def test_ten_megabytes_through_cat_arrive_intact(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    block = os.urandom(1024 * 1024)
    digest = hashlib.sha256()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(10):
            piece = block[i:] + block[:i]
            digest.update(piece)
            yield piece

    cmd = ["sh", "-c", "cat > upload.bin"]
    async with ExecSession.open_with(http, alloc_id, TASK, cmd) as s:
        s.stdin_chunk = 64 * 1024
        await s.send_stdin_from(chunks())
        assert await s.wait(timeout=20) == 0
    written = (sim.files.task_dir(alloc_id, TASK) / "upload.bin").read_bytes()
    assert len(written) == 10 * 1024 * 1024
    assert hashlib.sha256(written).hexdigest() == digest.hexdigest()


async def test_lost_stdin_close_times_out_clearly(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    await set_faults(sim, exec_ignore_stdin_close=True)
    async with ExecSession.open_with(http, alloc_id, TASK, ["cat"]) as s:
        await s.send_stdin(b"x")
        await s.close_stdin()
        with pytest.raises(ExecTimeout, match="24171"):
            await s.wait(timeout=0.5)
    # Leaving the block closed the socket; the sim then kills the command.


async def test_read_only_token_is_unauthorized(sim: Sim, alloc_id: str) -> None:
    http = HttpClient(sim.nomad_addr, sim.read_token)
    try:
        async with ExecSession.open_with(http, alloc_id, TASK, ["true"]) as s:
            with pytest.raises(Unauthorized, match="Permission denied"):
                await run(s)
    finally:
        await http.aclose()


async def test_unknown_alloc_is_not_found(http: HttpClient) -> None:
    async with ExecSession.open_with(http, "0" * 36, TASK, ["true"]) as s:
        with pytest.raises(NotFound, match="Unknown allocation"):
            await s.wait()


async def test_missing_binary_exits_127(http: HttpClient, alloc_id: str) -> None:
    async with ExecSession.open_with(http, alloc_id, TASK, ["no-such-binary-x"]) as s:
        _, err, code = await run(s)
    assert code == 127 and b"executable file not found" in err


async def test_token_travels_in_the_header_only(sim: Sim, http: HttpClient, alloc_id: str) -> None:
    async with ExecSession.open_with(http, alloc_id, TASK, ["true"], heartbeat_s=0.05) as s:
        request = s._ws.request
        assert request is not None
        assert sim.management_token not in request.path
        assert request.headers["X-Nomad-Token"] == sim.management_token
        assert await s.wait(timeout=5) == 0
        assert sim.management_token not in repr(s)


async def test_refused_upgrade_is_classified_by_status(
    sim: Sim, http: HttpClient, alloc_id: str
) -> None:
    await set_faults(sim, error_rate=1.0)  # every request answered 500 before the upgrade
    with pytest.raises(ServerError, match="simulated server failure"):
        async with ExecSession.open_with(http, alloc_id, TASK, ["true"]):
            pass


async def test_unreachable_agent(alloc_id: str) -> None:
    from nomtui.errors import Unreachable

    with pytest.raises(Unreachable, match="refused"):
        async with ExecSession.open("http://127.0.0.1:9", alloc_id, TASK, ["true"]):
            pass


def test_close_codes_map_to_errors() -> None:
    def closed(code: int, reason: str) -> Exception:
        return close_error(Close(code, reason), "http://a:1", "/v1/client/allocation/x/exec")

    assert isinstance(closed(1011, "boom"), ServerError)
    assert isinstance(closed(1008, "rpc error: Permission denied"), Unauthorized)
    assert isinstance(closed(1008, "ACL token not found"), Unauthorized)
    assert isinstance(closed(1008, "No path to node"), NotFound)
    assert isinstance(closed(1008, "must provide task name"), BadRequest)
    normal = closed(1000, "")
    assert isinstance(normal, StreamDropped)
    assert "before receiving exit code" in str(normal)
    assert isinstance(close_error(None, "http://a:1", "/x"), StreamDropped)
    assert OutputChunk("stdout", b"x") == ("stdout", b"x")


async def test_exec_over_mutual_tls_reuses_the_http_settings(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    server.verify_mode = ssl.CERT_REQUIRED  # the agent wants a client certificate
    ca.configure_trust(server)
    client_cert = ca.issue_cert("operator@nomtui.test")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    config = SimConfig(lifecycle=False, log_lines_per_s=0, data_dir=tmp_path / "d", tls=server)
    async with Sim(config) as sim:
        alloc = next(
            a["ID"]
            for a in sim.state.allocs.values()
            if (a.get("TaskStates") or {}).get(TASK, {}).get("State") == "running"
        )
        settings = NomadSettings(
            address=sim.nomad_addr,
            token=Secret(sim.management_token),
            ca_cert=tmp_path / "ca.pem",
            client_cert=tmp_path / "client.pem",
        )
        async with (
            NomadClient.from_settings(settings) as nomad,
            ExecSession.open_with(nomad.http, alloc, TASK, ["echo", "secure"]) as s,
        ):
            assert await run(s) == (b"secure\n", b"", 0)
        untrusted = HttpClient(sim.nomad_addr, sim.management_token)  # system CAs only
        try:
            with pytest.raises(TlsError):
                async with ExecSession.open_with(untrusted, alloc, TASK, ["true"]):
                    pass
        finally:
            await untrusted.aclose()
