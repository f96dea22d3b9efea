"""One-shot subcommands that live outside `nomtui/cli.py`, each with `register(group)`.

Modules here import only click and `nomtui.errors` at the top; the actions they run are
imported inside each command, so `nomtui <anything>` does not pay for the others.
"""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add every command of this package to `group` (the `nomtui` group)."""
    from nomtui.commands import (
        check,
        containers,
        cp,
        logs,
        repo,
        resubmit,
        serve,
        ssh,
        status,
        tables,
        tunnel,
        urls,
    )

    for module in (
        *(repo, tunnel, status, urls, tables, check, resubmit),
        *(logs, ssh, cp, containers, serve),
    ):
        module.register(group)


__all__ = ["register"]
