"""The httpx transport for agents reached over plain HTTP: sockets driven by the loop.

httpx's asyncio stack (httpcore over anyio) pauses and resumes the socket's transport
and takes a turn of the event loop for every 64 KiB it reads, which holds a log stream
near 350 MB/s on loopback. `loop.sock_recv` hands over bytes that are already there
without any of that, so the same stream reads at ~1 GB/s (`bench/logs_throughput.py`).
This transport is httpx's own (request mapping, pooling, error mapping) over such
sockets. It also leaves out the SSL context httpx builds for every client, ~40 ms of a
one-shot's start-up spent reading a CA bundle that plain HTTP never uses; `https://`
agents keep httpx's transport.

Errors are httpcore's (`ConnectError`, `ReadTimeout`...), raised while the OSError is
being handled, so it stays their context even where httpcore's pool drops the cause, and
httpx and `nomtui.client.failures` classify them exactly as with the default stack.
"""

from __future__ import annotations

import asyncio
import ipaddress
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
"""httpx's default pool limits (many watches hold a connection each in the cockpit)."""
READS_PER_TURN = 16
"""Reads served straight from the socket before letting other tasks run (~1 MiB): a
stream that always has data must not starve the other streams of `logs --all`."""

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class SocketStream(httpcore.AsyncNetworkStream):
    """A connected non-blocking socket, read and written through the running loop."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._reads = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._reads += 1
        if self._reads % READS_PER_TURN == 0:
            await asyncio.sleep(0)
        try:
            return self._sock.recv(max_bytes)
        except BlockingIOError:
            pass  # nothing there yet: wait for it below
        except OSError as exc:
            raise httpcore.ReadError(_reason(exc)) from exc
        limit = asyncio.timeout(timeout)
        try:
            async with limit:
                return await self._loop.sock_recv(self._sock, max_bytes)
        except OSError as exc:  # TimeoutError is an OSError too
            if limit.expired():
                raise httpcore.ReadTimeout(f"no data within {timeout} s") from None
            raise httpcore.ReadError(_reason(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        limit = asyncio.timeout(timeout)
        try:
            async with limit:
                await self._loop.sock_sendall(self._sock, buffer)
        except OSError as exc:
            if limit.expired():
                raise httpcore.WriteTimeout(f"could not send within {timeout} s") from None
            raise httpcore.WriteError(_reason(exc)) from exc

    async def aclose(self) -> None:
        self._sock.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # Only plain-HTTP clients get this transport, and they use no proxy.
        raise httpcore.ConnectError("TLS is not available on the plain-HTTP transport")

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _readable(self._sock)
        try:
            if info == "client_addr":
                return self._sock.getsockname()
            if info == "server_addr":
                return self._sock.getpeername()
        except OSError:
            return None
        return None


def _readable(sock: socket.socket) -> bool:
    """Whether a read would not block: on an idle pooled connection, that the server
    closed it (or sent something unasked), so the pool must not reuse it."""
    if sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class SocketBackend(httpcore.AsyncNetworkBackend):
    """Opens `SocketStream`s (TCP, or a unix socket) for httpcore's connection pool."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        limit = asyncio.timeout(timeout)
        try:
            async with limit:
                addresses = await _resolve(loop, host, port)
                for n, (family, kind, proto, _, address) in enumerate(addresses, 1):
                    sock = socket.socket(family, kind, proto)
                    try:
                        sock.setblocking(False)
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        _apply(sock, socket_options)
                        if local_address:
                            sock.bind((local_address, 0))
                        await loop.sock_connect(sock, address)
                    except OSError as exc:
                        sock.close()
                        if n < len(addresses):
                            continue
                        raise httpcore.ConnectError(_reason(exc)) from exc
                    except BaseException:
                        sock.close()
                        raise
                    return SocketStream(sock)
        except OSError as exc:  # the lookup failed, or the time ran out
            if limit.expired():
                raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
            raise httpcore.ConnectError(_reason(exc)) from exc
        raise httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        limit = asyncio.timeout(timeout)
        try:
            sock.setblocking(False)
            _apply(sock, socket_options)
            async with limit:
                await loop.sock_connect(sock, path)
        except OSError as exc:
            sock.close()
            if limit.expired():
                raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
            raise httpcore.ConnectError(_reason(exc)) from exc
        except BaseException:
            sock.close()
            raise
        return SocketStream(sock)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _resolve(loop: asyncio.AbstractEventLoop, host: str, port: int) -> list[tuple[Any, ...]]:
    """Addresses to try, in order; a literal IP needs no lookup (no resolver thread)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return list(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]


def _reason(exc: OSError) -> str:
    return str(exc) or type(exc).__name__


def _apply(sock: socket.socket, options: Iterable[_SocketOption] | None) -> None:
    for option in options or ():
        sock.setsockopt(*option)


class PlainTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (request and error mapping, pooling) over `SocketBackend`."""

    def __init__(self, *, uds: str | None = None, limits: httpx.Limits = LIMITS) -> None:
        # httpx's __init__ is left out on purpose: all it would add is the SSL context
        # this transport never uses. Its request handling needs only `_pool`.
        self._pool = httpcore.AsyncConnectionPool(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            uds=uds,
            network_backend=SocketBackend(),
        )


__all__ = ["PlainTransport", "SocketBackend", "SocketStream"]
