"""`nomtui tunnel`: a managed `ssh -N -L` on loopback, and `tunnel list` / `tunnel stop`."""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

import click

from nomtui.errors import ConfigError

if TYPE_CHECKING:
    from nomtui.actions.tunnel import Tunnel

# LOCAL:PORT or LOCAL:HOST:PORT, HOST possibly an [IPv6] literal, as in ssh -L.
_FORWARD = re.compile(r"(\d+):(?:(\[[^\]]+\]|[^:\[\]]+):)?(\d+)")
_START_PARAMS = ("preset", "forward", "host", "ssh_path", "ssh_options", "timeout", "as_json")


def parse_forward(spec: str) -> tuple[int, str, int]:
    """(local port, remote host, remote port) from `LOCAL:[HOST:]PORT`; HOST defaults
    to 127.0.0.1 (the ssh host itself) and LOCAL 0 means any free port."""
    match = _FORWARD.fullmatch(spec.strip())
    if match is None:
        raise ConfigError(
            f"-L {spec} is not LOCAL:PORT or LOCAL:HOST:PORT (for example 8500:8500)."
        )
    local, host, remote = int(match[1]), match[2] or "127.0.0.1", int(match[3])
    if local > 65535 or not 0 < remote <= 65535:
        raise ConfigError(f"-L {spec} has a port outside 1-65535.")
    return local, host.strip("[]"), remote


def _ssh_host(ctx: click.Context) -> str:
    """The host part of the Nomad address: the node nom-tunnel used to ssh into."""
    from urllib.parse import urlsplit

    from nomtui.config import Flags, resolve

    settings = resolve(ctx.find_object(Flags) or Flags())
    if settings.sources.get("nomad.address", "default") == "default":
        raise ConfigError(
            "No host to tunnel through: pass --host HOST or set NOMAD_ADDR "
            "(or --cluster) to the cluster's address."
        )
    host = urlsplit(settings.nomad.address).hostname
    if not host:
        raise ConfigError(
            f"The Nomad address {settings.nomad.address} names no host to ssh into; "
            "pass --host HOST."
        )
    return host


def _age(seconds: float) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(0, int(seconds))}s"


def _describe(tunnel: Tunnel) -> str:
    return f"{tunnel.local} -> {tunnel.remote} via {tunnel.host}"


def _as_json(tunnel: Tunnel) -> dict[str, object]:
    return {**tunnel.to_json(), "local": tunnel.local, "remote": tunnel.remote}


@click.group("tunnel", invoke_without_command=True)
@click.option(
    "--consul",
    "preset",
    flag_value="consul",
    help="Forward to Consul (127.0.0.1:8500 on the host); the default.",
)
@click.option("--nomad", "preset", flag_value="nomad", help="Forward to Nomad (127.0.0.1:4646).")
@click.option(
    "-L",
    "forward",
    metavar="LOCAL:[HOST:]PORT",
    help="Forward local port LOCAL (0: any free) to HOST:PORT as seen from the ssh host.",
)
@click.option("--host", help="ssh host to tunnel through (default: the Nomad address's host).")
@click.option("--ssh", "ssh_path", default="ssh", show_default=True, help="ssh program.")
@click.option(
    "-o",
    "--ssh-option",
    "ssh_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extra ssh -o option (repeatable), e.g. -o IdentityFile=~/.ssh/ia.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=15.0,
    show_default=True,
    help="Seconds to wait for the tunnel to accept connections.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the started tunnel as JSON.")
@click.pass_context
def tunnel_cmd(
    ctx: click.Context,
    preset: str | None,
    forward: str | None,
    host: str | None,
    ssh_path: str,
    ssh_options: tuple[str, ...],
    timeout: float,
    as_json: bool,
) -> None:
    """Start an ssh tunnel on 127.0.0.1 to the cluster's Consul (default) or Nomad.

    It runs in the background until `nomtui tunnel stop`; `nomtui tunnel list` shows
    the running ones. The default local port is the remote one when free, else any
    free port (the one used is printed). Your ~/.ssh/config applies; ssh never
    prompts (BatchMode), so keys or an agent must be ready.
    """
    if ctx.invoked_subcommand is not None:
        given = [
            name
            for name in _START_PARAMS
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise click.UsageError(
                f"`nomtui tunnel {ctx.invoked_subcommand}` takes no tunnel options "
                f"(got {', '.join('--' + g.replace('_', '-') for g in given)})."
            )
        return
    import json

    from nomtui.actions import tunnel as tunnels

    if preset and forward:
        raise click.UsageError("--consul/--nomad and -L exclude each other; pick one.")
    for option in ssh_options:
        if option.startswith("-") or not re.match(r"[A-Za-z]+\s*[= ]", option):
            raise ConfigError(f"-o {option} is not an ssh option of the form KEY=VALUE.")
    if forward:
        local, remote_host, remote_port = parse_forward(forward)
    else:
        remote_host, remote_port = tunnels.PRESETS[preset or "consul"]
        local = tunnels.preferred_port(remote_port)
    started = tunnels.start_tunnel(
        host or _ssh_host(ctx),
        local,
        remote_host,
        remote_port,
        ssh=ssh_path,
        extra_opts=[arg for option in ssh_options for arg in ("-o", option)],
        state_dir=tunnels.default_state_dir(os.environ),
        timeout=timeout,
    )
    if as_json:
        click.echo(json.dumps(_as_json(started), indent=2))
        return
    click.echo(f"Tunnel {started.id} up: {_describe(started)} (ssh pid {started.pid}).")
    url = f"http://{started.local}"
    if not forward and (preset or "consul") == "consul":
        click.echo(f"Consul UI: {url}/ui/  (export CONSUL_HTTP_ADDR={url})")
    click.echo(f"Stop it with: nomtui tunnel stop {started.id}")


@tunnel_cmd.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the tunnels as JSON.")
def list_cmd(as_json: bool) -> None:
    """Show the running tunnels (records of ended ones are cleaned up)."""
    import json

    from nomtui.actions.tunnel import default_state_dir, list_tunnels

    running = list_tunnels(default_state_dir(os.environ))
    if as_json:
        click.echo(json.dumps([_as_json(t) for t in running], indent=2))
        return
    if not running:
        click.echo("No tunnels running.")
        return
    rows = [("ID", "LOCAL", "REMOTE", "VIA", "PID", "AGE")]
    now = time.time()
    rows += [
        (t.id, t.local, t.remote, t.host, str(t.pid), _age(now - t.started_at)) for t in running
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@tunnel_cmd.command("stop")
@click.argument("which", required=False, metavar="[ID|LOCAL_PORT]")
@click.option("--all", "stop_all", is_flag=True, help="Stop every running tunnel.")
def stop_cmd(which: str | None, stop_all: bool) -> None:
    """Stop a tunnel by its id or local port (or all of them with --all)."""
    from nomtui.actions.tunnel import ALL, default_state_dir, stop_tunnel

    if (which is None) == (not stop_all):
        raise click.UsageError("Give a tunnel id or local port, or --all (not both).")
    stopped = stop_tunnel(default_state_dir(os.environ), ALL if stop_all else str(which))
    if not stopped:
        click.echo("No tunnels running.")
    for tunnel in stopped:
        click.echo(f"Stopped {tunnel.id} ({_describe(tunnel)}).")


def register(group: click.Group) -> None:
    group.add_command(tunnel_cmd)


__all__ = ["parse_forward", "register"]
