"""What every nomtui screen shares: the store, the clock, view subscriptions, the header.

A screen calls `self.follow(view)` for each store view it shows. A worker iterates the
store subscription and posts `ViewUpdated` to the screen, which handles it in
`on_view_updated` (typed messages named for what happened, as harlequin does). The
connection state of every view goes to the app, which shows it in the header: one
message per change, never one per snapshot or retry.

A screen covered by another one (not by a dialog, which leaves it in sight) stops
working: its timers (`every`) pause at once, work that waits on `shown` waits, and
after `LINGER_S` it lets go of its views, so their watches stop unless another screen
shares them. Back on top, it follows them again and gets their latest state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from textual import events
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker

from nomtui.store import Store, ViewKey, ViewState
from nomtui.tui.header import ConnectionChanged, ConnectionState

T = TypeVar("T")
Clock = Callable[[], int]
"""Unix time in nanoseconds; injected so ages are stable in tests and snapshots."""

LINGER_S = 10.0
"""How long a covered screen keeps its views: a look at a detail and back costs no new
watch (a first answer of a big list is its most expensive one)."""

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
        self._followed: dict[ViewKey[Any], Worker[None] | None] = {}
        """Followed views and their pumps; None while covered (see the module docstring)."""
        self._pausable: list[Timer] = []
        self._linger: Timer | None = None
        self.shown = asyncio.Event()
        """Set while this screen is on top (or under a dialog)."""

    def follow(self, view: ViewKey[Any]) -> None:
        """Keep receiving `ViewUpdated` for `view` while this screen lives."""
        if self._followed.get(view) is not None:
            return
        self._followed[view] = self.run_worker(
            self._pump(view), group=f"view-{view!r}", exit_on_error=False
        )

    def unfollow(self, view: ViewKey[Any]) -> None:
        worker = self._followed.pop(view, None)
        if worker is not None:
            worker.cancel()

    def every(self, interval_s: float, callback: Callable[[], object]) -> Timer:
        """`set_interval` for local work (ages, re-judging): paused while covered."""
        timer = self.set_interval(interval_s, callback)
        self._pausable.append(timer)
        return timer

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

    # -- covered and uncovered ------------------------------------------------------------

    def on_mount(self) -> None:
        self.shown.set()  # pushed to be shown; a ScreenResume follows

    def on_screen_suspend(self, _: events.ScreenSuspend) -> None:
        if self.app.screen.is_modal and self in self.app.screen_stack:
            return  # a dialog: this screen stays in sight behind it
        self.shown.clear()
        for timer in self._pausable:
            timer.pause()
        if self._linger is None:
            self._linger = self.set_timer(LINGER_S, self._let_go)

    def on_screen_resume(self, _: events.ScreenResume) -> None:
        self.shown.set()
        for timer in self._pausable:
            timer.resume()
        if self._linger is not None:
            self._linger.stop()
            self._linger = None
        for view in [v for v, worker in self._followed.items() if worker is None]:
            self.follow(view)

    def _let_go(self) -> None:
        self._linger = None
        for view, worker in self._followed.items():
            if worker is not None:
                worker.cancel()
                self._followed[view] = None

    def on_unmount(self) -> None:
        for view in list(self._followed):
            self.unfollow(view)


__all__ = ["LINGER_S", "Clock", "StoreScreen", "ViewUpdated"]
