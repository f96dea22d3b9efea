"""A sparkline on a fixed scale: usage drawn against what was allocated.

Textual's `Sparkline` scales bars between the smallest and the largest sample, so a
process idling at 3 % of its CPU looks as busy as one at 95 %. Here the scale is
`0..limit` (the allocation), the newest sample is at the right edge, and samples above
the limit (memory over its reservation, CPU bursting) are drawn full and red.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual.widget import Widget

BARS = " ▁▂▃▄▅▆▇█"
HISTORY = 240
"""Samples kept (more than any terminal is wide)."""


def bars(samples: Iterable[float], limit: float, width: int) -> Text:
    """The last `width` samples as block characters scaled to `0..limit`."""
    recent = list(samples)[-width:] if width > 0 else []
    text = Text(" " * (width - len(recent)), no_wrap=True, end="")
    for value in recent:
        ratio = value / limit if limit > 0 else 0.0
        level = min(len(BARS) - 1, max(0, round(ratio * (len(BARS) - 1))))
        if value > 0 and level == 0:
            level = 1  # something is running: never draw it as nothing
        style = "red" if ratio > 1.0 else "yellow" if ratio > 0.9 else "green"
        text.append(BARS[level], style=style)
    return text


class Spark(Widget):
    """A one-line sparkline of recent samples against `limit`."""

    DEFAULT_CSS = """
    Spark {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, limit: float = 0.0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.limit = limit
        self.samples: deque[float] = deque(maxlen=HISTORY)

    def add(self, value: float, limit: float | None = None) -> None:
        self.samples.append(value)
        if limit is not None:
            self.limit = limit
        self.refresh()

    def render(self) -> Text:
        return bars(self.samples, self.limit, self.size.width)


__all__ = ["BARS", "Spark", "bars"]
