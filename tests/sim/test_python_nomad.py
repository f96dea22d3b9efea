"""python-nomad, a client nobody here wrote, reads the running sim."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import nomad
import pytest

from nomtui.sim.server import Sim, SimConfig, SimThread


@pytest.fixture(scope="module")
def threaded() -> Iterator[Sim]:
    runner = SimThread(SimConfig(lifecycle=False))
    sim = runner.start()
    yield sim
    runner.stop()


def client(sim: Sim, token: str) -> nomad.Nomad:
    addr = urlsplit(sim.nomad_addr)
    return nomad.Nomad(host=addr.hostname, port=addr.port, token=token, timeout=10)


def test_python_nomad_lists_jobs_allocations_and_nodes(threaded: Sim) -> None:
    n = client(threaded, threaded.management_token)
    jobs = n.jobs.get_jobs()
    assert "www-nomad" in {j["ID"] for j in jobs}
    allocs = n.allocations.get_allocations()
    assert allocs and all("ClientStatus" in a for a in allocs)
    nodes = n.nodes.get_nodes()
    assert {nd["Name"] for nd in nodes} >= {"nomad-dc1-01", "nomad-dc1-04"}
    job = n.job.get_job("www-nomad")
    assert job["TaskGroups"][0]["Tasks"][0]["Name"] == "http"
    assert n.status.leader.get_leader()
    deployments = n.deployments.get_deployments()
    assert any(d["JobID"] == "internetarchive-hello-js" for d in deployments)


def test_python_nomad_sees_403_for_a_wrong_token(threaded: Sim) -> None:
    n = client(threaded, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(nomad.api.exceptions.URLNotAuthorizedNomadException):
        n.jobs.get_jobs()
