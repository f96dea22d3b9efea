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

from nomtui.errors import NomtuiError
from nomtui.store import ClusterView, Store
from nomtui.tui.header import ClusterStatus, ConnectionChanged
from nomtui.tui.screens.base import Clock
from nomtui.tui.screens.jobs import JobsScreen

StoreFactory = Callable[[], Store]


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
        store_factory: StoreFactory,
        *,
        address: str = "",
        label: str = "",
        clock: Clock = time.time_ns,
        namespace: str = "*",
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._store_factory = store_factory
        self._store: Store | None = None
        self.clock = clock
        self.namespace = namespace
        self._keymap = dict(keymap or {})
        self.set_reactive(NomtuiApp.cluster, ClusterStatus(address=address, label=label))

    @property
    def store(self) -> Store:
        if self._store is None:
            # Made on first use, inside the app's event loop, which httpx binds to.
            self._store = self._store_factory()
            if not self.cluster.address:
                self.cluster = replace(self.cluster, address=self._store.nomad.address)
        return self._store

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        try:
            store = self.store
        except NomtuiError as exc:
            # A bad address or setting: say so in one line rather than crash with a
            # traceback (whose locals could include settings).
            self.exit(return_code=1, message=f"Error: {exc.message}")
            return
        self.push_screen(JobsScreen(store, clock=self.clock, namespace=self.namespace))
        self.follow_cluster()

    async def on_unmount(self) -> None:
        if self._store is not None:
            await self._store.aclose()
            await self._store.nomad.aclose()
            if self._store.consul is not None:
                await self._store.consul.aclose()

    @work(exclusive=True, group="cluster-info")
    async def follow_cluster(self) -> None:
        """Leader, region and version for the header, from the store's cluster view."""
        async with self.store.subscribe(ClusterView()) as states:
            async for state in states:
                data = state.data
                if data is None:
                    continue
                self.cluster = replace(
                    self.cluster, leader=data.leader, region=data.region, version=data.version
                )

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.cluster = replace(self.cluster, state=message.state, detail=message.detail)

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


__all__ = ["HelpScreen", "NomtuiApp", "StoreFactory"]
