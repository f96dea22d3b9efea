"""`NomadClient`: typed access to the Nomad HTTP API, one object per cluster.

The methods live by area in their own modules (`jobs`, `job_writes`, `allocs`, `nodes`,
`deployments`, `cluster`) as mixins over `NomadBase`; this module composes them and
builds the HTTP base from settings. Reads return `nomtui.models`; `watch_*` methods
return async iterators of `Snapshot`/`Retrying` built on blocking queries; writes refuse
with `ReadOnlyRefused`, before any request, on a read-only cluster.

    async with NomadClient.from_settings(settings.nomad, read_only=settings.read_only) as n:
        jobs = await n.list_jobs()
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from nomtui.client.allocs import AllocsApi
from nomtui.client.base import Watch
from nomtui.client.cluster import ClusterApi
from nomtui.client.deployments import DeploymentsApi
from nomtui.client.http import EventHooks, HttpClient
from nomtui.client.job_writes import JobWritesApi
from nomtui.client.jobs import JobsApi
from nomtui.client.live_lists import LiveListsApi
from nomtui.client.nodes import NodesApi
from nomtui.client.tls import TlsOptions, ssl_context
from nomtui.config.secret import Secret
from nomtui.models.jobs import JobStub

if TYPE_CHECKING:
    from nomtui.config.model import NomadSettings

DEFAULT_ADDRESS = "http://127.0.0.1:4646"

JobsWatch = Watch[list[JobStub]]

WRITE_METHODS = frozenset(
    {
        "register_job",
        "stop_job",
        "revert_job",
        "dispatch_job",
        "periodic_force",
        "scale_job",
        "evaluate_job",
        "set_job_stable",
        "stop_allocation",
        "restart_allocation",
        "signal_allocation",
        "promote_deployment",
        "fail_deployment",
        "pause_deployment",
        "set_allocation_health",
        "drain_node",
        "set_eligibility",
    }
)
"""Every method that changes the cluster; each refuses on a read-only client."""


class NomadClient(
    LiveListsApi, JobsApi, JobWritesApi, AllocsApi, NodesApi, DeploymentsApi, ClusterApi
):
    """One Nomad cluster. Use as `async with NomadClient(addr, token) as nomad:`."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        token: str | Secret | None = None,
        *,
        region: str | None = None,
        namespace: str | None = None,
        tls: TlsOptions | None = None,
        http_auth: Secret | None = None,
        read_only: bool = False,
        cluster: str | None = None,
        event_hooks: EventHooks | None = None,
        http: HttpClient | None = None,
    ) -> None:
        """`namespace`/`region` are the defaults sent when a call names none; `cluster`
        names the cluster in read-only refusals (the address when not given); `http`
        replaces the whole HTTP base (tests, or sharing one between clients)."""
        if http is None:
            secure = address.lower().startswith("https://")
            tls = tls or TlsOptions()
            http = HttpClient(
                address,
                token,
                region=region,
                namespace=namespace,
                # A plain http:// agent needs no CA; building a context would only
                # fail on a CA setting meant for another cluster.
                verify=ssl_context(tls) if secure else True,
                server_name=tls.server_name if secure else None,
                basic_auth=http_auth,
                event_hooks=event_hooks,
            )
        del token
        self.http = http
        self.read_only = read_only
        self.cluster = cluster or self.http.address

    @classmethod
    def from_settings(
        cls,
        settings: NomadSettings,
        *,
        read_only: bool = False,
        cluster: str | None = None,
        event_hooks: EventHooks | None = None,
    ) -> NomadClient:
        """A client for resolved settings (`nomtui.config.resolve(...).nomad`)."""
        tls = TlsOptions(
            ca_cert=settings.ca_cert,
            ca_path=settings.ca_path,
            client_cert=settings.client_cert,
            client_key=settings.client_key,
            server_name=settings.tls_server_name,
            skip_verify=settings.skip_verify,
        )
        return cls(
            settings.address,
            settings.token,
            region=settings.region,
            namespace=settings.namespace,
            tls=tls,
            http_auth=settings.http_auth,
            read_only=read_only,
            cluster=cluster,
            event_hooks=event_hooks,
        )

    @property
    def address(self) -> str:
        return self.http.address

    def __repr__(self) -> str:
        mode = ", read_only" if self.read_only else ""
        return f"NomadClient({self.http!r}{mode})"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> NomadClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = ["DEFAULT_ADDRESS", "WRITE_METHODS", "JobsWatch", "NomadClient"]
