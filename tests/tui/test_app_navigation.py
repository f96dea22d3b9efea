"""The app's keyboard model on the sim: `:` command mode with completion, namespaces and
clusters switched at runtime, Esc back, the registry, key remapping, help and the header."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import Input

from nomtui.errors import ConfigError, Unreachable
from nomtui.store import AllocTotals, ClusterView, ConsulStatus, NodeTotals, ViewState
from nomtui.tui import registry
from nomtui.tui.app import ClusterTarget
from nomtui.tui.command import (
    Command,
    CommandError,
    CommandScreen,
    candidates,
    matches,
    parse_command,
)
from nomtui.tui.header import ClusterStatus, ConnectionState, render_status, with_cluster_view
from nomtui.tui.help import HelpScreen
from nomtui.tui.screens.deployments import DeploymentsScreen
from nomtui.tui.screens.job import JobScreen
from nomtui.tui.screens.jobs import JobsScreen
from tests.tui.core_app import app_for, names, screen_svg, store_for, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim
    from tests.tui.core_app import RecordingApp

JOBS = [("default", "www-nomad"), ("default", "www-wiki"), ("ops", "ops-grafana"), ("ops", "web")]


# -- parsing and completion (pure) --------------------------------------------------------


def test_parse_screens_aliases_and_quit() -> None:
    assert parse_command("jobs") == Command("open", "jobs")
    assert parse_command(":dp") == Command("open", "deployments")
    assert parse_command("  svc ") == Command("open", "services")
    assert parse_command("q") == Command("quit")


def test_parse_namespace_and_cluster() -> None:
    assert parse_command("ns ops") == Command("namespace", "ops")
    assert parse_command("ns *") == Command("namespace", "*")
    assert parse_command("cluster prod") == Command("cluster", "prod")
    with pytest.raises(CommandError, match="ns takes one namespace"):
        parse_command("ns")


def test_parse_jobs_exact_prefix_qualified_and_ambiguous() -> None:
    jobs = [*JOBS, ("default", "web")]
    assert parse_command("www-wiki", jobs) == Command("job", "www-wiki", namespace="default")
    assert parse_command("ops-g", jobs) == Command("job", "ops-grafana", namespace="ops")
    assert parse_command("job ops/web", jobs) == Command("job", "web", namespace="ops")
    # the same ID in two namespaces: the current namespace settles it, else it is an error
    assert parse_command("web", jobs, "ops") == Command("job", "web", namespace="ops")
    with pytest.raises(CommandError, match="several jobs"):
        parse_command("web", jobs)
    with pytest.raises(CommandError, match="several jobs"):
        parse_command("www", jobs)
    with pytest.raises(CommandError, match="No command or job called nope"):
        parse_command("nope", jobs)


def test_candidates_qualify_duplicates_and_matches_prefer_prefixes() -> None:
    pool = candidates(["default", "ops"], ["dev", "prod"], [*JOBS, ("default", "web")])
    assert pool[:8] == list(registry.COMMAND_KINDS)
    assert {"ns *", "ns ops", "cluster prod", "default/web", "ops/web", "www-wiki"} <= set(pool)
    assert "web" not in pool
    assert matches("w", pool)[:2] == ["www-nomad", "www-wiki"]
    assert "ns ops" in matches("ops", pool)


# -- the registry -------------------------------------------------------------------------


def test_registry_imports_lazily_and_reports_missing_screens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert registry.screen_class("jobs") is JobsScreen
    assert registry.screen_class("job") is JobScreen
    assert registry.screen_class("deployments") is DeploymentsScreen
    with pytest.raises(registry.ScreenUnavailable, match="unknown screen"):
        registry.screen_class("nope")
    monkeypatch.setitem(registry.SCREENS, "ghost", ("nomtui.tui.screens.ghost", "GhostScreen"))
    assert not registry.available("ghost")


# -- the header (pure) --------------------------------------------------------------------


def test_header_shows_health_token_name_and_production_banner() -> None:
    now = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    status = ClusterStatus(
        address="https://nomad.prod.example:4646",
        label="prod",
        namespace="ops",
        region="global",
        version="1.9.7",
        leader="10.0.0.1:4647",
        token_name="deploy-bot",
        token_expires=now + timedelta(hours=5),
        jobs=(("dead", 2), ("running", 9)),
        allocs=AllocTotals(running=12, pending=1, failed=2),
        nodes=NodeTotals(ready=4, down=1),
        consul=ConsulStatus(enabled=True, reachable=False),
        state=ConnectionState.STALE,
        stale_since=now - timedelta(minutes=3),
        detail="connection refused",
        production=True,
    )
    text = render_status(status, now).plain
    for part in (
        "PRODUCTION",
        "prod",
        "ns ops",
        "region global",
        "nomad 1.9.7",
        "leader 10.0.0.1:4647",
        "stale since",
        "(3m ago) connection refused",
        "jobs 9 running 2 dead",
        "allocs 12 running 1 pending 2 failed",
        "nodes 4 ready 1 down",
        "consul ✗ unreachable",
        "token deploy-bot (expires in 5h)",
    ):
        assert part in text, part
    expired = render_status(
        ClusterStatus(token_name="old", token_expires=now - timedelta(days=1)), now
    )
    assert "EXPIRED 1d ago" in expired.plain


def test_the_cluster_view_turns_the_header_stale_with_its_time() -> None:
    since = datetime(2025, 11, 24, 15, 58, tzinfo=UTC)
    state: ViewState[Any] = ViewState(
        view=ClusterView(),
        data=None,
        index=0,
        connection="stale",
        stale_since=since,
        error=Unreachable("http://nomad.example:4646", "connection refused"),
        at=since,
    )
    status = with_cluster_view(ClusterStatus(leader="10.0.0.1:4647"), state)
    assert (status.state, status.stale_since, status.leader) == (
        ConnectionState.STALE,
        since,
        "10.0.0.1:4647",  # what was known stays on screen, marked stale
    )
    assert "nomad.example" in status.detail


# -- against the sim ----------------------------------------------------------------------


async def command(pilot: Pilot[None], text: str) -> None:
    await pilot.press("colon")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandScreen))
    await pilot.press(*text, "enter")
    await until(pilot, lambda: not isinstance(pilot.app.screen, CommandScreen))


async def started(pilot: Pilot[None]) -> RecordingApp:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.jobs)
    return app  # type: ignore[return-value]


async def test_command_mode_opens_screens_and_esc_goes_back(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(160, 40)) as pilot:
        app = await started(pilot)
        await command(pilot, "dp")
        await until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen))
        # `:jobs` while on the jobs screen goes nowhere new
        await command(pilot, "jobs")
        assert len(app.screen_stack) == 2
        # a job name jumps to the job; `:jobs` from there goes back to the list
        await command(pilot, "services-py")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
        assert app.screen.job_id == "services-pyhi"  # type: ignore[attr-defined]
        await command(pilot, "jobs")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen))
        assert len(app.screen_stack) == 2


async def test_command_completion_inline_and_listed(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(160, 40)) as pilot:
        app = await started(pilot)
        await pilot.press("colon")
        await until(pilot, lambda: isinstance(app.screen, CommandScreen))
        screen = app.screen
        assert isinstance(screen, CommandScreen)
        await until(pilot, lambda: "ns ops" in screen.pool)  # namespaces arrive from the API
        await pilot.press(*"depl")
        await until(pilot, lambda: screen.shown[:1] == ["deployments"])
        await pilot.press("tab")
        assert screen.query_one(Input).value == "deployments"
        await pilot.press("ctrl+u", *"ops")
        await until(pilot, lambda: screen.shown[:2] == ["ops-grafana", "ops-prometheus"])
        await pilot.press("down", "tab", "enter")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
        assert app.screen.job_id == "ops-prometheus"  # type: ignore[attr-defined]


async def test_bad_commands_are_reported_not_run(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(160, 40)) as pilot:
        app = await started(pilot)
        await command(pilot, "frobnicate")
        assert app.notes[-1] == ("error", "No command or job called frobnicate")
        assert isinstance(app.screen, JobsScreen)
        app.open("nope")
        assert app.notes[-1][0] == "warning" and "No nope screen" in app.notes[-1][1]


async def test_namespace_switch_rebuilds_the_screens(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(160, 40)) as pilot:
        app = await started(pilot)
        await command(pilot, "deployments")
        await until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
        await command(pilot, "ns ops")
        await until(pilot, lambda: app.namespace == "ops" and len(app.screen_stack) == 3)
        top = app.screen
        assert isinstance(top, DeploymentsScreen) and top.namespace == "ops"
        assert app.cluster.namespace == "ops"
        await until(pilot, lambda: top.query("#deployments") and top.deployments)
        assert {d.Namespace for d in top.deployments.values()} == {"ops"}
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen))
        jobs = app.screen
        assert isinstance(jobs, JobsScreen) and jobs.namespace == "ops"
        await until(pilot, lambda: jobs.jobs and names(jobs.table))
        assert set(names(jobs.table)) == {"ops-grafana", "ops-prometheus"}
        # a namespace the cluster does not have is refused once namespaces are known
        await command(pilot, "ns nope")
        await until(pilot, lambda: any("No namespace 'nope'" in m for _, m in app.notes))
        assert app.namespace == "ops"
        # a job of another namespace is still found by name (the app asks the cluster)
        app._all_jobs = []
        await command(pilot, "www-wiki")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
        assert app.screen.namespace == "default"  # type: ignore[attr-defined]


async def test_cluster_switch_and_its_error_paths(sim: Sim) -> None:
    def switch(name: str) -> ClusterTarget:
        if name != "prod":
            raise ConfigError(f"No cluster {name!r} in config.toml (known: prod)")
        return ClusterTarget(
            store_for(sim), address="https://prod.example:4646", label="prod", production=True
        )

    async with app_for(sim, switch_cluster=switch, clusters=["prod"]).run_test(
        size=(160, 40)
    ) as pilot:
        app = await started(pilot)
        old_store = app.store
        await command(pilot, "cluster nope")
        await until(pilot, lambda: app.notes and "No cluster 'nope'" in app.notes[-1][1])
        assert app.store is old_store
        await command(pilot, "cluster prod")
        await until(pilot, lambda: app.cluster.label == "prod")
        assert app.store is not old_store and app.production
        assert not old_store.running()  # its watches are gone with its screens
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.jobs)
        await until(pilot, lambda: app.cluster.state is ConnectionState.LIVE)
        assert "PRODUCTION" in screen_svg(app)

    async with app_for(sim).run_test(size=(160, 40)) as pilot:
        app = await started(pilot)
        await command(pilot, "cluster prod")
        assert "config.toml" in app.notes[-1][1]


async def test_keys_are_remapped_by_binding_id(sim: Sim) -> None:
    keymap = {"jobs.filter": "f", "app.help": "f1"}
    async with app_for(sim, keymap=keymap).run_test(size=(160, 40)) as pilot:
        app = await started(pilot)
        await pilot.press("f")
        assert app.screen.focused is app.screen.query_one("#filter")
        await pilot.press("escape", "f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {row[2]: row[0] for row in help_screen.rows}
        assert rows["jobs.filter"] == "f"
        assert rows["app.help"] == "f1"


async def test_header_is_fed_by_the_cluster_view_and_never_shows_the_secret(sim: Sim) -> None:
    async with app_for(sim, label="demo").run_test(size=(160, 40)) as pilot:
        app = await started(pilot)
        await until(pilot, lambda: app.cluster.token_name == "sim management")
        await until(
            pilot,
            lambda: (
                app.cluster.nodes is not None
                and app.cluster.consul is not None
                and app.cluster.consul.reachable
            ),
        )
        status = app.cluster
        assert status.allocs is not None and status.allocs.running > 0
        assert status.consul is not None and status.consul.reachable
        svg = screen_svg(app)
        assert "sim&#160;management" in svg
        assert sim.management_token not in svg
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert sim.management_token not in screen_svg(app)


# -- cli.py wiring ------------------------------------------------------------------------

TOML = """
[keys]
"app.help" = "f1"

[clusters.dev]
address = "http://dev.example:4646"

[clusters.prod]
address = "https://prod.example:4646"
production = true
color = "red"
namespace = "web"
"""


def test_cli_passes_settings_and_a_cluster_switcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nomtui import cli
    from nomtui.config import Flags

    for name in list(os.environ):
        if name.startswith(("NOMAD_", "CONSUL_")) or name in ("BASE_DOMAIN", "XDG_CONFIG_HOME"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".config" / "nomtui").mkdir(parents=True)
    (tmp_path / ".config" / "nomtui" / "config.toml").write_text(TOML)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli, "_run_tui", lambda factory, **kw: seen.update(kw))

    cli._open_cluster(Flags(cluster="dev", addr="http://flag.example:4646", read_only=True))
    assert seen["address"] == "http://flag.example:4646"
    assert seen["clusters"] == ["dev", "prod"]
    assert seen["keymap"] == {"app.help": "f1"}
    assert seen["read_only"] is True and seen["production"] is False
    target = seen["switch_cluster"]("prod")
    # the --addr of this command line does not follow the operator to another cluster
    assert (target.address, target.label, target.namespace) == (
        "https://prod.example:4646",
        "prod",
        "web",
    )
    assert target.production and target.color == "red" and target.read_only
    with pytest.raises(ConfigError, match="Unknown cluster 'nope'"):
        seen["switch_cluster"]("nope")
