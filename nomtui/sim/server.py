"""The simulated cluster: Nomad's API on one port, Consul's on another, both on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from aiohttp import web

from nomtui.sim.acl import OPEN_PATHS, Acl
from nomtui.sim.allocfs import AllocFiles
from nomtui.sim.answers import Answers
from nomtui.sim.churn import Churn
from nomtui.sim.clock import Clock, SystemClock
from nomtui.sim.faults import FaultInjector, Faults
from nomtui.sim.http import ApiError, error, json_response
from nomtui.sim.ids import IdSource
from nomtui.sim.scheduler import Runtime
from nomtui.sim.search import Search
from nomtui.sim.state import State
from nomtui.sim.stats import StatsSource
from nomtui.sim.traffic import Traffic

if TYPE_CHECKING:
    from nomtui.sim.docker_api import DockerEngine

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REGION = "global"
DATACENTER = "dc1"
NOMAD_VERSION = "1.9.7"
CONSUL_VERSION = "1.20.2"


@dataclass
class SimConfig:
    seed: int = 42
    token: str | None = None
    """Management SecretID; derived from the seed when not given."""
    read_token: str | None = None
    """SecretID of a read-only token; derived from the seed when not given."""
    jobs: int | None = None
    """Scale mode: build this many synthetic jobs instead of the demo cluster."""
    allocs_per_job: int = 5
    nodes: int | None = None
    consul_instances: int | None = None
    """Scale mode: stop registering Consul services after this many instances."""
    data_dir: Path | None = None
    """Where allocation directories live; a temporary directory when not given."""
    clock: Clock = field(default_factory=SystemClock)
    faults: Faults = field(default_factory=Faults)
    log_lines_per_s: float = 2.0
    """Demo log producers: lines per second per task (faults.log_rate_bps overrides)."""
    log_max_file_bytes: int = 1024 * 1024
    """Rotation size for demo task logs (Nomad's unit is MB; small here so rotation shows)."""
    lifecycle: bool = True
    """Run the background loop that moves allocations and deployments along."""
    tick_s: float = 0.5
    tls: ssl.SSLContext | None = None
    """Serve both APIs over HTTPS with this server context (tests build one with a test CA)."""
    event_heartbeat_s: float = 30.0
    """Event stream heartbeat period (Nomad: 30 s)."""
    frame_heartbeat_s: float = 1.0
    """fs/logs stream heartbeat period (Nomad: 1 s)."""
    churn_per_min: float = 0.0
    """Fraction of the allocations changed per minute (restarts, reschedules, new job
    versions), spread evenly over the lifecycle ticks; 0.01 is 1% a minute."""
    docker_socket: Path | None = None
    """Also serve a Docker Engine API on this unix socket (`nomtui.sim.docker_api`)."""
    docker_node: str | None = None
    """The node (name or ID) whose containers that engine shows; None: every node's."""


class Sim:
    """One simulated Nomad + Consul cluster. Use as `async with Sim(cfg) as sim:`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.clock = self.config.clock
        self.ids = IdSource(self.config.seed)
        self.state = State(self.clock, self.ids)
        self.acl = Acl(self.ids, self.clock.now_ns(), self.config.token, self.config.read_token)
        self.injector = FaultInjector(self.config.faults, self.config.seed)
        self.injector.on_leader_lost = self.state.notify
        self.runtime = Runtime()
        self.stats = StatsSource(self)
        self.search = Search(self)
        self.answers = Answers()
        self.traffic = Traffic()
        self.churn = Churn()
        self._own_dir = self.config.data_dir is None
        root = self.config.data_dir or Path(tempfile.mkdtemp(prefix="nomtui-sim-"))
        self.files = AllocFiles(root, self)
        self.nomad_addr = ""
        self.consul_addr = ""
        self._runners: list[web.AppRunner] = []
        self._background: list[asyncio.Task[None]] = []
        self.docker: DockerEngine | None = None
        self.started = False

    # -- tokens ---------------------------------------------------------------------

    @property
    def management_token(self) -> str:
        return self.acl.management.secret_id

    @property
    def read_token(self) -> str:
        return self.acl.read_only.secret_id

    # -- lifecycle ------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", nomad_port: int = 0, consul_port: int = 0
    ) -> None:
        from nomtui.sim import (
            consul_api,
            control,
            events_api,
            exec_api,
            fs_api,
            lifecycle,
            nomad_api,
            nomad_cluster_api,
            nomad_writes,
            seed,
        )

        if self.config.jobs is not None:
            seed.build_scale(self)
        else:
            seed.build_demo(self)

        nomad = web.Application(
            middlewares=[self.traffic.middleware("nomad"), self._nomad_middleware]
        )
        routes = (nomad_api, nomad_cluster_api, nomad_writes, fs_api, exec_api, events_api, control)
        for module in routes:
            module.add_routes(nomad, self)
        consul = web.Application(
            middlewares=[self.traffic.middleware("consul"), self._consul_middleware]
        )
        consul_api.add_routes(consul, self)

        self.nomad_addr = await self._serve(nomad, host, nomad_port)
        self.consul_addr = await self._serve(consul, host, consul_port)
        self.files.start()
        if self.config.docker_socket is not None:
            from nomtui.sim.docker_api import DockerEngine

            self.docker = DockerEngine(self, self.config.docker_socket, self.config.docker_node)
            await self.docker.start()
        if self.config.lifecycle:
            self._background.append(asyncio.create_task(lifecycle.run(self)))
        self._background.append(asyncio.create_task(self.injector.leader_loss_windows()))
        self.started = True

    async def _serve(self, app: web.Application, host: str, port: int) -> str:
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=self.config.tls)
        await site.start()
        self._runners.append(runner)
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        bound = server.sockets[0].getsockname()[1]
        scheme = "https" if self.config.tls else "http"
        return f"{scheme}://{host}:{bound}"

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()
        if self.docker is not None:
            await self.docker.stop()
        await self.files.stop()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self._own_dir:
            shutil.rmtree(self.files.root, ignore_errors=True)
        self.started = False

    async def __aenter__(self) -> Sim:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def env(self) -> dict[str, str]:
        """What another shell needs to talk to this cluster."""
        return {
            "NOMAD_ADDR": self.nomad_addr,
            "CONSUL_HTTP_ADDR": self.consul_addr,
            "NOMAD_TOKEN": self.management_token,
        }

    # -- middlewares ----------------------------------------------------------------

    @web.middleware
    async def _nomad_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        is_control = request.path.startswith("/v1/sim/")
        if not is_control:
            await self.injector.delay()
            if self.injector.should_fail():
                return error(500, "rpc error: simulated server failure")
            server_side = not request.path.startswith(("/v1/client/", "/v1/agent/"))
            if server_side and self.injector.refuses_for_leader(request.path):
                return error(500, "No cluster leader")
        is_exec = request.path.endswith("/exec") and request.path.startswith("/v1/client/")
        if request.path not in OPEN_PATHS and not is_exec:
            denied = self.acl.check(request, write=self.acl.is_write(request) or is_control)
            if denied:
                return error(403, denied)
        try:
            return await handler(request)
        except ApiError as exc:
            return error(exc.status, exc.text)
        except web.HTTPMethodNotAllowed:
            return error(405, "Invalid method")
        except web.HTTPNotFound:
            return error(404, "404 page not found")
        finally:
            self.injector.finished(request)

    @web.middleware
    async def _consul_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        await self.injector.delay()
        if self.injector.should_fail():
            return error(500, "rpc error making call: simulated server failure")
        if self.injector.refuses_for_leader(request.path):
            return error(500, "No cluster leader")
        try:
            return await handler(request)
        except ApiError as exc:
            return error(exc.status, exc.text)


class SimThread:
    """A Sim on its own event loop in a daemon thread, for sync callers and `nomtui demo`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.sim = Sim(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def start(self, host: str = "127.0.0.1", nomad_port: int = 0, consul_port: int = 0) -> Sim:
        fut = asyncio.run_coroutine_threadsafe(
            self.sim.start(host, nomad_port, consul_port), self._loop
        )
        fut.result(timeout=60)
        return self.sim

    def call(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the sim's loop (state is not thread-safe) and wait for it."""

        async def run() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def stop(self) -> None:
        fut = asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop)
        fut.result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


__all__ = ["REGION", "Sim", "SimConfig", "SimThread", "json_response"]
