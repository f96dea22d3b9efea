"""`TreeTable`: a LiveTable whose rows may form a shallow tree (parents and their children).

Sorting orders the parents by the chosen column and keeps each parent's children right
under it, sorted the same way. Sort values come from the screen (`sort_key(row, column)`)
so ages sort by time and counts by number, not by the text shown. The sorted column's
header carries ▲ or ▼ (space for it is reserved, so the columns do not jump).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from rich.text import Text

from nomtui.tui.widgets.live_table import Column, LiveTable, sort_value

SortKey = Callable[[str, str], Any]
"""(row key, column key) -> a comparable value, or None to sort by the cell's text."""


class TreeTable(LiveTable):
    def __init__(
        self,
        columns: Sequence[Column],
        *,
        id: str | None = None,
        default_sort: Sequence[str] = (),
    ) -> None:
        # Two spaces reserved in every label for the sort mark, so widths never change.
        padded = [replace(c, label=f"{c.label}  ") for c in columns]
        super().__init__(padded, id=id, default_sort=default_sort)
        self._labels = {c.key: c.label for c in columns}
        self.parents: dict[str, str] = {}
        """Child row key -> parent row key."""
        self.sort_key: SortKey | None = None

    def _label(self, column: Column) -> Text:
        label = Text(self._labels[column.key])
        if self.sort_columns[:1] == (column.key,):
            label.append(" ▼" if self.sort_reverse else " ▲", style="bold")
        else:
            label.append("  ")
        return label

    def resort(self) -> None:
        """Apply `sort_columns`/`sort_reverse` as they are now."""
        self._sort()

    def _value(self, key: str, column: str) -> tuple[int, Any]:
        if self.sort_key is not None:
            value = self.sort_key(key, column)
            if value is not None:
                return (0, value)
        # No value from the screen: the cell's text (or leading number) decides, after
        # every row that had one (the leading 1 keeps the two kinds from being compared).
        index = [c.key for c in self.spec].index(column)
        return (1, sort_value(self.get_row(key)[index], self.spec[index].numeric))

    def tree_order(self) -> list[str]:
        """Row keys in display order: sorted parents, each followed by its children."""
        keys = [row.value for row in self.rows if row.value is not None]
        present = set(keys)
        columns = self.sort_columns or (self.spec[0].key,)

        def order(key: str) -> tuple[tuple[int, Any], ...]:
            return tuple(self._value(key, column) for column in columns)

        children: dict[str, list[str]] = {}
        top: list[str] = []
        for key in keys:
            parent = self.parents.get(key)
            if parent in present and parent is not None:
                children.setdefault(parent, []).append(key)
            else:
                top.append(key)
        result: list[str] = []
        for key in sorted(top, key=order, reverse=self.sort_reverse):
            result.append(key)
            result.extend(sorted(children.get(key, ()), key=order, reverse=self.sort_reverse))
        return result

    def _sort(self) -> None:
        for column in self.spec:
            self.columns[column.key].label = self._label(column)  # type: ignore[index]
        if not self.row_count:
            self.refresh()
            return
        position = {key: i for i, key in enumerate(self.tree_order())}
        # DataTable.sort hands the key function cells, not row keys; the stored cell
        # objects are unique per row, so their identities lead back to the keys.
        first = self.spec[0].key
        owner = {id(self.get_row(key)[0]): key for key in position}
        cursor_key, cursor_offset = self._cursor_anchor()
        self.sort(first, key=lambda cell: position[owner[id(cell)]])
        self._restore_cursor(cursor_key, cursor_offset)


__all__ = ["SortKey", "TreeTable"]
