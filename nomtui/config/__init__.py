"""nomtui's settings: flags > environment > ~/.config/nomad > config.toml > defaults.

One call, `resolve(flags)`, reads everything (no global state; every input can be
injected) and returns a frozen `Settings` that records where each value came from.
The exact precedence, and how `--cluster` and the git branch choose a named cluster,
is described in `nomtui.config.resolver`. This package never imports Textual: one-shot
subcommands load it.

    settings = resolve(Flags(cluster="prod"))
    for name, value, source in render(settings): ...
"""

from typing import TYPE_CHECKING, Any

from nomtui.config.model import (
    DEFAULT_BRANCHES,
    DEFAULT_CONSUL_ADDR,
    DEFAULT_NOMAD_ADDR,
    DEFAULT_REGISTRY,
    ConsulSettings,
    Flags,
    NomadSettings,
    Settings,
)
from nomtui.config.secret import Secret, split_basic_auth

if TYPE_CHECKING:
    from nomtui.config.display import as_json, render
    from nomtui.config.resolver import resolve

# Resolution pulls in TOML, git and file handling; commands that only need `Flags`
# (every command, through the group callback) should not pay for it at start-up.
_LAZY = {"as_json": "display", "render": "display", "resolve": "resolver"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nomtui.config' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"nomtui.config.{module}"), name)
    globals()[name] = value
    return globals()[name]


__all__ = [
    "DEFAULT_BRANCHES",
    "DEFAULT_CONSUL_ADDR",
    "DEFAULT_NOMAD_ADDR",
    "DEFAULT_REGISTRY",
    "ConsulSettings",
    "Flags",
    "NomadSettings",
    "Secret",
    "Settings",
    "as_json",
    "render",
    "resolve",
    "split_basic_auth",
]
