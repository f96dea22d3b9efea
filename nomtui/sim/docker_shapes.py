"""The Docker Engine API view of the sim: one container per started docker task.

A Nomad client running the docker driver names each task's container `<task>-<allocID>`
and labels it `com.hashicorp.nomad.alloc_id` (always) plus, with the plugin's
`extra_labels` option, the job, group, task, namespace and node. Here every allocation's
docker task that has started becomes such a container: `running` while its task state
is running, `exited` once it is dead (as with the driver's `gc.container = false`). The
container's filesystem is the task directory of the sim's allocation, the same directory
that exec runs commands in, so a copy through either road lands in the same place.

Shapes follow Engine API 1.45 (`GET /containers/json`, `GET /containers/{id}/json`,
`GET /version`) as a 26.x engine sends them; `docker_filters` applies `filters=`,
`docker_fs` does the paths and archives.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

Json = dict[str, Any]

API_VERSION = "1.45"
MIN_API_VERSION = "1.24"
ENGINE_VERSION = "26.1.5"
LABEL = "com.hashicorp.nomad."
EXTRA_LABELS = (
    "job_name",
    "job_id",
    "task_group_name",
    "task_name",
    "namespace",
    "node_name",
    "node_id",
)
"""The docker plugin's `extra_labels` choices; the sim sets them all unless told not to."""
TASK_MOUNTS = ("local", "secrets")
"""Task subdirectories Nomad bind-mounts into the container (`/local`, `/secrets`)."""
ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Container:
    """One container as the sim's engine knows it."""

    id: str
    name: str
    image: str
    command: list[str]
    created_ns: int
    started_ns: int
    finished_ns: int
    running: bool
    exit_code: int
    root: Path
    labels: dict[str, str] = field(default_factory=dict)
    ports: list[Json] = field(default_factory=list)
    read_only: bool = False
    env: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return "running" if self.running else "exited"

    @property
    def names(self) -> list[str]:
        return [f"/{self.name}"]

    def mounts(self) -> list[Json]:
        return [
            {
                "Type": "bind",
                "Source": str(self.root / sub),
                "Destination": f"/{sub}",
                "Mode": "",
                "RW": True,
                "Propagation": "rprivate",
            }
            for sub in TASK_MOUNTS
        ]


# -- from the sim's state --------------------------------------------------------------


def container_id(alloc_id: str, task: str) -> str:
    """64 hex digits, stable for an allocation's task (the engine's IDs are random)."""
    return hashlib.sha256(f"{alloc_id}/{task}".encode()).hexdigest()


def image_id(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def parse_time_ns(text: str | None) -> int:
    """Nanoseconds of an RFC 3339 UTC time as Nomad writes it; 0 for none or Go's zero."""
    if not text or text.startswith("0001-"):
        return 0
    base, _, rest = text.rstrip("Z").partition(".")
    try:
        secs = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0
    digits = (rest + "000000000")[:9] if rest.isdigit() else "0"
    return secs * 1_000_000_000 + int(digits)


def _task_spec(sim: Sim, alloc: Json, task: str) -> Json | None:
    ns, job_id = alloc.get("Namespace", "default"), alloc.get("JobID", "")
    job = sim.state.job_version(ns, job_id, alloc.get("JobVersion", 0)) or sim.state.job(ns, job_id)
    for group in (job or {}).get("TaskGroups") or ():
        if group.get("Name") != alloc.get("TaskGroup"):
            continue
        for spec in group.get("Tasks") or ():
            if spec.get("Name") == task:
                found: Json = spec
                return found
    return None


def _exit_code(state: Json) -> int:
    for event in reversed(state.get("Events") or ()):
        if event.get("Type") == "Terminated":
            return int(event.get("ExitCode") or 0)
    return 1 if state.get("Failed") else 0


def _ports(alloc: Json, labels: Iterable[str]) -> list[Json]:
    """The task's mapped ports, TCP and UDP each, as Nomad's docker driver binds them."""
    wanted = set(labels)
    shared = (alloc.get("AllocatedResources") or {}).get("Shared") or {}
    ports: list[Json] = []
    for port in shared.get("Ports") or ():
        if port.get("Label") not in wanted:
            continue
        for proto in ("tcp", "udp"):
            ports.append(
                {
                    "IP": port.get("HostIP") or "0.0.0.0",
                    "PrivatePort": port.get("To") or port.get("Value"),
                    "PublicPort": port.get("Value"),
                    "Type": proto,
                }
            )
    return ports


def _labels(alloc: Json, task: str, node: Json, extra: Iterable[str]) -> dict[str, str]:
    values = {
        "job_name": alloc.get("JobID", ""),
        "job_id": alloc.get("JobID", ""),
        "task_group_name": alloc.get("TaskGroup", ""),
        "task_name": task,
        "namespace": alloc.get("Namespace", "default"),
        "node_name": node.get("Name", alloc.get("NodeName", "")),
        "node_id": alloc.get("NodeID", ""),
    }
    labels = {f"{LABEL}alloc_id": alloc["ID"]}
    labels.update({f"{LABEL}{key}": values[key] for key in extra if key in values})
    return labels


def on_node(alloc: Json, node: str | None) -> bool:
    """Whether the allocation runs on `node` (a node name, ID or ID prefix; None: any)."""
    if node is None:
        return True
    node_id = alloc.get("NodeID", "")
    return node in (alloc.get("NodeName"), node_id) or (len(node) >= 8 and node_id.startswith(node))


def containers(sim: Sim, node: str | None, extra_labels: Iterable[str]) -> list[Container]:
    """Every docker task of the allocations on `node` that has started, newest first."""
    extra = tuple(extra_labels)
    found: list[Container] = []
    for alloc in sim.state.allocs.values():
        if not on_node(alloc, node):
            continue
        for task, state in (alloc.get("TaskStates") or {}).items():
            started = parse_time_ns(state.get("StartedAt"))
            spec = _task_spec(sim, alloc, task)
            if not started or spec is None or spec.get("Driver") != "docker":
                continue
            config = spec.get("Config") or {}
            command = [str(config["command"])] if config.get("command") else []
            command += [str(a) for a in config.get("args") or ()]
            running = state.get("State") == "running"
            env = spec.get("Env") or {}
            found.append(
                Container(
                    id=container_id(alloc["ID"], task),
                    name=f"{task}-{alloc['ID']}",
                    image=str(config.get("image", "")),
                    command=command,
                    created_ns=started,
                    started_ns=started,
                    finished_ns=0 if running else parse_time_ns(state.get("FinishedAt")),
                    running=running,
                    exit_code=0 if running else _exit_code(state),
                    root=sim.files.task_dir(alloc["ID"], task),
                    labels=_labels(alloc, task, sim.state.nodes.get(alloc["NodeID"], {}), extra),
                    ports=_ports(alloc, config.get("ports") or ()),
                    read_only=bool(config.get("readonly_rootfs")),
                    env=[f"{k}={v}" for k, v in sorted(env.items())],
                )
            )
    found.sort(key=lambda c: (c.created_ns, c.id), reverse=True)
    return found


# -- wire shapes -----------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """Docker's `units.HumanDuration`, which `Up ...` and `Exited (0) ... ago` use."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = secs // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def status_text(c: Container, now_ns: int) -> str:
    if c.running:
        return "Up " + human_duration((now_ns - c.started_ns) / 1e9)
    return f"Exited ({c.exit_code}) {human_duration((now_ns - c.finished_ns) / 1e9)} ago"


def rfc3339_nano(ns: int) -> str:
    if not ns:
        return ZERO_TIME
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    return f"{base}.{frac:09d}".rstrip("0").rstrip(".") + "Z"


def _network(c: Container) -> Json:
    return {
        "bridge": {
            "IPAMConfig": None,
            "Links": None,
            "Aliases": None,
            "NetworkID": hashlib.sha256(b"bridge").hexdigest(),
            "EndpointID": hashlib.sha256(c.id.encode()).hexdigest() if c.running else "",
            "Gateway": "172.17.0.1" if c.running else "",
            "IPAddress": "",
            "IPPrefixLen": 0,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "MacAddress": "",
            "DriverOpts": None,
        }
    }


def list_entry(c: Container, now_ns: int, with_size: bool = False) -> Json:
    """An item of `GET /containers/json`."""
    entry: Json = {
        "Id": c.id,
        "Names": c.names,
        "Image": c.image,
        "ImageID": image_id(c.image),
        "Command": " ".join(c.command),
        "Created": c.created_ns // 1_000_000_000,
        "Ports": c.ports,
        "Labels": c.labels,
        "State": c.state,
        "Status": status_text(c, now_ns),
        "HostConfig": {"NetworkMode": "default"},
        "NetworkSettings": {"Networks": _network(c)},
        "Mounts": c.mounts(),
    }
    if with_size:
        entry["SizeRw"] = tree_size(c.root)
        entry["SizeRootFs"] = entry["SizeRw"]
    return entry


def inspect(c: Container) -> Json:
    """`GET /containers/{id}/json`."""
    bindings: dict[str, list[Json]] = {}
    for port in c.ports:
        key = f"{port['PrivatePort']}/{port['Type']}"
        bindings.setdefault(key, []).append(
            {"HostIp": port["IP"], "HostPort": str(port["PublicPort"])}
        )
    return {
        "Id": c.id,
        "Created": rfc3339_nano(c.created_ns),
        "Path": c.command[0] if c.command else "",
        "Args": c.command[1:],
        "State": {
            "Status": c.state,
            "Running": c.running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": 0,
            "ExitCode": c.exit_code,
            "Error": "",
            "StartedAt": rfc3339_nano(c.started_ns),
            "FinishedAt": rfc3339_nano(c.finished_ns),
        },
        "Image": image_id(c.image),
        "ResolvConfPath": "",
        "HostnamePath": "",
        "HostsPath": "",
        "LogPath": "",
        "Name": f"/{c.name}",
        "RestartCount": 0,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": {
            "Binds": [f"{m['Source']}:{m['Destination']}" for m in c.mounts()],
            "NetworkMode": "default",
            "PortBindings": bindings or None,
            "ReadonlyRootfs": c.read_only,
            "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
        },
        "GraphDriver": {"Data": None, "Name": "overlay2"},
        "Mounts": c.mounts(),
        "Config": {
            "Hostname": c.id[:12],
            "Domainname": "",
            "User": "",
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "ExposedPorts": {key: {} for key in bindings} or None,
            "Tty": False,
            "OpenStdin": False,
            "StdinOnce": False,
            "Env": c.env,
            "Cmd": c.command or None,
            "Image": c.image,
            "Volumes": None,
            "WorkingDir": "",
            "Entrypoint": None,
            "OnBuild": None,
            "Labels": c.labels,
        },
        "NetworkSettings": {"Ports": bindings, "Networks": _network(c)},
    }


def version(now_ns: int) -> Json:
    """`GET /version`."""
    details = {
        "ApiVersion": API_VERSION,
        "Arch": "amd64",
        "BuildTime": rfc3339_nano(now_ns),
        "Experimental": "false",
        "GitCommit": "411e817",
        "GoVersion": "go1.21.13",
        "KernelVersion": os.uname().release,
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
    }
    return {
        "Platform": {"Name": "Docker Engine - Community (nomtui sim)"},
        "Components": [{"Name": "Engine", "Version": ENGINE_VERSION, "Details": details}],
        "Version": ENGINE_VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": details["GitCommit"],
        "GoVersion": details["GoVersion"],
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": details["KernelVersion"],
        "BuildTime": details["BuildTime"],
    }


def tree_size(root: Path) -> int:
    total = 0
    for top, _, names in os.walk(root):
        for name in names:
            try:
                total += os.lstat(os.path.join(top, name)).st_size
            except OSError:
                continue  # removed while we walked
    return total


__all__ = [
    "API_VERSION",
    "EXTRA_LABELS",
    "LABEL",
    "MIN_API_VERSION",
    "Container",
    "container_id",
    "containers",
    "human_duration",
    "inspect",
    "list_entry",
    "status_text",
    "version",
]
