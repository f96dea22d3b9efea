"""From what a user typed to the job and allocation a command acts on.

Shared by every one-shot that takes `[JOB]` (status, urls, ssh, cp, logs, ...):

    job_id = resolve_job(arg, Path.cwd(), os.environ)       # given, or from the checkout
    async with nomad_client(settings) as nomad:
        job = await find_job(nomad, job_id, settings.nomad.namespace)
        alloc = pick_alloc(await running_allocs(nomad, job.ID, job.Namespace), None, job.ID)

`find_job` searches every namespace the token can read unless the settings pin one,
because IA developers rarely know (or set) the namespace of a review app; a name that
exists in two namespaces is an error that lists them, never a silent pick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nomtui.errors import ConfigError, NomtuiError

if TYPE_CHECKING:
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient
    from nomtui.config.model import Settings
    from nomtui.models.allocs import AllocStub
    from nomtui.models.jobs import JobStub

ALL_NAMESPACES = "*"
CONSUL_TIMEOUT_S = 3.0
"""One-shots ask Consul for extras (health, URLs); a dead Consul must not stall them."""


class JobNotFound(NomtuiError):
    title = "Job not found"

    def __init__(self, job_id: str, namespace: str | None, address: str) -> None:
        self.job_id = job_id
        self.namespace = namespace
        where = (
            f"in namespace {namespace}"
            if namespace and namespace != ALL_NAMESPACES
            else "in any namespace this token can read"
        )
        super().__init__(
            f"job {job_id} not found {where} at {address}; check the name "
            "(`nomtui jobs` lists them) and the namespace (-n)."
        )


class AmbiguousJob(NomtuiError):
    title = "Job in several namespaces"

    def __init__(self, job_id: str, namespaces: Sequence[str]) -> None:
        self.job_id = job_id
        self.namespaces = list(namespaces)
        super().__init__(
            f"job {job_id} exists in namespaces {', '.join(namespaces)}; "
            "pick one with -n NAMESPACE."
        )


class NoRunningAllocation(NomtuiError):
    title = "No running allocation"

    def __init__(self, job_id: str, wanted: int | None = None, running: int = 0) -> None:
        self.job_id = job_id
        if wanted is None or running == 0:
            message = f"job {job_id} has no running allocation; `nomtui status {job_id}` shows why."
        else:
            message = (
                f"job {job_id} has {running} running allocation{'s' if running != 1 else ''}, "
                f"so there is no number {wanted}; pick 1 to {running}."
            )
        super().__init__(message)


# -- clients ------------------------------------------------------------------------------


def nomad_client(settings: Settings) -> NomadClient:
    """The Nomad client for resolved settings (read-only when the cluster is), with its
    writes and exec sessions recorded in the audit log."""
    from nomtui.audit import attach
    from nomtui.client.nomad import NomadClient

    client = NomadClient.from_settings(
        settings.nomad, read_only=settings.read_only, cluster=settings.cluster
    )
    return attach(client, settings)


def consul_client(settings: Settings, timeout_s: float = CONSUL_TIMEOUT_S) -> ConsulClient:
    """The Consul client for resolved settings, with a short timeout for one-shots.

    Raises ConfigError when the Consul address cannot be parsed.
    """
    from nomtui.client.consul import ConsulClient

    return ConsulClient.from_settings(settings.consul, timeout_s=timeout_s)


def cluster_label(settings: Settings) -> str:
    """How messages name the cluster: its configured name, else the Nomad address."""
    return settings.cluster or settings.nomad.address


# -- the job ------------------------------------------------------------------------------


def resolve_job(arg: str | None, cwd: Path, env: Mapping[str, str]) -> str:
    """The job a command means: `arg` when given, else the one deployed from `cwd`.

    Raises ConfigError (one sentence) when neither names a job.
    """
    if arg is not None:
        job_id = arg.strip()
        if not job_id:
            raise ConfigError("The job name is empty; give a job name or leave it out.")
        return job_id
    from nomtui.actions.repo import job_from_cwd

    return job_from_cwd(cwd, env)


def pinned_namespace(namespace: str | None) -> str | None:
    """The namespace the settings pin, or None when every namespace should be searched."""
    return namespace if namespace and namespace != ALL_NAMESPACES else None


async def find_job(client: NomadClient, job_id: str, namespace: str | None) -> JobStub:
    """The job's stub, with its real namespace.

    With a pinned `namespace`, only that one is looked at; otherwise every namespace
    (`*`) is searched by prefix and the exact ID kept. Raises JobNotFound, or
    AmbiguousJob when the ID exists in more than one namespace.
    """
    pinned = pinned_namespace(namespace)
    stubs = await client.list_jobs(pinned or ALL_NAMESPACES, prefix=job_id)
    found = [stub for stub in stubs if job_id == stub.ID]
    if not found:
        raise JobNotFound(job_id, pinned, client.address)
    if len(found) > 1:
        raise AmbiguousJob(job_id, sorted(stub.Namespace for stub in found))
    return found[0]


# -- its allocations ----------------------------------------------------------------------


def is_running(alloc: AllocStub) -> bool:
    """Running and meant to keep running (not on its way out)."""
    return alloc.ClientStatus == "running" and alloc.DesiredStatus == "run"


async def running_allocs(client: NomadClient, job_id: str, namespace: str) -> list[AllocStub]:
    """The job's running allocations, newest first (the order `nomad job status` lists)."""
    allocs = await client.job_allocations(job_id, namespace)
    return [alloc for alloc in allocs if is_running(alloc)]


def pick_alloc(allocs: Sequence[AllocStub], index: int | None, job_id: str) -> AllocStub:
    """The allocation number `index` (1-based, as nom-sshn counts), the first when None.

    Raises NoRunningAllocation when there is none, or none with that number.
    """
    if not allocs:
        raise NoRunningAllocation(job_id)
    if index is None:
        return allocs[0]
    if not 1 <= index <= len(allocs):
        raise NoRunningAllocation(job_id, index, len(allocs))
    return allocs[index - 1]


pick = pick_alloc


__all__ = [
    "ALL_NAMESPACES",
    "CONSUL_TIMEOUT_S",
    "AmbiguousJob",
    "JobNotFound",
    "NoRunningAllocation",
    "cluster_label",
    "consul_client",
    "find_job",
    "is_running",
    "nomad_client",
    "pick",
    "pick_alloc",
    "pinned_namespace",
    "resolve_job",
    "running_allocs",
]
