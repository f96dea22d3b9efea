"""`ConfirmScreen`: the one question asked before anything changes a cluster.

On ordinary clusters `y` confirms and `n`/Esc cancels (Enter presses the focused button,
which starts as Cancel). On clusters marked
`production` the operator types the job's name instead, as GitHub does before deleting a
repository: a reflex keypress must not stop a production job.

    ok = await app.push_screen_wait(confirm_screen(app, "Stop job web?", ..., name="web"))
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from nomtui.sanitize import clean


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True when confirmed, False otherwise."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > #confirm-box {
        width: 72;
        height: auto;
        padding: 1 2;
        border: thick $error;
        background: $surface;
    }
    ConfirmScreen #confirm-title {
        text-style: bold;
        margin-bottom: 1;
    }
    ConfirmScreen #confirm-name, ConfirmScreen #confirm-keys {
        margin-top: 1;
    }
    ConfirmScreen #confirm-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ConfirmScreen Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel", tooltip="Do nothing"),
        Binding(
            "y",
            "confirm",
            "Confirm",
            id="confirm.yes",
            tooltip="Go ahead (on production clusters, type the name instead)",
        ),
    ]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        action_label: str = "Confirm",
        typed_name: str | None = None,
    ) -> None:
        """`typed_name`: the text the operator must type to confirm (production)."""
        super().__init__()
        self.title_text = title
        self.message = message
        self.action_label = action_label
        self.typed_name = typed_name

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(clean(self.title_text)), id="confirm-title")
            yield Static(Text(clean(self.message, newlines=True)), id="confirm-message")
            if self.typed_name is not None:
                prompt = Text("This is a production cluster. Type ", style="bold")
                prompt.append(clean(self.typed_name), style="bold reverse")
                prompt.append(" to confirm.", style="bold")
                yield Static(prompt, id="confirm-prompt")
                yield Input(placeholder=clean(self.typed_name), id="confirm-name")
            else:
                yield Static(Text("y confirms · n or Esc cancels", style="dim"), id="confirm-keys")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="confirm-cancel")
                yield Button(
                    self.action_label,
                    id="confirm-ok",
                    variant="error",
                    disabled=self.typed_name is not None,
                )

    def on_mount(self) -> None:
        if self.typed_name is not None:
            self.query_one("#confirm-name", Input).focus()
        else:
            self.query_one("#confirm-cancel", Button).focus()

    @property
    def allowed(self) -> bool:
        if self.typed_name is None:
            return True
        return self.query_one("#confirm-name", Input).value.strip() == self.typed_name

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `y` means nothing while a name must be typed: it is a letter of the name.
        return not (action == "confirm" and self.typed_name is not None)

    def action_confirm(self) -> None:
        if self.allowed:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Changed, "#confirm-name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm-ok", Button).disabled = not self.allowed

    @on(Input.Submitted, "#confirm-name")
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#confirm-ok")
    def _ok(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#confirm-cancel")
    def _cancel(self) -> None:
        self.action_cancel()


def confirm_screen(
    app: App[object],
    title: str,
    message: str,
    *,
    name: str,
    action_label: str = "Confirm",
) -> ConfirmScreen:
    """A confirmation that asks for `name` to be typed when the app's cluster is production."""
    production = bool(getattr(app, "production", False))
    return ConfirmScreen(
        title, message, action_label=action_label, typed_name=name if production else None
    )


__all__ = ["ConfirmScreen", "confirm_screen"]
