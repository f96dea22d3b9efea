"""What every nomtui screen shares: the store, the clock, view subscriptions, the header.

A screen calls `self.follow(view)` for each store view it shows. A worker iterates the
store subscription and posts `ViewUpdated` to the screen, which handles it in
`on_view_updated` (typed messages named for what happened, as harlequin does). The
connection state of every view goes to the app, which shows it in the header: one
message per change, never one per snapshot or retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker

from nomtui.store import Store, ViewKey, ViewState
from nomtui.tui.header import ConnectionChanged, ConnectionState

T = TypeVar("T")
Clock = Callable[[], int]
"""Unix time in nanoseconds; injected so ages are stable in tests and snapshots."""

_CONNECTION = {
    "live": ConnectionState.LIVE,
    "reconnecting": ConnectionState.RECONNECTING,
    "stale": ConnectionState.RECONNECTING,
}


class ViewUpdated(Message, Generic[T]):
    """The store delivered a new state for a view this screen follows."""

    def __init__(self, view: ViewKey[T], state: ViewState[T]) -> None:
        super().__init__()
        self.view = view
        self.state = state


class StoreScreen(Screen[None]):
    """A screen fed by store views. Subclasses compose their widgets and call `follow`."""

    def __init__(self, store: Store, *, clock: Clock = time.time_ns) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self._followed: dict[ViewKey[Any], Worker[None]] = {}

    def follow(self, view: ViewKey[Any]) -> None:
        """Keep receiving `ViewUpdated` for `view` while this screen lives."""
        if view in self._followed:
            return
        self._followed[view] = self.run_worker(
            self._pump(view), group=f"view-{view!r}", exit_on_error=False
        )

    def unfollow(self, view: ViewKey[Any]) -> None:
        worker = self._followed.pop(view, None)
        if worker is not None:
            worker.cancel()

    async def _pump(self, view: ViewKey[Any]) -> None:
        last = ""
        async with self.store.subscribe(view) as states:
            async for state in states:
                if state.connection != last:
                    last = state.connection
                    detail = state.error.message if state.error is not None else ""
                    self.app.post_message(
                        ConnectionChanged(
                            _CONNECTION.get(state.connection, ConnectionState.LIVE), detail
                        )
                    )
                self.post_message(ViewUpdated(view, state))

    def on_unmount(self) -> None:
        for view in list(self._followed):
            self.unfollow(view)


__all__ = ["Clock", "StoreScreen", "ViewUpdated"]
