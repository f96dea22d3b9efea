"""The pure part of the log widget: a bounded buffer of sanitised lines, its search, and
the row layout used when long lines wrap. No Textual here, so it is tested on its own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Literal

from rich.cells import cell_len

from nomtui.sanitize import clean

MAX_LINES = 50_000
MAX_LINE_CHARS = 8_192
"""Longer lines are cut (a minified bundle logged on one line must not stall the view)."""

LineKind = Literal["line", "marker"]


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line: `prefix` (an allocation, a stream marker) then `text`.

    `kind="marker"` lines are ours, not the task's (a gap, a reconnect): shown dimmed.
    """

    text: str
    prefix: str = ""
    prefix_style: str = ""
    kind: LineKind = "line"

    @property
    def plain(self) -> str:
        return self.prefix + self.text


def safe_text(raw: str) -> str:
    """`raw` as it may be shown: no controls, tabs expanded, cut at `MAX_LINE_CHARS`."""
    text = clean(raw)
    if "\t" in text:
        text = text.expandtabs(8)
    if len(text) > MAX_LINE_CHARS:
        text = f"{text[:MAX_LINE_CHARS]}… [+{len(text) - MAX_LINE_CHARS} chars]"
    return text


class Search:
    """A case-insensitive regex; an invalid one is searched for literally."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self.regex = re.compile(pattern, re.IGNORECASE)
            self.valid = True
        except re.error:
            self.regex = re.compile(re.escape(pattern), re.IGNORECASE)
            self.valid = False

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self.regex.finditer(text) if m.end() > m.start()]


class LogBuffer:
    """At most `max_lines` of the newest lines, numbered absolutely.

    Line numbers are absolute (`first` is the number of the oldest line kept), so search
    matches and the current match survive the front of the buffer being dropped. Past
    the limit the buffer drops down to 1/16 below it, so the cost of shifting the list
    (and of rebuilding the wrap layout) is paid once per `max_lines // 16` lines.
    """

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        self.max_lines = max(1, max_lines)
        self.lines: list[LogLine] = []
        self.first = 0
        """Absolute number of `lines[0]` (= how many lines were dropped so far)."""
        self.search: Search | None = None
        self.matches: list[int] = []
        """Absolute numbers of the lines matching `search`, ascending."""
        self.width = 0
        """Widest line, in cells (for the horizontal scrollbar without wrapping)."""
        self._wrap_width = 0  # 0: no wrapping, one row per line
        self._starts: list[int] = [0]  # row where each line starts (+ the total at the end)

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def end(self) -> int:
        """Absolute number the next line will get."""
        return self.first + len(self.lines)

    def extend(self, new: Iterable[LogLine]) -> int:
        """Append lines (sanitised here); returns how many lines were dropped at the front."""
        added = [self._safe(line) for line in new]
        start = self.end
        self.lines.extend(added)
        for offset, line in enumerate(added):
            self.width = max(self.width, cell_len(line.plain))
            if self.search is not None and self.search.spans(line.plain):
                self.matches.append(start + offset)
        if self._wrap_width:
            for line in added:
                self._starts.append(self._starts[-1] + self._rows(line))
        if len(self.lines) <= self.max_lines:
            return 0
        # Down to 1/16 below the limit, so the list shift and the relayout are rare.
        dropped = len(self.lines) - (self.max_lines - self.max_lines // 16)
        del self.lines[:dropped]
        self.first += dropped
        self.matches = self.matches[bisect_right(self.matches, self.first - 1) :]
        if self._wrap_width:
            self._layout()
        return dropped

    @staticmethod
    def _safe(line: LogLine) -> LogLine:
        text, prefix = safe_text(line.text), safe_text(line.prefix)
        if text is line.text and prefix is line.prefix:
            return line
        return replace(line, text=text, prefix=prefix)

    def clear(self) -> None:
        self.first = self.end
        self.lines.clear()
        self.matches.clear()
        self.width = 0
        self._starts = [0]

    # -- search -----------------------------------------------------------------------------

    def set_search(self, pattern: str) -> bool:
        """Search for `pattern` (empty: no search); returns whether it was a valid regex."""
        self.search = Search(pattern) if pattern else None
        self.matches = []
        if self.search is None:
            return True
        for offset, line in enumerate(self.lines):
            if self.search.spans(line.plain):
                self.matches.append(self.first + offset)
        return self.search.valid

    def next_match(self, after: int, direction: int) -> int | None:
        """The first match after absolute line `after` (before it when `direction` < 0),
        wrapping around at the ends; None without matches."""
        if not self.matches:
            return None
        if direction >= 0:
            index = bisect_right(self.matches, after)
            return self.matches[index % len(self.matches)]
        index = bisect_right(self.matches, after - 1) - 1
        return self.matches[index]  # -1 wraps to the last match

    # -- rows (wrapping) ----------------------------------------------------------------------

    def set_wrap(self, width: int) -> None:
        """Lay lines out in rows of `width` cells (0: one row per line, no wrapping)."""
        width = max(0, width)
        if width != self._wrap_width:
            self._wrap_width = width
            self._layout()

    def _rows(self, line: LogLine) -> int:
        return max(1, -(-cell_len(line.plain) // self._wrap_width))

    def _layout(self) -> None:
        if not self._wrap_width:
            self._starts = [0]
            return
        starts = [0]
        total = 0
        for line in self.lines:
            total += self._rows(line)
            starts.append(total)
        self._starts = starts

    @property
    def rows(self) -> int:
        return self._starts[-1] if self._wrap_width else len(self.lines)

    def locate(self, row: int) -> tuple[int, int]:
        """(index into `lines`, row within that line) of a row; valid for 0 <= row < rows."""
        if not self._wrap_width:
            return row, 0
        index = bisect_right(self._starts, row) - 1
        return index, row - self._starts[index]

    def row_of(self, index: int) -> int:
        """First row of `lines[index]`."""
        if not self._wrap_width:
            return index
        return self._starts[max(0, min(index, len(self.lines)))]

    def plain_lines(self) -> Iterator[str]:
        for line in self.lines:
            yield line.plain


__all__ = ["MAX_LINES", "MAX_LINE_CHARS", "LogBuffer", "LogLine", "Search", "safe_text"]
