"""Pilot tests of the logs screen against the sim: exact lines written into real log files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.app import App, ComposeResult

from nomtui.client.link import LinkState, LinkStatus
from nomtui.tui.screens.log_feed import logs_command
from nomtui.tui.screens.logs import LogsScreen
from nomtui.tui.widgets.log_view import FollowMarker, LogView
from tests.client import set_faults
from tests.tui.alloc_support import NOW_NS, ScreenApp, running_allocs, still_sim, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig

JOB = "internetarchive-hello-js"  # three running allocations in the demo


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still_sim(sim_config)


def logs_app(sim: Sim, alloc_id: str, stream: str = "stdout") -> ScreenApp:
    return ScreenApp(
        sim,
        lambda store: LogsScreen(
            store, clock=lambda: NOW_NS, alloc_id=alloc_id, task="http", stream=stream
        ),
    )


def view(pilot: Pilot[None]) -> LogView:
    return pilot.app.screen.query_one("#log", LogView)


def shown(pilot: Pilot[None]) -> list[str]:
    return [line.plain for line in view(pilot).buffer.lines if line.kind == "line"]


def write(sim: Sim, alloc_id: str, *texts: str, stream: str = "stdout") -> None:
    data = "".join(f"{t}\n" for t in texts).encode()
    sim.files.write_log(alloc_id, "http", stream, data)


async def test_follow_shows_lines_as_the_task_writes_them(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    write(sim, alloc, "before we looked")
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: shown(pilot) == ["before we looked"])
        write(sim, alloc, "hello from the task", "and another")
        await until(pilot, lambda: shown(pilot)[-1] == "and another")
        assert shown(pilot) == ["before we looked", "hello from the task", "and another"]
        assert view(pilot).following


async def test_scrolling_up_pauses_and_counts_then_end_resumes(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    write(sim, alloc, *(f"old {i}" for i in range(60)))
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        log = view(pilot)
        marker = pilot.app.screen.query_one(FollowMarker)
        await until(pilot, lambda: len(shown(pilot)) == 60 and log.scroll_y == log.max_scroll_y)
        assert not marker.display
        await pilot.press("up", "up")
        assert not log.following
        top = log.scroll_y
        write(sim, alloc, *(f"new {i}" for i in range(7)))
        await until(pilot, lambda: log.unseen == 7)
        assert marker.display
        assert "+7 lines" in str(marker.render())
        assert log.scroll_y == top  # the reader's place does not move
        await pilot.press("end")
        assert log.following and log.unseen == 0
        assert log.scroll_y == log.max_scroll_y
        assert not marker.display
        write(sim, alloc, "newest")
        await until(pilot, lambda: shown(pilot)[-1] == "newest")
        await pilot.pause(0.1)
        assert log.scroll_y == log.max_scroll_y


async def test_stderr_and_both_interleaved_with_a_marker(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    write(sim, alloc, "to stdout")
    write(sim, alloc, "to stderr", stream="stderr")
    async with logs_app(sim, alloc, stream="stderr").run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: shown(pilot) == ["to stderr"])
        await pilot.press("b")
        await until(pilot, lambda: len(shown(pilot)) == 2)
        assert sorted(shown(pilot)) == ["err│ to stderr", "out│ to stdout"]
        await pilot.press("o")
        await until(pilot, lambda: shown(pilot) == ["to stdout"])


async def test_merged_job_view_prefixes_each_line_with_its_allocation(sim: Sim) -> None:
    allocs = running_allocs(sim, JOB)
    assert len(allocs) >= 2
    for alloc in allocs:
        write(sim, alloc, f"hello from {alloc[:4]}")
    app = ScreenApp(
        sim,
        lambda store: LogsScreen(
            store, clock=lambda: NOW_NS, job_id=JOB, namespace="default", task="http"
        ),
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: len(shown(pilot)) == len(allocs))
        assert sorted(shown(pilot)) == sorted(f"{a[:8]} hello from {a[:4]}" for a in allocs)


async def test_m_merges_the_job_from_one_allocation_and_back(sim: Sim) -> None:
    allocs = running_allocs(sim, JOB)
    for alloc in allocs:
        write(sim, alloc, "ready")
    async with logs_app(sim, allocs[0]).run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: shown(pilot) == ["ready"])
        await until(pilot, lambda: pilot.app.screen.job_id == JOB)  # type: ignore[attr-defined]
        await pilot.press("m")
        await until(pilot, lambda: len(shown(pilot)) == len(allocs))
        assert all(line.endswith(" ready") and line[8] == " " for line in shown(pilot))
        await pilot.press("m")
        await until(pilot, lambda: shown(pilot) == ["ready"])


async def test_search_highlights_and_jumps_between_matches(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    texts = [f"GET /healthz {i}" if i % 20 == 5 else f"GET /page {i}" for i in range(80)]
    write(sim, alloc, *texts)
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        log = view(pilot)
        await until(pilot, lambda: len(shown(pilot)) == 80)
        await pilot.press("slash", *"healthz", "enter")
        assert log.buffer.matches == [5, 25, 45, 65]
        first = log.current_match
        assert first is not None and not log.following
        await pilot.press("n")
        assert log.current_match != first
        await pilot.press("N")
        assert log.current_match == first
        # The match is drawn highlighted.
        row = log.buffer.row_of(first) - round(log.scroll_y)
        strip = log.render_line(row)
        assert any(seg.text == "healthz" and seg.style and seg.style.bgcolor for seg in strip)
        assert "/healthz/ 4 lines" in str(pilot.app.screen.query_one("#logs-title").render())
        await pilot.press("escape")
        assert log.buffer.search is None


async def test_wrap_toggle(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    write(sim, alloc, "x" * 250, "short")
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        log = view(pilot)
        await until(pilot, lambda: len(shown(pilot)) == 2)
        assert log.virtual_size.height == 2
        await pilot.press("w")
        assert log.wrap
        assert log.virtual_size.height == 4  # 250 cells in rows of < 100, then "short"
        rows = ["".join(seg.text for seg in log.render_line(y)).rstrip() for y in range(4)]
        assert "".join(rows[:3]) == "x" * 250
        assert rows[3] == "short"
        await pilot.press("w")
        assert log.virtual_size.height == 2


async def test_save_writes_the_buffer_to_a_file(sim: Sim, tmp_path: Path) -> None:
    alloc = running_allocs(sim, JOB)[0]
    write(sim, alloc, "one", "two", "three")
    target = tmp_path / "saved.log"
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: len(shown(pilot)) == 3)
        await pilot.press("ctrl+s")
        box = pilot.app.screen.query_one("#save")
        assert box.value.endswith("-http-stdout.log")  # type: ignore[attr-defined]
        box.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, target.exists)
    assert target.read_text() == "one\ntwo\nthree\n"


async def test_log_content_is_sanitised(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    write(sim, alloc, "\x1b]52;c;ZXZpbA==\x07\x1b[2Jplain \x1b[1mbold\x1b[0m text")
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: len(shown(pilot)) == 1)
        assert shown(pilot) == ["plain bold text"]
        strip = view(pilot).render_line(0)
        assert "\x1b" not in "".join(seg.text for seg in strip)


async def test_cut_streams_lose_and_repeat_nothing(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconnects: list[LinkStatus] = []
    real = LogsScreen._on_status

    def spy(screen: LogsScreen, source: Any, status: LinkStatus) -> None:
        if status.state is LinkState.RECONNECTING:
            reconnects.append(status)
        real(screen, source, status)

    monkeypatch.setattr(LogsScreen, "_on_status", spy)
    alloc = running_allocs(sim, JOB)[0]
    await set_faults(sim, stream_cut_bytes=400)
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        expected = []
        for i in range(24):
            text = f"line {i:02d} seq={i}"
            expected.append(text)
            write(sim, alloc, text)
            await asyncio.sleep(0.05)  # small frames: each fits under the cut
        await until(pilot, lambda: len(shown(pilot)) >= 24, timeout=10)
        await pilot.pause(0.3)
        assert shown(pilot) == expected
    assert reconnects  # the stream really was cut, and resumed


async def test_y_copies_the_nomad_command(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    async with logs_app(sim, alloc, stream="stderr").run_test(size=(100, 30)) as pilot:
        await pilot.press("y")
        assert pilot.app.clipboard == f"nomad alloc logs -f -stderr -task http {alloc}"
    assert logs_command("a", "http", "stdout", "web") == "nomad alloc logs -f -task http -job web"


async def test_a_long_log_starts_near_its_end_without_a_partial_line(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    # ~400 KiB: more than the screen loads, so it starts mid-file, mid-line.
    write(sim, alloc, *(f"{i:06d} {'x' * 90}" for i in range(4200)))
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        log = view(pilot)
        await until(pilot, lambda: shown(pilot) and shown(pilot)[-1].startswith("004199 "))
        first = log.buffer.lines[0]
        assert first.kind == "marker" and "earlier output not loaded" in first.text
        numbers = [int(line[:6]) for line in shown(pilot)]
        assert numbers == list(range(numbers[0], 4200))  # whole lines only, none missing
        assert all(len(line) == 97 for line in shown(pilot))


async def test_a_log_that_does_not_exist_yet_is_waited_for(sim: Sim) -> None:
    alloc = running_allocs(sim, JOB)[0]
    stderr = sim.files.path(alloc) / "alloc" / "logs" / "http.stderr.0"
    assert not stderr.exists()  # this task never wrote to stderr
    async with logs_app(sim, alloc, stream="stderr").run_test(size=(100, 30)) as pilot:
        title = pilot.app.screen.query_one("#logs-title")
        await until(pilot, lambda: "no stderr yet" in str(title.render()))
        write(sim, alloc, "late complaint", stream="stderr")
        await until(pilot, lambda: shown(pilot) == ["late complaint"])
        assert not any(line.kind == "marker" for line in view(pilot).buffer.lines)


async def test_lines_are_batched_into_one_repaint(sim: Sim) -> None:
    from nomtui.tui.widgets.log_buffer import LogLine

    alloc = running_allocs(sim, JOB)[0]
    async with logs_app(sim, alloc).run_test(size=(100, 30)) as pilot:
        log = view(pilot)
        flushes = 0
        real_flush = log.flush

        def counting_flush() -> None:
            nonlocal flushes
            flushes += 1
            real_flush()

        log.flush = counting_flush  # type: ignore[method-assign]
        for i in range(500):
            log.write_lines([LogLine(f"burst {i}")])
        assert len(log.buffer) == 0  # nothing drawn per line
        await until(pilot, lambda: len(log.buffer) == 500)
        assert flushes == 1


class BareLogApp(App[None]):
    """Just the widget, with a small buffer."""

    def compose(self) -> ComposeResult:
        yield LogView(max_lines=64, id="log")


def top_text(log: LogView) -> str:
    return "".join(seg.text for seg in log.render_line(0)).rstrip()


async def test_the_view_stays_bounded_and_keeps_a_paused_reader_in_place() -> None:
    from nomtui.tui.widgets.log_buffer import LogLine

    app = BareLogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(LogView)
        log.write_lines([LogLine(f"line {i}") for i in range(50)])
        await pilot.pause(0.1)
        log.scroll_to(y=20, animate=False, immediate=True)  # the reader looks at line 20
        assert not log.following
        assert top_text(log) == "line 20"
        log.write_lines([LogLine(f"line {i}") for i in range(50, 70)])  # drops the front
        await pilot.pause(0.1)
        assert len(log.buffer) <= 64 and log.buffer.first > 0
        assert top_text(log) == "line 20"  # same line on top, though its index moved
        assert log.unseen == 20
        await pilot.press("end")
        assert log.following and log.unseen == 0
