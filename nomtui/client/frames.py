"""Incremental decoding of concatenated JSON objects: fs/logs frames and event batches.

Nomad writes stream frames back to back with no separator (PROTOCOLS.md §5.2) and event
batches one per line (§4); both are "a sequence of JSON objects", so one splitter serves
both. It is `raw_decode`-style: find where the next complete object ends, decode exactly
that slice, keep the rest for the next `feed`. Finding the end is a scan for braces and
quotes: outside strings a regex hops from one of those characters to the next; inside a
string `bytes.find` (memchr) jumps to the closing quote and checks the stretch before it
for a backslash, so an 87 KiB base64 string costs two C-level passes at memory speed
(a regex over it ran at ~50 MB/s). The scan resumes where it stopped on the next feed
(no quadratic rescans when a large frame trickles in). It works on bytes: UTF-8 never
encodes a multi-byte character with bytes below 0x80, so a frame cut inside a character,
an escape or a base64 string is simply incomplete, never misread.

Decoding a frame is msgspec's: its JSON parser and base64 decoder together run at
~1 GB/s, faster than cutting the string out and calling `binascii.a2b_base64` (~0.4 GB/s).

Text that does not start with `{` is not an error at once: after streaming has started,
Nomad's agent can only report a failure by appending its text to the body and ending it
(§4, §5.4). The splitter therefore collects such text (bounded) and `finish()` raises it as
`TrailingText` when the body ends, which the streams surface as a dropped link.
"""

from __future__ import annotations

import re

import msgspec

from nomtui.errors import BadResponse
from nomtui.models.base import decoder
from nomtui.models.frames import StreamFrame

MAX_FRAME_BYTES = 1024 * 1024
"""Largest frame accepted: 64 KiB of data is ~87 KiB as base64, so 1 MiB is only garbage."""
MAX_TEXT_BYTES = 4096
"""How much of a trailing (non-JSON) text is kept to show a user."""
_WS = b" \t\r\n"
_OUTSIDE = re.compile(rb'[{}"]')
_OPEN, _QUOTE = 0x7B, 0x22


class FrameError(BadResponse):
    """The stream carries something that is not a valid frame; `kind` says what."""

    def __init__(self, address: str, path: str, kind: str, reason: str) -> None:
        self.kind = kind
        super().__init__(address or "the agent", path or "a stream", reason)


class TrailingText(FrameError):
    """The body ended with text that is not JSON: the agent's error message, usually."""

    def __init__(self, address: str, path: str, text: str) -> None:
        self.text = text
        super().__init__(address, path, "text", f"the stream ended with: {text}")


def _excerpt(raw: bytes | bytearray, limit: int = 120) -> str:
    text = bytes(raw[:limit]).decode("utf-8", errors="replace")
    return text + ("…" if len(raw) > limit else "")


class JsonObjectSplitter:
    """Cuts a byte stream into complete top-level JSON objects (as bytes)."""

    def __init__(
        self, *, max_object_bytes: int = MAX_FRAME_BYTES, address: str = "", path: str = ""
    ) -> None:
        self.max_object_bytes = max_object_bytes
        self.address = address
        self.path = path
        self._buf = bytearray()
        self._scan = 0  # how far the current object has been scanned
        self._depth = 0
        self._in_str = False
        self._text: bytearray | None = None  # set once non-JSON text started

    @property
    def buffered(self) -> int:
        """Bytes held for an object not yet complete (or for trailing text)."""
        return len(self._text) if self._text is not None else len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """The objects completed by `data`, in order; raises `FrameError` on oversize."""
        if self._text is not None:
            self._keep_text(data)
            return []
        self._buf += data
        out: list[bytes] = []
        start = 0
        buf = self._buf
        while True:
            if self._depth == 0:
                start = self._skip_ws(start)
                if start >= len(buf):
                    break
                if buf[start] != _OPEN:
                    text = bytes(buf[start:])
                    self._reset(clear=True)
                    self._text = bytearray()
                    self._keep_text(text)
                    return out
                self._depth, self._scan = 1, start + 1
            end = self._scan_object()
            if end is None:
                break
            out.append(bytes(buf[start:end]))
            start, self._depth, self._in_str = end, 0, False
        # One deletion per feed keeps many small frames in one chunk linear.
        del buf[:start]
        self._scan = max(0, self._scan - start)
        if len(buf) > self.max_object_bytes:
            size = len(buf)
            self._reset(clear=True)
            raise FrameError(
                self.address,
                self.path,
                "oversized",
                f"an object grew past {self.max_object_bytes} bytes ({size}) without ending",
            )
        return out

    def finish(self) -> None:
        """The body ended: raise `TrailingText` for collected text, `FrameError` for a
        half object (a clean end in the middle of a frame is a broken stream)."""
        text, rest = self._text, bytes(self._buf).strip(_WS)
        self._reset(clear=True)
        self._text = None
        if text is not None:
            raise TrailingText(self.address, self.path, _excerpt(text, MAX_TEXT_BYTES))
        if rest:
            raise FrameError(
                self.address, self.path, "truncated", f"it ended inside {_excerpt(rest)!r}"
            )

    def _skip_ws(self, i: int) -> int:
        buf, n = self._buf, len(self._buf)
        while i < n and buf[i] in _WS:
            i += 1
        return i

    def _scan_object(self) -> int | None:
        """The end (exclusive) of the object being scanned, or None when incomplete."""
        buf, i = self._buf, self._scan
        while True:
            if self._in_str:
                quote = self._string_end(i)
                if quote is None:
                    return None
                self._in_str = False
                i = quote + 1
                continue
            m = _OUTSIDE.search(buf, i)
            if m is None:
                self._scan = len(buf)
                return None
            j = m.start()
            c = buf[j]
            if c == _QUOTE:
                self._in_str = True
            elif c == _OPEN:
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._scan = j + 1
                    return j + 1
            i = j + 1

    def _string_end(self, i: int) -> int | None:
        """The closing quote of the string that continues at `i`; None (and `_scan` set
        for the next feed) when it has not arrived. Each find moves forward only."""
        buf = self._buf
        quote = buf.find(b'"', i)
        while True:
            escape = buf.find(b"\\", i, len(buf) if quote < 0 else quote)
            if escape < 0:
                if quote < 0:
                    self._scan = len(buf)
                    return None
                return quote
            if escape + 1 >= len(buf):
                self._scan = escape  # the escaped byte has not arrived: rescan from here
                return None
            i = escape + 2  # the escaped byte is skipped whole, even a quote
            if 0 <= quote < i:
                quote = buf.find(b'"', i)

    def _keep_text(self, data: bytes) -> None:
        assert self._text is not None
        room = MAX_TEXT_BYTES - len(self._text)
        if room > 0:
            self._text += data[:room]

    def _reset(self, *, clear: bool) -> None:
        if clear:
            self._buf.clear()
        self._scan, self._depth, self._in_str = 0, 0, False


class FrameDecoder:
    """`feed(bytes) -> list[StreamFrame]` for `/fs/stream` and `/fs/logs` bodies.

    Heartbeats (`{}`) are dropped. Raises `FrameError` for an object that is not a frame
    (invalid JSON, wrong types, invalid base64, a negative Offset) or that grows past
    `max_frame_bytes`; `finish()` at the end of the body raises `TrailingText` when the
    agent appended an error message.
    """

    def __init__(
        self, *, max_frame_bytes: int = MAX_FRAME_BYTES, address: str = "", path: str = ""
    ) -> None:
        self.address = address
        self.path = path
        self._split = JsonObjectSplitter(
            max_object_bytes=max_frame_bytes, address=address, path=path
        )
        self._decoder = decoder(StreamFrame)

    @property
    def buffered(self) -> int:
        return self._split.buffered

    def feed(self, data: bytes) -> list[StreamFrame]:
        frames: list[StreamFrame] = []
        for raw in self._split.feed(data):
            if raw == b"{}":
                continue
            frame = self._decode(raw)
            if not frame.is_heartbeat:
                frames.append(frame)
        return frames

    def finish(self) -> None:
        self._split.finish()

    def _decode(self, raw: bytes) -> StreamFrame:
        try:
            frame = self._decoder.decode(raw)
        # ValidationError (bad base64, types) is a DecodeError; a string that is not
        # UTF-8 is a UnicodeDecodeError instead.
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise FrameError(
                self.address, self.path, "invalid", f"{exc} in {_excerpt(raw)!r}"
            ) from None
        if frame.Offset < 0:
            raise FrameError(self.address, self.path, "invalid", f"negative Offset {frame.Offset}")
        return frame


__all__ = [
    "MAX_FRAME_BYTES",
    "FrameDecoder",
    "FrameError",
    "JsonObjectSplitter",
    "TrailingText",
]
