"""Render a canonical job back into a plausible HCL2 jobspec, for job submissions.

Only what an operator would have written is emitted: fields still at Nomad's defaults are
left out, so the text reads like a hand-written jobspec rather than a dump of the struct.
"""

from __future__ import annotations

import json
from typing import Any

from nomtui.sim.shapes.common import short_duration
from nomtui.sim.shapes.jobparts import DEFAULT_UPDATE, reschedule_defaults, restart_defaults
from nomtui.sim.state import Json

_INDENT = "  "


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        # json.dumps gives HCL-compatible escapes for quotes, backslashes and newlines.
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_literal(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return '""'


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


class _Block:
    """A block body: attributes (aligned like `nomad fmt`) and nested blocks."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.items: list[tuple[str, str] | _Block] = []

    def attr(self, name: str, value: Any) -> None:
        self.items.append((name, _literal(value)))

    def dur(self, name: str, ns: int) -> None:
        self.items.append((name, json.dumps(short_duration(ns))))

    def block(self, header: str) -> _Block:
        child = _Block(header)
        self.items.append(child)
        return child

    def render(self, depth: int = 0) -> list[str]:
        pad = _INDENT * depth
        lines = [f"{pad}{self.header} {{"]
        run: list[tuple[str, str]] = []
        for item in [*self.items, None]:
            if isinstance(item, tuple):
                run.append(item)
                continue
            if run:
                width = max(len(k) for k, _ in run)
                lines.extend(f"{pad}{_INDENT}{k.ljust(width)} = {v}" for k, v in run)
                run = []
            if isinstance(item, _Block):
                if len(lines) > 1 and lines[-1].strip():
                    lines.append("")
                lines.extend(item.render(depth + 1))
        lines.append(f"{pad}}}")
        return lines


def _free_map(parent: _Block, name: str, values: Any) -> None:
    """Driver config style: nested maps become blocks, lists of maps repeated blocks."""
    if not isinstance(values, dict) or not values:
        return
    block = parent.block(name)
    for key, value in values.items():
        if isinstance(value, dict) and name == "config":
            _free_map(block, key, value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            if name == "config" and all(len(v) > 1 for v in value):
                for item in value:
                    _free_map(block, key, item)
            else:
                block.attr(_key(key), value)
        else:
            block.attr(_key(key), value)


def _constraints(parent: _Block, items: Any) -> None:
    for c in items or []:
        block = parent.block("constraint")
        if c.get("LTarget"):
            block.attr("attribute", c["LTarget"])
        if c.get("Operand", "=") != "=":
            block.attr("operator", c["Operand"])
        if c.get("RTarget"):
            block.attr("value", c["RTarget"])


def _service(parent: _Block, svc: Json) -> None:
    block = parent.block("service")
    block.attr("name", svc["Name"])
    if svc.get("PortLabel"):
        block.attr("port", svc["PortLabel"])
    if svc.get("Provider", "consul") != "consul":
        block.attr("provider", svc["Provider"])
    if svc.get("Tags"):
        block.attr("tags", svc["Tags"])
    for check in svc.get("Checks") or []:
        cb = block.block("check")
        cb.attr("name", check["Name"])
        cb.attr("type", check["Type"])
        if check.get("Path"):
            cb.attr("path", check["Path"])
        if check.get("Command"):
            cb.attr("command", check["Command"])
        if check.get("PortLabel"):
            cb.attr("port", check["PortLabel"])
        cb.dur("interval", int(check.get("Interval") or 10_000_000_000))
        cb.dur("timeout", int(check.get("Timeout") or 2_000_000_000))


def _network(parent: _Block, net: Json) -> None:
    block = parent.block("network")
    if net.get("Mode"):
        block.attr("mode", net["Mode"])
    for port in net.get("ReservedPorts") or []:
        pb = block.block(f"port {json.dumps(port['Label'])}")
        pb.attr("static", port["Value"])
        if port.get("To"):
            pb.attr("to", port["To"])
    for port in net.get("DynamicPorts") or []:
        pb = block.block(f"port {json.dumps(port['Label'])}")
        if port.get("To"):
            pb.attr("to", port["To"])


def _policy(parent: _Block, name: str, policy: Any, defaults: Json | None) -> None:
    """Emit only the members of a policy block that differ from Nomad's defaults."""
    if not isinstance(policy, dict):
        return
    names = {
        "Attempts": "attempts",
        "Mode": "mode",
        "MaxParallel": "max_parallel",
        "Canary": "canary",
        "AutoRevert": "auto_revert",
        "AutoPromote": "auto_promote",
        "HealthCheck": "health_check",
        "Unlimited": "unlimited",
        "DelayFunction": "delay_function",
    }
    durations = {
        "Interval": "interval",
        "Delay": "delay",
        "MinHealthyTime": "min_healthy_time",
        "HealthyDeadline": "healthy_deadline",
        "ProgressDeadline": "progress_deadline",
        "MaxDelay": "max_delay",
    }
    changed = {k: v for k, v in policy.items() if (defaults or {}).get(k) != v}
    if not changed:
        return
    block = parent.block(name)
    for key, value in changed.items():
        if key in names:
            block.attr(names[key], value)
        elif key in durations and isinstance(value, int):
            block.dur(durations[key], value)


def _task(parent: _Block, task: Json) -> None:
    block = parent.block(f"task {json.dumps(task['Name'])}")
    block.attr("driver", task["Driver"])
    if task.get("User"):
        block.attr("user", task["User"])
    if task.get("Leader"):
        block.attr("leader", True)
    if task.get("KillTimeout", 5_000_000_000) != 5_000_000_000:
        block.dur("kill_timeout", int(task["KillTimeout"]))
    if task.get("Lifecycle"):
        lb = block.block("lifecycle")
        lb.attr("hook", task["Lifecycle"]["Hook"])
        if task["Lifecycle"].get("Sidecar"):
            lb.attr("sidecar", True)
    _free_map(block, "config", task.get("Config"))
    _free_map(block, "env", task.get("Env"))
    _free_map(block, "meta", task.get("Meta"))
    for tmpl in task.get("Templates") or []:
        tb = block.block("template")
        if tmpl.get("EmbeddedTmpl"):
            tb.attr("data", tmpl["EmbeddedTmpl"])
        if tmpl.get("SourcePath"):
            tb.attr("source", tmpl["SourcePath"])
        tb.attr("destination", tmpl.get("DestPath", "local/file"))
    for svc in task.get("Services") or []:
        _service(block, svc)
    res = task.get("Resources") or {}
    rb = block.block("resources")
    rb.attr("cpu", res.get("CPU", 100))
    rb.attr("memory", res.get("MemoryMB", 300))
    if res.get("MemoryMaxMB"):
        rb.attr("memory_max", res["MemoryMaxMB"])


def _group(parent: _Block, group: Json, job_type: str) -> None:
    block = parent.block(f"group {json.dumps(group['Name'])}")
    block.attr("count", group["Count"])
    _constraints(block, group.get("Constraints"))
    for net in group.get("Networks") or []:
        _network(block, net)
    for svc in group.get("Services") or []:
        _service(block, svc)
    _policy(block, "update", group.get("Update"), DEFAULT_UPDATE)
    _policy(block, "restart", group.get("RestartPolicy"), restart_defaults(job_type))
    _policy(block, "reschedule", group.get("ReschedulePolicy"), reschedule_defaults(job_type))
    if group.get("Scaling"):
        sb = block.block("scaling")
        sb.attr("min", group["Scaling"]["Min"])
        sb.attr("max", group["Scaling"]["Max"])
        if not group["Scaling"].get("Enabled", True):
            sb.attr("enabled", False)
    _free_map(block, "meta", group.get("Meta"))
    for task in group.get("Tasks") or []:
        _task(block, task)


def hcl_source(job: Json) -> str:
    """A jobspec that would register `job` (defaults omitted), as `nomad fmt` lays it out."""
    root = _Block(f"job {json.dumps(job['ID'])}")
    if job.get("Name") and job["Name"] != job["ID"]:
        root.attr("name", job["Name"])
    if job.get("Namespace", "default") != "default":
        root.attr("namespace", job["Namespace"])
    if job.get("Region", "global") != "global":
        root.attr("region", job["Region"])
    root.attr("datacenters", job.get("Datacenters") or ["*"])
    root.attr("type", job.get("Type", "service"))
    if job.get("NodePool", "default") != "default":
        root.attr("node_pool", job["NodePool"])
    if job.get("Priority", 50) != 50:
        root.attr("priority", job["Priority"])
    _free_map(root, "meta", job.get("Meta"))
    _constraints(root, job.get("Constraints"))
    periodic = job.get("Periodic")
    if periodic:
        pb = root.block("periodic")
        pb.attr("crons", [periodic.get("Spec", "")])
        pb.attr("prohibit_overlap", bool(periodic.get("ProhibitOverlap")))
    param = job.get("ParameterizedJob")
    if param:
        pb = root.block("parameterized")
        pb.attr("payload", param.get("Payload", "optional"))
        if param.get("MetaRequired"):
            pb.attr("meta_required", param["MetaRequired"])
        if param.get("MetaOptional"):
            pb.attr("meta_optional", param["MetaOptional"])
    for group in job.get("TaskGroups") or []:
        _group(root, group, str(job.get("Type", "service")))
    return "\n".join(root.render()) + "\n"
