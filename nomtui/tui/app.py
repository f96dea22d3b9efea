"""`NomtuiApp`: the Textual application. It owns the cluster client and header state.

Screens get the client in their constructor and report connection changes with
`ConnectionChanged`; the app folds those into `cluster`, which every screen's header
watches. Bindings carry ids so users can remap keys (`keymap={"app.quit": "ctrl+q"}`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from nomtui.client.nomad import NomadClient
from nomtui.errors import NomtuiError
from nomtui.tui.header import ClusterStatus, ConnectionChanged, ConnectionState
from nomtui.tui.screens.jobs import Clock, JobsScreen

ClientFactory = Callable[[], NomadClient]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from: key, description, binding id."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close help")
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Keys on this screen\n\n", style="bold")
        for key, description, binding_id in self.rows:
            text.append(f"{key:>10}  ", style="bold cyan")
            text.append(f"{description:<28}")
            text.append(f"{binding_id}\n", style="dim")
        text.append("\nEsc closes this help.", style="dim")
        with VerticalScroll(id="help-body"):
            yield Static(text)


class NomtuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "nomtui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave nomtui"),
        Binding(
            "question_mark",
            "help",
            "Help",
            id="app.help",
            tooltip="Show the keys of this screen",
        ),
    ]

    cluster: reactive[ClusterStatus] = reactive(ClusterStatus, always_update=True)

    def __init__(
        self,
        client_factory: ClientFactory,
        *,
        address: str = "",
        label: str = "",
        clock: Clock = time.time_ns,
        namespace: str = "*",
        wait_s: float = 60.0,
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._client_factory = client_factory
        self._client: NomadClient | None = None
        self.clock = clock
        self.namespace = namespace
        self.wait_s = wait_s
        self._keymap = dict(keymap or {})
        self.set_reactive(NomtuiApp.cluster, ClusterStatus(address=address, label=label))

    @property
    def client(self) -> NomadClient:
        if self._client is None:
            # Made on first use, inside the app's event loop, which httpx binds to.
            self._client = self._client_factory()
            if not self.cluster.address:
                self.cluster = replace(self.cluster, address=self._client.address)
        return self._client

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        try:
            client = self.client
        except NomtuiError as exc:
            # A bad address or setting: say so in one line rather than crash with a
            # traceback (whose locals could include settings).
            self.exit(return_code=1, message=f"Error: {exc.message}")
            return
        self.push_screen(
            JobsScreen(client, clock=self.clock, namespace=self.namespace, wait_s=self.wait_s)
        )
        self.fetch_cluster_info()

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    @work(exclusive=True, group="cluster-info")
    async def fetch_cluster_info(self) -> None:
        """Leader and agent facts for the header; refreshed whenever the link comes back."""
        try:
            leader = await self.client.leader()
            agent = await self.client.agent_self()
        except NomtuiError:
            # The jobs watch reports the same failure in the header; a second, louder
            # report here would only repeat it. The next reconnect fetches again.
            self.cluster = replace(self.cluster, leader="")
            return
        self.cluster = replace(
            self.cluster, leader=leader, region=agent.region, version=agent.version
        )

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        was_live = self.cluster.state is ConnectionState.LIVE
        self.cluster = replace(self.cluster, state=message.state, detail=message.detail)
        if message.state is ConnectionState.LIVE and not was_live:
            self.fetch_cluster_info()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        rows: list[tuple[str, str, str]] = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description:
                continue
            rows.append((self.get_key_display(binding), binding.description, binding.id or ""))
        # Our own bindings (with ids) first, then the widgets' built-ins.
        rows.sort(key=lambda row: (row[2] == "", row[2]))
        self.push_screen(HelpScreen(rows))


__all__ = ["ClientFactory", "HelpScreen", "NomtuiApp"]
