"""`Fs` against the sim's alloc directories: ls, stat, cat, readat and their errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nomtui.client.fs import Fs
from nomtui.client.http import HttpClient
from nomtui.errors import BadRequest, NotFound, ServerError, StreamDropped, Unauthorized
from nomtui.sim.server import Sim, SimConfig
from tests.client import set_faults, still

TASK = "http"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    config = still(sim_config)
    config.log_lines_per_s = 0
    return config


@pytest.fixture
async def fs(sim: Sim) -> AsyncIterator[Fs]:
    http = HttpClient(sim.nomad_addr, sim.read_token)  # reading needs no management token
    yield Fs(http)
    await http.aclose()


@pytest.fixture
def alloc_id(sim: Sim) -> str:
    alloc_id: str = next(
        a["ID"]
        for a in sim.state.allocs.values()
        if (a.get("TaskStates") or {}).get(TASK, {}).get("State") == "running"
    )
    sim.files.write_log(alloc_id, TASK, "stdout", b"hello\n")
    data = sim.files.task_dir(alloc_id, TASK) / "local" / "blob.bin"
    data.write_bytes(bytes(range(256)) * 400)  # 100 KiB: more than one read of the agent
    return alloc_id


async def test_ls_lists_directories(fs: Fs, alloc_id: str) -> None:
    top = {f.Name: f for f in await fs.ls(alloc_id)}
    assert top["alloc"].IsDir and top[TASK].IsDir
    logs = await fs.ls(alloc_id, "alloc/logs")
    assert [(f.Name, f.Size, f.IsDir) for f in logs] == [("http.stdout.0", 6, False)]


async def test_stat_cat_and_readat(fs: Fs, alloc_id: str) -> None:
    path = f"{TASK}/local/blob.bin"
    blob = bytes(range(256)) * 400
    info = await fs.stat(alloc_id, path)
    assert (info.Name, info.Size, info.IsDir) == ("blob.bin", len(blob), False)
    assert await fs.cat(alloc_id, path) == blob
    assert await fs.readat(alloc_id, path, 1000, 70000) == blob[1000:71000]
    assert await fs.readat(alloc_id, path, 102000, 0) == blob[102000:]  # 0: to EOF
    assert await fs.readat(alloc_id, path, len(blob), 10) == b""


async def test_missing_paths_name_the_file(fs: Fs, alloc_id: str) -> None:
    with pytest.raises(NotFound, match=f"nope in allocation {alloc_id}"):
        await fs.stat(alloc_id, "nope")
    with pytest.raises(NotFound, match="no-dir"):
        await fs.ls(alloc_id, "no-dir")
    # The agent answers a missing file for cat with 400, and the class follows the code.
    with pytest.raises(BadRequest, match=r"missing\.txt.*no such file"):
        await fs.cat(alloc_id, "missing.txt")


async def test_other_errors(fs: Fs, alloc_id: str) -> None:
    with pytest.raises(NotFound, match="Unknown allocation"):
        await fs.ls("0" * 36)
    with pytest.raises(ServerError, match="Reading secret file prohibited"):
        await fs.cat(alloc_id, f"{TASK}/secrets/api.key")
    with pytest.raises(BadRequest, match="is a directory"):
        await fs.cat(alloc_id, "alloc")


async def test_bad_token(sim: Sim, alloc_id: str) -> None:
    http = HttpClient(sim.nomad_addr, "00000000-0000-0000-0000-000000000000")
    try:
        with pytest.raises(Unauthorized, match="ACL token not found"):
            await Fs(http).ls(alloc_id)
    finally:
        await http.aclose()


async def test_a_cut_transfer_raises_instead_of_returning_less(
    sim: Sim, fs: Fs, alloc_id: str
) -> None:
    await set_faults(sim, stream_cut_bytes=5000)
    with pytest.raises(StreamDropped):
        await fs.cat(alloc_id, f"{TASK}/local/blob.bin")
