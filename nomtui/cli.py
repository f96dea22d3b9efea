"""`nomtui` command line: the one place that wires settings, clients and the UI.

Textual and the simulator are imported inside the commands that need them, so
`nomtui --help` and one-shot commands start fast (tests/unit/test_layers.py checks it).
Every failure a user can cause ends in one `Error: ...` line on stderr and a non-zero
exit code, never a traceback.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from nomtui import __version__
from nomtui.errors import ConfigError, NomtuiError

if TYPE_CHECKING:
    from collections.abc import Callable

    from nomtui.config import Flags
    from nomtui.sim.server import Sim, SimConfig
    from nomtui.store import Store


class NomtuiGroup(click.Group):
    """A click group whose errors are one line on stderr.

    Click prints usage lines around a bad flag; a user (and a script's log) only needs the
    reason, so usage errors and every `NomtuiError` are reduced to `Error: <message>`.
    Raising `click.exceptions.Exit` lets click's own `main` exit with the code, in both
    standalone mode and under `CliRunner`.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            _fail(_usage_line(exc), exc.exit_code)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _fail(_usage_line(exc), exc.exit_code)
        except NomtuiError as exc:
            _fail(f"Error: {exc.message}", 1)


def _usage_line(exc: click.UsageError) -> str:
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return f"Error: {exc.format_message()}{where}"


def _fail(line: str, code: int) -> NoReturn:
    click.echo(" ".join(line.split()), err=True)
    raise click.exceptions.Exit(code)


@click.group(
    cls=NomtuiGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="nomtui")
@click.option("--cluster", help="A cluster named in ~/.config/nomtui/config.toml.")
@click.option("--addr", help="Nomad address (overrides NOMAD_ADDR).")
@click.option("--token", help="Nomad token (prefer NOMAD_TOKEN: flags show in `ps`).")
@click.option("--region", help="Nomad region (overrides NOMAD_REGION).")
@click.option("-n", "--namespace", help="Nomad namespace, `*` for all (NOMAD_NAMESPACE).")
@click.option("--read-only", is_flag=True, help="Refuse every action that changes the cluster.")
@click.option("--ca-cert", help="CA bundle to verify the servers (NOMAD_CACERT).")
@click.option("--client-cert", help="Client certificate for mTLS (NOMAD_CLIENT_CERT).")
@click.option("--client-key", help="Client key for mTLS (NOMAD_CLIENT_KEY).")
@click.option("--tls-server-name", help="Name to verify the server certificate against.")
@click.option(
    "--tls-skip-verify", is_flag=True, default=None, help="Do not verify TLS certificates."
)
@click.option("--consul-addr", help="Consul address (overrides CONSUL_HTTP_ADDR).")
@click.option("--consul-token", help="Consul token (prefer CONSUL_HTTP_TOKEN).")
@click.pass_context
def cli(
    ctx: click.Context,
    cluster: str | None,
    addr: str | None,
    token: str | None,
    region: str | None,
    namespace: str | None,
    read_only: bool,
    ca_cert: str | None,
    client_cert: str | None,
    client_key: str | None,
    tls_server_name: str | None,
    tls_skip_verify: bool | None,
    consul_addr: str | None,
    consul_token: str | None,
) -> None:
    """The operator's cockpit for Nomad + Consul, in the terminal."""
    from nomtui.config.model import Flags

    ctx.obj = Flags(
        addr=addr,
        token=token,
        region=region,
        namespace=namespace,
        cluster=cluster,
        read_only=read_only,
        ca_cert=ca_cert,
        client_cert=client_cert,
        client_key=client_key,
        tls_server_name=tls_server_name,
        skip_verify=tls_skip_verify,
        consul_addr=consul_addr,
        consul_token=consul_token,
    )
    served = "TEXTUAL_DRIVER" in os.environ
    if served:
        _exit_with_parent()
    if ctx.invoked_subcommand is None:
        # TEXTUAL_DRIVER: textual-serve (`nomtui serve`) draws through pipes, not a tty.
        if (sys.stdin.isatty() and sys.stdout.isatty()) or served:
            _open_cluster(ctx.obj)
        else:
            # No terminal to draw on (a pipe, a script, CI): show what can be done instead.
            click.echo(ctx.get_help())


def _exit_with_parent() -> None:
    """Under `nomtui serve`, die with the server instead of outliving it holding the token.

    Textual's web driver does not exit when its pipes close, so a server killed hard
    (SIGKILL, OOM) would leave every tab's app running with the token in its environment.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the server died before prctl took effect
        sys.exit(1)


def _register_commands() -> None:
    from nomtui.commands import register

    register(cli)


# -- nomtui config -----------------------------------------------------------------------


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.pass_obj
def config_cmd(flags: Flags, as_json: bool) -> None:
    """Show the resolved settings and where each value came from (tokens masked)."""
    import json

    from nomtui.config import as_json as settings_json
    from nomtui.config import render, resolve

    settings = resolve(flags)
    if as_json:
        click.echo(json.dumps(settings_json(settings), indent=2))
        return
    rows = render(settings)
    width = max(len(name) for name, _, _ in rows)
    value_width = min(48, max(len(value) for _, value, _ in rows))
    for name, value, source in rows:
        click.echo(f"{name:<{width}}  {value:<{value_width}}  {source}")
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)


# -- nomtui sim --------------------------------------------------------------------------


def _check_host(host: str, allow_non_loopback: bool) -> None:
    if host == "localhost" or allow_non_loopback:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"--host {host} is not a loopback address; the sim's tokens travel in clear "
            "text, so pass --allow-non-loopback if you really mean it."
        )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=4646, show_default=True)
@click.option("--consul-port", type=click.IntRange(0, 65535), default=8500, show_default=True)
@click.option("--allow-non-loopback", is_flag=True, help="Allow a --host other than loopback.")
@click.option("--token", help="Management token (SecretID); derived from the seed if unset.")
@click.option("--read-token", help="Read-only token; derived from the seed if unset.")
@click.option("--seed", type=click.IntRange(min=0), default=42, show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), help="Scale mode: this many synthetic jobs.")
@click.option("--allocs-per-job", type=click.IntRange(min=0), default=5, show_default=True)
@click.option("--nodes", type=click.IntRange(min=1), help="Scale mode: this many nodes.")
@click.option(
    "--churn",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of the allocations changed per minute (0.01: 1%).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where allocation directories live (default: a temporary directory).",
)
@click.option(
    "--docker-socket",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also serve a Docker Engine API for the sim's containers on this unix socket.",
)
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Added latency.")
@click.option(
    "--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Fraction of 500 answers."
)
@click.option("--stream-cut-bytes", type=click.IntRange(min=0), default=0, help="Cut streams.")
@click.option("--exec-ignore-stdin-close", is_flag=True, help="Reproduce Nomad 1.9.0's exec bug.")
@click.option("--log-rate-bps", type=click.FloatRange(min=0), default=0.0, help="Log bytes/s.")
@click.option(
    "--leader-loss",
    type=(click.FloatRange(min=0), click.FloatRange(min=0)),
    default=(0.0, 0.0),
    metavar="EVERY_S FOR_S",
    help="Lose the leader for FOR_S seconds once every EVERY_S seconds.",
)
def sim(
    host: str,
    port: int,
    consul_port: int,
    allow_non_loopback: bool,
    token: str | None,
    read_token: str | None,
    seed: int,
    jobs: int | None,
    allocs_per_job: int,
    nodes: int | None,
    churn: float,
    data_dir: Path | None,
    docker_socket: Path | None,
    latency_ms: float,
    error_rate: float,
    stream_cut_bytes: int,
    exec_ignore_stdin_close: bool,
    log_rate_bps: float,
    leader_loss: tuple[float, float],
) -> None:
    """Run the simulated Nomad + Consul cluster in the foreground (Ctrl-C stops it).

    It prints the `export` lines another shell needs; paste them there, then e.g.:

    \b
        curl -H "X-Nomad-Token: $NOMAD_TOKEN" $NOMAD_ADDR/v1/jobs
    """
    _check_host(host, allow_non_loopback)
    from nomtui.sim.faults import Faults
    from nomtui.sim.server import SimConfig

    faults = Faults(
        latency_ms=latency_ms,
        error_rate=error_rate,
        stream_cut_bytes=stream_cut_bytes,
        exec_ignore_stdin_close=exec_ignore_stdin_close,
        log_rate_bps=log_rate_bps,
        leader_loss_every_s=leader_loss[0],
        leader_loss_for_s=leader_loss[1],
    )
    config = SimConfig(
        seed=seed,
        token=token,
        read_token=read_token,
        jobs=jobs,
        allocs_per_job=allocs_per_job,
        nodes=nodes,
        churn_per_min=churn,
        data_dir=data_dir,
        docker_socket=docker_socket,
        faults=faults,
    )
    import asyncio

    try:
        asyncio.run(_serve_sim(config, host, port, consul_port))
    except KeyboardInterrupt:
        # Ctrl-C during start-up, before the signal handlers are in place.
        click.echo("# nomtui sim stopped", err=True)


async def _serve_sim(config: SimConfig, host: str, port: int, consul_port: int) -> None:
    import asyncio

    from nomtui.sim.server import Sim

    the_sim = Sim(config)
    try:
        await _start_sim(the_sim, host, port, consul_port)
        _print_exports(the_sim, config.seed)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Signal handlers instead of KeyboardInterrupt: the sim shuts down in order and
        # the process exits 0 without a traceback.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        click.echo("# nomtui sim stopped", err=True)
    finally:
        await the_sim.stop()


async def _start_sim(the_sim: Sim, host: str, port: int, consul_port: int) -> None:
    try:
        await the_sim.start(host, port, consul_port)
    except OSError as exc:
        # The sim binds Nomad first: an empty nomad_addr means that port failed.
        flag, failed = (
            ("--port", port) if not the_sim.nomad_addr else ("--consul-port", consul_port)
        )
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {failed} is in use; pick another with {flag}") from None
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"cannot listen on {host}:{failed} ({reason}); pick another with {flag}"
        ) from None


def _print_exports(the_sim: Sim, seed: int) -> None:
    # The one place nomtui prints a token, on purpose: this is how a user gets it.
    env = the_sim.env()
    click.echo(
        f"# nomtui sim: Nomad {the_sim.nomad_addr}, Consul {the_sim.consul_addr}, seed {seed}."
        " Ctrl-C stops it. In another shell:"
    )
    for name in ("NOMAD_ADDR", "CONSUL_HTTP_ADDR", "NOMAD_TOKEN"):
        click.echo(f"export {name}={shlex.quote(env[name])}")
    if the_sim.docker is not None:
        click.echo(f"export DOCKER_HOST={shlex.quote(the_sim.docker.address)}")
    click.echo(f"# read-only token: NOMAD_TOKEN={shlex.quote(the_sim.read_token)}")
    sys.stdout.flush()


# -- nomtui demo -------------------------------------------------------------------------


@cli.command()
@click.option("--seed", type=click.IntRange(min=0), default=42, show_default=True)
@click.pass_obj
def demo(flags: Flags, seed: int) -> None:
    """Open the UI on a simulated cluster that runs inside this process."""
    from nomtui.config.secret import Secret
    from nomtui.sim.server import SimConfig, SimThread

    runner = SimThread(SimConfig(seed=seed))
    try:
        the_sim = runner.start()
        nomad_addr, consul_addr = the_sim.nomad_addr, the_sim.consul_addr
        token = Secret(the_sim.management_token)

        def store() -> Store:
            from nomtui.client.consul import ConsulClient
            from nomtui.client.nomad import NomadClient
            from nomtui.store import Store

            nomad = NomadClient(nomad_addr, token, read_only=flags.read_only, cluster="demo")
            return Store(nomad, ConsulClient(consul_addr, None), read_only=flags.read_only)

        _run_tui(store, address=nomad_addr, label=f"demo, seed {seed}", namespace="*")
    finally:
        runner.stop()


def _run_tui(
    store_factory: Callable[[], Store],
    *,
    address: str,
    label: str,
    namespace: str,
    read_only: bool = False,
    production: bool = False,
    color: str | None = None,
    keymap: dict[str, str] | None = None,
    clusters: list[str] | None = None,
    switch_cluster: Callable[[str], Any] | None = None,
) -> None:
    from nomtui.tui.app import NomtuiApp  # Textual only now: keeps one-shots fast.

    app = NomtuiApp(
        store_factory,
        address=address,
        label=label,
        namespace=namespace,
        read_only=read_only,
        production=production,
        color=color,
        keymap=keymap,
        clusters=clusters or (),
        switch_cluster=switch_cluster,
    )
    app.run()
    if app.return_code:
        raise click.exceptions.Exit(app.return_code)


def _open_cluster(flags: Flags) -> None:
    """`nomtui` with no command: the UI on the cluster the settings point at.

    `:cluster NAME` in the UI resolves the settings again for that cluster, without the
    connection flags of this command line (an --addr meant for one cluster must not follow
    the operator to another); --read-only stays, as it can only make things safer.
    """
    from nomtui.config import Flags, Settings, resolve
    from nomtui.config import clusters as cluster_file

    settings = resolve(flags)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    config = cluster_file.load(settings.config_file, str(settings.config_file), Path.home())
    names = sorted(config.clusters) if config is not None else []

    def store_for(chosen: Settings) -> Callable[[], Store]:
        def store() -> Store:
            from nomtui.actions.lookup import nomad_client
            from nomtui.client.consul import ConsulClient
            from nomtui.store import Store

            nomad = nomad_client(chosen)  # the one-shots' client, audited the same way
            consul = ConsulClient.from_settings(chosen.consul)
            return Store(nomad, consul, read_only=chosen.read_only, cluster=chosen.cluster)

        return store

    def switch(name: str) -> Any:
        from nomtui.tui.app import ClusterTarget

        chosen = resolve(Flags(cluster=name, read_only=flags.read_only))
        return ClusterTarget(
            store_factory=store_for(chosen),
            address=chosen.nomad.address,
            label=chosen.cluster or name,
            namespace=chosen.nomad.namespace or "*",
            read_only=chosen.read_only,
            production=chosen.production,
            color=chosen.color,
        )

    _run_tui(
        store_for(settings),
        address=settings.nomad.address,
        label=settings.cluster or "",
        namespace=settings.nomad.namespace or "*",
        read_only=settings.read_only,
        production=settings.production,
        color=settings.color,
        keymap=settings.keys,
        clusters=names,
        switch_cluster=switch if names else None,
    )


# Commands that live in nomtui/commands/ join the group once it is fully defined.
_register_commands()


def main() -> None:
    cli(prog_name="nomtui")


__all__ = ["cli", "main"]
