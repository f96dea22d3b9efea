"""Every figure of issue 6 ("performance at cluster scale"), measured in one run.

The workload: the scale sim (2,000 jobs, 10,000 allocations, 500 nodes, 2,000 Consul
service instances, churn changing 1% of the allocations a minute) in a process of its
own (bench/scale_sim.py), so its CPU is never counted as nomtui's. The TUI runs as its
own process too: headless under Textual's Pilot (bench/tui_probe.py), and as a user
starts it, `nomtui` in a tmux pane of a tmux server of our own.

Phases, in order (churn on unless said otherwise):
  `nomtui jobs --json`; python-nomad against nomtui's client; cold starts (Pilot, tmux);
  change-to-visible; a minute of 2 s polling beside nomtui's watches; every view visited
  (peak RSS); then churn off: filter keystrokes on the allocations table, a minute idle
  headless and a minute idle in tmux (CPU, requests); last the sim's own CPU.

What each figure times is written next to it in the table and in bench/RESULTS.md.
Nothing is estimated: a figure that could not be measured says so and fails.

Usage: python bench/run_all.py [--quick] [--json] [--only PHASE ...]
(progress on stderr; the table, or with --json every figure and raw number, on stdout)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# bench/ is not a package: run as a script, its directory is on sys.path
import probes
from probes import Tmux, percentile, summary, tui_common
from scale_sim import CHURN, ScaleSim, sim_load

MB = 1024 * 1024
BEGIN = "<!-- BEGIN RUN (written by run_all.py --record) -->"
END = "<!-- END RUN -->"


@dataclass
class Row:
    figure: str
    target: str
    measured: str
    verdict: str  # "pass", "FAIL", "info"


@dataclass
class Settings:
    quick: bool
    minute: float
    runs: int
    samples: int
    pattern: str
    settle: float
    """Churn on, the app is never calm: give it this long after start-up instead."""


class Bench:
    def __init__(self, sim: ScaleSim, home: str, settings: Settings) -> None:
        self.sim = sim
        self.home = home
        self.s = settings
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}

    def add(self, figure: str, target: str, measured: str, ok: bool | None) -> None:
        verdict = "info" if ok is None else ("pass" if ok else "FAIL")
        self.rows.append(Row(figure, target, measured, verdict))
        print(f"  {figure}: {measured} [{verdict}]", file=sys.stderr, flush=True)

    # -- phases, churn on ----------------------------------------------------------------------

    def jobs_json(self) -> None:
        got = probes.jobs_json(self.sim, self.home, max(self.s.runs, 5))
        self.raw["jobs_json"] = got
        s = summary(got["times"])
        self.add(
            "`nomtui jobs --json`, process start to exit",
            "<= 1.0 s",
            f"best {s['best']:.2f} s, median {s['median']:.2f} s "
            f"({got['jobs']} jobs, {got['bytes'] / MB:.1f} MB of JSON)",
            s["median"] <= 1.0,
        )

    def clients(self) -> None:
        got = probes.client_compare(self.sim, max(self.s.runs, 5))
        self.raw["clients"] = got
        theirs, ours = min(got["python_nomad_s"]), min(got["nomtui_s"])
        self.add(
            "python-nomad / nomtui client, fetch + parse /v1/allocations",
            "report",
            f"{theirs:.2f} s / {ours:.2f} s (best of {len(got['nomtui_s'])}): "
            f"nomtui {theirs / ours:.1f}x as fast",
            None,
        )

    def cold_pilot(self) -> None:
        common = tui_common(self.sim)
        times = [
            probes.probe(self.sim, self.home, "cold", *common)["seconds"]
            for _ in range(self.s.runs)
        ]
        self.raw["cold_pilot"] = times
        s = summary(times)
        self.add(
            "cold start to a populated jobs table, headless (Pilot)",
            "<= 1.5 s",
            f"best {s['best']:.2f} s, median {s['median']:.2f} s "
            f"(process start to {self.sim.info['jobs']} rows)",
            s["median"] <= 1.5,
        )

    def cold_tmux(self, tmux: Tmux) -> None:
        times = probes.cold_tmux(tmux, self.sim.info["job"], self.s.runs)
        self.raw["cold_tmux"] = times
        s = summary(times)
        self.add(
            "cold start to a populated jobs table, in tmux",
            "<= 1.5 s",
            f"best {s['best']:.2f} s, median {s['median']:.2f} s "
            f"(tmux new-session to {self.sim.info['job']} on screen)",
            s["median"] <= 1.5,
        )

    def change(self) -> None:
        got = probes.probe(
            self.sim,
            self.home,
            "change",
            *tui_common(self.sim),
            "--samples",
            str(self.s.samples),
            "--settle",
            str(self.s.settle),
        )
        self.raw["change"] = got
        ms = [x["ms"] for x in got["samples"]]
        median, p95 = statistics.median(ms), percentile(ms, 95)
        self.add(
            "a change in the sim to visible in the TUI (job stop/start to its Status cell)",
            "<= 500 ms median and p95",
            f"median {median:.0f} ms, p95 {p95:.0f} ms ({len(ms)} samples, churn on)",
            median <= 500 and p95 <= 500,
        )

    def polling(self) -> None:
        got = probes.polling_vs_watches(self.sim, self.home, self.s.minute, self.s.settle)
        self.raw["polling"] = got
        per_min = got["minutes"]
        self.add(
            "2 s polling of /v1/jobs + /v1/allocations vs nomtui's watches (churn on)",
            "report",
            f"polling {got['poll_requests'] / per_min:.0f} req/min, "
            f"{got['poll_bytes'] / MB / per_min:.0f} MB/min; nomtui "
            f"{got['nomtui_requests'] / per_min:.0f} req/min, "
            f"{got['nomtui_bytes'] / MB / per_min:.1f} MB/min",
            None,
        )
        self.add(
            "TUI CPU watching the jobs screen with churn on (headless)",
            "report",
            f"{got['tui_cpu_share'] * 100:.1f}% of a core",
            None,
        )

    def visit(self) -> None:
        got = probes.probe(self.sim, self.home, "visit", *tui_common(self.sim))
        self.raw["visit"] = got
        self.add(
            "peak RSS with all views visited",
            "<= 200 MB",
            f"{got['peak_rss_mb']:.0f} MB (ru_maxrss; 11 views, churn on)",
            got["peak_rss_mb"] <= 200,
        )

    # -- phases, churn off ---------------------------------------------------------------------

    def filter(self) -> None:
        got = probes.probe(
            self.sim, self.home, "filter", *tui_common(self.sim), "--pattern", self.s.pattern
        )
        self.raw["filter"] = got
        ms = [x["ms"] for x in got["samples"]]
        pilot = [x["pilot_ms"] for x in got["samples"]]
        worst = max(ms)
        self.add(
            "a filter keystroke on the 10k allocations table, to the first frame with its rows",
            "<= 100 ms",
            f"median {statistics.median(ms):.0f} ms, worst {worst:.0f} ms "
            f"({len(ms)} keys on {got['rows']} rows, churn off; the table was busy "
            f"{got['load_busy_s']:.0f} s after loading)",
            worst <= 100,
        )
        self.add(
            "the same keys, Pilot's round trip (press + pause: adds its idle detection)",
            "report",
            f"median {statistics.median(pilot):.0f} ms, worst {max(pilot):.0f} ms",
            None,
        )

    def idle_pilot(self) -> None:
        got = probes.probe(
            self.sim, self.home, "watch", *tui_common(self.sim), "--seconds", str(self.s.minute)
        )
        self.raw["idle_pilot"] = got
        self.add(
            "CPU watching the jobs screen, no changes (headless)",
            "<= 2% of a core",
            f"{got['cpu_share'] * 100:.1f}% over {got['wall_s']:.0f} s, "
            f"once calm ({got['busy_s']:.0f} s after the table filled)",
            got["cpu_share"] <= 0.02,
        )

    def idle_tmux(self, tmux: Tmux) -> None:
        got = probes.idle_tmux(tmux, self.sim, self.sim.info["job"], self.s.minute)
        self.raw["idle_tmux"] = got
        self.add(
            "CPU watching the jobs screen, no changes (tmux)",
            "<= 2% of a core",
            f"{got['cpu_share'] * 100:.1f}% over {got['wall_s']:.0f} s, once calm",
            got["cpu_share"] <= 0.02,
        )
        self.add(
            "busy after the jobs table first shows (tmux), before going calm",
            "report",
            f"{got['busy_s']:.0f} s (calm: < 10% of a core over 2 s)",
            None,
        )
        minutes = got["wall_s"] / 60
        rows = got["traffic"]
        total = sum(r["Requests"] for r in rows)
        polls = [r for r in rows if r["Requests"] > r["Blocking"] and "event" not in r["Route"]]
        polled = sum(r["Requests"] - r["Blocking"] for r in polls)
        names = ", ".join(sorted({r["Route"] for r in polls})) or "none"
        self.add(
            "requests per minute while idle (tmux)",
            "report; blocking queries and event stream only",
            f"{total / minutes:.1f}/min, of which {polled / minutes:.1f}/min not blocking "
            f"({names})",
            None,
        )

    def sim_cost(self) -> None:
        got = sim_load(self.sim, self.s.minute)
        self.raw["sim_load"] = got
        self.add(
            "the sim's own CPU: alone / 20 parked queries + event stream / same with churn",
            "report (a fair load generator)",
            " / ".join(f"{got[k] * 100:.1f}%" for k in ("alone", "parked", "churn")),
            None,
        )


def machine() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {
        "nproc": nproc,
        "cpu": model,
        "python": platform.python_version(),
        "load_before": " ".join(load),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def table(rows: list[Row]) -> str:
    head = ("figure", "target", "measured", "")
    cells = [head] + [(r.figure, r.target, r.measured, r.verdict) for r in rows]
    lines = ["| " + " | ".join(c) + " |" for c in cells]
    lines.insert(1, "| --- | --- | --- | --- |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s phases, fewer runs")
    parser.add_argument("--json", action="store_true", help="JSON with every raw number")
    parser.add_argument("--only", nargs="*", help="run only these phases (by method name)")
    parser.add_argument(
        "--record",
        type=Path,
        help="also write the machine and the table into this file (bench/RESULTS.md), "
        f"between {BEGIN} and {END}",
    )
    args = parser.parse_args()
    quick = args.quick
    settings = Settings(
        quick=quick,
        minute=10.0 if quick else 60.0,
        runs=2 if quick else 3,
        samples=8 if quick else 24,
        pattern="app-001" if quick else "app-0012",
        settle=20.0 if quick else 60.0,
    )
    info = machine()
    say = print if not args.json else lambda *a, **k: print(*a, **k, file=sys.stderr)
    say(f"# {info['date']}: {info['nproc']} x {info['cpu']}, Python {info['python']}")
    say(f"# load average before: {info['load_before']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="nomtui-bench-") as home, ScaleSim() as sim:
        sizes = {k: sim.info[k] for k in ("jobs", "allocs", "nodes", "consul_instances")}
        say(f"# workload: {sizes}, churn {CHURN * 100:g}%/min", flush=True)
        bench = Bench(sim, home, settings)
        tmux = Tmux(sim, home)
        churned: list[tuple[str, Callable[[], None]]] = [
            ("jobs_json", bench.jobs_json),
            ("clients", bench.clients),
            ("cold_pilot", bench.cold_pilot),
            ("cold_tmux", lambda: bench.cold_tmux(tmux)),
            ("change", bench.change),
            ("polling", bench.polling),
            ("visit", bench.visit),
        ]
        quiet: list[tuple[str, Callable[[], None]]] = [
            ("filter", bench.filter),
            ("idle_pilot", bench.idle_pilot),
            ("idle_tmux", lambda: bench.idle_tmux(tmux)),
        ]
        try:
            for churn, phases in ((CHURN, churned), (0.0, quiet)):
                sim.set_churn(churn)
                if not churn:
                    waited = sim.wait_quiet()
                    say(f"# churn off; the cluster went quiet after {waited:.0f} s", flush=True)
                for name, phase in phases:
                    if args.only and name not in args.only:
                        continue
                    print(f"# {name} ...", file=sys.stderr, flush=True)
                    try:
                        phase()
                    except Exception as exc:  # one broken phase must not hide the others
                        traceback.print_exc()
                        bench.add(name, "-", f"not measured: {exc!r}"[:200], False)
            if not args.only or "sim_cost" in args.only:
                bench.sim_cost()
        finally:
            tmux.close()
    if args.json:
        rows = [vars(r) for r in bench.rows]
        record = {"machine": info, "workload": sizes, "settings": vars(settings), "rows": rows}
        print(json.dumps(record | {"raw": bench.raw}, indent=2))
    else:
        print(table(bench.rows))
    if args.record:
        record_run(args.record, info, sizes, settings, bench.rows)


def record_run(
    path: Path, info: dict[str, str], sizes: dict[str, Any], settings: Settings, rows: list[Row]
) -> None:
    """Put this run into `path` between the markers, leaving the rest of the file as is."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path} has no {BEGIN} ... {END} section to write the run into")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    command = "python bench/run_all.py" + (" --quick" if settings.quick else "")
    run = "\n".join(
        [
            BEGIN,
            f"Command: `{command} --record bench/RESULTS.md`, {info['date']}.",
            "",
            f"Machine: {info['nproc']} x {info['cpu']}, Python {info['python']}; "
            f"load average before the run {info['load_before']}.",
            "",
            f"Workload: {sizes}, churn {CHURN * 100:g}% of the allocations a minute.",
            "",
            table(rows),
            END,
        ]
    )
    path.write_text(head + run + tail)


if __name__ == "__main__":
    main()
