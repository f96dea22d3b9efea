"""Nomad's job Canonicalize, redone over API-shaped dicts.

A client registers a sparse job; the server stores (and every read returns) the job with
every field present and Nomad's defaults filled in. The defaults follow api/jobs.go,
api/tasks.go and nomad/structs (Nomad 1.7-1.9): what `nomad job inspect` shows for a job
registered from a short jobspec.
"""

from __future__ import annotations

from typing import Any

from nomtui.sim.shapes.common import SECOND, as_list, deep_merge, given, stable_uuid
from nomtui.sim.shapes.jobparts import (
    DEFAULT_MIGRATE,
    DEFAULT_UPDATE,
    ZERO_UPDATE,
    affinity,
    artifact,
    canon_list,
    constraint,
    network,
    reschedule_defaults,
    resources,
    restart_defaults,
    service,
    spread,
    template,
)
from nomtui.sim.state import Json


def _task(spec: Any, job: Json, group: str, group_restart: Json) -> Json:
    raw = given(spec)
    name = str(raw.get("Name", ""))
    out = deep_merge(
        {
            "Name": name,
            "Driver": "",
            "User": "",
            "Config": None,
            "Env": None,
            "Services": None,
            "Vault": None,
            "Templates": None,
            "Constraints": None,
            "Affinities": None,
            # Not a task field in Nomad's structs, but the documented allocation sample
            # carries it on tasks; a nil list costs nothing and keeps readers honest.
            "Spreads": None,
            "Resources": None,
            # Since 1.6 a task inherits its group's restart policy unless it sets its own.
            "RestartPolicy": group_restart,
            "DispatchPayload": None,
            "Lifecycle": None,
            "Meta": None,
            "KillTimeout": 5 * SECOND,
            "LogConfig": {"MaxFiles": 10, "MaxFileSizeMB": 10, "Disabled": False},
            "Artifacts": None,
            "Leader": False,
            "ShutdownDelay": 0,
            "VolumeMounts": None,
            "ScalingPolicies": None,
            "KillSignal": "",
            "Kind": "",
            "CSIPluginConfig": None,
            "Identity": None,
            "Identities": None,
            "Actions": None,
            "Schedule": None,
            "Consul": None,
        },
        raw,
    )
    out["Resources"] = resources(out["Resources"])
    out["Services"] = canon_list(out["Services"], service, job, group, name)
    out["Constraints"] = canon_list(out["Constraints"], constraint)
    out["Affinities"] = canon_list(out["Affinities"], affinity)
    out["Templates"] = canon_list(out["Templates"], template)
    out["Artifacts"] = canon_list(out["Artifacts"], artifact)
    if out["Lifecycle"] is not None:
        out["Lifecycle"] = deep_merge({"Hook": "", "Sidecar": False}, out["Lifecycle"])
    if out["DispatchPayload"] is not None:
        out["DispatchPayload"] = deep_merge({"File": ""}, out["DispatchPayload"])
    return out


def _scaling(spec: Any, job: Json, group: str, count: int) -> Json:
    defaults: Json = {
        # Server-assigned; derived from the target so a pure function stays deterministic.
        "ID": stable_uuid(f"scaling:{job['Namespace']}/{job['ID']}/{group}"),
        "Type": "horizontal",
        "Target": {"Namespace": job["Namespace"], "Job": job["ID"], "Group": group},
        "Policy": None,
        "Min": count,
        "Max": count,
        "Enabled": True,
        "CreateIndex": 0,
        "ModifyIndex": 0,
    }
    return deep_merge(defaults, spec)


def _group(spec: Any, job: Json, job_update: Json) -> Json:
    raw = given(spec)
    jtype = job["Type"]
    name = str(raw.get("Name", ""))
    scaling = given(raw.get("Scaling"))
    # With a scaling block and no count, Nomad starts the group at the scaling minimum.
    count: int = raw["Count"] if "Count" in raw else scaling.get("Min", 1)
    restart = deep_merge(restart_defaults(jtype), raw.get("RestartPolicy"))
    out = deep_merge(
        {
            "Name": name,
            "Count": count,
            "Update": None,
            "Migrate": None,
            "Constraints": None,
            "Scaling": None,
            "RestartPolicy": restart,
            "Tasks": [],
            "EphemeralDisk": {"Sticky": False, "SizeMB": 300, "Migrate": False},
            "Meta": None,
            "ReschedulePolicy": None,
            "Affinities": None,
            "Spreads": None,
            "Networks": None,
            "Consul": {"Namespace": "", "Cluster": "default", "Partition": ""},
            "Services": None,
            "Volumes": None,
            "ShutdownDelay": None,
            "StopAfterClientDisconnect": None,
            "MaxClientDisconnect": None,
            "PreventRescheduleOnLost": False,
            "Disconnect": None,
        },
        {k: v for k, v in raw.items() if k != "Tasks"},
    )
    # Update cascades defaults <- job block <- group block; only service jobs get one for free.
    if jtype == "service" or job_update or given(raw.get("Update")):
        out["Update"] = deep_merge(deep_merge(DEFAULT_UPDATE, job_update), raw.get("Update"))
    if jtype == "service" or raw.get("Migrate") is not None:
        out["Migrate"] = deep_merge(DEFAULT_MIGRATE, raw.get("Migrate"))
    resched = reschedule_defaults(jtype)
    out["ReschedulePolicy"] = deep_merge(resched, raw.get("ReschedulePolicy")) if resched else None
    out["Scaling"] = _scaling(scaling, job, name, count) if scaling else None
    out["Networks"] = canon_list(out["Networks"], network)
    out["Services"] = canon_list(out["Services"], service, job, name)
    out["Constraints"] = canon_list(out["Constraints"], constraint)
    out["Affinities"] = canon_list(out["Affinities"], affinity)
    out["Spreads"] = canon_list(out["Spreads"], spread)
    out["Tasks"] = [_task(t, job, name, restart) for t in as_list(raw.get("Tasks"))]
    return out


def canonical_job(spec: Json, *, region: str = "global", namespace: str = "default") -> Json:
    """The stored form of a job registered as `spec` (the body's "Job"); never mutates spec."""
    raw = given(spec)
    job_id = str(raw.get("ID", ""))
    job = deep_merge(
        {
            "Stop": False,
            "Region": region,
            "Namespace": namespace,
            "ID": job_id,
            "ParentID": "",
            "Name": job_id,
            "Type": "service",
            "Priority": 50,
            "AllAtOnce": False,
            "Datacenters": ["*"],
            "NodePool": "default",
            "Constraints": None,
            "Affinities": None,
            "Spreads": None,
            "TaskGroups": [],
            "Update": dict(ZERO_UPDATE),
            "Multiregion": None,
            "Periodic": None,
            "ParameterizedJob": None,
            "Dispatched": False,
            "DispatchIdempotencyToken": "",
            "Payload": None,
            "Meta": None,
            "ConsulToken": "",
            "ConsulNamespace": "",
            "VaultToken": "",
            "VaultNamespace": "",
            "NomadTokenID": "",
            "Status": "pending",
            "StatusDescription": "",
            "Stable": False,
            "Version": 0,
            "SubmitTime": 0,
            "CreateIndex": 0,
            "ModifyIndex": 0,
            "JobModifyIndex": 0,
            "VersionTag": None,
            "UI": None,
        },
        {k: v for k, v in raw.items() if k not in ("TaskGroups", "Update")},
    )
    # Empty strings/lists from a client mean "unset" in Go's api package as well.
    fallbacks = {
        "Name": job_id,
        "Region": region,
        "Namespace": namespace,
        "Type": "service",
        "NodePool": "default",
    }
    for key, fallback in fallbacks.items():
        if not job[key]:
            job[key] = fallback
    if not job["Datacenters"]:
        job["Datacenters"] = ["*"]
    # Zero members count as unset (api UpdateStrategy.Empty), so a stored job sent back
    # round-trips instead of pushing its zeroed job-level block into the groups.
    job_update = {k: v for k, v in given(raw.get("Update")).items() if v}
    if job["Type"] == "service" or job_update:
        # The server keeps only Stagger/MaxParallel at job level; the rest lives in groups.
        full_update = deep_merge(DEFAULT_UPDATE, job_update)
        job["Update"] = {
            **ZERO_UPDATE,
            "Stagger": full_update["Stagger"],
            "MaxParallel": full_update["MaxParallel"],
        }
    job["Constraints"] = canon_list(job["Constraints"], constraint)
    job["Affinities"] = canon_list(job["Affinities"], affinity)
    job["Spreads"] = canon_list(job["Spreads"], spread)
    if job["Periodic"] is not None:
        job["Periodic"] = deep_merge(
            {
                "Enabled": True,
                "Spec": "",
                "Specs": None,
                "SpecType": "cron",
                "ProhibitOverlap": False,
                "TimeZone": "UTC",
            },
            job["Periodic"],
        )
    if job["ParameterizedJob"] is not None:
        job["ParameterizedJob"] = deep_merge(
            {"Payload": "optional", "MetaRequired": None, "MetaOptional": None},
            job["ParameterizedJob"],
        )
    job["TaskGroups"] = [_group(tg, job, job_update) for tg in as_list(raw.get("TaskGroups"))]
    return job
