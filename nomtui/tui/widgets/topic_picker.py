"""`TopicsScreen`: pick the event-stream topics the Events screen subscribes to."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

TOPICS = ("Job", "Allocation", "Deployment", "Evaluation", "Node", "Service")
"""What the screen can subscribe to (`NodeDrain`/`NodePool`/ACL topics are left out: the
first repeats `Node`, the others need a management token)."""


class TopicsScreen(ModalScreen[frozenset[str] | None]):
    """Pick the topics to stream; Enter/`a` applies, Esc leaves them as they were."""

    DEFAULT_CSS = """
    TopicsScreen {
        align: center middle;
    }
    TopicsScreen > Vertical {
        width: 40;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    TopicsScreen SelectionList {
        height: auto;
    }
    """
    BINDINGS = [
        # priority: Enter would otherwise toggle the highlighted topic in the list.
        Binding(
            "a,enter",
            "apply",
            "Apply",
            id="topics.apply",
            priority=True,
            tooltip="Stream these topics",
        ),
        Binding("escape", "cancel", "Cancel", id="topics.cancel", tooltip="Keep the topics"),
    ]

    def __init__(self, chosen: Iterable[str]) -> None:
        super().__init__()
        self.chosen = frozenset(chosen)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Topics (space toggles, Enter applies)", style="bold"))
            yield SelectionList[str](*((t, t, t in self.chosen) for t in TOPICS), id="topics")

    def action_apply(self) -> None:
        picked = frozenset(self.query_one("#topics", SelectionList).selected)
        self.dismiss(picked or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["TOPICS", "TopicsScreen"]
