"""`NomtuiApp`: the Textual application. It owns the store, navigation and header state.

- Screens get the store in their constructor and ask for other screens with
  `Open(kind, **params)`; the app resolves the kind through `registry.SCREENS`.
- `:` opens command mode (`nomtui.tui.command`); `ns NAME` and `cluster NAME` switch at
  runtime by rebuilding the screen stack on the new namespace or store.
- The header state `cluster` comes from the store's `ClusterView` plus the connection
  changes screens report; every screen's header watches it.
- Bindings carry ids so users can remap keys (`keymap={"app.quit": "ctrl+q"}`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from nomtui.errors import NomtuiError
from nomtui.sanitize import clean
from nomtui.store import ClusterView, JobsView, Store
from nomtui.tui import registry
from nomtui.tui.collector import FREEZE_EVERY_S, CollectorTuning
from nomtui.tui.command import CommandError, CommandScreen, candidates, parse_command
from nomtui.tui.header import (
    ClusterStatus,
    ConnectionChanged,
    ConnectionState,
    with_cluster_view,
)
from nomtui.tui.help import HelpScreen, help_rows
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock

StoreFactory = Callable[[], Store]


@dataclass(frozen=True)
class ClusterTarget:
    """Everything the app needs to talk to another cluster (built by cli.py)."""

    store_factory: StoreFactory
    address: str
    label: str
    namespace: str = "*"
    read_only: bool = False
    production: bool = False
    color: str | None = None


ClusterSwitcher = Callable[[str], ClusterTarget]
"""Settings for a cluster named in config.toml; raises `NomtuiError` for unknown names."""


@dataclass(frozen=True)
class Route:
    """How a screen on the stack was built, so it can be rebuilt or found again."""

    kind: str
    params: tuple[tuple[str, str], ...]


class NomtuiApp(App[None]):
    # Absolute: Textual resolves a relative path next to the module of the *subclass*.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "nomtui"
    # `:` is the command mode here (k9s); Textual's ctrl+p palette would be a second one.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave nomtui"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys of this screen"),
        Binding(
            "colon",
            "command",
            "Command",
            id="app.command",
            tooltip="Jump to a screen, namespace, cluster or job by name",
        ),
        Binding("escape", "go_back", "Back", id="app.back", tooltip="Back to the previous screen"),
    ]

    cluster: reactive[ClusterStatus] = reactive(ClusterStatus, always_update=True)

    def __init__(
        self,
        store_factory: StoreFactory,
        *,
        address: str = "",
        label: str = "",
        clock: Clock = time.time_ns,
        namespace: str = "*",
        keymap: Mapping[str, str] | None = None,
        read_only: bool = False,
        production: bool = False,
        color: str | None = None,
        clusters: Sequence[str] = (),
        switch_cluster: ClusterSwitcher | None = None,
    ) -> None:
        super().__init__()
        self._store_factory = store_factory
        self._store: Store | None = None
        self.clock = clock
        self.namespace = namespace
        self.read_only = read_only
        self.production = production
        self.clusters = tuple(clusters)
        self._switch_cluster = switch_cluster
        self._keymap = dict(keymap or {})
        self._collector = CollectorTuning()
        self._routes: weakref.WeakKeyDictionary[Screen[Any], Route] = weakref.WeakKeyDictionary()
        self._namespaces: list[str] = []
        self._all_jobs: list[tuple[str, str]] = []
        """(namespace, ID) of every job, as last listed for command mode."""
        self.set_reactive(
            NomtuiApp.cluster,
            ClusterStatus(
                address=address,
                label=label,
                namespace=namespace,
                read_only=read_only,
                production=production,
                color=color,
            ),
        )

    @property
    def store(self) -> Store:
        store = self._store
        if store is None:
            # Made on first use, inside the app's event loop, which httpx binds to.
            store = self._store_factory()
            self._adopt(store)
        return store

    def _adopt(self, store: Store) -> None:
        # Read-only is one fact: whatever the app was told, the store refuses too.
        store.read_only = store.read_only or self.read_only
        self._store = store
        self.read_only = store.read_only
        self.cluster = replace(
            self.cluster,
            address=self.cluster.address or store.nomad.address,
            read_only=store.read_only,
            tls_unverified=store.tls_unverified,
        )

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        try:
            self.store  # noqa: B018 - building it is the point: fail here, not later
        except NomtuiError as exc:
            # A bad address or setting: say so in one line rather than crash with a
            # traceback (whose locals could include settings).
            self.exit(return_code=1, message=f"Error: {exc.message}")
            return
        self.open("jobs")
        self.follow_cluster()
        self.set_interval(FREEZE_EVERY_S, self._collector.tick, name="gc-freeze")

    async def on_unmount(self) -> None:
        self._collector.close()
        await self._close_store()

    async def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            await store.aclose()
            await store.nomad.aclose()
            if store.consul is not None:
                await store.consul.aclose()

    # -- header -------------------------------------------------------------------------

    @work(exclusive=True, group="cluster-info", exit_on_error=False)
    async def follow_cluster(self) -> None:
        """Leader, version, token, counts and connection for the header."""
        async with self.store.subscribe(ClusterView()) as states:
            async for state in states:
                self.cluster = with_cluster_view(self.cluster, state)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        current = self.cluster.state
        if current is ConnectionState.STALE and message.state is ConnectionState.RECONNECTING:
            return  # the cluster view knows more: it has been failing for a while
        self.cluster = replace(self.cluster, state=message.state, detail=message.detail)

    # -- navigation -----------------------------------------------------------------------

    def on_open(self, message: Open) -> None:
        self.open(message.kind, **message.params)

    def open(self, kind: str, **params: str) -> None:
        """Show the screen of `kind`: back to it if it is on the stack, else push it."""
        if kind in registry.NAMESPACED and "namespace" not in params:
            params["namespace"] = self.namespace
        route = Route(kind, tuple(sorted(params.items())))
        stack = self.screen_stack
        for depth, screen in enumerate(reversed(stack)):
            if self._routes.get(screen) == route:
                for _ in range(depth):
                    self.pop_screen()
                return
        try:
            screen = self._build(route)
        except registry.ScreenUnavailable as exc:
            self.notify(f"No {kind} screen yet: {exc.reason}", severity="warning")
            return
        self.push_screen(screen)

    def _build(self, route: Route) -> Screen[Any]:
        # Every registered screen takes (store, clock=..., **params): the registry's contract.
        cls = cast(Callable[..., Screen[Any]], registry.screen_class(route.kind))
        screen = cls(self.store, clock=self.clock, **dict(route.params))
        self._routes[screen] = route
        return screen

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "go_back":
            # The first screen is Textual's blank default, the second is the jobs list:
            # nothing to go back to from there (Esc then means "clear" on the screen).
            # Dialogs close themselves and do not count.
            return len([s for s in self.screen_stack if not s.is_modal]) > 2
        return True

    def action_go_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()

    # -- command mode ---------------------------------------------------------------------

    def action_command(self) -> None:
        if isinstance(self.screen, CommandScreen):
            return
        screen = CommandScreen(self._candidates())
        self.push_screen(screen, self._command_entered)
        self._load_candidates(screen)

    def _known_jobs(self) -> list[tuple[str, str]]:
        """Jobs of every namespace as last listed, plus whatever a jobs view shows now."""
        found = dict.fromkeys(self._all_jobs)
        for view in (JobsView(self.namespace), JobsView("*")):
            latest = self.store.latest(view)
            if latest is not None and latest.data is not None:
                found.update(dict.fromkeys((j.Namespace, j.ID) for j in latest.data.values()))
        return list(found)

    def _candidates(self, jobs: Sequence[tuple[str, str]] | None = None) -> list[str]:
        jobs = self._known_jobs() if jobs is None else jobs
        kinds = [k for k in registry.COMMAND_KINDS if registry.available(k)]
        pool = candidates(self._namespaces, self.clusters, jobs)
        return [c for c in pool if c not in registry.COMMAND_KINDS or c in kinds]

    @work(exclusive=True, group="command-candidates", exit_on_error=False)
    async def _load_candidates(self, screen: CommandScreen) -> None:
        """Namespaces and every job, read once per command mode (no watch needed)."""
        try:
            await self._list_everything()
        except NomtuiError:
            return  # completion is a convenience: the typed command still works
        if screen.is_attached:
            screen.set_pool(self._candidates())

    async def _list_everything(self) -> None:
        self._namespaces = [n.Name for n in await self.store.nomad.list_namespaces()]
        self._all_jobs = [(j.Namespace, j.ID) for j in await self.store.nomad.list_jobs("*")]

    def _command_entered(self, text: str | None) -> None:
        if text:
            self.run_command(text)

    @work(exclusive=True, group="command", exit_on_error=False)
    async def run_command(self, text: str) -> None:
        """Parse and run one command line; problems become a notification."""
        try:
            command = parse_command(text, self._known_jobs(), self.namespace)
        except CommandError as first:
            # Perhaps a job of another namespace, typed before the list arrived: ask.
            try:
                await self._list_everything()
                command = parse_command(text, self._known_jobs(), self.namespace)
            except (CommandError, NomtuiError) as exc:
                message = exc.message if isinstance(exc, CommandError) else first.message
                self.notify(message, title="Command", severity="error")
                return
        match command.action:
            case "quit":
                self.exit()
            case "open":
                self.open(command.target)
            case "job":
                self.open("job", namespace=command.namespace, job_id=command.target)
            case "namespace":
                self.switch_namespace(command.target)
            case "cluster":
                self.switch_cluster(command.target)

    # -- namespace and cluster switching --------------------------------------------------

    @work(exclusive=True, group="switch", exit_on_error=False)
    async def switch_namespace(self, namespace: str) -> None:
        """Show `namespace` (`*`: all): the namespaced screen on top is rebuilt on it."""
        if namespace != "*" and self._namespaces and namespace not in self._namespaces:
            known = ", ".join(self._namespaces)
            self.notify(f"No namespace {namespace!r} (known: {known})", severity="error")
            return
        self.namespace = namespace
        self.cluster = replace(self.cluster, namespace=namespace)
        self.store.refresh_cluster_info()  # what the token may see can differ by namespace
        routes = [self._routes.get(s) for s in self.screen_stack]
        top = next((r for r in reversed(routes) if r is not None), None)
        wanted = [Route("jobs", (("namespace", namespace),))]
        if top is not None and top.kind in registry.NAMESPACED and top.kind != "jobs":
            params = {**dict(top.params), "namespace": namespace}
            wanted.append(Route(top.kind, tuple(sorted(params.items()))))
        await self._rebuild(wanted)

    async def _rebuild(self, routes: Sequence[Route]) -> None:
        """Replace every screen with fresh ones built from `routes` (the store stays)."""
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        for route in routes:
            await self.push_screen(self._build(route))

    @work(exclusive=True, group="switch", exit_on_error=False)
    async def switch_cluster(self, name: str) -> None:
        if self._switch_cluster is None:
            self.notify(
                "Switching clusters needs clusters in config.toml (and nomtui started on one)",
                severity="error",
            )
            return
        try:
            target = self._switch_cluster(name)
            # Built before anything is torn down: a bad setting leaves the old cluster up.
            store = target.store_factory()
        except NomtuiError as exc:
            self.notify(exc.message, title=f"Cluster {name}", severity="error")
            return
        # Screens first: their subscriptions end with them, then the old store can close.
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        self.workers.cancel_group(self, "cluster-info")
        await self._close_store()
        self._store_factory = target.store_factory
        self.namespace = target.namespace
        self.read_only = target.read_only
        self.production = target.production
        self._namespaces = []
        self._all_jobs = []
        self.cluster = ClusterStatus(
            address=target.address,
            label=target.label,
            namespace=target.namespace,
            read_only=target.read_only,
            production=target.production,
            color=target.color,
        )
        self._adopt(store)
        await self._rebuild([Route("jobs", (("namespace", target.namespace),))])
        self.follow_cluster()
        self.notify(f"Switched to cluster {name}", title="Cluster")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification as plain, control-free text: they quote job names and server
        answers, and a `[` in those must neither style the toast nor crash the markup parser."""
        super().notify(
            clean(message, newlines=True),
            title=clean(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # -- help -----------------------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_rows(self, self.screen)))


__all__ = ["ClusterSwitcher", "ClusterTarget", "HelpScreen", "NomtuiApp", "Route", "StoreFactory"]
