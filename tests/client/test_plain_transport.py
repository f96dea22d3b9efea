"""The plain-HTTP transport at its edges: fairness between busy streams, pooled
connections the server closed, silence, unix sockets.

The sim covers the ordinary traffic (every client test runs over this transport); these
cases need a server that misbehaves in ways the sim does not, so each one is a few lines
of asyncio speaking HTTP/1.1 over a real socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from nomtui.client.plain_transport import READS_PER_TURN, PlainTransport, SocketStream

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def test_a_stream_that_always_has_data_lets_other_tasks_run() -> None:
    ours, theirs = socket.socketpair()
    try:
        ours.setblocking(False)
        theirs.sendall(b"x" * 4096 * READS_PER_TURN)  # all there before the first read
        turns = 0

        async def count() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        counter = asyncio.create_task(count())
        await asyncio.sleep(0)
        before = turns
        stream = SocketStream(ours)
        for _ in range(READS_PER_TURN):
            assert await stream.read(4096) == b"x" * 4096
        assert turns > before  # a read gave the loop a turn without waiting for data
        counter.cancel()
    finally:
        ours.close()
        theirs.close()


async def test_a_pooled_connection_the_server_closed_is_not_reused() -> None:
    served = 0
    closed = asyncio.Event()

    async def once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        await read_request(reader)
        served += 1
        writer.write(OK)  # keep-alive by default in HTTP/1.1, then closed anyway
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    async with (
        serving(once_then_close) as url,
        httpx.AsyncClient(transport=PlainTransport()) as client,
    ):
        assert (await client.get(url)).text == "ok"
        await closed.wait()
        assert (await client.get(url)).text == "ok"  # not a dead connection's error
    assert served == 2


async def test_silence_is_a_read_timeout() -> None:
    async def headers_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(30)

    timeout = httpx.Timeout(5, read=0.2)
    async with (
        serving(headers_only) as url,
        httpx.AsyncClient(transport=PlainTransport()) as client,
        client.stream("GET", url, timeout=timeout) as resp,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await resp.aread()


async def test_a_refused_connection_keeps_its_os_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, not listening
        async with httpx.AsyncClient(transport=PlainTransport()) as client:
            with pytest.raises(httpx.ConnectError) as info:
                await client.get(url)
    chain: list[BaseException] = []
    seen: BaseException | None = info.value
    while seen is not None:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    assert any(isinstance(exc, ConnectionRefusedError) for exc in chain)


async def test_unix_socket(tmp_path: Path) -> None:
    async def ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        writer.close()

    path = str(tmp_path / "agent.sock")
    server = await asyncio.start_unix_server(ok, path)
    async with server, httpx.AsyncClient(transport=PlainTransport(uds=path)) as client:
        assert (await client.get("http://localhost/v1/agent/self")).text == "ok"
