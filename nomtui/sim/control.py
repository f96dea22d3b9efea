"""The sim's own control endpoints (not part of Nomad): faults, churn, clock, stats.

They live under /v1/sim/ on the Nomad port and need the management token, so tests and
benchmarks can change a running cluster's behaviour from outside its process.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web

from nomtui.sim import churn, lifecycle
from nomtui.sim.clock import FixedClock
from nomtui.sim.http import ApiError, json_response
from nomtui.sim.nomad_cluster_api import read_json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim


def add_routes(app: web.Application, sim: Sim) -> None:
    async def get_faults(request: web.Request) -> web.Response:
        return json_response(request, sim, sim.injector.faults.as_dict())

    async def put_faults(request: web.Request) -> web.Response:
        body = await read_json(request)
        try:
            sim.injector.faults.update(body)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        sim.injector.changed()
        sim.state.notify()
        return json_response(request, sim, sim.injector.faults.as_dict())

    async def stats(request: web.Request) -> web.Response:
        return json_response(
            request,
            sim,
            {
                "InjectedErrors": sim.injector.injected_errors,
                "CutStreams": sim.injector.cut_streams,
                "LeaderLosses": sim.injector.leader_losses,
                # every kind of injected fault, by name (chaos tests quote these)
                "Faults": sim.injector.counts.as_dict(),
                "Index": sim.state.index,
                # what clients cost the sim (benchmarks subtract two readings)
                "Traffic": sim.traffic.as_dict(),
                "Parked": sim.state.waiting(),
                "AnswersComputed": sim.answers.computed,
                "AnswersShared": sim.answers.shared,
                "Churn": churn.as_dict(sim.churn),
                "Allocations": len(sim.state.allocs),
                "CPUSeconds": time.process_time(),
            },
        )

    async def advance(request: web.Request) -> web.Response:
        """Move a fixed clock forward and run one lifecycle tick."""
        try:
            seconds = float(request.query.get("seconds", "0"))
        except ValueError:
            raise ApiError(400, "seconds must be a number") from None
        if seconds:
            if not isinstance(sim.clock, FixedClock):
                raise ApiError(400, "the clock only advances when the sim runs a fixed clock")
            sim.clock.advance(seconds)
        lifecycle.tick(sim)
        return json_response(request, sim, {"Index": sim.state.index})

    app.router.add_get("/v1/sim/faults", get_faults)
    app.router.add_put("/v1/sim/faults", put_faults)
    app.router.add_post("/v1/sim/faults", put_faults)

    async def get_churn(request: web.Request) -> web.Response:
        return json_response(request, sim, {"PerMinute": sim.config.churn_per_min})

    async def put_churn(request: web.Request) -> web.Response:
        """Change the churn rate of a running cluster (benchmarks idle it, then churn)."""
        body = await read_json(request)
        rate = body.get("PerMinute")
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise ApiError(400, "PerMinute must be a number from 0 to 1")
        sim.config.churn_per_min = float(rate)
        return json_response(request, sim, {"PerMinute": sim.config.churn_per_min})

    app.router.add_get("/v1/sim/stats", stats)
    app.router.add_get("/v1/sim/churn", get_churn)
    app.router.add_put("/v1/sim/churn", put_churn)
    app.router.add_post("/v1/sim/advance", advance)
