"""The Docker paths against a real dockerd: `nomtui cp`'s put_archive fallback and
`nomtui containers`.

The test starts its own dockerd (vfs storage, no bridge, no iptables, everything under a
temporary directory and its own containerd namespace, nothing on /var/run/docker.sock),
imports a tiny image from a rootfs tar made here (`POST /images/create?fromSrc=-`, what
`docker import` does) and creates a container named `http-<allocID>` for an allocation
of the sim, as Nomad's docker driver would. Nothing runs in it: put_archive needs no
process in the container, which is the point of the fallback.

Skipped, with the reason, where dockerd is missing (`.ci/run` installs docker.io), where
we are not root, or where it does not come up (say, no cgroups in a sandbox).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.commands import base_env, invoke

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

START_TIMEOUT_S = 60.0
IMAGE = "nomtui-e2e:1"


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    errors = [line for line in lines if "level=error" in line or "level=fatal" in line]
    return (errors or lines or ["no output"])[-1][:300]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # dockerd leads its own process group (start_new_session), containerd included.
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Engine:
    client: httpx.Client
    socket: Path

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


@pytest.fixture(scope="module")
def dockerd() -> Iterator[Engine]:
    """A dockerd started for this module, on its own socket."""
    binary = shutil.which("dockerd")
    if binary is None:
        pytest.skip("dockerd is not installed (.ci/run installs docker.io)")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root, and this test runs as another user")
    base = Path(tempfile.mkdtemp(prefix="nomtui-dockerd-"))
    sock = base / "docker.sock"
    (base / "daemon.json").write_text("{}")
    log = base / "dockerd.log"
    argv = [
        binary,
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        "--storage-driver=vfs",
        f"--data-root={base / 'root'}",
        f"--exec-root={base / 'exec'}",
        f"--pidfile={base / 'dockerd.pid'}",
        f"--config-file={base / 'daemon.json'}",
        "--containerd-namespace=nomtui-e2e",
        "--containerd-plugins-namespace=nomtui-e2e-plugins",
        f"--host=unix://{sock}",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    client = httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), base_url="http://d")
    try:
        failure = _wait_up(proc, client, log)
        if failure is not None:
            print(f"dockerd could not be started: {failure}")  # shown with -rs and -s
            pytest.skip(f"dockerd could not be started: {failure}")
        yield Engine(client, sock)
    finally:
        client.close()
        _stop(proc)
        shutil.rmtree(base, ignore_errors=True)


def _wait_up(proc: subprocess.Popen[bytes], client: httpx.Client, log: Path) -> str | None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"it exited with {proc.returncode}: {_tail(log)}"
        with contextlib.suppress(httpx.HTTPError):
            if client.get("/_ping", timeout=2).text == "OK":
                return None
        time.sleep(0.2)
    return f"no answer within {START_TIMEOUT_S:g} s: {_tail(log)}"


def _rootfs() -> bytes:
    """A minimal root filesystem: a few directories and an os-release."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name in ("etc", "tmp", "var"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        data = b"ID=nomtui-e2e\n"
        info = tarfile.TarInfo("etc/os-release")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0
    return sim_config


@pytest.fixture
def container(dockerd: Engine, sim_thread: Sim) -> Iterator[str]:
    """A created container `http-<allocID>` for a running allocation of www-nomad."""
    alloc = next(
        a["ID"]
        for a in sim_thread.state.allocs.values()
        if a["JobID"] == "www-nomad" and a["ClientStatus"] == "running"
    )
    imported = dockerd.client.post(
        "/images/create",
        params={"fromSrc": "-", "repo": IMAGE.split(":")[0], "tag": IMAGE.split(":")[1]},
        content=_rootfs(),
        headers={"Content-Type": "application/x-tar"},
        timeout=120,
    )
    assert imported.status_code == 200, imported.text
    name = f"http-{alloc}"
    created = dockerd.client.post(
        "/containers/create",
        params={"name": name},
        json={
            "Image": IMAGE,
            "Cmd": ["/bin/app"],
            "WorkingDir": "/srv/app",
            # What a Nomad client without `extra_labels` sets: the allocation only.
            "Labels": {"com.hashicorp.nomad.alloc_id": alloc},
        },
        timeout=60,
    )
    assert created.status_code == 201, created.text
    try:
        yield name
    finally:
        dockerd.client.delete(f"/containers/{name}", params={"force": "1"}, timeout=60)


def _read_back(dockerd: Engine, name: str, path: str) -> dict[str, bytes]:
    """The regular files of `path` in the container, by archive member name."""
    got = dockerd.client.get(f"/containers/{name}/archive", params={"path": path}, timeout=60)
    assert got.status_code == 200, got.text
    found = {}
    with tarfile.open(fileobj=io.BytesIO(got.content)) as tar:
        for member in tar:
            if member.isreg():
                data = tar.extractfile(member)
                assert data is not None
                found[member.name] = data.read()
    return found


def test_cp_falls_back_to_the_real_engine(
    dockerd: Engine, container: str, sim_thread: Sim, tmp_path: Path
) -> None:
    env = base_env(
        tmp_path, sim_thread, NOMAD_TOKEN=sim_thread.read_token, DOCKER_HOST=dockerd.host
    )
    name = 'it\'s a "quoted" name\nwith a newline'
    local = tmp_path / "file"
    local.write_bytes(os.urandom(300_000))
    ran = invoke(env, "cp", "--job", "www-nomad", str(local), f"conf/{name}")
    assert ran.code == 0, ran.err
    assert "exec not permitted; copied through the Docker engine at unix://" in ran.err
    # Relative to the container's WORKDIR, which did not exist yet.
    assert _read_back(dockerd, container, f"/srv/app/conf/{name}") == {name: local.read_bytes()}
    site = tmp_path / "site"
    (site / "js").mkdir(parents=True)
    (site / "index.html").write_bytes(b"<h1>hi</h1>\n")
    (site / "js" / "app.js").write_bytes(b"console.log(1)\n")
    ran = invoke(env, "cp", "--job", "www-nomad", str(site), "/var/www")
    assert ran.code == 0, ran.err
    assert ", 2 files;" in ran.out
    assert _read_back(dockerd, container, "/var/www") == {
        "www/index.html": b"<h1>hi</h1>\n",
        "www/js/app.js": b"console.log(1)\n",
    }


def test_containers_lists_it_with_its_job(
    dockerd: Engine, container: str, sim_thread: Sim, tmp_path: Path
) -> None:
    env = base_env(tmp_path, sim_thread, DOCKER_HOST=dockerd.host)
    ran = invoke(env, "containers", "--all", "--json")
    assert ran.code == 0, ran.err
    rows = {c["name"]: c for c in json.loads(ran.out)}
    row = rows[container]
    assert (row["state"], row["image"], row["task"]) == ("created", IMAGE, "http")
    # The job and group came from Nomad: the container only had the alloc_id label.
    assert (row["job"], row["group"], row["alloc_status"]) == ("www-nomad", "www-nomad", "running")
    table = invoke(env, "containers").out
    assert container not in table  # created, not running: only with --all
