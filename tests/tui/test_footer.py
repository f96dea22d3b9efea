"""`NomtuiFooter` recomposes when what it shows changes, and only then."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from nomtui.tui.widgets.footer import NomtuiFooter


class Host(App[None]):
    BINDINGS = [Binding("s", "stop", "Stop"), Binding("r", "restart", "Restart")]

    def __init__(self) -> None:
        super().__init__()
        self.can_stop = True

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield NomtuiFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.can_stop or None  # None: shown disabled
        return True

    def action_stop(self) -> None:
        pass

    def action_restart(self) -> None:
        pass


async def test_refresh_without_a_change_leaves_the_footer_alone() -> None:
    app = Host()
    async with app.run_test(size=(60, 5)) as pilot:
        footer = app.query_one(NomtuiFooter)
        await pilot.pause()
        recomposed = 0
        real = footer.recompose

        async def counting() -> None:
            nonlocal recomposed
            recomposed += 1
            await real()

        footer.recompose = counting  # type: ignore[method-assign]
        for _ in range(5):
            app.refresh_bindings()
            await pilot.pause()
        assert recomposed == 0
        app.can_stop = False
        app.refresh_bindings()
        await pilot.pause()
        assert recomposed == 1
        keys = [k for k in footer.query("FooterKey")]
        stop = next(k for k in keys if k.action == "stop")
        assert stop.has_class("-disabled")
