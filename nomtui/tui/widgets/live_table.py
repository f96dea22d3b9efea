"""A DataTable kept in line with a mapping of rows, in place, cursor and scroll preserved.

Every screen with a list (jobs, allocations, nodes, services, events...) hands it the whole
set of rows it wants to show; the table works out what to add, change and remove. Rows
are keyed by ID, so the cursor stays on the same object when others come and go. `/`
filters with a case-insensitive regex (`!` in front inverts it) and a column can be
chosen for sorting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

Cells = tuple[Text, ...]


@dataclass(frozen=True)
class Column:
    label: str
    key: str
    numeric: bool = False
    """Sort by the number at the start of the cell text rather than by the text."""


class RowFilter:
    """A case-insensitive regex over a row's text; `!` inverts; a bad regex matches literally."""

    def __init__(self, pattern: str = "") -> None:
        self.pattern = pattern
        self.inverted = pattern.startswith("!")
        body = pattern[1:] if self.inverted else pattern
        try:
            self._regex = re.compile(body, re.IGNORECASE)
            self.valid = True
        except re.error:
            self._regex = re.compile(re.escape(body), re.IGNORECASE)
            self.valid = False
        self._empty = not body

    def matches(self, key: str, cells: Sequence[Text]) -> bool:
        if self._empty:
            return True
        # cells first, so `^` anchors at the first column (the name), as users expect
        haystack = " ".join([*(c.plain for c in cells), key])
        return (self._regex.search(haystack) is not None) != self.inverted


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def sort_value(cell: Text, numeric: bool) -> tuple[float, str]:
    if numeric:
        match = _NUMBER.search(cell.plain)
        return (float(match.group()) if match else float("-inf"), cell.plain)
    return (0.0, cell.plain.lower())


class LiveTable(DataTable[Text]):
    """`set_rows()` with the complete wanted content; the widget applies the difference."""

    DEFAULT_CSS = """
    LiveTable {
        height: 1fr;
    }
    """

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        id: str | None = None,
        default_sort: Sequence[str] = (),
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.spec = tuple(columns)
        self.row_filter = RowFilter()
        self.sort_columns: tuple[str, ...] = tuple(default_sort)
        self.sort_reverse = False
        self._wanted: dict[str, Cells] = {}
        self._shown: dict[str, Cells] = {}

    def on_mount(self) -> None:
        for column in self.spec:
            self.add_column(column.label, key=column.key)

    @property
    def shown_keys(self) -> list[str]:
        """Row keys in display order."""
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]

    @property
    def selected_key(self) -> str | None:
        if not self.is_valid_coordinate(self.cursor_coordinate):
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def set_rows(self, rows: Mapping[str, Cells]) -> None:
        self._wanted = dict(rows)
        self._apply()

    def set_filter(self, pattern: str) -> bool:
        """Filter the rows; returns whether the pattern was a valid regex."""
        self.row_filter = RowFilter(pattern)
        self._apply()
        return self.row_filter.valid

    def sort_by(self, column_key: str) -> None:
        """Sort by a column; choosing the same column again reverses the order."""
        if self.sort_columns[:1] == (column_key,):
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_columns = (column_key,)
            self.sort_reverse = False
        self._sort()

    def _apply(self) -> None:
        wanted = {
            key: cells for key, cells in self._wanted.items() if self.row_filter.matches(key, cells)
        }
        cursor_key, cursor_offset = self._cursor_anchor()
        for key in [k for k in self._shown if k not in wanted]:
            self.remove_row(key)
            del self._shown[key]
        added = False
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                added = True
            else:
                for column, new, previous in zip(self.spec, cells, old, strict=True):
                    if new != previous:
                        self.update_cell(key, column.key, new, update_width=True)
            self._shown[key] = cells
        if added and self.sort_columns:
            self._sort()
        self._restore_cursor(cursor_key, cursor_offset)

    def _sort(self) -> None:
        if not self.sort_columns or not self.row_count:
            return
        numeric = {c.key: c.numeric for c in self.spec}
        keys = self.sort_columns

        def order(row: Text | Sequence[Text]) -> tuple[tuple[float, str], ...]:
            # DataTable hands over a bare value when sorting by a single column
            cells = (row,) if isinstance(row, Text) else tuple(row)
            return tuple(
                sort_value(cell, numeric[key]) for key, cell in zip(keys, cells, strict=True)
            )

        cursor_key, cursor_offset = self._cursor_anchor()
        self.sort(*keys, key=order, reverse=self.sort_reverse)
        self._restore_cursor(cursor_key, cursor_offset)

    def _cursor_anchor(self) -> tuple[str | None, int]:
        """The row under the cursor and its distance from the top of the view."""
        key = self.selected_key
        return key, self.cursor_row - round(self.scroll_y)

    def _restore_cursor(self, key: str | None, offset: int) -> None:
        if key is None or key not in self._shown:
            return
        row = self.get_row_index(key)
        if row != self.cursor_row:
            self.move_cursor(row=row, animate=False, scroll=False)
            self.scroll_to(y=max(0, row - offset), animate=False, immediate=True)


__all__ = ["Cells", "Column", "LiveTable", "RowFilter"]
