"""One still sim for the whole corpus: every case only breaks answers in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from nomtui.sim.server import Sim


@pytest.fixture(scope="module")
def corpus_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    from nomtui.sim.clock import FixedClock
    from nomtui.sim.server import SimConfig, SimThread

    config = SimConfig(
        seed=42,
        data_dir=tmp_path_factory.mktemp("corpus-sim"),
        clock=FixedClock(),
        lifecycle=False,
        log_lines_per_s=0,
    )
    runner = SimThread(config)
    try:
        yield runner.start("127.0.0.1", 0, 0)
    finally:
        runner.stop()
