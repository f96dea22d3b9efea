"""nomtui's settings: flags > environment > ~/.config/nomad > config.toml > defaults.

One call, `resolve(flags)`, reads everything (no global state; every input can be
injected) and returns a frozen `Settings` that records where each value came from.
The exact precedence, and how `--cluster` and the git branch choose a named cluster,
is described in `nomtui.config.resolver`. This package never imports Textual: one-shot
subcommands load it.

    settings = resolve(Flags(cluster="prod"))
    for name, value, source in render(settings): ...
"""

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
from nomtui.config.render import as_json, render
from nomtui.config.resolver import resolve
from nomtui.config.secret import Secret, split_basic_auth

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
