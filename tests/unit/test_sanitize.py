"""nomtui.sanitize.clean: no terminal control survives, ordinary text is untouched."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nomtui.sanitize import clean

# Anything a terminal would act on, after cleaning.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("tab\tkept", "tab\tkept"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[1;38;5;196mbold\x1b[m", "bold"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),  # clear screen + home
        ("a\x1b]0;new title\x07b", "ab"),  # OSC title, BEL-terminated
        ("a\x1b]52;c;ZXZpbA==\x1b\\b", "ab"),  # OSC 52 clipboard write, ST-terminated
        ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # hyperlink
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),  # DCS (sixel)
        ("a\x1b_apc\x1b\\b", "ab"),  # APC
        ("a\x9b31mb", "ab"),  # 8-bit CSI
        ("a\x9d0;t\x9cb", "ab"),  # 8-bit OSC + ST
        ("\x1b(Bcharset", "charset"),
        ("\x1bcreset", "reset"),  # RIS
        ("trailing\x1b", "trailing"),
        ("trailing csi\x1b[", "trailing csi"),
        ("bell\x07 backspace\x08 del\x7f", "bell backspace del"),
        ("cr\roverwrite", "croverwrite"),
        ("line\nbreak", "linebreak"),
        ("bidi \u202eevil\u202c ok", "bidi evil ok"),
        ("unicode ünïcødé ✓ 漢字", "unicode ünïcødé ✓ 漢字"),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_newlines_kept_on_request_and_crlf_folded() -> None:
    assert clean("one\r\ntwo\nthree\x1b[0m", newlines=True) == "one\ntwo\nthree"


def test_unterminated_osc_stops_at_the_line_end() -> None:
    # One hostile log line must not hide the lines after it.
    assert clean("a\x1b]0;no end\nnext line", newlines=True) == "a\nnext line"
    assert clean("a\x1b]0;no end at all") == "a"


def test_unchanged_text_is_returned_as_is() -> None:
    text = "nothing to remove here"
    assert clean(text) is text


@given(st.text())
def test_no_control_survives(text: str) -> None:
    assert not _FORBIDDEN.search(clean(text))
    assert not _FORBIDDEN.search(clean(text, newlines=True).replace("\n", ""))


@given(st.text())
def test_idempotent(text: str) -> None:
    once = clean(text)
    assert clean(once) == once


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_untouched(text: str) -> None:
    assert clean(text) == text
