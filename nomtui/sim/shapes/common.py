"""Small pure helpers shared by the shape builders: Go-style durations, stable ids, copies."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from nomtui.sim.state import Json

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

# Go's zero time.Time as encoding/json writes it; Nomad sends it for unset non-pointer times.
ZERO_TIME = "0001-01-01T00:00:00Z"


def _frac(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if rest == 0:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{f'{rest:0{digits}d}'.rstrip('0')}"


def go_duration(ns: int) -> str:
    """time.Duration.String(): Nomad embeds it in messages ("Task restarting in 16.5s")."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_frac(u, 1_000)}µs"
    if u < SECOND:
        return f"{sign}{_frac(u, 1_000_000)}ms"
    hours, rest = divmod(u, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    out = f"{_frac(rest, SECOND)}s"
    if hours or minutes:
        out = f"{minutes}m{out}"
    if hours:
        out = f"{hours}h{out}"
    return sign + out


def short_duration(ns: int) -> str:
    """The form people write in jobspecs ("5m", "1h30m", "15s"), not Go's "5m0s"."""
    text = go_duration(ns)
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text


def stable_uuid(seed: str) -> str:
    """A UUID-shaped id derived from `seed`, for server-assigned ids a pure builder must invent."""
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def stable_fraction(seed: str) -> float:
    """A deterministic value in [0, 1) so "random-looking" numbers stay snapshot-stable."""
    return int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16) / float(1 << 48)


def given(value: Any) -> Json:
    """A client-supplied object with nil members dropped: Go's api treats null like absent."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if v is not None}


def deep_merge(defaults: Json, overlay: Any) -> Json:
    """A new dict: `overlay` wins, except nested dicts on both sides are merged recursively."""
    out = copy.deepcopy(defaults)
    for key, val in given(overlay).items():
        base = out.get(key)
        if isinstance(base, dict) and isinstance(val, dict):
            out[key] = deep_merge(base, val)
        else:
            out[key] = copy.deepcopy(val)
    return out


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []
