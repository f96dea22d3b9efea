"""Read-only mode holds below the UI: every write of the Nomad client and every store
command refuses with `ReadOnlyRefused`, and the cluster sees no request at all.

The lists are not written by hand: the client's writers are found in its source (every
method that reaches `self._write`, directly or through another method) and the store's
commands by introspection, so a new write method is covered, or fails here, at once.
What the server saw is recorded by a loopback proxy in front of the sim, not by the
client, so a request sent around the client's own hooks would show too.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

import pytest

from nomtui.client.nomad import WRITE_METHODS, NomadClient
from nomtui.errors import ReadOnlyRefused
from nomtui.store import Store
from nomtui.store.commands import StoreCommands
from tests.commands import base_env, invoke, one_error_line
from tests.corpus.badserver import BadServer

if TYPE_CHECKING:
    from nomtui.sim.server import Sim


def _calls_on_self(func: Any) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    }


def client_writers() -> set[str]:
    """Public methods of `NomadClient` that reach `self._write`, found in the source."""
    methods = {
        name: member
        for name, member in inspect.getmembers(NomadClient, inspect.isfunction)
        if member.__module__.startswith("nomtui.client")
    }
    calls = {name: _calls_on_self(member) for name, member in methods.items()}
    writers = {"_write"}
    while True:
        more = {name for name, called in calls.items() if called & writers} - writers
        if not more:
            break
        writers |= more
    return {name for name in writers if not name.startswith("_")}


def store_commands() -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(StoreCommands, inspect.iscoroutinefunction)
        if not name.startswith("_")
    )


def dummy(annotation: Any) -> Any:
    """Some value of the annotated type; never used, since the refusal comes first."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return dummy(next(a for a in get_args(annotation) if a is not type(None)))
    plain = origin or annotation
    table: dict[Any, Any] = {str: "x", int: 1, float: 1.0, bool: False, bytes: b"x"}
    if plain in table:
        return table[plain]
    if isinstance(plain, type) and issubclass(plain, Mapping):
        return {}
    if isinstance(plain, type) and issubclass(plain, Sequence):
        return []
    raise AssertionError(f"no dummy value for {annotation!r}")


def call_args(func: Any) -> tuple[list[Any], dict[str, Any]]:
    hints = get_type_hints(func)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(func).parameters.items():
        if name == "self" or param.default is not inspect.Parameter.empty:
            continue
        value = dummy(hints[name])
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[name] = value
        else:
            args.append(value)
    return args, kwargs


@pytest.fixture
def proxy(sim_thread: Sim) -> Iterator[BadServer]:
    with BadServer([], upstream=sim_thread.nomad_addr) as recorder:
        yield recorder


def test_the_writers_found_in_the_source_are_the_listed_ones() -> None:
    assert client_writers() == WRITE_METHODS


@pytest.mark.parametrize("name", sorted(client_writers()))
async def test_every_client_write_refuses_and_sends_nothing(
    name: str, proxy: BadServer, sim_thread: Sim
) -> None:
    index = sim_thread.state.index
    async with NomadClient(
        proxy.address, sim_thread.management_token, read_only=True, cluster="prod"
    ) as client:
        method = getattr(client, name)
        args, kwargs = call_args(method)
        with pytest.raises(ReadOnlyRefused) as refused:
            await method(*args, **kwargs)
    assert refused.value.cluster == "prod"
    assert proxy.seen == []
    assert sim_thread.state.index == index


@pytest.mark.parametrize("name", store_commands())
async def test_every_store_command_refuses_and_sends_nothing(
    name: str, proxy: BadServer, sim_thread: Sim
) -> None:
    index = sim_thread.state.index
    # The client alone would allow writes: the store must refuse on its own.
    nomad = NomadClient(proxy.address, sim_thread.management_token, read_only=False)
    store = Store(nomad, None, read_only=True, cluster="prod")
    try:
        method = getattr(store, name)
        args, kwargs = call_args(method)
        with pytest.raises(ReadOnlyRefused):
            await method(*args, **kwargs)
    finally:
        await store.aclose()
        await nomad.aclose()
    assert [seen for seen in proxy.seen if seen[0] != "GET"] == []
    assert sim_thread.state.index == index


@pytest.mark.parametrize(
    "args",
    [
        ("resubmit", "www-nomad"),
        ("resubmit", "www-nomad", "--stop-first", "--yes"),
        ("ssh", "www-nomad", "--", "touch", "pwned"),
        ("cp", "--job", "www-nomad", "{file}", "dest"),
    ],
    ids=["resubmit", "resubmit-stop-first", "ssh", "cp"],
)
def test_one_shot_writes_refuse_before_any_request(
    args: tuple[str, ...], proxy: BadServer, sim_thread: Sim, tmp_path: Path
) -> None:
    local = tmp_path / "file"
    local.write_text("x")
    env = base_env(tmp_path, sim_thread, NOMAD_ADDR=proxy.address)
    argv = [a.replace("{file}", str(local)) for a in args]
    ran = invoke(env, "--read-only", *argv)
    assert ran.code == 1
    assert "read-only" in one_error_line(ran.err)
    assert proxy.seen == []
