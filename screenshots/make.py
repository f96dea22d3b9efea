"""Render an SVG of each main screen of nomtui on the demo cluster into screenshots/.

    .venv/bin/python screenshots/make.py            # every screen, 140x40
    .venv/bin/python screenshots/make.py job help   # just these
    .venv/bin/python screenshots/make.py --out /tmp/shots   # somewhere else

The demo cluster (seed 42) runs in this process, as `nomtui demo` does; the header shows
a fixed address so the sim's random port never lands in a picture. A screen whose module
does not exist (yet) is skipped with a message, so the script works while screens are
being written. View the results in a browser, or `rsvg-convert -o x.png x.svg`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.sim.server import Sim, SimConfig
from nomtui.store import Store
from nomtui.tui import registry
from nomtui.tui.app import NomtuiApp

if TYPE_CHECKING:
    from textual.pilot import Pilot

OUT = Path(__file__).resolve().parent
SIZE = (140, 40)
SETTLE_S = 2.0
"""How long a screen gets to load its data before the picture is taken."""
JOB = "internetarchive-hello-js"

Step = Callable[["Pilot[None]", Sim], Awaitable[None]]


def first_alloc(sim: Sim, job_id: str = JOB) -> str:
    running = [a for a in sim.state.allocs.values() if a["JobID"] == job_id]
    running.sort(key=lambda a: (a["ClientStatus"] != "running", a["CreateIndex"]))
    return str(running[0]["ID"])


def first_node(sim: Sim) -> str:
    return str(sorted(sim.state.nodes.values(), key=lambda n: n["Name"])[0]["ID"])


def opener(kind: str, **params: Callable[[Sim], str] | str) -> Step:
    async def step(pilot: Pilot[None], sim: Sim) -> None:
        values = {k: v(sim) if callable(v) else v for k, v in params.items()}
        app = pilot.app
        assert isinstance(app, NomtuiApp)
        app.open(kind, **values)

    return step


def pressing(*pressed: str) -> Step:
    async def step(pilot: Pilot[None], sim: Sim) -> None:
        await pilot.press(*pressed)

    return step


SHOTS: dict[str, tuple[str | None, list[Step]]] = {
    # name: (screen kind it needs, or None; steps)
    "jobs": ("jobs", []),
    "job": ("job", [opener("job", namespace="default", job_id=JOB)]),
    "job-deployment": (
        "job",
        [opener("job", namespace="default", job_id=JOB), pressing("2")],
    ),
    "job-versions": ("job", [opener("job", namespace="default", job_id=JOB), pressing("3")]),
    "deployments": ("deployments", [opener("deployments")]),
    "allocs": ("allocs", [opener("allocs")]),
    "alloc": ("alloc", [opener("alloc", alloc_id=first_alloc)]),
    "logs": ("logs", [opener("logs", alloc_id=first_alloc, task="http", stream="stdout")]),
    "nodes": ("nodes", [opener("nodes")]),
    "node": ("node", [opener("node", node_id=first_node)]),
    "topology": ("topology", [opener("topology")]),
    "services": ("services", [opener("services")]),
    "events": ("events", [opener("events")]),
    "check": ("check", [opener("check")]),
    "help": (None, [pressing("question_mark")]),
    "command": (None, [pressing("colon", "s", "e")]),
}


def store_factory(sim: Sim) -> Callable[[], Store]:
    def make() -> Store:
        nomad = NomadClient(sim.nomad_addr, Secret(sim.management_token), cluster="demo")
        return Store(nomad, ConsulClient(sim.consul_addr, None), read_only=False)

    return make


async def shoot(sim: Sim, name: str, steps: list[Step], out: Path = OUT) -> Path:
    app = NomtuiApp(store_factory(sim), address="http://127.0.0.1:4646", label="demo, seed 42")
    path = out / f"{name}.svg"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(SETTLE_S)
        for step in steps:
            await step(pilot, sim)
            await pilot.pause(SETTLE_S / 2)
        await pilot.pause(SETTLE_S / 2)
        path.write_text(app.export_screenshot(title=f"nomtui — {name}"))
    return path


async def main(wanted: list[str], out: Path = OUT) -> int:
    unknown = [n for n in wanted if n not in SHOTS]
    if unknown:
        print(f"unknown screenshot(s): {', '.join(unknown)}; known: {', '.join(SHOTS)}")
        return 2
    sim = Sim(SimConfig(seed=42))
    await sim.start("127.0.0.1", 0, 0)
    made = 0
    try:
        for name in wanted or list(SHOTS):
            kind, steps = SHOTS[name]
            if kind is not None and not registry.available(kind):
                print(f"skip {name}: no {kind!r} screen in this build")
                continue
            path = await shoot(sim, name, steps, out)
            print(f"wrote {path}")
            made += 1
    finally:
        await sim.stop()
    return 0 if made else 1


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("names", nargs="*", help=f"which ({', '.join(SHOTS)}); default all")
    parser.add_argument("--out", type=Path, default=OUT, help="directory for the SVGs")
    args: Any = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(main(list(args.names), args.out))


if __name__ == "__main__":
    sys.exit(cli())
