"""Prefix and fuzzy search over the sim's jobs, allocations, nodes, deployments and evals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomtui.sim import shapes
from nomtui.sim.http import ApiError
from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

LIMIT = 20
CONTEXTS = ("jobs", "allocs", "nodes", "deployment", "evals", "namespaces")


class Search:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim

    def _ids(self, context: str, namespace: str) -> list[str]:
        st = self.sim.state

        def visible(obj: Json) -> bool:
            return namespace == "*" or obj.get("Namespace", namespace) == namespace

        if context == "jobs":
            return sorted(j["ID"] for j in st.jobs.values() if visible(j))
        if context == "allocs":
            return sorted(a["ID"] for a in st.allocs.values() if visible(a))
        if context == "nodes":
            return sorted(st.nodes)
        if context == "deployment":
            return sorted(d["ID"] for d in st.deployments.values() if visible(d))
        if context == "evals":
            return sorted(e["ID"] for e in st.evals.values() if visible(e))
        return sorted(st.namespaces)

    def prefix(self, body: Json, namespace: str) -> Json:
        prefix = str(body.get("Prefix", ""))
        context = str(body.get("Context", "all"))
        contexts = CONTEXTS if context == "all" else (context,)
        if any(c not in CONTEXTS for c in contexts):
            raise ApiError(400, f"invalid context {context!r}")
        matches: dict[str, list[str]] = {}
        truncations: dict[str, bool] = {}
        for ctx in contexts:
            found = [i for i in self._ids(ctx, namespace) if i.startswith(prefix)]
            matches[ctx] = found[:LIMIT]
            truncations[ctx] = len(found) > LIMIT
        return shapes.prefix_search_response(matches, truncations, self.sim.state.index)

    def fuzzy(self, body: Json, namespace: str) -> Json:
        text = str(body.get("Text", "")).lower()
        context = str(body.get("Context", "all"))
        if len(text) < 2:
            raise ApiError(400, "fuzzy search query must be at least 2 characters")
        st = self.sim.state
        matches: dict[str, list[Json]] = {}
        truncations: dict[str, bool] = {}

        def add(ctx: str, item_id: str, scope: list[str]) -> None:
            matches.setdefault(ctx, []).append({"ID": item_id, "Scope": scope})

        if context in ("all", "jobs"):
            for job in sorted(st.jobs.values(), key=lambda j: j["ID"]):
                if namespace != "*" and job["Namespace"] != namespace:
                    continue
                scope = [job["Namespace"], job["ID"]]
                if text in job["ID"].lower():
                    add("jobs", job["ID"], [job["Namespace"]])
                for group in job["TaskGroups"]:
                    if text in group["Name"].lower():
                        add("groups", group["Name"], scope)
                    for task in group["Tasks"]:
                        if text in task["Name"].lower():
                            add("tasks", task["Name"], [*scope, group["Name"]])
                    for svc in group.get("Services") or []:
                        if text in svc["Name"].lower():
                            add("services", svc["Name"], [*scope, group["Name"]])
        if context in ("all", "nodes"):
            for node in st.nodes.values():
                if text in node["Name"].lower():
                    add("nodes", node["Name"], [node["ID"]])
        if context in ("all", "allocs"):
            for alloc in st.allocs.values():
                if text in alloc["Name"].lower():
                    add("allocs", alloc["Name"], [alloc["Namespace"], alloc["ID"]])
        for ctx, found in matches.items():
            truncations[ctx] = len(found) > LIMIT
            matches[ctx] = found[:LIMIT]
        return shapes.fuzzy_search_response(matches, truncations, st.index)
