"""`nomtui resubmit`: register a job's current spec again (nom-resubmit), without downtime.

Registering an unchanged spec makes Nomad evaluate the job afresh: allocations that
failed past their restart/reschedule limits are placed again, and a job that is `dead`
(or was stopped) runs again, since `Stop` is cleared as the alias's later version did.
The running allocations stay: an unchanged spec does not replace them.

The IA alias always stopped the job first and slept five seconds (downtime for a
healthy job) and wrote the spec to a dotfile in the current directory (a stray file in
the user's repo, and a leftover when interrupted). Here the spec travels in memory, and
stopping first is opt-in (`stop_first`), for moving allocations off their nodes; then
the stop is waited for properly instead of a fixed sleep.

The spec is re-sent as the raw JSON the agent returned, not through nomtui's models,
which keep only the fields nomtui shows: a round trip through them would drop the rest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from nomtui.errors import BadResponse, NomtuiError, ReadOnlyRefused

if TYPE_CHECKING:
    from nomtui.client.nomad import NomadClient

STOP_WAIT_S = 30.0
POLL_S = 0.5


class ResubmitResult(msgspec.Struct, kw_only=True):
    job: str
    namespace: str
    eval_id: str
    was_stopped: bool
    """The job had been stopped; resubmitting started it again."""
    stopped_first: bool
    stop_eval_id: str = ""
    stop_settled: bool = True
    """False when the stopped allocations had not all gone when the wait ran out."""
    warnings: str = ""


def guard(client: NomadClient, job_id: str) -> None:
    """Refuse before anything is sent when the cluster is read-only."""
    if client.read_only:
        raise ReadOnlyRefused(f"resubmit job {job_id}", client.cluster)


async def fetch_spec(client: NomadClient, job_id: str, namespace: str) -> dict[str, Any]:
    """The job exactly as the agent returns it (`GET /v1/job/:id`), as a dict."""
    from nomtui.client.jobs import job_path

    spec, _ = await client.http.get_json(job_path(job_id), {"namespace": namespace})
    if not isinstance(spec, dict) or spec.get("ID") != job_id:
        raise BadResponse(client.address, job_path(job_id), "the answer is not that job")
    return spec


def revived(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` to register again: `Stop` cleared so a stopped job runs again."""
    return {**spec, "Stop": False}


async def wait_stopped(
    client: NomadClient,
    job_id: str,
    namespace: str,
    *,
    timeout_s: float = STOP_WAIT_S,
    poll_s: float = POLL_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Wait until the scheduler has stopped every allocation of the job; False on timeout."""
    deadline = clock() + timeout_s
    while True:
        allocs = await client.job_allocations(job_id, namespace)
        if not any(a.DesiredStatus == "run" and not a.is_terminal for a in allocs):
            return True
        if clock() >= deadline:
            return False
        await sleep(poll_s)


async def resubmit(
    client: NomadClient,
    job_id: str,
    namespace: str,
    *,
    stop_first: bool = False,
    stop_wait_s: float = STOP_WAIT_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ResubmitResult:
    """Register the job's current spec again; with `stop_first`, stop it before."""
    guard(client, job_id)
    spec = await fetch_spec(client, job_id, namespace)
    stop_eval = ""
    settled = True
    if stop_first:
        stopped = await client.stop_job(job_id, namespace)
        stop_eval = stopped.EvalID
        settled = await wait_stopped(client, job_id, namespace, timeout_s=stop_wait_s, sleep=sleep)
    try:
        answer = await client.register_job(revived(spec), namespace)
    except NomtuiError as exc:
        if not stop_first:
            raise
        failure = NomtuiError(
            f"job {job_id} was stopped, but registering it again failed: "
            f"{exc.message.rstrip('.')}; run `nomtui resubmit {job_id}` to start it."
        )
    else:
        return ResubmitResult(
            job=job_id,
            namespace=namespace,
            eval_id=answer.EvalID,
            was_stopped=bool(spec.get("Stop")),
            stopped_first=stop_first,
            stop_eval_id=stop_eval,
            stop_settled=settled,
            warnings=answer.Warnings,
        )
    raise failure


__all__ = [
    "POLL_S",
    "STOP_WAIT_S",
    "ResubmitResult",
    "fetch_spec",
    "guard",
    "resubmit",
    "revived",
    "wait_stopped",
]
