"""`LiveTable` on its own: rows, filter, widths and cursor through big changes.

Thousands of rows come and go in one `_apply` on a filter keystroke; the table then
rebuilds instead of removing rows one by one, and keeps its own column widths. What the
user sees must be the same as if every row had been added by hand.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from nomtui.tui.widgets.live_table import REBUILD_AT, Cells, Column, LiveTable

COLUMNS = (Column("Name", "name"), Column("N", "n", numeric=True))


def rows(count: int, suffix: str = "") -> dict[str, Cells]:
    return {f"k{i}": (Text(f"row-{i:05d}{suffix}"), Text(str(i))) for i in range(count)}


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, id="t")


def widths(table: LiveTable) -> list[int]:
    return [c.content_width for c in table.ordered_columns]


async def test_a_filter_hiding_most_rows_and_back_shows_exactly_the_matches() -> None:
    async with Host().run_test() as pilot:
        table = pilot.app.query_one(LiveTable)
        table.set_rows(rows(REBUILD_AT * 20))
        await pilot.pause()
        table.move_cursor(row=table.get_row_index("k12"))
        table.set_filter("row-0001")  # k10..k19 stay: far more than REBUILD_AT go
        await pilot.pause()
        assert table.shown_keys == [f"k{i}" for i in range(10, 20)]
        assert table.selected_key == "k12"
        table.set_filter("")
        await pilot.pause()
        assert table.shown_keys == [f"k{i}" for i in range(REBUILD_AT * 20)]
        assert table.selected_key == "k12"
        assert table.get_row("k7") == [Text("row-00007"), Text("7")]


async def test_widths_follow_the_widest_shown_cell_both_ways() -> None:
    async with Host().run_test() as pilot:
        table = pilot.app.query_one(LiveTable)
        table.set_rows(rows(200))
        await pilot.pause()
        assert widths(table) == [len("row-00000"), 3]
        wide = dict(rows(200))
        wide["k5"] = (Text("a much longer name than the others"), Text("12345"))
        table.set_rows(wide)
        await pilot.pause()
        assert widths(table) == [len("a much longer name than the others"), 5]
        table.set_filter("!longer")  # hidden again: the column narrows back
        await pilot.pause()
        assert widths(table) == [len("row-00000"), 3]
        table.set_filter("")
        table.set_rows(rows(200))  # the cell itself gets narrow again
        await pilot.pause()
        assert widths(table) == [len("row-00000"), 3]


async def test_rows_changing_in_place_and_a_few_leaving_keep_order_and_sort() -> None:
    async with Host().run_test() as pilot:
        table = pilot.app.query_one(LiveTable)
        table.set_rows(rows(100))
        table.sort_by("n")
        await pilot.pause()
        table.sort_by("n")  # descending
        changed = rows(100, "x")
        for key in ("k1", "k2", "k3"):
            del changed[key]
        table.set_rows(changed)
        await pilot.pause()
        keys = table.shown_keys
        assert keys[0] == "k99" and "k2" not in keys and len(keys) == 97
        assert table.get_row("k50")[0] == Text("row-00050x")
