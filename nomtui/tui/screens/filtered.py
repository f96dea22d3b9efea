"""A store screen with `/` regex filtering (`!` inverts) and sorting of its tables.

The filter box is shared by every table of the screen: `/` opens it for the table that
has the focus (or the screen's main one), Enter keeps the filter and goes back to the
table, Esc clears it. `o` sorts the focused table by its next column, `O` reverses;
clicking a column header sorts by that column. Bindings are made per screen by
`table_bindings(prefix)` so each has an id of its own (`nodes.filter`, ...).
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widgets import DataTable, Input

from nomtui.tui.screens.base import StoreScreen
from nomtui.tui.widgets.live_table import LiveTable

FILTER_PLACEHOLDER = "filter: regular expression (! inverts), Enter to keep, Esc to clear"


def table_bindings(prefix: str, what: str = "rows") -> list[Binding]:
    return [
        Binding(
            "slash",
            "filter",
            "Filter",
            id=f"{prefix}.filter",
            tooltip=f"Show only the {what} matching a regular expression (! inverts)",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id=f"{prefix}.clear_filter",
            show=False,
            tooltip=f"Remove the filter and show every one of the {what}",
        ),
        Binding(
            "o",
            "sort_next",
            "Sort",
            id=f"{prefix}.sort",
            show=False,
            tooltip="Sort the table by its next column",
        ),
        Binding(
            "O",
            "sort_reverse",
            "Reverse sort",
            id=f"{prefix}.sort_reverse",
            show=False,
            tooltip="Reverse the order of the table",
        ),
    ]


def filter_box() -> Input:
    return Input(placeholder=FILTER_PLACEHOLDER, id="filter")


class FilteredScreen(StoreScreen):
    """Subclasses yield `filter_box()` in `compose` and define `main_table`."""

    _filter_target: LiveTable | None = None

    @property
    def main_table(self) -> LiveTable:
        raise NotImplementedError

    def focused_table(self) -> LiveTable:
        focused = self.focused
        return focused if isinstance(focused, LiveTable) else self.main_table

    def has_filter(self) -> bool:
        return any(table.row_filter.pattern for table in self.query(LiveTable))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            # Without a filter Esc is not ours: it goes on to the app (back).
            boxes = self.query("#filter")
            return self.has_filter() or any(box.display for box in boxes)
        return True

    # Hooks: a screen whose filter is not on a table (topology) overrides these three.

    def begin_filter(self) -> str:
        """Choose what the box filters now; returns its current pattern."""
        self._filter_target = self.focused_table()
        return self._filter_target.row_filter.pattern

    def apply_filter(self, pattern: str) -> bool:
        """Filter what the box was opened for; returns whether the regex is valid."""
        return (self._filter_target or self.main_table).set_filter(pattern)

    def end_filter(self) -> None:
        """Give the focus back to what was filtered."""
        self.set_focus(self._filter_target or self.main_table)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = self.begin_filter()
        box.display = True
        # Synchronously: keys typed right after `/` must land in the box, not the table.
        self.set_focus(box)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self.apply_filter("")
        box.display = False
        self.end_filter()
        self.refresh_bindings()

    def action_sort_next(self) -> None:
        table = self.focused_table()
        keys = [c.key for c in table.spec]
        current = table.sort_columns[0] if table.sort_columns else keys[-1]
        following = keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0]
        table.sort_by(following)

    def action_sort_reverse(self) -> None:
        table = self.focused_table()
        if table.sort_columns:
            table.sort_by(table.sort_columns[0])

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.input.set_class(not self.apply_filter(event.value), "-invalid")
        self.refresh_bindings()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.end_filter()

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        table = event.data_table
        if isinstance(table, LiveTable) and event.column_key.value is not None:
            table.sort_by(event.column_key.value)


__all__ = ["FILTER_PLACEHOLDER", "FilteredScreen", "filter_box", "table_bindings"]
