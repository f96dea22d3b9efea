"""Nomad cluster-level reads: agent, members, namespaces, ACL tokens and search.

`GET /v1/agent/self` is the one Nomad body with lower-case top-level keys (`config`,
`member`, `stats`, PROTOCOLS.md §1.6); the field names below are those keys verbatim.
"""

from __future__ import annotations

from typing import Any

from nomtui.models.base import Model, redacted_items, redacted_repr

_TOKEN_SECRETS = frozenset({"SecretID"})

# ---------------------------------------------------------------------------- agent


class AgentVersionInfo(Model, frozen=True):
    """`config.Version` of agents 0.6+ (older ones send a plain string)."""

    Version: str = ""
    VersionPrerelease: str = ""
    VersionMetadata: str = ""
    Revision: str = ""


class AgentRoleConfig(Model, frozen=True):
    """`config.Server` / `config.Client`: only whether the role is on."""

    Enabled: bool = False


class AgentACLConfig(Model, frozen=True):
    Enabled: bool = False


class AgentConfig(Model, frozen=True):
    Region: str = ""
    Datacenter: str = ""
    NodeName: str = ""
    Version: str | AgentVersionInfo | None = None
    """A string (`0.5.5`) on old agents, an object (`{Version: "0.7.0", ...}`) since."""
    VersionPrerelease: str = ""
    Revision: str = ""
    Server: AgentRoleConfig | None = None
    Client: AgentRoleConfig | None = None
    ACL: AgentACLConfig | None = None


class AgentMember(Model, frozen=True):
    """A serf member of the server gossip pool (`Status` is a word here, not Consul's int)."""

    Name: str = ""
    Addr: str = ""
    Port: int = 0
    Status: str = ""
    """`alive`, `leaving`, `left` or `failed`."""
    Tags: dict[str, str] | None = None
    ProtocolMin: int = 0
    ProtocolMax: int = 0
    ProtocolCur: int = 0
    DelegateMin: int = 0
    DelegateMax: int = 0
    DelegateCur: int = 0

    def tag(self, name: str) -> str:
        return (self.Tags or {}).get(name, "")


class AgentSelf(Model, frozen=True):
    """`GET /v1/agent/self`. Client-only agents have an empty `member`."""

    config: AgentConfig | None = None
    member: AgentMember | None = None
    stats: dict[str, dict[str, str]] | None = None

    def _tag(self, name: str) -> str:
        return self.member.tag(name) if self.member else ""

    @property
    def region(self) -> str:
        return (self.config.Region if self.config else "") or self._tag("region")

    @property
    def datacenter(self) -> str:
        return (self.config.Datacenter if self.config else "") or self._tag("dc")

    @property
    def version(self) -> str:
        """Agent version: the member's `build` tag (`1.9.7`), else the config's version.

        The config form differs by era: a string on 0.5, `{Version, VersionPrerelease}`
        from 0.6 on; the prerelease suffix is appended the way `nomad version` shows it.
        """
        build = self._tag("build")
        if build:
            return build
        if self.config is None:
            return ""
        version = self.config.Version
        if isinstance(version, AgentVersionInfo):
            base, pre = version.Version, version.VersionPrerelease
        else:
            base, pre = version or "", self.config.VersionPrerelease
        return f"{base}-{pre}" if base and pre else base

    @property
    def is_server(self) -> bool:
        return bool(self.config and self.config.Server and self.config.Server.Enabled)

    @property
    def leader_addr(self) -> str:
        return (self.stats or {}).get("nomad", {}).get("leader_addr", "")


class AgentMembers(Model, frozen=True):
    """`GET /v1/agent/members`: the servers of the region's gossip pool."""

    ServerName: str = ""
    ServerRegion: str = ""
    ServerDC: str = ""
    Members: list[AgentMember] | None = None


class AgentHealthPart(Model, frozen=True):
    ok: bool = False
    message: str = ""


class AgentHealth(Model, frozen=True):
    """`GET /v1/agent/health` (also the JSON body of its 500 answer)."""

    client: AgentHealthPart | None = None
    server: AgentHealthPart | None = None


class AgentJoinResponse(Model, frozen=True):
    num_joined: int = 0
    error: str = ""


# ------------------------------------------------------------------ namespaces, ACL


class Namespace(Model, frozen=True):
    Name: str = ""
    Description: str = ""
    Quota: str = ""
    Meta: dict[str, str] | None = None
    Capabilities: dict[str, Any] | None = None
    CreateIndex: int = 0
    ModifyIndex: int = 0


class AclToken(Model, frozen=True):
    """`GET /v1/acl/token/self` and friends.

    `SecretID` is the bearer credential itself. The generated repr of a Struct lists
    every field, and screens, logs and tracebacks print reprs, so `__repr__` and
    `__rich_repr__` (used by Textual/Rich pretty printing) are overridden to leave it out.
    """

    AccessorID: str = ""
    SecretID: str = ""
    Name: str = ""
    Type: str = ""
    """`client` or `management`."""
    Policies: list[str] | None = None
    Roles: list[dict[str, Any]] | None = None
    Global: bool = False
    ExpirationTime: str | None = None
    ExpirationTTL: int = 0
    CreateTime: str | None = None
    """RFC 3339 (unlike most Nomad times)."""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def __repr__(self) -> str:
        return redacted_repr(self, _TOKEN_SECRETS)

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return redacted_items(self, _TOKEN_SECRETS)

    @property
    def is_management(self) -> bool:
        return self.Type == "management"


# ------------------------------------------------------------------------- search


class SearchResponse(Model, frozen=True):
    """`PUT /v1/search` (prefix search): IDs by context (`jobs`, `allocs`, `nodes`...).

    `Truncations` values are booleans on current servers but the strings `"false"` /
    `"true"` in the documented sample, so both are accepted; use `truncated()`.
    """

    Matches: dict[str, list[str] | None] | None = None
    Truncations: dict[str, bool | str] | None = None
    Index: int = 0
    KnownLeader: bool = False
    LastContact: int = 0

    def matches(self, context: str) -> list[str]:
        return list((self.Matches or {}).get(context) or ())

    def truncated(self, context: str) -> bool:
        return _truthy((self.Truncations or {}).get(context, False))


class FuzzyMatch(Model, frozen=True):
    ID: str = ""
    Scope: list[str] | None = None
    """Where the match lives: `[namespace, job, group, task]` as far as it applies."""


class FuzzySearchResponse(Model, frozen=True):
    """`PUT /v1/search/fuzzy`."""

    Matches: dict[str, list[FuzzyMatch] | None] | None = None
    Truncations: dict[str, bool | str] | None = None
    Index: int = 0
    KnownLeader: bool = False
    LastContact: int = 0

    def matches(self, context: str) -> list[FuzzyMatch]:
        return list((self.Matches or {}).get(context) or ())

    def truncated(self, context: str) -> bool:
        return _truthy((self.Truncations or {}).get(context, False))


def _truthy(value: bool | str) -> bool:
    return value if isinstance(value, bool) else value.strip().lower() == "true"


__all__ = [
    "AclToken",
    "AgentACLConfig",
    "AgentConfig",
    "AgentHealth",
    "AgentHealthPart",
    "AgentJoinResponse",
    "AgentMember",
    "AgentMembers",
    "AgentRoleConfig",
    "AgentSelf",
    "AgentVersionInfo",
    "FuzzyMatch",
    "FuzzySearchResponse",
    "Namespace",
    "SearchResponse",
]
