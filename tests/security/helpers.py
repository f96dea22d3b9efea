"""What the security tests share: a recognisable token and settings that point at a sim."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from nomtui.config import Flags, Settings, resolve

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

CANARY = "s3cr3t-NOMTUI-LEAK-CANARY-7f3a9c1e-0000-4b1d-9e57"
"""The management token of the sims here: it must never appear anywhere nomtui writes."""


def settings_for(
    sim: Sim,
    home: Path,
    *,
    address: str | None = None,
    token: str = CANARY,
    flags: Flags | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings as a user with `NOMAD_ADDR`/`NOMAD_TOKEN` exported gets them (HOME=`home`,
    so the audit log and any config files live there)."""
    full = {
        "NOMAD_ADDR": address or sim.nomad_addr,
        "NOMAD_TOKEN": token,
        "CONSUL_HTTP_ADDR": sim.consul_addr,
        "XDG_STATE_HOME": str(home / ".state"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        **(env or {}),
    }
    return resolve(flags or Flags(), env=full, home=home, cwd=home)


__all__ = ["CANARY", "settings_for"]
