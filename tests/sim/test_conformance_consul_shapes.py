"""The sim's Consul answers have every key and JSON type of the spec's Consul examples.

Unit-level and fast: the Consul routes over a real socket from the stand-in Sim of
test_consul.py (the whole-sim wire test lives in test_conformance_wire.py). The
comparison is local so this file does not wait for tests/conformance.py.

Service tagged addresses follow the docs samples (`{"lan": {"address", "port"}}`), which
are the sim's spec; real agents also add `lan_ipv4` with capitalised keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sim.test_consul import Harness, cluster, h, make_alloc, sync

__all__ = ["h"]  # the fixture, re-exported for pytest

API = Path(__file__).resolve().parents[3] / "shared" / "api" / "consul"
pytestmark = pytest.mark.skipif(not API.is_dir(), reason=f"spec examples not found at {API}")

# Objects whose keys are data (names, user metadata), not schema.
MAPS = {"Meta", "NodeMeta", "ServiceMeta", "Tags", "TaggedAddresses", "<root map>"}
# Keys handled separately (see the module docstring).
DEVIATIONS = {"ServiceTaggedAddresses"}
JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),
    (int, "number"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next(name for kind, name in JSON_TYPES if isinstance(value, kind))


def conforms(actual: Any, example: Any, path: str = "$", key: str = "") -> list[str]:
    """Problems found: keys missing from `actual`, or a JSON type differing from `example`
    (an example null accepts anything; map-like objects only compare their values)."""
    if example is None:
        return []
    if json_type(actual) != json_type(example):
        return [f"{path}: {json_type(actual)} != {json_type(example)}"]
    problems: list[str] = []
    if isinstance(example, dict):
        if key in MAPS:
            if key == "TaggedAddresses" and any(isinstance(v, dict) for v in example.values()):
                return []  # service tagged addresses: see DEVIATIONS
            # the richest sample value: `"consul": []` would check nothing
            sample = next((v for v in example.values() if v), next(iter(example.values()), None))
            for k, v in actual.items():
                problems += conforms(v, sample, f"{path}.{k}", "")
            return problems
        for k, v in example.items():
            if k in DEVIATIONS:
                continue
            if k not in actual:
                problems.append(f"{path}.{k}: missing")
            else:
                problems += conforms(actual[k], v, f"{path}.{k}", k)
    elif isinstance(example, list) and example and actual:
        for i, item in enumerate(actual):
            problems += conforms(item, example[0], f"{path}[{i}]", key)
    return problems


CALLS = {
    "GET_v1_agent_members.json": "/v1/agent/members",
    "GET_v1_agent_self.json": "/v1/agent/self",
    "GET_v1_catalog_datacenters.json": "/v1/catalog/datacenters",
    "GET_v1_catalog_nodes.json": "/v1/catalog/nodes",
    "GET_v1_catalog_service_NAME.json": "/v1/catalog/service/web",
    "GET_v1_catalog_services.json": "/v1/catalog/services",
    "GET_v1_health_checks_NAME.json": "/v1/health/checks/web",
    "GET_v1_health_node_NODE.json": "/v1/health/node/nomad-client-1",
    "GET_v1_health_service_NAME.json": "/v1/health/service/web",
    "GET_v1_health_state_ANY.json": "/v1/health/state/any",
    "GET_v1_status_leader.json": "/v1/status/leader",
    "GET_v1_status_peers.json": "/v1/status/peers",
}


def test_every_consul_example_is_checked() -> None:
    assert sorted(p.name for p in API.iterdir()) == sorted(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_consul_shape_conforms(h: Harness, name: str) -> None:
    alloc = make_alloc()
    cluster(h.sim, alloc)
    resp = await h.client.get(CALLS[name])
    assert resp.status_code == 200, resp.text
    actual = resp.json()
    assert actual, "an empty answer proves nothing"
    example = json.loads((API / name).read_text())
    key = "<root map>" if name == "GET_v1_catalog_services.json" else ""
    assert conforms(actual, example, key=key) == []


async def test_service_tagged_addresses_follow_the_docs(h: Harness) -> None:
    alloc = make_alloc()
    cluster(h.sim, alloc)
    [row] = (await h.client.get("/v1/catalog/service/web")).json()
    documented = {"address": row["ServiceAddress"], "port": row["ServicePort"]}
    expected = {"lan": documented, "wan": documented}
    assert row["ServiceTaggedAddresses"] == expected
    [entry] = (await h.client.get("/v1/health/service/web")).json()
    assert entry["Service"]["TaggedAddresses"] == expected


async def test_checks_have_the_consul_1_20_fields(h: Harness) -> None:
    alloc = make_alloc()
    cluster(h.sim, alloc)
    h.sim.state.alloc_health[alloc["ID"]] = "warning"
    sync(h.sim, alloc)
    for check in (await h.client.get("/v1/health/state/any")).json():
        assert {"Type", "Interval", "Timeout", "ExposedPort", "Definition"} <= check.keys()
        assert {"CreateIndex", "ModifyIndex", "Namespace", "Partition"} <= check.keys()
        assert isinstance(check["ServiceTags"], list)  # [] rather than null, as Consul
