"""`?`: the keys of the current screen, generated from its live bindings.

Rows come from `Screen.active_bindings`, so a key remapped in config.toml shows its new
key, and an action hidden for the current selection (or in read-only mode) is not listed.
Each row names the binding id: that is what `[keys]` in config.toml remaps.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from nomtui.tui.registry import COMMAND_KINDS

HelpRow = tuple[str, str, str, str]
"""key, description, binding id, tooltip."""


def help_rows(app: App[Any], screen: Screen[Any]) -> list[HelpRow]:
    rows: list[HelpRow] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description:
            continue
        rows.append(
            (
                app.get_key_display(binding),
                binding.description,
                binding.id or "",
                active.tooltip or binding.tooltip or "",
            )
        )
    # The screen's own keys in the order it declares them, then the app's, then the
    # widgets' built-ins (no id). The sort is stable, so declaration order survives.
    rows.sort(key=lambda row: (row[2] == "", row[2].startswith("app.")))
    return rows


def _commands() -> Text:
    text = Text("Command mode ", style="bold")
    text.append("(press : then Enter)\n", style="dim")
    text.append("  " + "  ".join(f":{kind}" for kind in COMMAND_KINDS) + "\n")
    text.append("  :ns NAME", style="bold")
    text.append("  switch namespace (* for all)    ")
    text.append(":cluster NAME", style="bold")
    text.append("  switch cluster\n")
    text.append("  :JOB", style="bold")
    text.append("  open a job (a unique prefix is enough)    ")
    text.append(":q", style="bold")
    text.append("  quit\n")
    text.append("Filter ", style="bold")
    text.append("/ then a regular expression; a leading ! inverts it; Esc clears it.")
    return text


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from: key, description, binding id."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close help")
    ]

    def __init__(self, rows: list[HelpRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        # expand: Rich wraps the last column itself, within the width it is given.
        table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
        table.add_column("Key", style="bold cyan", justify="right", no_wrap=True)
        table.add_column("Action", no_wrap=True)
        table.add_column(Text("Id (remap in config.toml [keys])"), style="dim", no_wrap=True)
        table.add_column("What it does", style="dim", ratio=1)
        for key, description, binding_id, tooltip in self.rows:
            table.add_row(Text(key), Text(description), Text(binding_id), Text(tooltip))
        with VerticalScroll(id="help-body"):
            yield Static(Text("Keys on this screen", style="bold"))
            yield Static(table)
            yield Static(_commands(), id="help-commands")
            yield Static(Text("Esc closes this help.", style="dim"))


__all__ = ["HelpRow", "HelpScreen", "help_rows"]
