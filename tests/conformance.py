"""Structural conformance: does a built/served JSON value have the shape of a recorded example?

The examples under shared/api are the contract the simulator must honour. Values differ (ids,
times, counts), so this checks keys and JSON types only, recursively, and reports every
mismatch at once with its JSON path so one failing test shows the whole diff.
"""

from __future__ import annotations

from typing import Any

# Keys whose dict values are maps with free keys (ids, names, attributes), not structs.
DEFAULT_MAPS: frozenset[str] = frozenset(
    {
        "Attributes",
        "Drivers",
        "Meta",
        "Env",
        "Config",
        "Details",
        "Links",
        "TaskStates",
        "Summary",
        "TaskGroups",  # a dict in deployments and scale status, a list in jobs
        "Tasks",  # a dict in alloc stats and AllocatedResources, a list in jobs
        "TaskResources",
        "TaskLifecycles",
        "Matches",
        "Truncations",
        "NodesAvailable",
        "ClassFiltered",
        "ConstraintFiltered",
        "ClassExhausted",
        "DimensionExhausted",
        "QuotaExhausted",
        "ResourcesExhausted",
        "Scores",
        "QueuedAllocations",
        "FailedTGAllocs",
        "ClassEligibility",
        "HostVolumes",
        "HostNetworks",
        "GetterOptions",
        "GetterHeaders",
        "VariableFlags",
        "InstanceStats",
        "Nested",
        "Tags",  # a dict in agent members, a list in services
        "Header",
        "Dynamic",
        "Static",
        "CanaryMeta",
        "TaggedAddresses",
        "Items",
        # Consul
        "NodeMeta",
        "ServiceMeta",
        "ServiceTaggedAddresses",
    }
)

# Fields Nomad legitimately sends as null (nil pointers, nil maps/slices, unset times).
DEFAULT_NULLABLE: frozenset[str] = frozenset(
    {
        # jobs
        "Constraints",
        "Affinities",
        "Spreads",
        "Multiregion",
        "Periodic",
        "ParameterizedJob",
        "Payload",
        "Meta",
        "Update",
        "Migrate",
        "Scaling",
        "ReschedulePolicy",
        "Services",
        "Networks",
        "Volumes",
        "ShutdownDelay",
        "StopAfterClientDisconnect",
        "MaxClientDisconnect",
        "Env",
        "Vault",
        "Templates",
        "Lifecycle",
        "DispatchPayload",
        "Artifacts",
        "VolumeMounts",
        "ScalingPolicies",
        "CSIPluginConfig",
        "Identity",
        "Devices",
        "DNS",
        "ReservedPorts",
        "DynamicPorts",
        "Tags",
        "CanaryTags",
        "Checks",
        "Connect",
        "CanaryMeta",
        "TaggedAddresses",
        "Args",
        "Header",
        "CheckRestart",
        "GetterOptions",
        "GetterHeaders",
        "Config",
        "Diffs",
        "Fields",
        "Objects",
        "Tasks",
        "Updates",
        "Annotations",
        "Events",
        "VariableFlags",
        "Policies",
        "Roles",
        "ExpirationTime",
        # allocations
        "DeploymentStatus",
        "Healthy",
        "RescheduleTracker",
        "PreemptedAllocations",
        "TaskStates",
        "TaskHandle",
        "StartedAt",
        "FinishedAt",
        "LastRestart",
        "NetworkStatus",
        "ClassFiltered",
        "ConstraintFiltered",
        "ClassExhausted",
        "DimensionExhausted",
        "QuotaExhausted",
        "ResourcesExhausted",
        "Scores",
        "ScoreMetaData",
        "Reschedule",
        "ForceReschedule",
        "Pids",
        # nodes
        "DrainStrategy",
        "LastDrain",
        "Links",
        "HostVolumes",
        "HostNetworks",
        "NodeNetworks",
        "Addresses",
        "CSIControllerPlugins",
        "CSINodePlugins",
        "DeviceStats",
        "EvalIDs",
        "Servers",
        # deployments / evaluations
        "PlacedCanaries",
        "RequireProgressBy",
        "RevertedJobVersion",
        "FailedTGAllocs",
        "ClassEligibility",
        "QueuedAllocations",
        "RelatedEvals",
        "WaitUntil",
        "PlanAnnotations",
        # search: a context with no hits is null in prefix search
        "Matches",
        # agent: a client-only agent has no serf member
        "member",
    }
)

# Go float64 fields: integral values encode without a fraction, so an example may show an
# int where the server can just as well send 7.07.
DEFAULT_FLOATS: frozenset[str] = frozenset(
    {
        "Idle",
        "System",
        "Total",
        "User",
        "Percent",
        "TotalTicks",
        "UserMode",
        "SystemMode",
        "UsedPercent",
        "InodesUsedPercent",
        "CPUTicksConsumed",
        "NormScore",
        "Scores",
        "binpack",
        "job-anti-affinity",
        "node-reschedule-penalty",
        "node-affinity",
        # Consul network coordinates
        "Adjustment",
        "Error",
        "Height",
        "Vec",
    }
)

# Where a docs sample disagrees with what real servers send, (key, example type, actual
# type) pairs the sim may legitimately answer with. Each is backed by a real capture.
DEFAULT_DIVERGENCES: frozenset[tuple[str, str, str]] = frozenset(
    {
        # GET_v1_agent_self.json is a 0.5.5 sample; since 0.7 config.Version is an object
        # {Revision, Version, VersionMetadata, VersionPrerelease} (d3sw/nomex 0.7.0 capture).
        ("Version", "string", "object"),
        # POST_v1_search.json quotes the booleans; Truncations is map[Context]bool and the
        # fuzzy samples (same server code path for QueryMeta) show real booleans.
        ("Truncations", "string", "bool"),
        # GET_v1_allocation_ID.json quotes RescheduleTracker.Events[].Delay; it is a
        # time.Duration (int ns) in the job-allocations sample of the same docs.
        ("Delay", "string", "int"),
    }
)

# Keys whose values are free-form (driver config): presence is checked, contents are not.
DEFAULT_OPAQUE: frozenset[str] = frozenset({"Config", "Policy", "DebugConfig"})


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _union(values: list[Any]) -> Any:
    """One example standing for many: dicts merge their keys, lists pool their elements."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, dict) for v in present):
        keys: dict[str, list[Any]] = {}
        for v in present:
            for k, item in v.items():
                keys.setdefault(k, []).append(item)
        return {k: _union(items) for k, items in keys.items()}
    if all(isinstance(v, list) for v in present):
        return [item for v in present for item in v]
    return present[0]


class _Checker:
    def __init__(
        self,
        maps: frozenset[str] | set[str],
        nullable: frozenset[str] | set[str],
        floats: frozenset[str] | set[str],
        opaque: frozenset[str] | set[str],
        divergences: frozenset[tuple[str, str, str]] | set[tuple[str, str, str]],
    ) -> None:
        self.maps = maps
        self.divergences = divergences
        self.nullable = nullable
        self.floats = floats
        self.opaque = opaque
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def check(
        self, actual: Any, example: Any, path: str, key: str | None, entry: bool = False
    ) -> None:
        """`key` names the field for the nullable/float rules; `entry` marks an element of
        that field's list or map, which is never itself a map or opaque."""
        if example is None:
            return
        if actual is None:
            if key not in self.nullable:
                self.fail(path, f"null, expected {_kind(example)}")
            return
        want, got = _kind(example), _kind(actual)
        if want != got and not self._numeric_ok(want, got, key):
            if (key or "", want, got) in self.divergences:
                return
            self.fail(path, f"{got}, expected {want}")
            return
        if key in self.opaque and not entry:
            return
        if isinstance(example, list):
            self._check_list(actual, example, path, key)
        elif isinstance(example, dict):
            if (key in self.maps and not entry) or path in self.maps:
                self._check_map(actual, example, path, key)
            else:
                self._check_object(actual, example, path)

    def _numeric_ok(self, want: str, got: str, key: str | None) -> bool:
        if want == "float" and got == "int":
            return True
        return want == "int" and got == "float" and key in self.floats

    def _check_list(
        self, actual: list[Any], example: list[Any], path: str, key: str | None
    ) -> None:
        if not actual or not example:
            return
        model = _union(example)
        for i, item in enumerate(actual):
            self.check(item, model, f"{path}[{i}]", key, entry=True)

    def _check_map(
        self, actual: dict[str, Any], example: dict[str, Any], path: str, key: str | None
    ) -> None:
        if not actual or not example:
            return
        present = [v for v in example.values() if v is not None]
        # Free-form maps may mix value types (e.g. task Env vs. driver attrs); then only
        # the map-ness itself can be checked.
        if len({_kind(v) for v in present}) != 1:
            return
        model = _union(present)
        for name, value in actual.items():
            self.check(value, model, f"{path}[{name!r}]", key, entry=True)

    def _check_object(self, actual: dict[str, Any], example: dict[str, Any], path: str) -> None:
        for name, value in example.items():
            if name not in actual:
                self.fail(f"{path}.{name}", "missing")
                continue
            self.check(actual[name], value, f"{path}.{name}", name)


def assert_conforms(
    actual: Any,
    example: Any,
    *,
    maps: frozenset[str] | set[str] = DEFAULT_MAPS,
    nullable: frozenset[str] | set[str] = DEFAULT_NULLABLE,
    floats: frozenset[str] | set[str] = DEFAULT_FLOATS,
    opaque: frozenset[str] | set[str] = DEFAULT_OPAQUE,
    divergences: frozenset[tuple[str, str, str]] | set[tuple[str, str, str]] = DEFAULT_DIVERGENCES,
    path: str = "$",
) -> None:
    """Raise one AssertionError listing every place `actual` lacks the shape of `example`.

    Extra keys in `actual` are fine; a null in the example accepts anything; an int is
    accepted where the example has a float (Go encodes 1.0 as 1), and the reverse only for
    `floats` keys; a null in `actual` only for `nullable` keys. List elements are checked
    against the union of the example's elements; `maps` keys are free-key dicts whose values
    are checked against the union of the example's values. `maps` may also hold JSON paths
    (e.g. "$" for a top-level map such as Consul's catalog services). `opaque` keys are only
    checked for presence and type; `divergences` are tolerated docs-sample errors.
    """
    checker = _Checker(maps, nullable, floats, opaque, divergences)
    checker.check(actual, example, path, None)
    if checker.errors:
        lines = "\n  ".join(checker.errors)
        raise AssertionError(f"{len(checker.errors)} shape mismatch(es):\n  {lines}")
