"""Every corpus case through the one-shot commands and through the client API.

Each case ends in one clear `Error: …` line with a documented exit code, or in output
where nothing the cluster sent can act on the terminal; never in a traceback (the
commands run in-process and `invoke` re-raises anything that is not an exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.client.consul import ConsulClient
from nomtui.client.logs import LogStream
from nomtui.client.nomad import NomadClient
from nomtui.errors import NomtuiError
from tests.commands import base_env, invoke, one_error_line
from tests.corpus.badserver import BadServer
from tests.corpus.cases import COMMANDS, EXIT_CODES, JOB, Case, all_cases

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

CASES = all_cases()
CAP = 8 * 1024 * 1024
"""The body cap the commands run with here (the default, 256 MiB, is tested on its own)."""
LOG_READ_S = 8.0
"""A log read without follow that has not ended by then is retrying forever."""
# What a terminal could act on: C0 controls but tab and newline, DEL, C1, bidi controls.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@contextlib.contextmanager
def bad_servers(case: Case, sim: Sim) -> Iterator[tuple[BadServer, BadServer]]:
    with (
        BadServer(case.nomad, upstream=sim.nomad_addr) as nomad,
        BadServer(case.consul, upstream=sim.consul_addr) as consul,
    ):
        yield nomad, consul


def assert_inert(text: str, where: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"{where} carries {found.group()!r}: {text!r}"


def param(case: Case, *values: object, id: str) -> Any:
    """A test parameter; a case with a `known_bug` is a strict xfail (so its fix shows)."""
    marks: list[pytest.MarkDecorator] = []
    if case.known_bug:
        marks = [pytest.mark.xfail(strict=True, reason=case.known_bug), pytest.mark.timeout(15)]
    return pytest.param(case, *values, id=id, marks=marks)


@pytest.mark.parametrize(
    ("case", "command"),
    [param(c, cmd, id=f"{c.id}-{cmd}") for c in CASES for cmd in c.commands],
)
def test_command(case: Case, command: str, corpus_sim: Sim, tmp_path: Path) -> None:
    with bad_servers(case, corpus_sim) as (nomad, consul):
        env = base_env(
            tmp_path,
            corpus_sim,
            NOMAD_ADDR=nomad.address,
            CONSUL_HTTP_ADDR=consul.address,
            NOMTUI_MAX_BODY_BYTES=str(CAP),
        )
        ran = invoke(env, *COMMANDS[command])
        touched = any(by_rule for _, _, by_rule in nomad.seen + consul.seen)
    assert ran.code in EXIT_CODES[command], ran
    assert "Traceback" not in ran.err
    assert_inert(ran.out, "stdout")
    assert_inert(ran.err, "stderr")
    if ran.code == 1:
        line = one_error_line(ran.err)
        if case.error and touched:
            assert case.error in line, line
    if not touched:
        return  # this command never asked for the broken answer
    if case.outcome == "error":
        assert ran.code == 1, ran
    elif case.outcome == "ok":
        assert ran.code == 0, ran
        for text in case.stdout:
            assert text in ran.out, ran.out


# -- the client API -------------------------------------------------------------------------


async def _reads(client: NomadClient, alloc_id: str) -> list[str]:
    """Every read the one-shots build on; what each gave (`ok` or the error message)."""
    calls = {
        "list_jobs": lambda: client.list_jobs("*"),
        "get_job": lambda: client.get_job(JOB, "default"),
        "job_allocations": lambda: client.job_allocations(JOB, "default"),
        "list_allocations": lambda: client.list_allocations("*"),
        "get_allocation": lambda: client.get_allocation(alloc_id),
        "list_nodes": lambda: client.list_nodes(),
        "list_deployments": lambda: client.list_deployments("*"),
        "agent_self": lambda: client.agent_self(),
    }
    outcomes = []
    for name, call in calls.items():
        try:
            await call()
        except NomtuiError as exc:
            assert_inert(exc.message, name)
            outcomes.append(exc.message)
        else:
            outcomes.append("ok")
    return outcomes


async def _log_stream(client: NomadClient, alloc_id: str) -> str:
    """Read the task's log as frames, once (no follow); `ok` or the error message."""
    try:
        async with asyncio.timeout(LOG_READ_S):
            async for chunk in LogStream(client.http, alloc_id, "http", follow=False):
                assert isinstance(chunk.data, bytes)
    except NomtuiError as exc:
        assert_inert(exc.message, "logs")
        return exc.message
    except TimeoutError:
        raise AssertionError(
            f"a log read without follow still retries after {LOG_READ_S} s"
        ) from None
    return "ok"


async def _consul_reads(client: ConsulClient) -> list[str]:
    outcomes = []
    for call in (client.services, lambda: client.service_health("www-nomad"), client.nodes):
        try:
            await call()
        except NomtuiError as exc:
            assert_inert(exc.message, "consul")
            outcomes.append(exc.message)
        else:
            outcomes.append("ok")
    return outcomes


@pytest.mark.parametrize("case", [param(c, id=c.id) for c in CASES])
async def test_client_api(case: Case, corpus_sim: Sim) -> None:
    """Only `NomtuiError` leaves the client, whatever the answer; its message is inert."""
    alloc_id = next(
        a["ID"]
        for a in corpus_sim.state.allocs.values()
        if a["JobID"] == JOB and a["ClientStatus"] == "running"
    )
    with bad_servers(case, corpus_sim) as (nomad, consul):
        async with NomadClient(
            nomad.address, corpus_sim.management_token, read_only=True
        ) as client:
            client.http.max_body_bytes = CAP
            outcomes = await _reads(client, alloc_id)
            if any("fs/logs" in r.path.pattern for r in case.nomad):
                outcomes.append(await _log_stream(client, alloc_id))
        if case.consul:
            async with ConsulClient(consul.address, None, timeout_s=5) as consul_client:
                outcomes += await _consul_reads(consul_client)
    if case.outcome == "error" and case.error:
        broken = [o for o in outcomes if o != "ok"]
        assert broken, f"no call failed on {case.id}"
        assert any(case.error in o for o in broken), broken
