"""Chaos tests: the TUI and the one-shots against a sim that fails on purpose.

Shared helpers: the fault mix, the sim's control endpoint, and where the fault counts of
a run are written for the lead's note.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

SEQ = re.compile(r" seq=(\d+)$")
"""The sim's log producers end every line with ` seq=<n>`, counting per task stream."""

CHAOS_FAULTS: dict[str, Any] = {
    "error_rate": 0.1,
    "stream_cut_every_s": 5.0,
    "leader_loss_every_s": 20.0,
    "leader_loss_for_s": 3.0,
    "latency_spike_rate": 0.05,
    "latency_spike_ms": 1500.0,
}
"""The TUI chaos run: ~10% 5xx, a stream cut every ~5 s, 3 s without a leader every 20 s,
one request in twenty held for 1.5 s."""

NO_FAULTS: dict[str, Any] = {
    "error_rate": 0.0,
    "stream_cut_every_s": 0.0,
    "stream_cut_bytes": 0,
    "leader_loss_every_s": 0.0,
    "leader_loss_for_s": 0.0,
    "leader_lost": False,
    "latency_ms": 0.0,
    "latency_spike_rate": 0.0,
    "latency_spike_ms": 0.0,
}

REPORT_ENV = "NOMTUI_CHAOS_REPORT"
"""A directory to copy each run's fault counts to (JSON), besides pytest's tmp dir."""


def seqs(lines: list[str]) -> list[int]:
    """The sequence numbers of `lines`; a line without one is a test failure."""
    found = []
    for line in lines:
        match = SEQ.search(line)
        assert match is not None, f"a line without a sequence number: {line!r}"
        found.append(int(match.group(1)))
    return found


def assert_consecutive(numbers: list[int], what: str) -> None:
    """`numbers` go up by exactly one: no line lost, none repeated."""
    assert numbers, f"{what}: no lines at all"
    gaps = [(a, b) for a, b in itertools.pairwise(numbers) if b != a + 1]
    assert not gaps, f"{what}: not consecutive at {gaps[:10]} ({len(gaps)} breaks)"


def record(tmp_path: Path, name: str, counts: dict[str, Any]) -> Path:
    """Write a run's fault counts as JSON (and print them, for `pytest -s`)."""
    text = json.dumps(counts, indent=2, sort_keys=True)
    print(f"\n{name} fault counts: {text}")
    target = tmp_path / f"{name}.json"
    target.write_text(text + "\n")
    extra = os.environ.get(REPORT_ENV)
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        (Path(extra) / f"{name}.json").write_text(text + "\n")
    return target


__all__ = [
    "CHAOS_FAULTS",
    "NO_FAULTS",
    "REPORT_ENV",
    "SEQ",
    "assert_consecutive",
    "record",
    "seqs",
]
