"""Job diffs in the shape of Nomad's structs.JobDiff (versions?diffs=true, plan).

Nomad diffs structs field by field: scalar fields become FieldDiffs with string values,
maps are flattened ("Env[foo]"), nested structs and list elements become ObjectDiffs, and
task groups/tasks are matched by name. This is a generic walk over the canonical job dicts
with the same output conventions; it is non-contextual (unchanged fields are left out),
as in the documented versions sample.
"""

from __future__ import annotations

import json
from typing import Any

from nomtui.sim.state import Json

# Bookkeeping the server changes on every write; Nomad's Job.Diff filters these out too.
_JOB_IGNORED = frozenset(
    {
        "ID",
        "Status",
        "StatusDescription",
        "Version",
        "Stable",
        "CreateIndex",
        "ModifyIndex",
        "JobModifyIndex",
        "Update",
        "SubmitTime",
        "NomadTokenID",
        "VaultToken",
        "ConsulToken",
        "VersionTag",
        "TaskGroups",
    }
)
# String maps Nomad flattens into the parent's fields rather than a child object.
_FLAT_MAPS = frozenset({"Meta", "Env", "CanaryMeta", "GetterOptions", "GetterHeaders"})
# Free-form maps whose nested values are flattened with index paths ("ports[0]").
_DEEP_MAPS = frozenset({"Config"})
# Object names Nomad uses for list elements.
_ELEMENT_NAMES = {
    "Services": "Service",
    "Checks": "Check",
    "Constraints": "Constraint",
    "Affinities": "Affinity",
    "Spreads": "Spread",
    "Networks": "Network",
    "DynamicPorts": "Dynamic Port",
    "ReservedPorts": "Static Port",
    "Templates": "Template",
    "Artifacts": "Artifact",
    "VolumeMounts": "VolumeMount",
    "Devices": "Device",
}


def _text(value: Any) -> str:
    """Go's %v for the values a job holds; nil and missing both become ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _field(name: str, old: Any, new: Any) -> Json | None:
    o, n = _text(old), _text(new)
    if o == n:
        return None
    kind = "Added" if o == "" else "Deleted" if n == "" else "Edited"
    return {"Annotations": None, "Name": name, "New": n, "Old": o, "Type": kind}


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}[{k}]" if prefix else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = _text(value)


def _flat_fields(old: Any, new: Any, prefix: str) -> list[Json]:
    o: dict[str, str] = {}
    n: dict[str, str] = {}
    _flatten(old or {}, prefix, o)
    _flatten(new or {}, prefix, n)
    found = (_field(k, o.get(k), n.get(k)) for k in sorted(set(o) | set(n)))
    return [f for f in found if f is not None]


def _kind(old: Any, new: Any) -> str:
    return "Added" if old is None else "Deleted" if new is None else "Edited"


def _object(name: str, old: Json | None, new: Json | None) -> Json | None:
    fields, objects = diff_members(old or {}, new or {})
    if not fields and not objects:
        return None
    return {
        "Fields": fields or None,
        "Name": name,
        "Objects": objects or None,
        "Type": _kind(old, new),
    }


def _identity(item: Json) -> str | None:
    for key in ("Name", "Label"):
        if isinstance(item.get(key), str) and item[key]:
            return f"{key}={item[key]}"
    return None


def _list_objects(key: str, old: list[Any], new: list[Any]) -> list[Json]:
    name = _ELEMENT_NAMES.get(key, key)
    old_ids = [_identity(x) for x in old]
    new_ids = [_identity(x) for x in new]
    out: list[Json] = []
    if all(old_ids) and all(new_ids):
        by_old = dict(zip(old_ids, old, strict=True))
        by_new = dict(zip(new_ids, new, strict=True))
        for ident in sorted(set(by_old) | set(by_new), key=str):
            diff = _object(name, by_old.get(ident), by_new.get(ident))
            if diff:
                out.append(diff)
        return out
    # Anonymous elements (constraints, networks) have no identity: a change is a delete
    # plus an add, which is how Nomad reports them as well.
    old_keys = [json.dumps(x, sort_keys=True) for x in old]
    new_keys = [json.dumps(x, sort_keys=True) for x in new]
    for item, k in zip(old, old_keys, strict=True):
        if k not in new_keys and (diff := _object(name, item, None)):
            out.append(diff)
    for item, k in zip(new, new_keys, strict=True):
        if k not in old_keys and (diff := _object(name, None, item)):
            out.append(diff)
    return out


def _set_object(key: str, old: list[Any], new: list[Any]) -> Json | None:
    o, n = {_text(x) for x in old}, {_text(x) for x in new}
    fields = [
        {"Annotations": None, "Name": key, "New": v, "Old": "", "Type": "Added"}
        for v in sorted(n - o)
    ] + [
        {"Annotations": None, "Name": key, "New": "", "Old": v, "Type": "Deleted"}
        for v in sorted(o - n)
    ]
    if not fields:
        return None
    kind = "Added" if not o else "Deleted" if not n else "Edited"
    return {"Fields": fields, "Name": key, "Objects": None, "Type": kind}


def diff_members(
    old: Json, new: Json, ignored: frozenset[str] = frozenset()
) -> tuple[list[Json], list[Json]]:
    """FieldDiffs and ObjectDiffs between two structs, sorted by name like Nomad's."""
    fields: list[Json] = []
    objects: list[Json] = []
    for key in sorted(set(old) | set(new)):
        if key in ignored:
            continue
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        if key in _FLAT_MAPS:
            fields.extend(_flat_fields(o, n, key))
        elif key in _DEEP_MAPS:
            inner = _flat_fields(o, n, "")
            if inner:
                objects.append({"Fields": inner, "Name": key, "Objects": None, "Type": _kind(o, n)})
        elif isinstance(o, dict) or isinstance(n, dict):
            if diff := _object(key, o, n):
                objects.append(diff)
        elif isinstance(o, list) or isinstance(n, list):
            items = (o or []) + (n or [])
            if items and all(isinstance(x, dict) for x in items):
                objects.extend(_list_objects(key, o or [], n or []))
            elif diff := _set_object(key, o or [], n or []):
                objects.append(diff)
        elif diff := _field(key, o, n):
            fields.append(diff)
    objects.sort(key=lambda d: str(d["Name"]))
    return fields, objects


def _task_diff(old: Json | None, new: Json | None) -> Json | None:
    fields, objects = diff_members(old or {}, new or {}, frozenset({"Name"}))
    if not fields and not objects:
        return None
    name = (new or old or {}).get("Name", "")
    return {
        "Annotations": None,
        "Fields": fields or None,
        "Name": name,
        "Objects": objects or None,
        "Type": _kind(old, new),
    }


def _by_name(items: Any) -> dict[str, Json]:
    return {str(x.get("Name", "")): x for x in items or [] if isinstance(x, dict)}


def _group_diff(old: Json | None, new: Json | None) -> Json | None:
    fields, objects = diff_members(old or {}, new or {}, frozenset({"Name", "Tasks"}))
    old_tasks, new_tasks = _by_name((old or {}).get("Tasks")), _by_name((new or {}).get("Tasks"))
    tasks = [
        d
        for name in sorted(set(old_tasks) | set(new_tasks))
        if (d := _task_diff(old_tasks.get(name), new_tasks.get(name)))
    ]
    if not fields and not objects and not tasks:
        return None
    return {
        "Fields": fields or None,
        "Name": (new or old or {}).get("Name", ""),
        "Objects": objects or None,
        "Tasks": tasks or None,
        "Type": _kind(old, new),
        "Updates": None,
    }


def job_diff(old: Json | None, new: Json) -> Json:
    """Diff from `old` to `new` (None: the job is new) as Nomad's JobDiff."""
    fields, objects = diff_members(old or {}, new, _JOB_IGNORED)
    old_groups, new_groups = _by_name((old or {}).get("TaskGroups")), _by_name(new["TaskGroups"])
    groups = [
        d
        for name in sorted(set(old_groups) | set(new_groups))
        if (d := _group_diff(old_groups.get(name), new_groups.get(name)))
    ]
    changed = bool(fields or objects or groups)
    return {
        "Fields": fields or None,
        "ID": new["ID"],
        "Objects": objects or None,
        "TaskGroups": groups or None,
        "Type": ("Added" if old is None else "Edited") if changed else "None",
    }


def version_diffs(versions: list[Json]) -> list[Json]:
    """Diffs for a newest-first version list: entry i is version i+1 -> version i."""
    return [job_diff(versions[i + 1], versions[i]) for i in range(len(versions) - 1)]
