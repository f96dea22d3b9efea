"""Defaults and canonicalizers for the parts of a job: policies, services, networks, resources.

Values follow api/jobs.go, api/tasks.go and nomad/structs (Nomad 1.7-1.9).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from nomtui.sim.shapes.common import (
    HOUR,
    MINUTE,
    SECOND,
    deep_merge,
    given,
)
from nomtui.sim.state import Json

DEFAULT_UPDATE: Json = {
    "Stagger": 30 * SECOND,
    "MaxParallel": 1,
    "HealthCheck": "checks",
    "MinHealthyTime": 10 * SECOND,
    "HealthyDeadline": 5 * MINUTE,
    "ProgressDeadline": 10 * MINUTE,
    "AutoRevert": False,
    "AutoPromote": False,
    "Canary": 0,
}
DEFAULT_MIGRATE: Json = {
    "MaxParallel": 1,
    "HealthCheck": "checks",
    "MinHealthyTime": 10 * SECOND,
    "HealthyDeadline": 5 * MINUTE,
}
_RESTART: dict[str, Json] = {
    "service": {"Attempts": 2, "Interval": 30 * MINUTE, "Delay": 15 * SECOND, "Mode": "fail"},
    "batch": {"Attempts": 3, "Interval": 24 * HOUR, "Delay": 15 * SECOND, "Mode": "fail"},
}
_RESCHEDULE: dict[str, Json] = {
    "service": {
        "Attempts": 0,
        "Interval": 0,
        "Delay": 30 * SECOND,
        "DelayFunction": "exponential",
        "MaxDelay": HOUR,
        "Unlimited": True,
    },
    "batch": {
        "Attempts": 1,
        "Interval": 24 * HOUR,
        "Delay": 5 * SECOND,
        "DelayFunction": "constant",
        "MaxDelay": 0,
        "Unlimited": False,
    },
}
ZERO_UPDATE: Json = {k: type(v)() for k, v in DEFAULT_UPDATE.items()}


def restart_defaults(job_type: str) -> Json:
    """Batch-like jobs get Nomad's batch restart policy; service and system share one."""
    kind = "batch" if job_type in ("batch", "sysbatch") else "service"
    return {**_RESTART[kind], "RenderTemplates": False}


def reschedule_defaults(job_type: str) -> Json | None:
    # System and sysbatch allocs are pinned to their node, so Nomad drops the policy.
    policy = _RESCHEDULE.get(job_type)
    return copy.deepcopy(policy) if policy is not None else None


def canon_list(items: Any, fn: Callable[..., Json], *args: Any) -> list[Json] | None:
    """Canonicalize each element; a nil list stays nil (Nomad keeps null vs [] apart)."""
    if not isinstance(items, list):
        return None
    return [fn(item, *args) for item in items]


def constraint(spec: Any) -> Json:
    return deep_merge({"LTarget": "", "RTarget": "", "Operand": "="}, spec)


def affinity(spec: Any) -> Json:
    return deep_merge({"LTarget": "", "RTarget": "", "Operand": "=", "Weight": 50}, spec)


def spread(spec: Any) -> Json:
    return deep_merge({"Attribute": "", "Weight": 50, "SpreadTarget": None}, spec)


def _port(spec: Any) -> Json:
    return deep_merge({"Label": "", "Value": 0, "To": 0, "HostNetwork": "default"}, spec)


def network(spec: Any) -> Json:
    out = deep_merge(
        {
            "Mode": "",
            "Device": "",
            "CIDR": "",
            "IP": "",
            "Hostname": "",
            "MBits": 0,
            "DNS": None,
            "ReservedPorts": None,
            "DynamicPorts": None,
        },
        spec,
    )
    for key in ("ReservedPorts", "DynamicPorts"):
        out[key] = canon_list(out[key], _port)
    return out


def _check(spec: Any, service: Json) -> Json:
    defaults: Json = {
        "Name": f'service: "{service["Name"]}" check',
        "Type": "",
        "Command": "",
        "Args": None,
        "Path": "",
        "Protocol": "",
        "PortLabel": "",
        "Expose": False,
        "AddressMode": "",
        "Interval": 0,
        "Timeout": 0,
        "InitialStatus": "",
        "TLSServerName": "",
        "TLSSkipVerify": False,
        "Method": "",
        "Header": None,
        "CheckRestart": None,
        "GRPCService": "",
        "GRPCUseTLS": False,
        "TaskName": "",
        "SuccessBeforePassing": 0,
        "FailuresBeforeCritical": 0,
        "FailuresBeforeWarning": 0,
        "Body": "",
        "OnUpdate": service["OnUpdate"],
    }
    return deep_merge(defaults, spec)


def service(spec: Any, job: Json, group: str, task: str = "") -> Json:
    raw = given(spec)
    default_name = f"{job['Name']}-{group}-{task}" if task else f"{job['Name']}-{group}"
    out = deep_merge(
        {
            "Name": default_name,
            "TaskName": task,
            "PortLabel": "",
            "AddressMode": "auto",
            "Address": "",
            "EnableTagOverride": False,
            "Tags": None,
            "CanaryTags": None,
            "Checks": None,
            "Connect": None,
            "Meta": None,
            "CanaryMeta": None,
            "TaggedAddresses": None,
            "Namespace": "",
            "OnUpdate": "require_healthy",
            "Provider": "consul",
            "Cluster": "default",
            "Identity": None,
            "Weights": None,
        },
        raw,
    )
    # Nomad nils empty lists so DeepEqual-based update checks see "no tags" one way only.
    for key in ("Tags", "CanaryTags", "Checks"):
        if not out[key]:
            out[key] = None
    # Consul answers "default" for an empty namespace; Nomad-native services live in the
    # job's namespace. Nomad coerces both so diffs stay quiet.
    if out["Provider"] == "nomad":
        out["Namespace"] = job["Namespace"]
    elif not out["Namespace"]:
        out["Namespace"] = "default"
    out["Checks"] = canon_list(out["Checks"], _check, out)
    return out


def resources(spec: Any) -> Json:
    raw = given(spec)
    # Reserving whole cores replaces the MHz share, so CPU stays 0 unless asked for.
    cpu_default = 0 if raw.get("Cores") else 100
    out = deep_merge(
        {
            "CPU": cpu_default,
            "Cores": 0,
            "MemoryMB": 300,
            "MemoryMaxMB": 0,
            "DiskMB": 0,
            "IOPS": 0,
            "Networks": None,
            "Devices": None,
            "NUMA": None,
        },
        raw,
    )
    out["Networks"] = canon_list(out["Networks"], network)
    return out


def template(spec: Any) -> Json:
    defaults: Json = {
        "SourcePath": "",
        "DestPath": "",
        "EmbeddedTmpl": "",
        "ChangeMode": "restart",
        "ChangeSignal": "",
        "ChangeScript": None,
        "Splay": 5 * SECOND,
        "Perms": "0644",
        "Uid": None,
        "Gid": None,
        "LeftDelim": "{{",
        "RightDelim": "}}",
        "Envvars": False,
        "VaultGrace": 0,
        "Wait": None,
        "ErrMissingKey": False,
    }
    return deep_merge(defaults, spec)


def artifact(spec: Any) -> Json:
    defaults: Json = {
        "GetterSource": "",
        "GetterOptions": None,
        "GetterHeaders": None,
        "GetterMode": "any",
        "GetterInsecure": False,
        "RelativeDest": "local/",
        "Chown": False,
    }
    return deep_merge(defaults, spec)
