"""Client node shapes: the full Node, its list stub, host stats and node write responses."""

from __future__ import annotations

import copy
from typing import Any

from nomtui.sim.clock import rfc3339
from nomtui.sim.shapes.common import ZERO_TIME, stable_fraction, stable_uuid
from nomtui.sim.shapes.nodestats import (
    client_stats,
    drain_response,
    eligibility_response,
    node_update_response,
)
from nomtui.sim.state import Json

__all__ = [
    "client_stats",
    "drain_response",
    "drain_strategy",
    "eligibility_response",
    "last_drain",
    "node",
    "node_event",
    "node_stub",
    "node_update_response",
]

_SIGNALS = (
    "SIGABRT,SIGALRM,SIGBUS,SIGCHLD,SIGCONT,SIGFPE,SIGHUP,SIGILL,SIGINT,SIGIO,SIGIOT,SIGKILL,"
    "SIGPIPE,SIGPROF,SIGQUIT,SIGSEGV,SIGSTOP,SIGSYS,SIGTERM,SIGTRAP,SIGTSTP,SIGTTIN,SIGTTOU,"
    "SIGURG,SIGUSR1,SIGUSR2,SIGWINCH,SIGXCPU,SIGXFSZ"
)
_KERNELS = {
    "22.04": "5.15.0-125-generic",
    "24.04": "6.8.0-49-generic",
    "20.04": "5.4.0-200-generic",
}
# What each driver's fingerprint adds, to both node Attributes and Drivers[...].Attributes.
_DRIVER_ATTRS: dict[str, dict[str, str]] = {
    "docker": {
        "driver.docker": "true",
        "driver.docker.bridge_ip": "172.17.0.1",
        "driver.docker.os_type": "linux",
        "driver.docker.runtimes": "io.containerd.runc.v2,runc",
        "driver.docker.version": "27.3.1",
        "driver.docker.volumes.enabled": "true",
    },
    "exec": {"driver.exec": "true"},
    "raw_exec": {"driver.raw_exec": "true"},
    "java": {
        "driver.java": "true",
        "driver.java.runtime": "OpenJDK Runtime Environment (build 17.0.13+11)",
        "driver.java.version": "17.0.13",
        "driver.java.vm": "OpenJDK 64-Bit Server VM (build 17.0.13+11, mixed mode)",
    },
    "qemu": {"driver.qemu": "true", "driver.qemu.version": "6.2.0"},
}


def node_event(
    message: str, subsystem: str, time_ns: int, create_index: int, details: Json | None = None
) -> Json:
    """A NodeEvent ("Node registered", "Node drain strategy set", ...)."""
    return {
        "Message": message,
        "Subsystem": subsystem,
        "Details": copy.deepcopy(details),
        "Timestamp": rfc3339(time_ns),
        "CreateIndex": create_index,
    }


def drain_strategy(*, deadline_ns: int, ignore_system_jobs: bool, now_ns: int) -> Json:
    """DrainStrategy: DrainSpec is embedded in Go, so its fields sit at the top level.
    A zero deadline means "no deadline" and a negative one "force now"."""
    if deadline_ns > 0:
        force = rfc3339(now_ns + deadline_ns)
    elif deadline_ns < 0:
        force = rfc3339(now_ns)
    else:
        force = ZERO_TIME
    return {
        "Deadline": deadline_ns,
        "IgnoreSystemJobs": ignore_system_jobs,
        "ForceDeadline": force,
        "StartedAt": rfc3339(now_ns),
    }


def last_drain(
    *,
    status: str,
    started_ns: int,
    updated_ns: int,
    accessor_id: str = "",
    meta: Json | None = None,
) -> Json:
    """DrainMetadata; Status is "draining", "complete" or "canceled"."""
    return {
        "StartedAt": rfc3339(started_ns),
        "UpdatedAt": rfc3339(updated_ns),
        "Status": status,
        "AccessorID": accessor_id,
        "Meta": copy.deepcopy(meta),
    }


def _attributes(
    *,
    name: str,
    address: str,
    http_port: int,
    datacenter: str,
    cpu_mhz_total: int,
    cores: int,
    memory_mb: int,
    disk_mb: int,
    os_name: str,
    os_version: str,
    nomad_version: str,
    drivers: tuple[str, ...],
) -> dict[str, str]:
    attrs = {
        "cpu.arch": "amd64",
        "cpu.frequency": str(cpu_mhz_total // max(cores, 1)),
        "cpu.modelname": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
        "cpu.numcores": str(cores),
        "cpu.reservablecores": str(cores),
        "cpu.totalcompute": str(cpu_mhz_total),
        "cpu.usablecompute": str(cpu_mhz_total),
        "consul.connect": "true",
        "consul.datacenter": datacenter,
        "consul.grpc": "8502",
        "consul.revision": "920cc7c6",
        "consul.server": "false",
        "consul.version": "1.20.1",
        "kernel.arch": "x86_64",
        "kernel.name": "linux",
        "kernel.version": _KERNELS.get(os_version, "6.1.0-27-amd64"),
        "memory.totalbytes": str(memory_mb * 1024 * 1024),
        "nomad.advertise.address": f"{address}:{http_port}",
        "nomad.bridge.hairpin_mode": "false",
        "nomad.revision": "6d3ea8a1ba8a2b7b6c1b5d8a5c3d53d8fd6f1a3e",
        "nomad.service_discovery": "true",
        "nomad.version": nomad_version,
        "os.cgroups.version": "2",
        "os.name": os_name,
        "os.signals": _SIGNALS,
        "os.version": os_version,
        "unique.advertise.address": f"{address}:{http_port}",
        "unique.cgroup.mountpoint": "/sys/fs/cgroup",
        "unique.cgroup.version": "v2",
        "unique.consul.name": name,
        "unique.hostname": name,
        "unique.network.ip-address": address,
        "unique.storage.bytesfree": str(int(disk_mb * 1024 * 1024 * 0.72)),
        "unique.storage.bytestotal": str(disk_mb * 1024 * 1024),
        "unique.storage.volume": "/dev/nvme0n1p1",
    }
    for driver in drivers:
        for key, value in _DRIVER_ATTRS.get(driver, {f"driver.{driver}": "true"}).items():
            # The node-level copy of the driver's own flag reads "1", not "true".
            attrs[key] = "1" if key == f"driver.{driver}" else value
    return dict(sorted(attrs.items()))


def node(
    *,
    node_id: str,
    name: str,
    datacenter: str,
    node_class: str,
    address: str,
    http_port: int,
    cpu_mhz_total: int,
    cores: int,
    memory_mb: int,
    disk_mb: int,
    status: str,
    eligibility: str,
    drain: bool,
    drain_strategy: Json | None,
    now_ns: int,
    create_index: int,
    os_name: str = "ubuntu",
    os_version: str = "22.04",
    nomad_version: str = "1.9.7",
    drivers: tuple[str, ...] = ("docker", "exec", "raw_exec"),
    node_pool: str = "default",
    meta: Json | None = None,
) -> Json:
    """A registered client Node as GET /v1/node/:id returns it (SecretID redacted)."""
    attrs = _attributes(
        name=name,
        address=address,
        http_port=http_port,
        datacenter=datacenter,
        cpu_mhz_total=cpu_mhz_total,
        cores=cores,
        memory_mb=memory_mb,
        disk_mb=disk_mb,
        os_name=os_name,
        os_version=os_version,
        nomad_version=nomad_version,
        drivers=drivers,
    )
    mac_seed = stable_uuid(f"mac:{node_id}").replace("-", "")
    mac = ":".join(["02", *(mac_seed[i : i + 2] for i in range(0, 10, 2))])
    class_hash = int(stable_fraction(f"class:{datacenter}:{node_class}:{node_pool}") * 1e19)
    return {
        "ID": node_id,
        "SecretID": "",
        "Datacenter": datacenter,
        "Name": name,
        "HTTPAddr": f"{address}:{http_port}",
        "TLSEnabled": False,
        "Attributes": attrs,
        "NodeResources": {
            "Cpu": {
                "CpuShares": cpu_mhz_total,
                "TotalCpuCores": cores,
                "ReservableCpuCores": list(range(cores)),
            },
            "Memory": {"MemoryMB": memory_mb},
            "Disk": {"DiskMB": disk_mb},
            "Networks": [
                {
                    "Mode": "host",
                    "Device": "eth0",
                    "CIDR": f"{address}/32",
                    "IP": address,
                    "Hostname": "",
                    "MBits": 1000,
                    "DNS": None,
                    "ReservedPorts": None,
                    "DynamicPorts": None,
                }
            ],
            "NodeNetworks": [
                {
                    "Mode": "host",
                    "Device": "eth0",
                    "MacAddress": mac,
                    "Speed": 1000,
                    "Addresses": [
                        {
                            "Family": "ipv4",
                            "Alias": "default",
                            "Address": address,
                            "ReservedPorts": "",
                            "Gateway": "",
                        }
                    ],
                }
            ],
            "Devices": None,
            "MinDynamicPort": 20000,
            "MaxDynamicPort": 32000,
        },
        "ReservedResources": {
            "Cpu": {"CpuShares": 0, "ReservedCpuCores": None},
            "Memory": {"MemoryMB": 0},
            "Disk": {"DiskMB": 0},
            "Networks": {"ReservedHostPorts": ""},
        },
        # Pre-0.9 resource view, still sent by 1.x servers and read by older tooling.
        "Resources": {
            "CPU": cpu_mhz_total,
            "MemoryMB": memory_mb,
            "DiskMB": disk_mb,
            "IOPS": 0,
            "Networks": [
                {
                    "Mode": "host",
                    "Device": "eth0",
                    "CIDR": f"{address}/32",
                    "IP": address,
                    "MBits": 1000,
                    "DNS": None,
                    "ReservedPorts": None,
                    "DynamicPorts": None,
                }
            ],
            "Devices": None,
        },
        "Reserved": {
            "CPU": 0,
            "MemoryMB": 0,
            "DiskMB": 0,
            "IOPS": 0,
            "Networks": None,
            "Devices": None,
        },
        "Links": {"consul": f"{datacenter}.{name}"},
        "Meta": copy.deepcopy(meta)
        if meta is not None
        else {
            "connect.gateway_image": "docker.io/envoyproxy/envoy:v${NOMAD_envoy_version}",
            "connect.log_level": "info",
            "connect.proxy_concurrency": "1",
            "connect.sidecar_image": "docker.io/envoyproxy/envoy:v${NOMAD_envoy_version}",
        },
        "NodeClass": node_class,
        "NodePool": node_pool,
        "ComputedClass": f"v1:{class_hash}",
        "Drain": drain,
        "DrainStrategy": copy.deepcopy(drain_strategy),
        "SchedulingEligibility": eligibility,
        "Status": status,
        "StatusDescription": "",
        "StatusUpdatedAt": now_ns // 1_000_000_000,
        "Events": [node_event("Node registered", "Cluster", now_ns, create_index)],
        "Drivers": {
            d: {
                "Attributes": dict(_DRIVER_ATTRS.get(d, {f"driver.{d}": "true"})),
                "Detected": True,
                "Healthy": True,
                "HealthDescription": "Healthy",
                "UpdateTime": rfc3339(now_ns),
            }
            for d in drivers
        },
        "CSIControllerPlugins": None,
        "CSINodePlugins": None,
        "HostVolumes": None,
        "HostNetworks": None,
        "LastDrain": None,
        "LastMissedHeartbeatIndex": 0,
        "LastAllocUpdateIndex": 0,
        "CreateIndex": create_index,
        "ModifyIndex": create_index,
    }


def node_stub(node: Json, *, resources: bool = False, os: bool = False) -> Json:
    """NodeListStub; `resources`/`os` mirror GET /v1/nodes?resources=true&os=true."""
    attrs: dict[str, Any] = node.get("Attributes") or {}
    stub: Json = {
        "Address": attrs.get("unique.network.ip-address", ""),
        "ID": node["ID"],
        "Datacenter": node["Datacenter"],
        "Name": node["Name"],
        "NodeClass": node["NodeClass"],
        "NodePool": node["NodePool"],
        "Version": attrs.get("nomad.version", ""),
        "Drain": node["Drain"],
        "SchedulingEligibility": node["SchedulingEligibility"],
        "Status": node["Status"],
        "StatusDescription": node["StatusDescription"],
        "Drivers": copy.deepcopy(node["Drivers"]),
        "HostVolumes": copy.deepcopy(node.get("HostVolumes")),
        "LastDrain": copy.deepcopy(node.get("LastDrain")),
        "CreateIndex": node["CreateIndex"],
        "ModifyIndex": node["ModifyIndex"],
    }
    if os:
        stub["Attributes"] = {k: v for k, v in attrs.items() if k.startswith("os.")}
    if resources:
        stub["NodeResources"] = copy.deepcopy(node["NodeResources"])
        stub["ReservedResources"] = copy.deepcopy(node["ReservedResources"])
    return stub
