"""List-endpoint plumbing shared by the sim's Nomad handlers: namespaces, prefixes, paging."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from aiohttp import web

from nomtui.sim.http import NEXT_TOKEN as NEXT_TOKEN  # list handlers set it; re-exported
from nomtui.sim.http import ApiError
from nomtui.sim.state import Json

T = TypeVar("T")
_HEX = re.compile(r"^[0-9a-fA-F-]*$")


def namespace_param(request: web.Request) -> str:
    return request.query.get("namespace") or "default"


def in_namespace(obj: Json, namespace: str) -> bool:
    return namespace == "*" or obj.get("Namespace", "default") == namespace


def uuid_prefix(request: web.Request) -> str:
    """UUID-keyed lists decode the prefix to bytes, so it needs an even number of hex digits."""
    prefix = request.query.get("prefix", "")
    if prefix and (not _HEX.match(prefix) or len(prefix.replace("-", "")) % 2):
        raise ApiError(400, "Invalid UUID prefix: prefix must have an even number of hex chars")
    return prefix


def paginate(
    request: web.Request,
    items: list[T],
    token_of: Callable[[T], str],
    *,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """`per_page`/`next_token`: the token is the key of the first item of the next page."""
    raw = request.query.get("per_page", "0")
    try:
        per_page = int(raw)
        if per_page < 0:
            raise ValueError(raw)
    except ValueError:
        raise ApiError(400, f"Failed to parse value of 'per_page' ({raw})") from None
    start_token = request.query.get("next_token", "")
    if start_token:
        if descending:
            items = [i for i in items if token_of(i) <= start_token]
        else:
            items = [i for i in items if token_of(i) >= start_token]
    if per_page == 0 or len(items) <= per_page:
        return items, None
    return items[:per_page], token_of(items[per_page])


def reverse_param(request: web.Request) -> bool:
    return request.query.get("reverse", "").lower() in ("1", "true", "t")


def max_index(objs: Iterable[Json], default: int) -> int:
    return max((o.get("ModifyIndex", 0) for o in objs), default=0) or default
