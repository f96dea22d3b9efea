"""`nomtui cp`: files with awkward names, directories and a big file, each checked byte for
byte in the sim's allocation directory; the stuck-stdin bug, verification failures, the
sync-rsync calling convention and the error paths."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from nomtui.actions.cp import VerifyFailed, copy_in, prepare, remote_destination
from nomtui.commands.cp import _Progress, sync_rsync_file
from nomtui.errors import ConfigError
from tests.commands import BAD_TOKEN, base_env, closed_port, invoke, one_error_line
from tests.unit.test_repo import make_checkout

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

AWKWARD = ['it\'s a "quoted" name', "two  spaces and $HOME", "new\nline", "-starts-with-dash"]


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0
    return sim_config


def running(sim: Sim, job: str) -> list[str]:
    """The job's running allocations, newest first (the order `--alloc N` counts in)."""
    allocs = [
        a
        for a in sim.state.allocs.values()
        if a["JobID"] == job and a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    ]
    allocs.sort(key=lambda a: (a["CreateIndex"], a["ID"]), reverse=True)
    return [a["ID"] for a in allocs]


def task_dir(sim: Sim, job: str = "www-nomad", n: int = 0) -> Path:
    return sim.files.task_dir(running(sim, job)[n], "http")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_awkward_names_arrive_byte_for_byte(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    for i, name in enumerate(AWKWARD):
        local = tmp_path / name
        local.write_bytes(os.urandom(3000 + i) + name.encode())
        ran = invoke(env, "cp", "--job", "www-nomad", str(local), f"in dir/{name}")
        assert ran.code == 0, ran.err
        assert "size and sha256 checked by sha256sum" in ran.out
        assert (task_dir(sim_thread) / "in dir" / name).read_bytes() == local.read_bytes()


def test_a_directory_is_copied_whole(sim_thread: Sim, tmp_path: Path) -> None:
    src = tmp_path / "site"
    (src / "deep" / "er").mkdir(parents=True)
    (src / "empty").mkdir()
    files = {name: os.urandom(500) for name in AWKWARD}
    files["deep/er/app.py"] = b"print('hi')\n"
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    (src / "deep" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (src / "deep" / "run.sh").chmod(0o755)
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "--job", "www-nomad", str(src), "public")
    assert ran.code == 0, ran.err
    assert ", 6 files;" in ran.out
    there = task_dir(sim_thread) / "public"
    for rel, data in files.items():
        assert (there / rel).read_bytes() == data
    assert (there / "empty").is_dir()
    assert (there / "deep" / "run.sh").stat().st_mode & stat.S_IXUSR


def test_a_50_mb_file_even_when_stdin_close_is_lost(sim_thread: Sim, tmp_path: Path) -> None:
    # Nomad 1.9.0 never passed the stdin close on (hashicorp/nomad#24171); the copy must
    # still end by itself, with no timeout, because the remote reads exactly N bytes.
    set_faults(sim_thread, {"exec_ignore_stdin_close": True})
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(50 * 1024 * 1024))
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "--job", "www-nomad", str(big), "big.bin")
    assert ran.code == 0, ran.err
    assert "(50 MiB;" in ran.out
    assert digest(task_dir(sim_thread) / "big.bin") == digest(big)


def test_default_destination_is_the_path_in_the_repo(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_checkout(tmp_path / "nomad")  # git@…:www/nomad.git on main: job www-nomad
    (repo / "src").mkdir()
    (repo / "src" / "main.py").write_bytes(b"print(1)\n")
    monkeypatch.chdir(repo / "src")
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "main.py")
    assert ran.code == 0, ran.err
    assert (task_dir(sim_thread) / "src" / "main.py").read_bytes() == b"print(1)\n"


def test_all_allocs_and_the_nth(sim_thread: Sim, tmp_path: Path) -> None:
    local = tmp_path / "conf.txt"
    local.write_bytes(b"every one\n")
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "cp", "--job", "services-pyhi", "--all-allocs", str(local), "conf.txt")
    assert ran.code == 0, ran.err
    assert ran.out.count("Copied ") == 3
    for n in range(3):
        assert (
            task_dir(sim_thread, "services-pyhi", n) / "conf.txt"
        ).read_bytes() == b"every one\n"
    ran = invoke(env, "cp", "--job", "services-pyhi", "--alloc", "2", str(local), "second.txt")
    assert ran.code == 0, ran.err
    assert running(sim_thread, "services-pyhi")[1][:8] in ran.out
    assert (task_dir(sim_thread, "services-pyhi", 1) / "second.txt").exists()
    assert not (task_dir(sim_thread, "services-pyhi", 0) / "second.txt").exists()


def test_an_absolute_destination_and_a_trailing_slash(sim_thread: Sim, tmp_path: Path) -> None:
    local = tmp_path / "note.txt"
    local.write_bytes(b"abs\n")
    outside = tmp_path / "outside"
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "cp", "--job", "www-nomad", str(local), f"{outside}/")
    assert ran.code == 0, ran.err
    assert (outside / "note.txt").read_bytes() == b"abs\n"


async def test_what_arrived_differs_is_a_failure(sim: Sim, tmp_path: Path) -> None:
    from nomtui.client.http import HttpClient

    local = tmp_path / "moving.txt"
    local.write_bytes(b"before\n")
    http = HttpClient(sim.nomad_addr, sim.management_token)
    try:
        with prepare(local) as payload:
            local.write_bytes(b"after!\n")  # same size, other bytes: hashed before
            with pytest.raises(VerifyFailed, match=r"m.txt in allocation \w{8} has 7 bytes"):
                await copy_in(http, running(sim, "www-nomad")[0], "http", payload, "m.txt")
    finally:
        await http.aclose()


def test_without_a_hashing_tool_the_file_is_read_back(sim_thread: Sim, tmp_path: Path) -> None:
    # The sim runs exec with this process' PATH, which `invoke` sets for its duration:
    # a PATH with the basic tools but no sha256sum, shasum or openssl is such an image.
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("head", "cat", "mkdir", "wc", "chmod", "tar"):
        found = shutil.which(name)
        assert found is not None
        (tools / name).symlink_to(found)
    local = tmp_path / "f.txt"
    local.write_bytes(b"read me back\n")
    env = base_env(tmp_path, sim_thread, PATH=str(tools))
    ran = invoke(env, "cp", "--job", "www-nomad", str(local), "f.txt")
    assert ran.code == 0, ran.err
    assert "checked by read back" in ran.out
    assert (task_dir(sim_thread) / "f.txt").read_bytes() == b"read me back\n"


def test_the_progress_bar_draws_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Tty()
    monkeypatch.setattr("sys.stderr", screen)
    bar = _Progress(64 * 1024 * 1024)
    bar.add(32 * 1024 * 1024)
    bar.add(32 * 1024 * 1024)
    bar.done()
    assert "100% 64 MiB of 64 MiB" in screen.getvalue()
    assert screen.getvalue().endswith("\n")
    small = _Progress(1024)
    assert not small.on  # small copies stay quiet


def test_remote_destination_rules() -> None:
    src = Path("/x/app.py")
    assert remote_destination(src, "a/b.py") == "a/b.py"
    assert remote_destination(src, "a/") == "a/app.py"
    assert remote_destination(src, ".") == "app.py"
    assert remote_destination(src, "/srv/a/../b.py") == "/srv/b.py"
    assert remote_destination(src, "a/../b.py") == "b.py"
    for bad in ("..", "../up.py", "a/../../up.py", ""):
        with pytest.raises(ConfigError):
            remote_destination(src, bad)


def test_dotdot_is_refused_before_anything_is_sent(sim_thread: Sim, tmp_path: Path) -> None:
    local = tmp_path / "f"
    local.write_bytes(b"x")
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "--job", "www-nomad", str(local), "../f")
    assert ran.code == 1
    assert "climbs out of the task's working directory" in one_error_line(ran.err)


# -- VS Code's sync-rsync ---------------------------------------------------------------


def test_sync_rsync_calls_are_recognised() -> None:
    call = ["-rlptzv", "--exclude=.git", "--exclude=.vscode", "/r/src/a.py", "host:/app/src/a.py"]
    assert sync_rsync_file(call) == "/r/src/a.py"
    assert sync_rsync_file(["--job", "x", ".vscode/settings.json", "dest"]) is None
    assert sync_rsync_file(["a.py", "b", "c", "d"]) is None  # no .vscode
    assert sync_rsync_file(["-av", ".vscode", "x"]) is None  # too few


def test_sync_rsync_copies_the_saved_file(sim_thread: Sim, tmp_path: Path) -> None:
    # A review branch; CI_MAIN_STYLE deploys it unsuffixed, so its job is www-nomad.
    repo = make_checkout(tmp_path / "nomad", branch="fix-it")
    saved = repo / "www" / "index.php"
    saved.parent.mkdir()
    saved.write_bytes(b"<?php echo 1;\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "rsync-args"
    fake = bin_dir / "rsync"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    fake.chmod(0o755)
    args = ["-rlptzv", "--exclude=.git", "--exclude=.vscode", str(saved), "h:/app/www/index.php"]
    path = f"{bin_dir}:{os.environ['PATH']}"
    env = base_env(tmp_path, sim_thread, PATH=path, CI_MAIN_STYLE="1")
    ran = invoke(env, "cp", *args)
    assert ran.code == 0, ran.err
    assert not record.exists()  # not main/master and no RSYNC_BRANCHES: no rsync
    assert (task_dir(sim_thread) / "www" / "index.php").read_bytes() == b"<?php echo 1;\n"
    ran = invoke({**env, "RSYNC_BRANCHES": "1"}, "cp", *args)
    assert ran.code == 0, ran.err
    assert record.read_text().splitlines() == args  # rsync got the call as it came


# -- error paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ("no-such-job", "job no-such-job not found in any namespace"),
        ("services-nightly-backup", "has no running allocation"),
    ],
)
def test_job_errors(sim_thread: Sim, tmp_path: Path, job: str, expected: str) -> None:
    local = tmp_path / "f"
    local.write_bytes(b"x")
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "--job", job, str(local), "f")
    assert ran.code == 1
    assert expected in one_error_line(ran.err)


def test_refused_token_and_unreachable(sim_thread: Sim, tmp_path: Path) -> None:
    local = tmp_path / "f"
    local.write_bytes(b"x")
    args = ("cp", "--job", "www-nomad", str(local), "f")
    ran = invoke(base_env(tmp_path, sim_thread, NOMAD_TOKEN=BAD_TOKEN), *args)
    assert ran.code == 1
    assert "403" in one_error_line(ran.err) and BAD_TOKEN not in ran.err
    addr = f"http://127.0.0.1:{closed_port()}"
    ran = invoke(base_env(tmp_path, NOMAD_ADDR=addr), *args)
    assert ran.code == 1
    assert f"Cannot reach Nomad at {addr}" in one_error_line(ran.err)


def test_local_and_usage_errors(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "cp", "--job", "www-nomad", str(tmp_path / "missing"), "x")
    assert ran.code == 1 and "does not exist" in one_error_line(ran.err)
    local = tmp_path / "f"
    local.write_bytes(b"x")
    ran = invoke(env, "cp", "--job", "www-nomad", "--alloc", "1", "--all-allocs", str(local))
    assert ran.code == 1 and "exclude each other" in one_error_line(ran.err)
    ran = invoke(env, "cp", "--job", "www-nomad", str(local))  # no DEST, no checkout
    assert ran.code == 1 and "not inside a git checkout" in one_error_line(ran.err)
    ran = invoke(env, "cp", "--job", "www-ia-kv", "--task", "web", str(local), "f")
    assert ran.code == 1 and "has no task web; its tasks are http, kv" in one_error_line(ran.err)
    ran = invoke(env, "--read-only", "cp", "--job", "www-nomad", str(local), "f")
    assert ran.code == 1 and "read-only" in one_error_line(ran.err)


def set_faults(sim: Sim, faults: dict[str, object]) -> None:
    httpx.put(
        f"{sim.nomad_addr}/v1/sim/faults",
        json=faults,
        headers={"X-Nomad-Token": sim.management_token},
        timeout=10,
    ).raise_for_status()
