"""nomtui.sanitize.clean_bytes: the same bytes as `clean` on the decoded text, always;
the text itself (no copy) when there is nothing to remove."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nomtui.sanitize import clean, clean_bytes


def reference(data: bytes) -> bytes:
    return clean(data.decode("utf-8", errors="replace"), newlines=True).encode()


# Pieces that sit on the fast path's edges: UTF-8 lead bytes of C1 and bidi controls and
# their harmless neighbours, escapes, C0, DEL, CR, invalid and truncated UTF-8.
PIECES = [
    b"a",
    b" ",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"\x1b",
    b"[2J",
    b"]52;c;ZXZpbA==",
    b"\x07",
    b"\x7f",
    b"\x00",
    b"\x9b",
    b"\xc2\x9b",
    b"\xc2\x80",
    b"\xc2\x9f",
    b"\xc2\xa0",
    b"\xc2\x7f",
    b"\xe2\x80\xae",
    b"\xe2\x80\xaa",
    b"\xe2\x80\xa9",
    b"\xe2\x80\xaf",
    b"\xe2\x81\xa6",
    b"\xe2\x81\xa9",
    b"\xe2\x81\xaa",
    b"\xe2\x80\x9c",
    "ž".encode(),
    "🙂".encode(),
    b"\xc2",
    b"\xe2\x80",
    b"\xff",
    b"\xed\xa0\x80",  # an encoded surrogate: invalid UTF-8
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.binary(max_size=4), max_size=30))
def test_same_as_clean_on_any_bytes(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    assert clean_bytes(data) == reference(data)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"plain ascii\twith tabs\n",
        '"smart" \u201cquotes\u201d \u2014 NBSP\u00a0, \u017elu\u0165ou\u010dk\u00fd\n'.encode(),
        "emoji 🙂 and CJK 日本語\n".encode(),
    ],
)
def test_clean_text_comes_back_as_is(text: bytes) -> None:
    assert clean_bytes(text) is text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a\x1b]52;c;ZXZpbA==\x07b\n", b"ab\n"),
        (b"\x1b[2Jcleared\n", b"cleared\n"),
        (b"a\x9b31mb\n", b"a\xef\xbf\xbd31mb\n"),  # a raw 8-bit byte is invalid UTF-8
        (b"a\xc2\x9b31mb\n", b"ab\n"),  # U+009B is CSI
        (b"bidi \xe2\x80\xaeevil\n", b"bidi evil\n"),
        (b"crlf\r\n", b"crlf\n"),
        (b"bell\x07 del\x7f nul\x00\n", b"bell del nul\n"),
    ],
)
def test_controls_are_removed(raw: bytes, expected: bytes) -> None:
    assert clean_bytes(raw) == expected
