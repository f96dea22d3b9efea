"""Logs of a task: stdout, stderr or both, of one allocation or merged across a job.

Each (allocation, task, stream) is one `LogStream` in a worker; it resumes exactly
after dropped connections (the client counts bytes, see `nomtui.client.logs`), so
lines are neither lost nor duplicated, and a gap the agent really deleted is marked.
Workers hand whole chunks of lines to the `LogView`, which batches repaints; nothing
here posts a message per line.

Streams start `TAIL_BYTES` before the end, not at the beginning of ten rotated files:
the first, probably partial, line is then dropped and a marker says so.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import Input, Static
from textual.worker import Worker

from nomtui.client.link import LinkState, LinkStatus
from nomtui.models.allocs import AllocStub
from nomtui.sanitize import clean
from nomtui.store import AllocsView, AllocView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.screens.alloc_actions import main_task
from nomtui.tui.screens.base import Clock, StoreScreen, ViewUpdated
from nomtui.tui.screens.log_feed import (
    LogFeed,
    Source,
    StreamMode,
    Waiting,
    as_mode,
    logs_command,
    merged_allocs,
    streams_of,
)
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.log_view import FollowMarker, LogView

_ALLOC_COLORS = ("cyan", "magenta", "green", "yellow", "blue", "bright_cyan", "bright_magenta")


def _binding(key: str, action: str, label: str, name: str, tip: str, show: bool = True) -> Binding:
    return Binding(key, action, label, id=f"logs.{name}", tooltip=tip, show=show)


class LogsScreen(StoreScreen):
    """Follows logs live; scrolling up pauses, End resumes."""

    AUTO_FOCUS = "#log"
    DEFAULT_CSS = """
    LogsScreen #logs-title { height: 1; background: $panel; }
    LogsScreen .prompt { display: none; height: 3; border: tall $accent; }
    LogsScreen .prompt.-invalid { border: tall $error; }
    """
    BINDINGS = [
        Binding(
            "end,G",
            "follow",
            "Follow",
            id="logs.follow",
            tooltip="Jump to the end and follow new lines",
            key_display="End",
        ),
        _binding("slash", "search", "Search", "search", "Highlight a regular expression"),
        _binding("n", "next_match(1)", "Next", "next", "Go to the next match"),
        _binding("N", "next_match(-1)", "Prev", "prev", "Go to the previous match"),
        _binding("w", "wrap", "Wrap", "wrap", "Wrap long lines, or not"),
        _binding("o", "mode('stdout')", "stdout", "stdout", "Show stdout"),
        _binding("e", "mode('stderr')", "stderr", "stderr", "Show stderr"),
        _binding("b", "mode('both')", "Both", "both", "stdout and stderr, interleaved"),
        _binding("m", "merge", "Merge job", "merge", "All allocations of the job, merged"),
        _binding("ctrl+s", "save", "Save", "save", "Save the lines in the buffer to a file"),
        _binding("y", "copy_cli", "Copy cmd", "copy_cli", "Copy the equivalent nomad command"),
        _binding("escape", "clear_search", "Clear", "clear", "Clear the search", show=False),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = time.time_ns,
        alloc_id: str = "",
        task: str = "",
        stream: str = "stdout",
        job_id: str = "",
        namespace: str = "default",
    ) -> None:
        super().__init__(store, clock=clock)
        if not alloc_id and not job_id:
            raise ValueError("LogsScreen needs an allocation or a job")
        self.alloc_id = alloc_id
        self.task_name = task
        self.mode: StreamMode = as_mode(stream)
        self.job_id = job_id
        self.namespace = namespace
        self.merged = not alloc_id
        self.allocs: dict[str, AllocStub] = {}
        self.status: dict[Source, LinkStatus] = {}
        self._workers: dict[Source, Worker[None]] = {}
        self._colors: dict[str, str] = {}
        self._search = ""
        self._match_count = 0

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Static(id="logs-title")
        view = LogView(id="log")
        yield view
        yield FollowMarker(view, id="follow-marker")
        yield Input(placeholder="search: regular expression", id="search", classes="prompt")
        yield Input(placeholder="save to file", id="save", classes="prompt")
        yield NomtuiFooter()

    @property
    def view(self) -> LogView:
        return self.query_one("#log", LogView)

    def on_mount(self) -> None:
        self.view.focus()
        self.watch(self.view, "following", self._show_title, init=False)
        self.watch(self.view, "wrap", self._show_title, init=False)
        self._subscribe()
        self._show_title()

    # -- what to stream -------------------------------------------------------------------

    def _job_view(self) -> AllocsView:
        # Job endpoints need the job's namespace; with "*" the cluster-wide list is
        # filtered here instead (as on the allocations screen).
        if self.namespace == "*":
            return AllocsView("*")
        return AllocsView(self.namespace, self.job_id)

    def _subscribe(self) -> None:
        if self.merged:
            if self.alloc_id:
                self.unfollow(AllocView(self.alloc_id))
            self.follow(self._job_view())
        else:
            if self.job_id:
                self.unfollow(self._job_view())
            self.follow(AllocView(self.alloc_id))
            self._sync({self.alloc_id: self.allocs.get(self.alloc_id)})

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        if isinstance(message.view, AllocView) and isinstance(data, AllocStub):
            self.allocs[data.ID] = data
            # The job is learnt here, for the title, `m` and `y`.
            self.job_id, self.namespace = data.JobID, data.Namespace
            if not self.merged:
                self._sync({data.ID: data})
        elif isinstance(message.view, AllocsView) and self.merged:
            job = {k: a for k, a in data.items() if a.JobID == self.job_id}
            self.allocs.update(job)
            self._sync(merged_allocs(job, {s.alloc_id for s in self._workers}))
        self._show_title()

    def _sync(self, wanted: dict[str, AllocStub | None]) -> None:
        """Run exactly the sources for `wanted` allocations in the current mode."""
        sources: set[Source] = set()
        for alloc_id, alloc in wanted.items():
            task = self.task_name or (main_task(alloc) if alloc else None)
            if task is None:
                continue  # the allocation is not known yet: its task is not either
            sources.update(Source(alloc_id, task, s) for s in streams_of(self.mode))
        for source in [s for s in self._workers if s not in sources]:
            self._workers.pop(source).cancel()
            self.status.pop(source, None)
        for source in sources - set(self._workers):
            self._workers[source] = self.run_worker(
                self._stream_source(source), group="logs", exit_on_error=False
            )

    def _restart(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        self._workers.clear()
        self.status.clear()
        self.view.clear()
        self._subscribe()
        if self.merged:
            job = {k: a for k, a in self.allocs.items() if a.JobID == self.job_id}
            self._sync(merged_allocs(job, set()))
        self._show_title()

    # -- streaming ---------------------------------------------------------------------------

    def _prefix(self, source: Source) -> tuple[str, str]:
        parts, style = [], ""
        if self.merged:
            color = self._colors.setdefault(
                source.alloc_id, _ALLOC_COLORS[len(self._colors) % len(_ALLOC_COLORS)]
            )
            parts.append(source.alloc_id[:8])
            style = color
        if self.mode == "both":
            parts.append("err│" if source.stream == "stderr" else "out│")
            if source.stream == "stderr":
                style = "bold red"
            elif not style:
                style = "dim"
        return (" ".join(parts) + " " if parts else ""), style

    async def _stream_source(self, source: Source) -> None:
        prefix, style = self._prefix(source)

        def is_live() -> bool:
            alloc = self.allocs.get(source.alloc_id)
            return alloc is None or not alloc.is_terminal

        feed = LogFeed(
            self.store.nomad.http,
            source,
            self.view.write_lines,
            prefix=prefix,
            style=style,
            on_status=self._on_status,
            is_live=is_live,
        )
        await feed.run()

    def _on_status(self, source: Source, status: LinkStatus) -> None:
        if status.state is LinkState.CLOSED:
            return  # we closed it: the screen is going away or the feed was replaced
        if source in self._workers:  # not from a feed that was just replaced
            self.status[source] = status
            with suppress(NoMatches):  # a report racing the screen's teardown
                self._show_title()

    # -- title ---------------------------------------------------------------------------------

    def _show_title(self) -> None:
        if not self.is_mounted:
            return
        text = Text(" Logs ", style="bold reverse")
        if self.merged:
            text.append(f" job {clean(self.job_id)}", style="bold")
            text.append(f" · {len({s.alloc_id for s in self._workers})} allocations")
        else:
            text.append(f" alloc {self.alloc_id[:8]}", style="bold")
            if self.job_id:
                text.append(f" · job {clean(self.job_id)}")
        tasks = sorted({s.task for s in self._workers}) or (
            [self.task_name] if self.task_name else []
        )
        if tasks:
            text.append(f" · task {clean(','.join(tasks))}")
        text.append(f" · {self.mode}", style="bold")
        reconnecting = [s for s in self.status.values() if s.state is LinkState.RECONNECTING]
        waiting = sorted({src.stream for src, s in self.status.items() if isinstance(s, Waiting)})
        if reconnecting:
            error = reconnecting[0].error
            text.append("  ○ reconnecting…", style="bold red")
            if error is not None:
                text.append(f" {clean(error.message)}", style="red")
        elif any(s.state is LinkState.CONNECTED for s in self.status.values()):
            text.append("  ● live", style="green")
        elif not waiting:
            text.append("  ◌ connecting…", style="yellow")
        if waiting:
            text.append(f"  ◌ no {' or '.join(waiting)} yet", style="yellow")
        view = self.view
        text.append("  following" if view.following else "  paused", style="dim")
        if view.wrap:
            text.append(" · wrap", style="dim")
        if self._search:
            text.append(f" · /{self._search}/ {self._match_count} lines", style="yellow")
        self.query_one("#logs-title", Static).update(text)

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":
            return bool(self._search) or self._prompt_open()
        if action == "next_match":
            return bool(self._search)
        if action == "merge":
            return bool(self.job_id) and (bool(self.alloc_id) or not self.merged)
        if action == "mode":
            return parameters[0] != self.mode
        return True

    def _prompt_open(self) -> bool:
        return any(box.display for box in self.query(".prompt").results(Input))

    def action_follow(self) -> None:
        self.view.resume()

    def action_wrap(self) -> None:
        self.view.wrap = not self.view.wrap

    def action_mode(self, mode: str) -> None:
        if as_mode(mode) != self.mode:
            self.mode = as_mode(mode)
            self._restart()
            self.refresh_bindings()

    def action_merge(self) -> None:
        self.merged = not self.merged
        self._restart()
        self.refresh_bindings()

    def action_search(self) -> None:
        self._open_prompt("#search", self._search)

    def action_save(self) -> None:
        name = self.job_id or self.alloc_id[:8]
        task = self.task_name or "-".join(sorted({s.task for s in self._workers})) or "logs"
        self._open_prompt("#save", f"{name}-{task}-{self.mode}.log")

    def _open_prompt(self, selector: str, value: str) -> None:
        box = self.query_one(selector, Input)
        box.value = value
        box.display = True
        self.set_focus(box)

    def _close_prompts(self) -> None:
        for box in self.query(".prompt").results(Input):
            box.display = False
        self.set_focus(self.view)

    def action_clear_search(self) -> None:
        if self._prompt_open():
            self._close_prompts()
            return
        self._set_search("")

    def action_next_match(self, direction: int) -> None:
        if not self.view.next_match(direction):
            self.notify(f"No line matches {self._search}", severity="warning", markup=False)

    def _set_search(self, pattern: str) -> bool:
        valid, self._match_count = self.view.set_search(pattern)
        self._search = pattern
        self._show_title()
        self.refresh_bindings()
        return valid

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.input.set_class(not self._set_search(event.value), "-invalid")

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._close_prompts()
        if event.value:
            self.action_next_match(1)

    @on(Input.Submitted, "#save")
    def _save_submitted(self, event: Input.Submitted) -> None:
        self._close_prompts()
        if event.value.strip():
            self.view.flush()
            lines = list(self.view.buffer.plain_lines())
            target = Path(event.value.strip()).expanduser()
            self.run_worker(self._save(target, lines), group="logs-save")

    async def _save(self, target: Path, lines: list[str]) -> None:
        try:
            await asyncio.to_thread(target.write_text, "".join(f"{x}\n" for x in lines))
        except OSError as exc:
            self.notify(
                f"Could not save to {target}: {exc.strerror}", severity="error", markup=False
            )
            return
        self.notify(f"Saved {len(lines)} lines to {target}", markup=False)

    def action_copy_cli(self) -> None:
        task = self.task_name or next(iter(sorted({s.task for s in self._workers})), "")
        job = self.job_id if self.merged else ""
        command = logs_command(self.alloc_id, task, self.mode, job)
        self.app.copy_to_clipboard(command)
        self.notify(f"Copied: {command}", markup=False)


__all__ = ["LogsScreen"]
