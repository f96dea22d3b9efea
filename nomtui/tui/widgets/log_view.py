"""The log widget: a bounded, searchable, wrappable view that follows like `tail -f`.

What toolong taught (DESIGN.md): following stops as soon as the user scrolls up, and a
"+N lines" marker counts what arrived since, until End (or scrolling back to the bottom)
resumes; the buffer is bounded; lines arrive in batches, never as a message per line.

- `LogBuffer` (in `log_buffer`) is the pure part, tested without Textual: the bounded
  list of lines, the search, the row layout for wrapping.
- `LogView` is a Line-API `ScrollView`: it renders only the rows on screen, so 50,000
  lines cost nothing to scroll. `write_lines` only queues; a timer flushes the queue at
  most every `FLUSH_S`, so a stream producing thousands of lines a second causes 20
  repaints a second, not thousands.
- `FollowMarker` shows the "+N lines" bar under a paused view.

Every line is sanitised on its way into the buffer (terminal controls removed, tabs
expanded, overlong lines cut): log content is untrusted.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Static

from nomtui.tui.widgets.log_buffer import MAX_LINES, LogBuffer, LogLine

FLUSH_S = 0.05
MATCH_STYLE = "black on yellow"
CURRENT_MATCH_STYLE = "bold black on dark_orange"


class LogView(ScrollView, can_focus=True):
    """Lines from `write_lines`, following the end until the user scrolls up."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        background: $surface;
        color: $text;
        overflow-y: scroll;
        overflow-x: auto;
    }
    """

    following: reactive[bool] = reactive(True)
    unseen: reactive[int] = reactive(0)
    """Lines that arrived while not following (the "+N lines" marker)."""
    wrap: reactive[bool] = reactive(False)

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = LogBuffer(max_lines)
        self.current_match: int | None = None
        """Absolute number of the match `next_match` went to."""
        self._pending: list[LogLine] = []
        self._flush_timer: Timer | None = None
        self._strips: LRUCache[int, Strip] = LRUCache(2048)

    # -- writing --------------------------------------------------------------------------

    def write_lines(self, lines: Iterable[LogLine]) -> None:
        """Queue lines; they appear at the next flush (at most `FLUSH_S` from now)."""
        self._pending.extend(lines)
        if self._pending and self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_S, self.flush)

    def flush(self) -> None:
        """Move the queued lines into the buffer and repaint once."""
        self._flush_timer = None
        pending, self._pending = self._pending, []
        if not pending:
            return
        top = None if self.following else self._top_line()
        dropped = self.buffer.extend(pending)
        self._resize_virtual()
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.unseen += len(pending)
            if dropped and top is not None:
                # Keep the reader's lines where they are while the front is dropped.
                number, sub_row = top
                index = number - self.buffer.first
                row = self.buffer.row_of(index) + sub_row if index >= 0 else 0
                self._set_scroll_y(row)
        self.refresh()

    def _top_line(self) -> tuple[int, int] | None:
        """(absolute number, row within it) of the line at the top of the view."""
        if not self.buffer.rows:
            return None
        index, sub_row = self.buffer.locate(min(round(self.scroll_y), self.buffer.rows - 1))
        return self.buffer.first + index, sub_row

    def clear(self) -> None:
        self._pending.clear()
        self.buffer.clear()
        self._strips.clear()
        self.current_match = None
        self.unseen = 0
        self._resize_virtual()
        self.refresh()

    # -- following ----------------------------------------------------------------------------

    def resume(self) -> None:
        """Follow again: jump to the end and clear the marker."""
        self.flush()
        self.following = True
        self.unseen = 0
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_scroll_end(self) -> None:
        # End (the scroll binding every scrollable has) also resumes following, even when
        # the view already shows the last line.
        self.resume()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Moving up pauses; scrolling down to the bottom resumes. A change the other
        # way (the view grew, so the offset was clamped) says nothing about the user.
        if new_value < old_value and new_value < self.max_scroll_y:
            self.following = False
        elif new_value > old_value and new_value >= self.max_scroll_y and not self.following:
            self.following = True
            self.unseen = 0

    # -- wrapping ----------------------------------------------------------------------------

    def watch_wrap(self, wrap: bool) -> None:
        top = self.buffer.locate(round(self.scroll_y))[0] if self.buffer.rows else 0
        self._relayout()
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self._set_scroll_y(self.buffer.row_of(top))
        self.refresh()

    def on_resize(self) -> None:
        if self.wrap:
            self._relayout()
            if self.following:
                self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _relayout(self) -> None:
        width = max(1, self.scrollable_content_region.width) if self.wrap else 0
        self.buffer.set_wrap(width)
        self._resize_virtual()

    def _resize_virtual(self) -> None:
        width = self.scrollable_content_region.width if self.wrap else self.buffer.width
        self.virtual_size = Size(width, self.buffer.rows)

    def _set_scroll_y(self, row: int) -> None:
        # Through the reactive, so the watcher sees a user-equivalent move (and pauses
        # only when the row is above the end).
        self.scroll_to(y=row, animate=False, immediate=True)

    # -- search ------------------------------------------------------------------------------

    def set_search(self, pattern: str) -> tuple[bool, int]:
        """Highlight `pattern`; returns (valid regex, number of matching lines)."""
        valid = self.buffer.set_search(pattern)
        self.current_match = None
        self._strips.clear()
        self.refresh()
        return valid, len(self.buffer.matches)

    def next_match(self, direction: int = 1) -> bool:
        """Scroll to the next (or previous) matching line; pauses following."""
        self.flush()
        buffer = self.buffer
        if self.current_match is not None and self.current_match >= buffer.first:
            anchor = self.current_match
        else:
            top = buffer.locate(round(self.scroll_y))[0] if buffer.rows else 0
            anchor = buffer.first + top - (1 if direction >= 0 else -1)
        found = buffer.next_match(anchor, direction)
        if found is None:
            return False
        self.current_match = found
        self._strips.clear()
        self.following = False
        row = buffer.row_of(found - buffer.first)
        height = self.scrollable_content_region.height
        self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)
        self.following = False  # also when the match is on the last page
        self.refresh()
        return True

    # -- rendering ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        rich_style = self.rich_style
        row = round(self.scroll_y) + y
        buffer = self.buffer
        if row >= buffer.rows or not buffer.lines:
            return Strip.blank(width, rich_style)
        index, sub_row = buffer.locate(row)
        strip = self._line_strip(index)
        if self.wrap:
            # Strip.divide wants every cut up to the end itself (later ones are dropped).
            length = strip.cell_length
            parts = strip.divide([*range(width, length, width), length])
            part = parts[sub_row] if sub_row < len(parts) else Strip.blank(width)
            return part.extend_cell_length(width, rich_style).apply_style(rich_style)
        scroll_x = round(self.scroll_x)
        return strip.crop_extend(scroll_x, scroll_x + width, rich_style).apply_style(rich_style)

    def _line_strip(self, index: int) -> Strip:
        number = self.buffer.first + index
        cached = self._strips.get(number)
        if cached is not None:
            return cached
        line = self.buffer.lines[index]
        text = Text(no_wrap=True, end="")
        if line.prefix:
            text.append(line.prefix, style=line.prefix_style)
        text.append(line.text, style="dim italic" if line.kind == "marker" else "")
        search = self.buffer.search
        if search is not None:
            style = CURRENT_MATCH_STYLE if number == self.current_match else MATCH_STYLE
            for start, end in search.spans(text.plain):
                text.stylize(style, start, end)
        strip = Strip(text.render(self.app.console), text.cell_len)
        self._strips[number] = strip
        return strip


class FollowMarker(Static):
    """ "▼ +N lines" under a paused `LogView`; hidden while it follows."""

    DEFAULT_CSS = """
    FollowMarker {
        height: 1;
        width: 100%;
        display: none;
        background: $warning;
        color: $text;
        text-style: bold;
        content-align: center middle;
    }
    """

    def __init__(self, view: LogView, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.view = view

    def on_mount(self) -> None:
        self.watch(self.view, "following", self._changed, init=False)
        self.watch(self.view, "unseen", self._changed, init=True)

    def _changed(self) -> None:
        view = self.view
        self.display = not view.following
        if view.unseen:
            self.update(f"▼ +{view.unseen} lines — End to follow")
        else:
            self.update("⏸ paused — End to follow")


__all__ = ["FollowMarker", "LogLine", "LogView"]
