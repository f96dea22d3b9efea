"""A DataTable kept in line with a mapping of rows, in place, cursor and scroll preserved.

Every screen with a list (jobs, allocations, nodes, services, events...) hands it the whole
set of rows it wants to show; the table works out what to add, change and remove. Rows
are keyed by ID, so the cursor stays on the same object when others come and go. `/`
filters with a case-insensitive regex (`!` in front inverts it) and a column can be
chosen for sorting.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey, Row, RowKey

Cells = tuple[Text, ...]

REBUILD_AT = 64
"""Removing more rows than this at once rebuilds the table instead (see `_apply`)."""


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
        return self._empty or self.matches_text(haystack(key, cells))

    def matches_text(self, text: str) -> bool:
        """`text` being a row's `haystack`."""
        return self._empty or (self._regex.search(text) is not None) != self.inverted


def haystack(key: str, cells: Sequence[Text]) -> str:
    """What a filter searches in a row: cells first, so that `^` anchors at the first
    column (the name), as users expect, then the key."""
    return " ".join([*(c.plain for c in cells), key])


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
        self._text: dict[str, tuple[Cells, str, tuple[int, ...]]] = {}
        """Each wanted row's `haystack` and cell widths, with the cells they come from."""
        self._widths: dict[str, tuple[int, ...]] = {}
        """Cell widths of each shown row, counted in `_width_counts` per column."""
        self._width_counts: list[Counter[int]] = [Counter() for _ in self.spec]

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
        # Thousands of rows are searched on every keystroke: their text is joined once,
        # again only when a row's cells change.
        old, self._text = self._text, {}
        for key, cells in self._wanted.items():
            known = old.get(key)
            if known is None or known[0] is not cells:
                known = (cells, haystack(key, cells), tuple(c.cell_len for c in cells))
            self._text[key] = known
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
        row_filter, text = self.row_filter, self._text
        wanted = {
            key: cells
            for key, cells in self._wanted.items()
            if row_filter.matches_text(text[key][1])
        }
        cursor_key, cursor_offset = self._cursor_anchor()
        gone = [k for k in self._shown if k not in wanted]
        arriving = len(wanted) - (len(self._shown) - len(gone))
        if len(gone) > REBUILD_AT or (arriving > REBUILD_AT and not self.sort_columns):
            # DataTable.remove_row re-indexes every row after the removed one: a filter
            # keystroke hiding thousands of rows one by one would be quadratic. Rows
            # coming back (the filter erased) would land after those still shown; a
            # table without a sort order shows them in the order they were given.
            self.clear()
            self._shown, self._widths = {}, {}
            self._width_counts = [Counter() for _ in self.spec]
        else:
            for key in gone:
                self.remove_row(key)
                del self._shown[key]
                self._count_widths(self._widths.pop(key), -1)
        new_rows: list[tuple[str, Cells]] = []
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is cells:
                continue
            if old is None:
                new_rows.append((key, cells))
            elif old != cells:
                for column, new, previous in zip(self.spec, cells, old, strict=True):
                    if new != previous:
                        # widths are ours (`_fit_columns`): DataTable's own re-measures
                        # the whole column whenever a cell gets narrower
                        self.update_cell(key, column.key, new)
            self._shown[key] = cells
            widths = self._text[key][2]
            if old is not None:
                self._count_widths(self._widths[key], -1)
            self._widths[key] = widths
            self._count_widths(widths, 1)
        self._append_rows(new_rows)
        self._fit_columns()
        if new_rows and self.sort_columns:
            self._sort()
        self._restore_cursor(cursor_key, cursor_offset)

    def _append_rows(self, rows: list[tuple[str, Cells]]) -> None:
        """`add_row` for many rows at once, in the steps Textual 8.2 (pinned) takes for a
        one-line row without a label. `add_row` itself rebuilds the column order and
        re-validates the cursor for every row: 10,000 rows took most of a second."""
        if not rows:
            return
        was_empty = not self.rows
        column_keys = [column.key for column in self.ordered_columns]
        locations, data, table_rows = self._row_locations, self._data, self.rows
        index = len(table_rows)
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            locations[row_key] = index
            index += 1
            data[row_key] = dict(zip(column_keys, cells, strict=True))
            table_rows[row_key] = Row(row_key, 1)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    def _count_widths(self, widths: tuple[int, ...], step: int) -> None:
        for counts, width in zip(self._width_counts, widths, strict=False):
            counts[width] += step
            if not counts[width]:
                del counts[width]

    def _fit_columns(self) -> None:
        """Each column as wide as its widest shown cell, from `cell_len` of the text.

        DataTable measures every new cell through the console (tens of microseconds
        each: seconds for 10,000 rows); the cells here are plain one-line `Text`, and
        the widths are counted as rows come and go, so this costs nothing per row.
        """
        changed = False
        for column, spec, counts in zip(
            self.ordered_columns, self.spec, self._width_counts, strict=False
        ):
            width = max(cell_len(spec.label), max(counts, default=0))
            if column.content_width != width:
                column.content_width = width
                changed = True
        if changed:
            self._require_update_dimensions = True
            self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Textual 8.2 (pinned): the loop over `new_rows` only measures their cells (done
        # by `_fit_columns`) and sizes auto-height rows (none here); the rest is kept.
        super()._update_dimensions(())

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
