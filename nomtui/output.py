"""What one-shot commands print: aligned tables, ages and sizes, JSON.

Every cell goes through `nomtui.sanitize.clean`, because job names, descriptions and
check outputs come from whoever runs workloads on the cluster: an escape sequence in a
job's description must not rewrite the user's terminal. JSON keeps the data as it is
(jq must see the real values) but escapes the characters a terminal would act on even
inside a string (C1 controls, DEL, bidi overrides), so `--json` on a terminal is safe too.

Colour is used only when it helps a human and cannot hurt a pipe: stdout is a terminal,
NO_COLOR and NOMAD_CLI_NO_COLOR are unset, TERM is not `dumb`. NOMAD_CLI_FORCE_COLOR
(Nomad's own switch) turns it on regardless.

No Textual and no rich here: one-shots must start fast.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple

import click
import msgspec

from nomtui.sanitize import clean

# Style names a cell may carry; the ANSI colour each one gets.
_STYLES: dict[str, dict[str, Any]] = {
    "good": {"fg": "green"},
    "bad": {"fg": "red", "bold": True},
    "warn": {"fg": "yellow"},
    "dim": {"dim": True},
    "head": {"bold": True},
}

# Characters JSON may carry raw that a terminal still interprets: DEL, C1 controls (an
# 8-bit CSI is U+009B), bidi embedding/override/isolate, and the line/paragraph
# separators some terminals and editors treat as newlines.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


class Cell(NamedTuple):
    """A table cell with a style name (`good`, `bad`, `warn`, `dim`) or None."""

    text: str
    style: str | None = None


CellLike = str | Cell


def color_enabled(stream: IO[str] | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Whether to colour what goes to `stream` (stdout by default)."""
    env = os.environ if env is None else env
    if env.get("NOMAD_CLI_FORCE_COLOR"):
        return True
    if env.get("NO_COLOR") or env.get("NOMAD_CLI_NO_COLOR") or env.get("TERM") == "dumb":
        return False
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, style: str | None, color: bool) -> str:
    """`text` in the colour of `style` when colour is on; `text` itself otherwise."""
    if not color or style is None or style not in _STYLES:
        return text
    return click.style(text, **_STYLES[style])


def _cell(value: CellLike) -> Cell:
    if isinstance(value, Cell):
        return Cell(clean(value.text), value.style)
    return Cell(clean(value))


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[CellLike]], *, color: bool = False
) -> list[str]:
    """Lines of a table with columns two spaces apart, the last column not padded.

    Widths are measured on the cleaned text, before colour codes are added, so coloured
    and plain output line up the same way.
    """
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell.text))
    last = len(headers) - 1
    lines = []
    head = [h.ljust(widths[i]) if i < last else h for i, h in enumerate(headers)]
    lines.append(paint("  ".join(head).rstrip(), "head", color))
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            padded = cell.text.ljust(widths[i]) if i < last else cell.text
            # Colour the text only, never the padding, so copy-paste stays clean.
            parts.append(paint(cell.text, cell.style, color) + padded[len(cell.text) :])
        lines.append("  ".join(parts).rstrip())
    return lines


def echo_table(
    headers: Sequence[str], rows: Sequence[Sequence[CellLike]], *, color: bool | None = None
) -> None:
    on = color_enabled() if color is None else color
    for line in render_table(headers, rows, color=on):
        # click strips ANSI codes unless told: `color` is decided here, not by click.
        click.echo(line, color=on)


def json_text(data: Any) -> str:
    """`data` (Structs, dicts, lists...) as indented JSON, safe to show on a terminal."""
    raw = msgspec.json.format(msgspec.json.encode(data), indent=2).decode("utf-8")
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)


def echo_json(data: Any) -> None:
    click.echo(json_text(data))


def note(message: str) -> None:
    """A remark for the human (never data): on stderr, so `--json | jq` stays clean."""
    click.echo(" ".join(clean(message, newlines=True).split()), err=True)


# -- values -------------------------------------------------------------------------------


def age(seconds: float | None) -> str:
    """`45s`, `12m`, `3h`, `5d` (the largest whole unit), `-` when unknown."""
    if seconds is None:
        return "-"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(0, int(seconds))}s"


def age_ns(then_ns: int | None, now: float) -> str:
    """The age of a Unix-nanosecond timestamp at `now` (Unix seconds); `-` for 0/None."""
    if not then_ns:
        return "-"
    return age(now - then_ns / 1e9)


def timestamp_ns(then_ns: int | None) -> str:
    """`2026-11-25 10:05:15 UTC`, or `-` for 0/None."""
    if not then_ns:
        return "-"
    return datetime.fromtimestamp(then_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def size(n: int | None) -> str:
    """Bytes in binary units: `512 B`, `12 KiB`, `256 MiB`, `1.5 GiB`; `-` when unknown."""
    if n is None:
        return "-"
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, `…` marking a cut."""
    one_line = " ".join(clean(text, newlines=True).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


__all__ = [
    "Cell",
    "CellLike",
    "age",
    "age_ns",
    "color_enabled",
    "echo_json",
    "echo_table",
    "json_text",
    "note",
    "paint",
    "percent",
    "render_table",
    "shorten",
    "size",
    "timestamp_ns",
]
