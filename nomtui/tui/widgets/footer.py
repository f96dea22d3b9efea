"""Textual's Footer, rebuilt only when what it shows changes.

Screens call `refresh_bindings()` whenever the data under the cursor may have changed
(every view update, every age tick), since what a key may do depends on the selected
row. Textual's Footer answers each call by recomposing: its keys are unmounted and
mounted again, styles recomputed and the whole screen laid out and repainted. On a
2,000-job table that was most of the app's CPU while idle. Here the footer compares what
it would show with what it shows, and recomposes only on a difference.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.screen import Screen
from textual.widgets import Footer


def shown_bindings(screen: Screen[object]) -> tuple[Hashable, ...]:
    """What the footer draws from the screen's bindings: key, action, label, state."""
    return tuple(
        (binding.key, binding.action, binding.description, binding.show, enabled, tooltip)
        for (_, binding, enabled, tooltip) in screen.active_bindings.values()
    )


class NomtuiFooter(Footer):
    _shown: tuple[Hashable, ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = shown_bindings(screen)
            if shown == self._shown and self._bindings_ready:
                return
            self._shown = shown
        super().bindings_changed(screen)


__all__ = ["NomtuiFooter", "shown_bindings"]
