"""`nomtui cp`: names that a shell would act on arrive as bytes, and nothing runs.

tests/commands/test_cp.py covers quotes, spaces, `$HOME`, newlines, leading dashes and the
`..` refusal; this adds command substitutions and separators, as the file's name, as the
destination and inside a copied directory, and checks that none of them ran anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.commands import base_env, invoke, one_error_line

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

JOB = "www-nomad"
HOSTILE = [
    "$(touch pwned-dollar)",
    "`touch pwned-backtick`",
    ";touch pwned-semicolon",
    ";rm -rf x",
    "x'; touch pwned-quote; '",
    '"; touch pwned-dquote; "',
    "| touch pwned-pipe",
    "&& touch pwned-and",
    "\ntouch pwned-newline\n",
    "-rf",
]


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0
    return sim_config


def task_dir(sim: Sim) -> Path:
    alloc = next(
        a["ID"]
        for a in sim.state.allocs.values()
        if a["JobID"] == JOB and a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    )
    return sim.files.task_dir(alloc, "http")


def nothing_ran(sim: Sim, *local: Path) -> None:
    roots = [sim.files.root, *local]
    pwned = [p for root in roots for p in root.rglob("pwned-*")]
    assert pwned == [], pwned


def test_hostile_names_arrive_literally_and_run_nothing(
    sim_thread: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = task_dir(sim_thread)
    (target / "x").mkdir(exist_ok=True)
    (target / "x" / "keep").write_text("still here")
    env = base_env(tmp_path, sim_thread)
    for i, name in enumerate(HOSTILE):
        local = tmp_path / f"src-{i}"
        local.write_bytes(f"payload {i}\n".encode())
        # As the destination's name...
        ran = invoke(env, "cp", "--job", JOB, str(local), f"drop/{name}")
        assert ran.code == 0, ran.err
        assert (target / "drop" / name).read_bytes() == local.read_bytes()
        # ...and as the local file's own name, into a directory.
        named = tmp_path / "named"
        named.mkdir(exist_ok=True)
        (named / name).write_bytes(b"named " + name.encode())
        ran = invoke(env, "cp", "--job", JOB, str(named / name), "by-name/")
        assert ran.code == 0, ran.err
        assert (target / "by-name" / name).read_bytes() == b"named " + name.encode()
    assert (target / "x" / "keep").read_text() == "still here"
    nothing_ran(sim_thread, tmp_path)


def test_a_directory_of_hostile_names_arrives_whole(sim_thread: Sim, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for name in HOSTILE:
        sub = tree / name.replace("/", "_")
        sub.mkdir(parents=True)
        (sub / name).write_text(name)
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "--job", JOB, str(tree), "$(tree)")
    assert ran.code == 0, ran.err
    landed = task_dir(sim_thread) / "$(tree)"
    for name in HOSTILE:
        assert (landed / name / name).read_text() == name
    nothing_ran(sim_thread, tmp_path)


@pytest.mark.parametrize("dest", ["../escape", "a/../../escape", "..", "./../../etc/x"])
def test_leaving_the_task_directory_needs_an_absolute_path(
    sim_thread: Sim, tmp_path: Path, dest: str
) -> None:
    local = tmp_path / "f"
    local.write_text("x")
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "--job", JOB, str(local), dest)
    assert ran.code == 1
    assert "give an absolute path to write outside it" in one_error_line(ran.err)
    # The absolute spelling of the same place is taken as meant.
    outside = task_dir(sim_thread).parent / "outside.txt"
    ran = invoke(base_env(tmp_path, sim_thread), "cp", "--job", JOB, str(local), str(outside))
    assert ran.code == 0, ran.err
    assert outside.read_text() == "x"
