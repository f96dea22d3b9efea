"""Job versions and the differences between any two of them.

`GET /v1/job/:id/versions?diffs=true` gives every kept version (newest first) and Nomad's
own diff between each version and the one before it. Those diffs are used when two
adjacent versions are compared; any other pair is compared here, field by field, over
the raw JSON (not the models, which keep only what nomtui shows). Both paths end in the
same `Change` list and the same rendering.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from nomtui.sanitize import clean
from nomtui.tui.header import format_age
from nomtui.tui.screens.job_render import redact
from nomtui.tui.widgets.live_table import Cells, Column

VERSION_COLUMNS = (
    Column("Ver", "version", numeric=True),
    Column("Stable", "stable"),
    Column("Submitted", "submitted"),
    Column("Changes", "changes", numeric=True),
    Column("Compare", "compare"),
)
BOOKKEEPING = frozenset(
    {
        "Version",
        "Stable",
        "SubmitTime",
        "CreateIndex",
        "ModifyIndex",
        "JobModifyIndex",
        "Status",
        "StatusDescription",
    }
)
"""Fields every version differs in without anyone having changed the job."""
MAX_VALUE = 100


@dataclass(frozen=True)
class Change:
    path: str
    kind: str
    """`added`, `deleted` or `edited`."""
    old: str = ""
    new: str = ""


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(redact(value), ensure_ascii=False)
    text = " ".join(clean(text, newlines=True).split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _named(items: list[Any]) -> dict[str, Any] | None:
    """Lists of named objects (groups, tasks, services) compare by name, not position."""
    if items and all(isinstance(i, dict) and isinstance(i.get("Name"), str) for i in items):
        names = [i["Name"] for i in items]
        if len(set(names)) == len(names):
            return {name: item for name, item in zip(names, items, strict=True)}
    return None


def local_diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """Field-level changes from `old` to `new` (raw job JSON), bookkeeping left out."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key in [*old, *(k for k in new if k not in old)]:
            if not path and key in BOOKKEEPING:
                continue
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                if old[key] not in (None, "", [], {}):
                    changes.append(Change(where, "deleted", old=_show(old[key])))
            elif key not in old:
                if new[key] not in (None, "", [], {}):
                    changes.append(Change(where, "added", new=_show(new[key])))
            else:
                changes += local_diff(old[key], new[key], where)
        return changes
    if isinstance(old, list) and isinstance(new, list):
        before, after = _named(old), _named(new)
        if before is not None and after is not None:
            changes = []
            for name in [*before, *(n for n in after if n not in before)]:
                where = f"{path}[{name}]"
                if name not in after:
                    changes.append(Change(where, "deleted", old=_show(before[name])))
                elif name not in before:
                    changes.append(Change(where, "added", new=_show(after[name])))
                else:
                    changes += local_diff(before[name], after[name], where)
            return changes
    if old == new:
        return []
    if old in (None, "", [], {}):
        return [Change(path, "added", new=_show(new))]
    if new in (None, "", [], {}):
        return [Change(path, "deleted", old=_show(old))]
    return [Change(path, "edited", _show(old), _show(new))]


def nomad_diff(diff: Any, path: str = "") -> list[Change]:
    """Flatten Nomad's JobDiff (fields, objects, task groups, tasks) into changes."""
    if not isinstance(diff, dict):
        return []
    changes: list[Change] = []
    for field in diff.get("Fields") or ():
        kind = str(field.get("Type", "")).lower()
        if kind in ("added", "deleted", "edited"):
            where = f"{path}.{field.get('Name', '')}" if path else str(field.get("Name", ""))
            changes.append(
                Change(where, kind, _show(field.get("Old", "")), _show(field.get("New", "")))
            )
    for key in ("Objects", "TaskGroups", "Tasks"):
        for child in diff.get(key) or ():
            if str(child.get("Type", "")).lower() == "none":
                continue
            name = str(child.get("Name", ""))
            label = f"{key}[{name}]" if key != "Objects" else name
            changes += nomad_diff(child, f"{path}.{label}" if path else label)
    return changes


def compare(
    versions: Sequence[Any], diffs: Sequence[Any] | None, base: int, target: int
) -> tuple[list[Change], str]:
    """Changes from version `base` to version `target`, and where they were computed."""
    by_number = {v.get("Version"): i for i, v in enumerate(versions)}
    i, j = by_number.get(target), by_number.get(base)
    if i is None or j is None:
        return [], "version not kept by Nomad"
    if diffs is not None and j == i + 1 and i < len(diffs):
        return nomad_diff(diffs[i]), "Nomad's diff"
    return local_diff(versions[j], versions[i]), "compared locally"


def diff_text(changes: Sequence[Change], base: int, target: int, source: str) -> Text:
    text = Text()
    text.append(f"version {base} → version {target}", style="bold")
    text.append(f"  ({source}, {len(changes)} change{'s' if len(changes) != 1 else ''})\n", "dim")
    if not changes:
        text.append("No differences in the job specification.", style="dim")
    for change in changes:
        mark, style = {"added": ("+", "green"), "deleted": ("-", "red")}.get(
            change.kind, ("~", "yellow")
        )
        text.append(f"{mark} {clean(change.path)}", style=f"bold {style}")
        if change.kind == "edited":
            text.append(f"\n    - {change.old}", style="red")
            text.append(f"\n    + {change.new}", style="green")
        elif change.kind == "added":
            text.append(f"  {change.new}", style="green")
        else:
            text.append(f"  {change.old}", style="red")
        text.append("\n")
    text.rstrip()
    return text


def version_cells(
    version: Any, changes: int | None, now_ns: int, *, current: int, base: int | None
) -> Cells:
    number = version.get("Version", 0)
    submitted = version.get("SubmitTime") or 0
    label = Text(str(number), justify="right", style="bold" if number == current else "")
    if number == current:
        label.append(" current", style="cyan")
    return (
        label,
        Text("stable", style="green") if version.get("Stable") else Text("—", style="dim"),
        Text(f"{format_age((now_ns - submitted) / 1e9)} ago" if submitted else "—"),
        Text(str(changes) if changes is not None else "—", justify="right"),
        Text("◆ base", style="bold magenta") if number == base else Text(""),
    )


__all__ = [
    "BOOKKEEPING",
    "VERSION_COLUMNS",
    "Change",
    "compare",
    "diff_text",
    "local_diff",
    "nomad_diff",
    "version_cells",
]
