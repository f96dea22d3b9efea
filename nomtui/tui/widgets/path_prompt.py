"""The `c` dialog: a local path (completed from the filesystem) and where it goes.

The destination follows the source as nom-cp did: the file's path relative to the top of
its git checkout (`repo_relative`), until the user edits it. Tab or → accepts the
greyed-out completion, Enter moves on / confirms, Esc cancels.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from nomtui.actions.repo import repo_relative
from nomtui.errors import NomtuiError
from nomtui.sanitize import clean

MAX_LISTED = 2000
"""Entries of a directory looked at for a completion (a huge directory must not stall)."""


def complete_path(value: str, cwd: Path | None = None) -> str | None:
    """`value` completed to the first existing entry it is a prefix of (a directory gets a
    trailing `/`); None when nothing matches or it is already complete."""
    if not value:
        return None
    expanded = os.path.expanduser(value)
    head, prefix = os.path.split(expanded)
    base = Path(head) if head else Path(".")
    if cwd is not None and not base.is_absolute():
        base = cwd / base
    try:
        with os.scandir(base) as entries:
            names = []
            for n, entry in enumerate(entries):
                if n >= MAX_LISTED:
                    break
                if entry.name.startswith(prefix) and (
                    prefix.startswith(".") or entry.name[0] != "."
                ):
                    names.append((entry.name, entry.is_dir()))
    except OSError:
        return None
    if not names:
        return None
    name, is_dir = min(names)
    completed = value[: len(value) - len(prefix)] + name + ("/" if is_dir else "")
    return completed if completed != value else None


class PathSuggester(Suggester):
    """Suggests the completion of a local path (read in a thread: disks can be slow)."""

    def __init__(self, cwd: Path | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.cwd = cwd

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value, self.cwd)


def default_destination(source: str) -> str:
    """The repo-relative path of `source`, or "" when it is not in a checkout."""
    if not source.strip():
        return ""
    try:
        return repo_relative(Path(os.path.expanduser(source.strip())))
    except NomtuiError:
        return ""


class CopyInPrompt(ModalScreen[tuple[str, str] | None]):
    """Asks for (local source, destination in the task); None when cancelled."""

    DEFAULT_CSS = """
    CopyInPrompt { align: center middle; }
    CopyInPrompt > Vertical {
        width: 84; height: auto; padding: 1 2; border: thick $accent; background: $surface;
    }
    CopyInPrompt Input { margin-bottom: 1; }
    CopyInPrompt .hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="copy_in.cancel", tooltip="Copy nothing"),
        Binding(
            "tab",
            "complete",
            "Complete",
            id="copy_in.complete",
            tooltip="Accept the suggested completion of the path",
            priority=True,
        ),
    ]

    def __init__(self, target: str, *, cwd: Path | None = None) -> None:
        super().__init__()
        self.target = target
        self.cwd = cwd
        self._dest_edited = False
        self._dest_auto = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Copy a local file or directory into {clean(self.target)}", markup=False)
            yield Label("Local path")
            yield Input(
                placeholder="./path/to/file", id="source", suggester=PathSuggester(self.cwd)
            )
            yield Label("Destination in the task (relative to its working directory)")
            yield Input(placeholder="path/in/task", id="dest")
            yield Label("Tab completes · Enter confirms · Esc cancels", classes="hint")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_complete(self) -> None:
        box = self.focused
        if isinstance(box, Input):
            box.cursor_position = len(box.value)
            box.action_cursor_right()  # accepts the suggestion when there is one

    @on(Input.Changed, "#source")
    def _source_changed(self, event: Input.Changed) -> None:
        if self._dest_edited:
            return
        dest = self.query_one("#dest", Input)
        self._dest_auto = default_destination(event.value)
        dest.value = self._dest_auto

    @on(Input.Changed, "#dest")
    def _dest_changed(self, event: Input.Changed) -> None:
        self._dest_edited = event.value != self._dest_auto

    @on(Input.Submitted, "#source")
    def _source_submitted(self) -> None:
        self.query_one("#dest", Input).focus()

    @on(Input.Submitted, "#dest")
    def _dest_submitted(self) -> None:
        source = self.query_one("#source", Input).value.strip()
        dest = self.query_one("#dest", Input).value.strip()
        if not source:
            self.query_one("#source", Input).focus()
            return
        if dest:
            self.dismiss((os.path.expanduser(source), dest))


__all__ = ["CopyInPrompt", "PathSuggester", "complete_path", "default_destination"]
