"""The log buffer without Textual: bounds, sanitising, search, wrap layout."""

from __future__ import annotations

from nomtui.tui.widgets.log_buffer import MAX_LINE_CHARS, LogBuffer, LogLine, Search, safe_text
from nomtui.tui.widgets.sparkline import bars


def lines(*texts: str) -> list[LogLine]:
    return [LogLine(t) for t in texts]


def numbered(n: int, start: int = 0) -> list[LogLine]:
    return [LogLine(f"line {i}") for i in range(start, start + n)]


def test_the_buffer_never_holds_more_than_its_limit() -> None:
    buffer = LogBuffer(max_lines=160)
    for chunk in range(100):
        buffer.extend(numbered(7, start=chunk * 7))
        assert len(buffer) <= 160
    assert buffer.end == 700
    assert buffer.lines[-1].text == "line 699"
    # Numbers stay absolute: the oldest line kept knows its place in the stream.
    assert buffer.lines[0].text == f"line {buffer.first}"


def test_trimming_goes_below_the_limit_so_it_happens_rarely() -> None:
    buffer = LogBuffer(max_lines=160)
    buffer.extend(numbered(160))
    assert buffer.extend(numbered(1, start=160)) == 11  # down to 160 - 160 // 16
    assert len(buffer) == 150
    assert buffer.extend(numbered(9, start=161)) == 0


def test_control_sequences_are_removed_and_tabs_expanded() -> None:
    buffer = LogBuffer()
    buffer.extend(lines("\x1b[2J\x1b]0;owned\x07red\x1b[31m text", "a\tb"))
    assert buffer.lines[0].text == "red text"
    assert buffer.lines[1].text == "a       b"
    buffer.extend([LogLine("x", prefix="\x1b[5mpre ")])
    assert buffer.lines[2].plain == "pre x"


def test_overlong_lines_are_cut_and_say_so() -> None:
    text = safe_text("x" * (MAX_LINE_CHARS + 10))
    assert text.endswith("… [+10 chars]")
    assert len(text) < MAX_LINE_CHARS + 20


def test_search_finds_lines_and_follows_new_ones() -> None:
    buffer = LogBuffer()
    buffer.extend(lines("GET /healthz 200", "GET / 200", "POST /healthz 500"))
    assert buffer.set_search("healthz")
    assert buffer.matches == [0, 2]
    buffer.extend(lines("GET /HEALTHZ 200"))  # case-insensitive
    assert buffer.matches == [0, 2, 3]
    assert buffer.next_match(0, 1) == 2
    assert buffer.next_match(3, 1) == 0  # wraps around
    assert buffer.next_match(2, -1) == 0
    assert buffer.next_match(0, -1) == 3
    assert buffer.set_search("")
    assert buffer.matches == []


def test_an_invalid_regex_is_searched_literally() -> None:
    buffer = LogBuffer()
    buffer.extend(lines("value [x", "other"))
    assert not buffer.set_search("[x")
    assert buffer.matches == [0]
    assert Search("a+").spans("caaab") == [(1, 4)]


def test_matches_of_dropped_lines_are_forgotten() -> None:
    buffer = LogBuffer(max_lines=16)
    buffer.set_search("hit")
    buffer.extend(lines("hit", *["miss"] * 15))
    assert buffer.matches == [0]
    buffer.extend(lines("hit"))
    assert buffer.first == 2
    assert buffer.matches == [16]


def test_wrapping_lays_lines_out_in_rows() -> None:
    buffer = LogBuffer()
    buffer.extend(lines("a" * 25, "b", "c" * 10))
    assert buffer.rows == 3
    buffer.set_wrap(10)
    assert buffer.rows == 3 + 1 + 1  # 25 cells need 3 rows of 10
    assert buffer.locate(0) == (0, 0)
    assert buffer.locate(2) == (0, 2)
    assert buffer.locate(3) == (1, 0)
    assert buffer.locate(4) == (2, 0)
    assert buffer.row_of(2) == 4
    buffer.extend(lines("d" * 11))
    assert buffer.rows == 7
    buffer.set_wrap(0)
    assert buffer.rows == 4
    assert buffer.locate(3) == (3, 0)


def test_wide_characters_count_double_when_wrapping() -> None:
    buffer = LogBuffer()
    buffer.extend(lines("日本語テキスト"))  # 7 characters, 14 cells
    buffer.set_wrap(10)
    assert buffer.rows == 2


def test_wrap_layout_survives_trimming() -> None:
    buffer = LogBuffer(max_lines=32)
    buffer.set_wrap(4)
    buffer.extend([LogLine("x" * (i % 9)) for i in range(100)])
    expected = sum(max(1, -(-len(line.text) // 4)) for line in buffer.lines)
    assert buffer.rows == expected


def test_clear_keeps_numbering_going() -> None:
    buffer = LogBuffer()
    buffer.extend(numbered(5))
    buffer.clear()
    assert len(buffer) == 0
    buffer.extend(numbered(1, start=5))
    assert buffer.first == 5


def test_sparkline_is_scaled_to_the_limit_not_to_the_samples() -> None:
    assert bars([0, 50, 100], 100, 3).plain == " ▄█"
    assert bars([10, 10], 100, 4).plain == "  ▁▁"
    over = bars([150], 100, 1)
    assert over.plain == "█"
    assert "red" in str(over.spans[0].style)
