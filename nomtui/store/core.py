"""`Store`: one cluster's watches turned into immutable view states, plus its commands.

    store = Store(nomad, consul, read_only=settings.read_only)
    async with store.subscribe(JobsView("default")) as states:
        async for state in states:        # ViewState[Table[JobStub]], newest only
            ...
    await store.stop_job("web", "default")  # returns when accepted; the change comes
                                            # back through the subscription
    await store.aclose()

Nothing here imports Textual: a TUI worker iterates a subscription and posts messages.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from nomtui.store.commands import StoreCommands
from nomtui.store.signals import EVERYTHING, Signals
from nomtui.store.sources import Source, WatchOptions, observer_for, open_watch, plan
from nomtui.store.views import ViewKey, ViewState
from nomtui.store.watches import Channel, Hub, SourceState, Subscription, run_source, run_view

if TYPE_CHECKING:
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient

T = TypeVar("T")

DEFAULT_STALE_AFTER_S = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store(StoreCommands):
    """Shared watches and commands for one cluster (one Nomad, optionally one Consul)."""

    def __init__(
        self,
        nomad: NomadClient,
        consul: ConsulClient | None = None,
        *,
        read_only: bool,
        cluster: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        wait_s: float | None = None,
        min_interval_s: float | None = None,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
    ) -> None:
        """`read_only` is required on purpose: whoever builds a store decides it.

        `wait_s`/`min_interval_s` tune the Nomad blocking queries (None: the client's
        defaults); a view failing for `stale_after_s` turns from reconnecting to stale.
        Nothing is polled: leader, agent and token are read again when the watches give
        a reason (`nomtui.store.signals`).
        """
        self.nomad = nomad
        self.consul = consul
        self.read_only = read_only
        self.cluster = cluster or nomad.cluster
        self.clock = clock
        self.stale_after_s = stale_after_s
        self._opts = WatchOptions(wait_s=wait_s, min_interval_s=min_interval_s)
        self._hub = Hub()
        self.signals = Signals()

    def __repr__(self) -> str:
        mode = ", read_only" if self.read_only else ""
        return f"Store({self.cluster!r}{mode})"

    @property
    def tls_unverified(self) -> tuple[str, ...]:
        """The services reached over TLS without checking their certificates (the
        `skip_verify` settings); the header warns about them."""
        found = []
        context = self.nomad.http.ssl_context
        if context is not None and context.verify_mode == ssl.CERT_NONE:
            found.append("Nomad")
        consul = self.consul
        # py-consul takes `verify=False` for plain http too: only https is unverified TLS.
        secure = consul is not None and consul.address.lower().startswith("https://")
        if consul is not None and secure and consul.target.verify is False:
            found.append("Consul")
        return tuple(found)

    def refresh_cluster_info(self) -> None:
        """Read leader, agent and token again (on a namespace switch, say), if watched."""
        self.signals.nomad.fire(EVERYTHING)

    # -- subscriptions --------------------------------------------------------------------

    def subscribe(self, view: ViewKey[T]) -> Subscription[T]:
        """States of `view`, newest only, starting with the latest one if any exists.

        Subscribers of equal views share one set of watches; the watches start with the
        first subscriber and stop when the last one closes its subscription. Use
        `async with store.subscribe(view) as states:` so that closing is not forgotten.
        """
        plan(view, self.consul is not None)  # an unknown view fails here, not in a task

        def open_() -> Channel[ViewState[T]]:
            return cast(Channel[ViewState[T]], self._hub.acquire(view, self._view_producer(view)))

        return Subscription(view, open_, self._hub.release)

    def latest(self, view: ViewKey[T]) -> ViewState[T] | None:
        """The newest state of a view someone is subscribed to, without subscribing."""
        channel = self._hub.get(view)
        return cast(ViewState[T] | None, channel.latest if channel else None)

    def _view_producer(self, view: ViewKey[Any]) -> Callable[[Channel[Any]], Any]:
        the_plan = plan(view, self.consul is not None)

        async def produce(channel: Channel[Any]) -> None:
            sources = [self._open_source(s) for s in the_plan.sources]
            await run_view(
                channel,
                view,
                sources,
                self._hub.release,
                the_plan.build,
                clock=self.clock,
                stale_after_s=self.stale_after_s,
                optional=[self._open_source(s) for s in the_plan.optional],
            )

        return produce

    def _open_source(self, source: Source) -> Channel[SourceState]:
        async def produce(channel: Channel[Any]) -> None:
            watch = open_watch(source, self.nomad, self.consul, self._opts, self.signals)
            await run_source(channel, watch, self.clock, observer_for(source, self.signals))

        return cast(Channel[SourceState], self._hub.acquire(source, produce))

    # -- introspection (tests, diagnostics) -------------------------------------------------

    def running(self) -> list[Hashable]:
        """Views and sources whose tasks run now."""
        return self._hub.running()

    def starts(self, key: Hashable) -> int:
        """How many times the watch of a view or source was started."""
        return self._hub.starts[key]

    async def aclose(self) -> None:
        """Stop every watch; open subscriptions end. The clients stay open (not ours)."""
        await self._hub.aclose()


__all__ = ["DEFAULT_STALE_AFTER_S", "Store", "utc_now"]
