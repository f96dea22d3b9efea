"""Start-up time of one-shot commands: `nomtui --help` and `nomtui job-from-cwd`.

Each is run `--runs` times as a new process (the console script, as a user types it) and
the wall time is measured from spawn to exit. `job-from-cwd` runs inside a throwaway git
checkout (a `.git` directory as git writes it, no git binary needed). Goal: 150 ms or
less for both.

Usage: python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_MS = 150.0
NOMTUI = Path(sys.executable).with_name("nomtui")


def checkout(root: Path) -> Path:
    """A minimal checkout of www/nomad on a review branch (job www-nomad-fix-login)."""
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "config").write_text(
        '[core]\n\trepositoryformatversion = 0\n[remote "origin"]\n'
        "\turl = git@git.archive.org:www/nomad.git\n"
    )
    (git / "HEAD").write_text("ref: refs/heads/fix-login\n")
    (git / "refs" / "heads" / "fix-login").write_text("0" * 40 + "\n")
    return root


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    command = [str(NOMTUI)] if NOMTUI.exists() else [sys.executable, "-m", "nomtui"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "NOM"))}
    with tempfile.TemporaryDirectory(prefix="nomtui-bench-") as tmp:
        repo = checkout(Path(tmp))
        cases = {"nomtui --help": ["--help"], "nomtui job-from-cwd": ["job-from-cwd"]}
        print(f"{' '.join(command)}: wall time of {args.runs} runs each (goal <= {GOAL_MS:.0f} ms)")
        for name, extra in cases.items():
            timed([*command, *extra], repo, env)  # warm the file cache and .pyc files
            times = [timed([*command, *extra], repo, env) for _ in range(args.runs)]
            best, median = min(times), statistics.median(times)
            verdict = "ok" if median <= GOAL_MS else "over"
            print(f"  {name:<20} best {best:6.1f} ms   median {median:6.1f} ms   {verdict}")


if __name__ == "__main__":
    main()
