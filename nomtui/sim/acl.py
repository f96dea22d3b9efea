"""The sim's ACL: a management token, an optional read-only token, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from nomtui.sim.ids import IdSource

# Endpoints any caller may use, as with a real agent.
OPEN_PATHS = ("/v1/status/leader", "/v1/status/peers", "/v1/agent/health", "/v1/regions")
# POST/PUT endpoints that only read.
READ_POSTS = ("/v1/search", "/v1/search/fuzzy", "/v1/jobs/parse")


@dataclass(frozen=True)
class Token:
    accessor_id: str
    secret_id: str
    name: str
    type: str  # "management" or "client"
    policies: tuple[str, ...]
    create_time_ns: int
    create_index: int

    def __repr__(self) -> str:
        # The secret never shows up in a repr, even in a sim.
        return f"Token(name={self.name!r}, type={self.type!r})"


class Acl:
    def __init__(self, ids: IdSource, now_ns: int, management: str | None, read: str | None):
        self.management = Token(
            accessor_id=ids.uuid(),
            secret_id=management or ids.uuid(),
            name="sim management",
            type="management",
            policies=(),
            create_time_ns=now_ns,
            create_index=1,
        )
        self.read_only = Token(
            accessor_id=ids.uuid(),
            secret_id=read or ids.uuid(),
            name="sim read-only",
            type="client",
            policies=("readonly",),
            create_time_ns=now_ns,
            create_index=1,
        )
        self._by_secret = {t.secret_id: t for t in (self.management, self.read_only)}

    def token_of(self, request: web.Request) -> str | None:
        """X-Nomad-Token first; only without it, `Authorization: Bearer <secret>`."""
        header = request.headers.get("X-Nomad-Token")
        if header is not None:
            return header.strip()
        auth = request.headers.get("Authorization", "")
        scheme, _, rest = auth.partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return rest.strip().split(" ")[0]
        return None

    def lookup(self, secret: str | None) -> Token | None:
        return self._by_secret.get(secret) if secret else None

    def check(self, request: web.Request, *, write: bool) -> str | None:
        """None when allowed, else the plain-text 403 message."""
        secret = self.token_of(request)
        if not secret:
            return "Permission denied"
        token = self.lookup(secret)
        if token is None:
            return "ACL token not found"
        if write and token.type != "management":
            return "Permission denied"
        return None

    @staticmethod
    def is_write(request: web.Request) -> bool:
        if request.method in ("GET", "HEAD"):
            return False
        return request.path not in READ_POSTS
