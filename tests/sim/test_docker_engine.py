"""The sim's Docker Engine API over a real unix socket: shapes, filters, errors, archives.

The reference is Engine API 1.45 and what a real engine answered (checked against a
dockerd 20.10 on loopback while this was written): JSON errors `{"message": ...}`,
`Could not find the file ... in container ...`, `extraction point is not a directory`,
the base64 `X-Docker-Container-Path-Stat` header. The archive rules are the safety
rules of an engine that unpacks inside a chroot: nothing may land outside the
container's root, whatever the archive holds.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nomtui.client.docker import ContainerSummary, DockerClient, DockerNotFound, parse_host
from nomtui.errors import ConfigError
from nomtui.sim.docker_shapes import LABEL, human_duration
from tests.docker_support import socket_dir, with_docker

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def docker_dir() -> Iterator[Path]:
    yield from socket_dir()


@pytest.fixture
def sim_config(sim_config: SimConfig, docker_dir: Path) -> SimConfig:
    return with_docker(sim_config, docker_dir)


@pytest.fixture
async def engine(sim: Sim) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(uds=str(sim.config.docker_socket))
    async with httpx.AsyncClient(transport=transport, base_url="http://docker") as client:
        yield client


def running(sim: Sim, job: str) -> str:
    return next(
        str(a["ID"])
        for a in sim.state.allocs.values()
        if a["JobID"] == job and a["ClientStatus"] == "running"
    )


def host_has(path: str) -> bool:
    return Path(path).exists()


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", mode: int = 0o644) -> Any:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    return info


# -- system and listing ----------------------------------------------------------------


async def test_ping_version_and_api_versions(engine: httpx.AsyncClient) -> None:
    ping = await engine.get("/_ping")
    assert ping.text == "OK"
    assert ping.headers["Api-Version"] == "1.45"
    assert ping.headers["Ostype"] == "linux"
    version = (await engine.get("/v1.43/version")).json()
    assert version["ApiVersion"] == "1.45" and version["MinAPIVersion"] == "1.24"
    too_new = await engine.get("/v1.99/containers/json")
    assert too_new.status_code == 400
    assert too_new.json() == {
        "message": "client version 1.99 is too new. Maximum supported API version is 1.45"
    }
    missing = await engine.get("/v1.45/no/such/thing")
    assert missing.status_code == 404 and "message" in missing.json()


async def test_one_container_per_started_docker_task(sim: Sim, engine: httpx.AsyncClient) -> None:
    listed = (await engine.get("/containers/json", params={"all": "1"})).json()
    expected = set()
    for alloc in sim.state.allocs.values():
        for task, state in (alloc.get("TaskStates") or {}).items():
            if state.get("StartedAt"):
                expected.add(f"/{task}-{alloc['ID']}")
    assert {c["Names"][0] for c in listed} == expected
    www = next(c for c in listed if c["Names"] == [f"/http-{running(sim, 'www-nomad')}"])
    assert www["State"] == "running" and www["Status"].startswith("Up ")
    assert www["Image"] == "registry.archive.org/www/nomad:main"
    assert www["Labels"][f"{LABEL}job_name"] == "www-nomad"
    assert www["Labels"][f"{LABEL}task_name"] == "http"
    assert {p["Type"] for p in www["Ports"]} == {"tcp", "udp"}  # Nomad binds both
    assert len(www["Id"]) == 64 and isinstance(www["Created"], int)
    running_only = (await engine.get("/v1.45/containers/json")).json()
    assert running_only and all(c["State"] == "running" for c in running_only)
    assert len(running_only) < len(listed)
    # The same, decoded by nomtui's client models.
    client = DockerClient(address="test", socket=str(sim.config.docker_socket))
    async with client:
        decoded = await client.list_containers(all=True)
    assert [c.Id for c in decoded] == [c["Id"] for c in listed]
    assert all(isinstance(c, ContainerSummary) for c in decoded)


async def test_filters(sim: Sim, engine: httpx.AsyncClient) -> None:
    async def names(filters: dict[str, Any], **params: str) -> set[str]:
        resp = await engine.get(
            "/containers/json", params={"filters": json.dumps(filters), **params}
        )
        assert resp.status_code == 200, resp.text
        return {c["Names"][0] for c in resp.json()}

    www = f"/http-{running(sim, 'www-nomad')}"
    assert await names({"label": [f"{LABEL}job_name=www-nomad"]}) == {www}
    both = [f"{LABEL}job_name=www-nomad", f"{LABEL}task_name=kv"]
    assert await names({"label": both}) == set()  # labels must all hold
    assert www in await names({"name": ["^/http-"]})
    exited = await names({"status": ["exited"]})  # a status filter implies all
    assert exited and www not in exited
    assert await names({"exited": ["0"]}, all="1") <= exited
    legacy = await names({"label": {f"{LABEL}job_name=www-nomad": True}})
    assert legacy == {www}
    for bad, message in (
        ({"status": ["sleeping"]}, "Invalid filter 'status=sleeping'"),
        ({"colour": ["red"]}, "Invalid filter 'colour'"),
    ):
        resp = await engine.get("/containers/json", params={"filters": json.dumps(bad)})
        assert resp.status_code == 400 and resp.json()["message"] == message


async def test_node_restricts_the_containers(sim: Sim, engine: httpx.AsyncClient) -> None:
    assert sim.docker is not None
    sim.docker.node = "nomad-dc1-02"
    listed = (await engine.get("/containers/json", params={"all": "1"})).json()
    ids = {c["Labels"][f"{LABEL}alloc_id"] for c in listed}
    assert ids and all(sim.state.allocs[i]["NodeName"] == "nomad-dc1-02" for i in ids)


async def test_inspect_by_name_and_prefix(sim: Sim, engine: httpx.AsyncClient) -> None:
    name = f"http-{running(sim, 'www-nomad')}"
    body = (await engine.get(f"/containers/{name}/json")).json()
    assert body["Name"] == f"/{name}" and body["State"]["Running"] is True
    assert body["Config"]["Labels"][f"{LABEL}alloc_id"] == name.removeprefix("http-")
    by_prefix = (await engine.get(f"/containers/{body['Id'][:12]}/json")).json()
    assert by_prefix["Id"] == body["Id"]
    gone = await engine.get("/containers/nope/json")
    assert gone.status_code == 404 and gone.json() == {"message": "No such container: nope"}


def test_human_durations() -> None:
    cases = {0.2: "Less than a second", 1: "1 second", 59: "59 seconds", 61: "About a minute"}
    cases |= {300: "5 minutes", 3600: "About an hour", 7200: "2 hours", 3 * 86400: "3 days"}
    for seconds, text in cases.items():
        assert human_duration(seconds) == text


# -- archives --------------------------------------------------------------------------


async def test_put_stat_and_get_a_file(sim: Sim, engine: httpx.AsyncClient) -> None:
    alloc = running(sim, "www-nomad")
    root = sim.files.task_dir(alloc, "http")
    url = f"/v1.45/containers/http-{alloc}/archive"
    data = b"line one\nline two\n"
    put = await engine.put(url, params={"path": "/local"}, content=tar_of((entry("a b'c"), data)))
    assert put.status_code == 200, put.text
    assert (root / "local" / "a b'c").read_bytes() == data
    head = await engine.head(url, params={"path": "/local/a b'c"})
    found = json.loads(base64.b64decode(head.headers["X-Docker-Container-Path-Stat"]))
    assert found["name"] == "a b'c" and found["size"] == len(data) and found["mode"] == 0o644
    folder = await engine.head(url, params={"path": "/local"})
    stat = json.loads(base64.b64decode(folder.headers["X-Docker-Container-Path-Stat"]))
    assert stat["mode"] & (1 << 31)  # Go's os.ModeDir
    got = await engine.get(url, params={"path": "/local"})
    with tarfile.open(fileobj=io.BytesIO(got.content)) as tar:
        member = tar.extractfile("local/a b'c")
        assert member is not None and member.read() == data


async def test_archive_errors_are_the_engines(sim: Sim, engine: httpx.AsyncClient) -> None:
    alloc = running(sim, "www-nomad")
    url = f"/containers/http-{alloc}/archive"
    name = f"http-{alloc}"
    one = tar_of((entry("f"), b"x"))
    missing = await engine.put(url, params={"path": "/nope"}, content=one)
    assert missing.status_code == 404
    assert missing.json()["message"] == f"Could not find the file /nope in container {name}"
    not_dir = await engine.put(url, params={"path": "/local/app.conf"}, content=one)
    assert not_dir.status_code == 400
    assert not_dir.json()["message"] == "extraction point is not a directory"
    assert (await engine.head(url, params={"path": "/nope"})).status_code == 404
    no_path = await engine.put(url, content=one)
    assert no_path.status_code == 400
    corrupt = await engine.put(url, params={"path": "/"}, content=b"not a tar at all" * 100)
    assert corrupt.status_code == 500 and "tar" in corrupt.json()["message"]
    # A file must not replace a directory when the client asks so.
    clash = tar_of((entry("local"), b"x"))
    refused = await engine.put(
        url, params={"path": "/", "noOverwriteDirNonDir": "1"}, content=clash
    )
    assert refused.status_code == 400
    assert (sim.files.task_dir(alloc, "http") / "local").is_dir()


async def test_nothing_lands_outside_the_container(
    sim: Sim, engine: httpx.AsyncClient, tmp_path: Path
) -> None:
    alloc = running(sim, "www-nomad")
    root = sim.files.task_dir(alloc, "http")
    outside = tmp_path / "outside"
    outside.mkdir()
    url = f"/containers/http-{alloc}/archive"
    climbing = tar_of((entry("../../../escaped"), b"x"))
    resp = await engine.put(url, params={"path": "/local"}, content=climbing)
    assert resp.status_code == 400 and "outside" in resp.json()["message"]
    # A link unpacked first, then a member through it: followed inside the root only.
    through_link = tar_of(
        (entry("abs", tarfile.SYMTYPE, link=str(outside)), None),
        (entry("abs/pwned"), b"abs"),
        (entry("rel", tarfile.SYMTYPE, link="../../../../../../.."), None),
        (entry("rel/pwned-too"), b"rel"),
    )
    resp = await engine.put(url, params={"path": "/"}, content=through_link)
    assert resp.status_code == 200, resp.text
    assert list(outside.iterdir()) == []
    assert (root / outside.relative_to("/") / "pwned").read_bytes() == b"abs"
    assert (root / "pwned-too").read_bytes() == b"rel"
    # The extraction point itself a link to the host's /: still the container's /.
    (root / "hostroot").symlink_to("/")
    marker = f"nomtui-escape-{uuid.uuid4().hex}"
    resp = await engine.put(
        url, params={"path": "/hostroot/tmp"}, content=tar_of((entry(marker), b""))
    )
    assert resp.status_code == 200, resp.text
    assert (root / "tmp" / marker).exists() and not host_has(f"/tmp/{marker}")
    # No setuid bit from an archive on the host.
    resp = await engine.put(
        url, params={"path": "/"}, content=tar_of((entry("suid", mode=0o4755), b"#!"))
    )
    assert resp.status_code == 200 and (root / "suid").stat().st_mode & 0o7777 == 0o755


async def test_a_read_only_rootfs_takes_files_only_in_its_mounts(
    sim: Sim, engine: httpx.AsyncClient
) -> None:
    alloc_id = running(sim, "www-nomad")
    alloc = sim.state.allocs[alloc_id]
    job = sim.state.job_version(alloc["Namespace"], alloc["JobID"], alloc["JobVersion"])
    assert job is not None
    job["TaskGroups"][0]["Tasks"][0]["Config"]["readonly_rootfs"] = True
    url = f"/containers/http-{alloc_id}/archive"
    one = tar_of((entry("f"), b"x"))
    refused = await engine.put(url, params={"path": "/tmp"}, content=one)
    assert refused.status_code == 403
    assert refused.json()["message"] == "container rootfs is marked read-only"
    assert (await engine.put(url, params={"path": "/local"}, content=one)).status_code == 200


# -- the client's addresses and errors -------------------------------------------------


def test_docker_host_forms() -> None:
    assert parse_host(None).socket == "/var/run/docker.sock"
    assert parse_host("unix:///run/user/1000/docker.sock").socket == "/run/user/1000/docker.sock"
    assert parse_host("tcp://10.0.0.5").base_url == "http://10.0.0.5:2375"
    ssh = parse_host("ssh://ops@node-3:2222")
    assert (ssh.kind, ssh.ssh_target, ssh.ssh_port) == ("ssh", "ops@node-3", 2222)
    for bad in ("npipe:////./pipe/docker_engine", "node-3", "ssh://-oProxyCommand=x", "unix://"):
        with pytest.raises(ConfigError):
            parse_host(bad)


async def test_client_errors_are_one_sentence(sim: Sim, docker_dir: Path) -> None:
    gone = DockerClient(address="unix:///x.sock", socket=str(docker_dir / "none.sock"))
    async with gone:
        with pytest.raises(
            Exception, match=r"^No Docker engine at unix:///x.sock \(no such socket\)"
        ):
            await gone.ping()
    client = DockerClient(address="sim", socket=str(sim.config.docker_socket))
    async with client:
        assert await client.ping() == "1.45"
        with pytest.raises(DockerNotFound, match=r"\(404: No such container: nope\)\.$"):
            await client.inspect("nope")


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker CLI on PATH")
def test_the_docker_cli_reads_it(sim_thread: Sim, tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{sim_thread.config.docker_socket}", "HOME": str(tmp_path)}
    alloc = running(sim_thread, "www-nomad")
    ps = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}} {{.State}}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert ps.returncode == 0, ps.stderr
    assert f"http-{alloc} running" in ps.stdout.splitlines()
    source = tmp_path / "from-cli.txt"
    source.write_bytes(b"docker cp works\n")
    cp = subprocess.run(
        ["docker", "cp", str(source), f"http-{alloc}:/local/"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert cp.returncode == 0, cp.stderr
    arrived = sim_thread.files.task_dir(alloc, "http") / "local" / "from-cli.txt"
    assert arrived.read_bytes() == b"docker cp works\n"


def test_a_refused_socket_is_named_as_such() -> None:
    # As root every socket opens, so the classification itself is checked here: the
    # error httpx raises for a socket the user may not open.
    client = DockerClient(address="unix:///var/run/docker.sock", socket="/nonexistent")
    refused = httpx.ConnectError("connect failed")
    refused.__cause__ = PermissionError(13, "Permission denied")
    failure = client._failure(refused)
    assert str(failure) == (
        "Not allowed to use the Docker engine at unix:///var/run/docker.sock "
        "(permission denied); use an account in the docker group, or sudo."
    )
