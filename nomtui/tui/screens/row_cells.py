"""Row cells built once per change of what they show, not once per refresh.

The jobs and allocations tables re-render every few seconds for their age columns, and
at scale (10,000 allocations) building every row's `Text` cells again costs more than
the rest of the screen. A row is rebuilt only when its *basis* changes: the models and
values its cells come from, including the age text at the current clock.

    cells = self.row_cells.cells(alloc.ID, (alloc, usage, age), lambda: alloc_cells(...))
    ...
    self.row_cells.done()  # after a full pass: forget the rows that are gone
"""

from __future__ import annotations

from collections.abc import Callable

from nomtui.tui.widgets.live_table import Cells


class RowCells:
    def __init__(self) -> None:
        self._seen: dict[str, tuple[object, Cells]] = {}
        self._next: dict[str, tuple[object, Cells]] = {}
        self.built = 0
        """Rows built so far (tests and diagnostics)."""

    def cells(self, key: str, basis: object, build: Callable[[], Cells]) -> Cells:
        """The cells of row `key`: the last ones if `basis` is equal to their basis."""
        hit = self._seen.get(key)
        if hit is not None and (hit[0] is basis or hit[0] == basis):
            cells = hit[1]
        else:
            cells = build()
            self.built += 1
        self._next[key] = (basis, cells)
        return cells

    def done(self) -> None:
        """End a pass over every row: rows not asked for since the last pass are gone."""
        self._seen, self._next = self._next, {}


__all__ = ["RowCells"]
