"""Tolerant decoding and its limits: defaults, unknown fields, strict types with JSON
paths, secrets kept out of reprs, stream heartbeats, and the small helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from nomtui.models.allocs import Allocation, AllocStub, TaskEvent, TaskState
from nomtui.models.base import ModelError, decode, decoder, parse_time
from nomtui.models.cluster import AclToken, AgentSelf, SearchResponse
from nomtui.models.consul import ConsulCheck, aggregate_status, alloc_id_of_service_id
from nomtui.models.deployments import Deployment
from nomtui.models.events import Event, EventBatch
from nomtui.models.frames import (
    ExecAuth,
    ExecInput,
    ExecOutput,
    ExecStdin,
    StreamFrame,
    TtySize,
)
from nomtui.models.job_spec import Job
from nomtui.models.nodes import Node
from nomtui.models.variables import Variable

ALLOC_ID = "5fc98185-17ff-26bc-a802-0c74fa471c99"
SECRET = "d6f2c7a1-5ec2-4b8b-9c0e-1d2e3f4a5b6c-RECOGNISABLE-SECRET"

# ------------------------------------------------------------------ strict types, paths


def test_wrong_type_names_the_json_path() -> None:
    body = json.dumps([{"ID": "a"}, {"ID": "b", "JobVersion": "3"}])
    with pytest.raises(ModelError) as caught:
        decode(list[AllocStub], body.encode())
    error = caught.value
    assert error.path == "$[1].JobVersion"
    assert error.target == "list[AllocStub]"
    assert str(error) == (
        "The response does not fit list[AllocStub] at $[1].JobVersion: Expected `int`, got `str`."
    )
    assert isinstance(error, ValueError)


def test_nested_path_inside_maps() -> None:
    body = {"ID": "a", "TaskStates": {"web": {"State": "running", "Restarts": "2"}}}
    with pytest.raises(ModelError) as caught:
        decode(AllocStub, json.dumps(body))
    # msgspec does not name map keys in its paths; the field inside is still named.
    assert caught.value.path == "$.TaskStates[...].Restarts"


def test_null_where_a_scalar_belongs_is_an_error() -> None:
    with pytest.raises(ModelError) as caught:
        decode(Deployment, b'{"JobVersion": null}')
    assert caught.value.path == "$.JobVersion"


@pytest.mark.parametrize("body", [b"", b"not json", b'{"ID": "a"', b"<html>502</html>"])
def test_not_json_at_all(body: bytes) -> None:
    with pytest.raises(ModelError) as caught:
        decode(AllocStub, body)
    assert caught.value.path == "$"
    assert "AllocStub" in str(caught.value)


def test_a_list_where_an_object_belongs() -> None:
    with pytest.raises(ModelError) as caught:
        decode(Job, b"[]")
    assert caught.value.path == "$" and "Expected `object`, got `array`" in str(caught.value)


# ------------------------------------------------------------------------ tolerance


def test_missing_fields_take_defaults() -> None:
    stub = decode(AllocStub, b"{}")
    assert (stub.ID, stub.Namespace, stub.JobVersion, stub.TaskStates) == ("", "default", 0, None)
    assert stub.tasks == {} and stub.restarts == 0 and stub.healthy is None
    node = decode(Node, b'{"ID": "n1"}')
    assert node.cpu_mhz() == 0 and node.Drivers is None


def test_unknown_fields_are_ignored() -> None:
    body = {"ID": "a", "BrandNewField": {"nested": [1, 2]}, "ClientStatus": "running"}
    stub = decode(AllocStub, json.dumps(body))
    assert stub.ID == "a" and stub.ClientStatus == "running"


def test_nil_containers_decode_as_none() -> None:
    job = decode(Job, b'{"ID": "j", "TaskGroups": null, "Datacenters": null, "Meta": null}')
    assert job.TaskGroups is None and job.group("web") is None


def test_decoders_are_cached_per_type() -> None:
    assert decoder(list[AllocStub]) is decoder(list[AllocStub])
    assert decoder(AllocStub) is not decoder(Allocation)


def test_search_truncations_accept_strings_and_booleans() -> None:
    answer = decode(SearchResponse, b'{"Truncations": {"jobs": "true", "nodes": false}}')
    assert answer.truncated("jobs") and not answer.truncated("nodes")
    assert not answer.truncated("allocs") and answer.matches("jobs") == []


def test_agent_version_in_both_eras() -> None:
    old = decode(AgentSelf, b'{"config": {"Version": "0.5.5", "VersionPrerelease": "dev"}}')
    assert old.version == "0.5.5-dev"
    new = decode(AgentSelf, b'{"config": {"Version": {"Version": "1.9.7"}}}')
    assert new.version == "1.9.7"
    tagged = decode(AgentSelf, b'{"member": {"Tags": {"build": "1.10.0"}}, "config": {}}')
    assert tagged.version == "1.10.0"
    assert decode(AgentSelf, b"{}").version == ""


# -------------------------------------------------------------------------- secrets


def _all_reprs(value: msgspec.Struct) -> str:
    """Every way a model turns into text: repr, str, inside a list, Rich's pretty repr."""
    rich = repr(list(value.__rich_repr__()))
    return " ".join([repr(value), str(value), f"{value!r}", repr([value]), rich])


def test_acl_token_secret_is_not_in_any_repr() -> None:
    token = decode(AclToken, json.dumps({"AccessorID": "acc-1", "SecretID": SECRET}))
    assert token.SecretID == SECRET  # still usable
    shown = _all_reprs(token)
    assert SECRET not in shown and "RECOGNISABLE" not in shown
    assert "acc-1" in shown and "SecretID='***'" in repr(token)


def test_variable_items_and_exec_auth_are_hidden() -> None:
    var = decode(Variable, json.dumps({"Path": "db", "Items": {"password": SECRET}}))
    assert SECRET not in _all_reprs(var) and "password" in repr(var)
    auth = ExecAuth(auth_token=SECRET)
    assert SECRET not in _all_reprs(auth)
    assert SECRET in msgspec.json.encode(auth).decode()  # the wire form keeps it


def test_secret_fields_of_jobs_and_nodes_are_not_modelled() -> None:
    job = decode(Job, json.dumps({"ID": "j", "VaultToken": SECRET, "ConsulToken": SECRET}))
    node = decode(Node, json.dumps({"ID": "n", "SecretID": SECRET}))
    assert SECRET not in repr(job) and SECRET not in repr(node)


# ------------------------------------------------------------------- stream frames


def test_log_frames_and_heartbeats() -> None:
    assert decode(StreamFrame, b"{}").is_heartbeat
    frame = decode(StreamFrame, b'{"Offset": 12, "Data": "aGVsbG8Kd29ybGQK", "File": "a"}')
    assert frame.Data == b"hello\nworld\n" and not frame.is_heartbeat
    deleted = decode(StreamFrame, b'{"File": "a", "FileEvent": "file deleted"}')
    assert not deleted.is_heartbeat and deleted.Data == b""


def test_event_heartbeat_and_batches() -> None:
    beat = decode(EventBatch, b"{}")
    assert beat.is_heartbeat and beat.Index == 0 and beat.Events == []
    batch = decode(EventBatch, b'{"Index": 9, "Events": [{"Topic": "Job", "Index": 9}]}')
    assert not batch.is_heartbeat and batch.Events[0].payload_job() is None


def test_event_payloads_convert_on_demand() -> None:
    alloc = {"ID": ALLOC_ID, "ClientStatus": "running", "TaskStates": {"web": {}}}
    event = Event(Topic="Allocation", Payload={"Allocation": alloc})
    converted = event.payload_allocation()
    assert converted is not None and converted.ClientStatus == "running"
    assert isinstance(converted, AllocStub) and converted.job_version == 0
    broken = Event(Topic="Allocation", Payload={"Allocation": {"ClientStatus": 3}})
    with pytest.raises(ModelError) as caught:
        broken.payload_allocation()
    assert caught.value.path == "$.ClientStatus"


def test_exec_frames_both_directions() -> None:
    assert decode(ExecOutput, b"{}").is_heartbeat
    out = decode(ExecOutput, b'{"stdout": {"data": "aGk="}}')
    assert out.stdout is not None and out.stdout.data == b"hi" and out.exit_code is None
    done = decode(ExecOutput, b'{"exited": true, "result": {"exit_code": 3}}')
    assert done.exit_code == 3
    assert decode(ExecOutput, b'{"exited": true, "result": {}}').exit_code == 0
    encode = msgspec.json.encode
    assert encode(ExecInput()) == b"{}"
    assert encode(ExecInput(stdin=ExecStdin(data=b"\x0c"))) == b'{"stdin":{"data":"DA=="}}'
    assert encode(ExecInput(stdin=ExecStdin(close=True))) == b'{"stdin":{"close":true}}'
    resize = encode(ExecInput(tty_size=TtySize(height=40, width=120)))
    assert resize == b'{"tty_size":{"height":40,"width":120}}'


# ----------------------------------------------------------------- consul helpers


def _check(check_id: str, status: str) -> ConsulCheck:
    return ConsulCheck(CheckID=check_id, Status=status)


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([], "passing"),
        ([("serfHealth", "passing"), ("service:web", "passing")], "passing"),
        ([("serfHealth", "passing"), ("service:web", "warning")], "warning"),
        ([("service:web", "warning"), ("serfHealth", "critical")], "critical"),
        ([("serfHealth", "critical"), ("_node_maintenance", "critical")], "maintenance"),
        ([("_service_maintenance:web-1", "passing"), ("x", "critical")], "maintenance"),
        ([("_service_maintenance_web", "passing")], "passing"),  # not the prefix
        ([("serfHealth", "passing"), ("service:web", "bogus")], ""),
    ],
)
def test_aggregate_status(checks: list[tuple[str, str]], expected: str) -> None:
    assert aggregate_status([_check(cid, status) for cid, status in checks]) == expected


@pytest.mark.parametrize(
    ("service_id", "expected"),
    [
        (f"_nomad-task-{ALLOC_ID}-redis-example-cache-redis-db", ALLOC_ID),
        (f"_nomad-task-{ALLOC_ID}-group-web-web-http", ALLOC_ID),
        (f"_nomad-task-{ALLOC_ID}", ALLOC_ID),
        (f"_nomad-executor-{ALLOC_ID}-web-web", ALLOC_ID),
        ("_nomad-server-2ohu3v2x7h7nbq3nzs6jsxzpjqxmpnzd", None),
        ("_nomad-client-abc", None),
        (f"_nomad-task-{ALLOC_ID[:-1]}-web", None),  # 35 characters is not a UUID
        (f"_nomad-task-{ALLOC_ID}x-web", None),
        ("redis", None),
        ("", None),
    ],
)
def test_alloc_id_of_service_id(service_id: str, expected: str | None) -> None:
    assert alloc_id_of_service_id(service_id) == expected


# --------------------------------------------------------------------- task times


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0001-01-01T00:00:00Z", None),
        ("garbage", None),
        ("2021-04-05T19:48:43.513962335Z", datetime(2021, 4, 5, 19, 48, 43, 513962, UTC)),
        (
            "2021-11-04T10:12:13.123+01:00",
            datetime(2021, 11, 4, 10, 12, 13, 123000, timezone(timedelta(hours=1))),
        ),
    ],
)
def test_parse_time(value: str | None, expected: datetime | None) -> None:
    assert parse_time(value) == expected


def test_task_state_times() -> None:
    body = {
        "State": "dead",
        "StartedAt": "2021-11-04T10:12:13+01:00",
        "FinishedAt": "0001-01-01T00:00:00Z",
        "LastRestart": None,
        "Events": [{"Type": "Terminated", "Time": 1617652120566961000, "ExitCode": 137}],
    }
    state = decode(TaskState, json.dumps(body))
    assert state.started == datetime(2021, 11, 4, 9, 12, 13, tzinfo=UTC)
    assert state.finished is None and state.last_restart is None
    assert state.last_event is not None and state.last_event.message == "Exit Code: 137"
    assert state.last_event.time == datetime.fromtimestamp(1617652120.566961, UTC)
    received = TaskEvent(Type="Received", DisplayMessage="Task received")
    assert received.message == "Task received"
    built = TaskState(State="running", Events=TaskState.raw_events([received]))
    assert built.events == [received] and TaskState().events == []
