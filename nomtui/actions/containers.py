"""The Docker containers of this machine, each mapped to its Nomad allocation.

What the Internet Archive's `d` printed (`docker ps -a`, grouped by state), plus what an
operator asks next: which job, group, task and allocation a container belongs to.
Nomad's docker driver labels containers with `com.hashicorp.nomad.alloc_id` always and
with the job, group, task and namespace when the client's `extra_labels` asks for them;
without those labels the `<task>-<allocID>` container name still tells the task and the
allocation, and one request to Nomad (`/v1/allocations` with a filter on those IDs)
fills in the job, group, status and version. That request is optional: with Nomad out
of reach the listing is still printed, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from nomtui.client.docker import ContainerSummary, DockerClient
    from nomtui.client.nomad import NomadClient
    from nomtui.models.allocs import AllocStub

LABEL = "com.hashicorp.nomad."
STATE_ORDER = ("running", "restarting", "created", "paused", "removing", "exited", "dead")
"""The order `d` grouped containers in."""
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_NAME = re.compile(rf"^(?P<task>.+)-(?P<alloc>{_UUID})$")
_UUID_RE = re.compile(_UUID)
FILTER_BUDGET = 6000
"""Characters of filter expression per allocations request (it travels in the URL)."""


class ContainerRow(msgspec.Struct, kw_only=True):
    name: str
    id: str
    """The short (12 hex digit) ID, as `docker ps` shows it."""
    image: str
    state: str
    status: str
    created: int
    """Unix seconds."""
    ports: list[str]
    alloc_id: str | None = None
    """None: not a container Nomad started."""
    task: str | None = None
    job: str | None = None
    group: str | None = None
    namespace: str | None = None
    node: str | None = None
    alloc_status: str | None = None
    """Nomad's client status of the allocation, when Nomad was asked and answered."""
    job_version: int | None = None


def nomad_identity(name: str, labels: dict[str, str]) -> tuple[str, str] | None:
    """(allocation ID, task) from Nomad's labels, else from a `<task>-<allocID>` name."""
    parsed = _NAME.match(name)
    alloc_id = labels.get(f"{LABEL}alloc_id") or (parsed["alloc"] if parsed else None)
    if not alloc_id:
        return None
    task = labels.get(f"{LABEL}task_name")
    if not task and parsed and parsed["alloc"] == alloc_id:
        task = parsed["task"]
    return alloc_id, task or ""


def container_row(c: ContainerSummary) -> ContainerRow:
    labels = c.labels
    row = ContainerRow(
        name=c.name,
        id=c.Id[:12],
        image=c.Image,
        state=c.State,
        status=c.Status,
        created=c.Created,
        ports=_ports(c),
    )
    found = nomad_identity(c.name, labels)
    if found is not None:
        row.alloc_id, row.task = found[0], found[1] or None
        row.job = labels.get(f"{LABEL}job_id") or labels.get(f"{LABEL}job_name") or None
        row.group = labels.get(f"{LABEL}task_group_name") or None
        row.namespace = labels.get(f"{LABEL}namespace") or None
        row.node = labels.get(f"{LABEL}node_name") or None
    return row


def _ports(c: ContainerSummary) -> list[str]:
    seen: dict[str, None] = {}
    for port in c.Ports or ():
        seen[port.text()] = None  # dict: unique, in the engine's order
    return list(seen)


def sort_rows(rows: Iterable[ContainerRow]) -> list[ContainerRow]:
    """Grouped by state in `d`'s order, then by name."""
    rank = {state: i for i, state in enumerate(STATE_ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r.state, len(rank)), r.name))


async def list_containers(docker: DockerClient, *, all: bool) -> list[ContainerRow]:
    """The engine's containers (running ones only unless `all`), mapped and sorted."""
    return sort_rows(container_row(c) for c in await docker.list_containers(all=all))


def alloc_filters(alloc_ids: Sequence[str]) -> list[str]:
    """`ID == "..." or ...` expressions covering `alloc_ids`, each within FILTER_BUDGET."""
    out: list[str] = []
    terms: list[str] = []
    used = 0
    for alloc_id in dict.fromkeys(alloc_ids):
        term = f'ID == "{alloc_id}"'
        if terms and used + len(term) + 4 > FILTER_BUDGET:
            out.append(" or ".join(terms))
            terms, used = [], 0
        terms.append(term)
        used += len(term) + 4
    if terms:
        out.append(" or ".join(terms))
    return out


async def enrich(nomad: NomadClient, rows: Sequence[ContainerRow]) -> None:
    """Fill job, group, namespace, node, status and version from Nomad's allocations
    (one request for a node's worth). Raises the Nomad client's errors."""
    ids = [r.alloc_id for r in rows if r.alloc_id and _UUID_RE.fullmatch(r.alloc_id)]
    by_id: dict[str, AllocStub] = {}
    for expression in alloc_filters(ids):
        for alloc in await nomad.list_allocations("*", task_states=False, filter=expression):
            by_id[alloc.ID] = alloc
    for row in rows:
        found = by_id.get(row.alloc_id or "")
        if found is None:
            continue
        row.job = row.job or found.JobID
        row.group = row.group or found.TaskGroup
        row.namespace = row.namespace or found.Namespace
        row.node = row.node or found.NodeName or None
        row.alloc_status = found.ClientStatus
        row.job_version = found.JobVersion


__all__ = [
    "STATE_ORDER",
    "ContainerRow",
    "alloc_filters",
    "container_row",
    "enrich",
    "list_containers",
    "nomad_identity",
    "sort_rows",
]
