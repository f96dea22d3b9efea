"""The stream decoders (`nomtui.client.frames`) under any split and any bytes.

- A valid fs/logs stream (frames, heartbeats, whitespace), cut anywhere, gives exactly
  the frames of the whole; so does an event stream (one JSON object a line) for the
  object splitter.
- Arbitrary bytes, and valid streams with bytes cut, swapped or inserted, give frames or
  a `FrameError` (with `finish()` at the end of the body), never another exception.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from nomtui.client.frames import FrameDecoder, FrameError, JsonObjectSplitter
from nomtui.models.frames import StreamFrame

EXAMPLES = 150

FRAME = st.builds(
    StreamFrame,
    Offset=st.integers(min_value=0, max_value=2**62),
    Data=st.binary(max_size=200),
    File=st.text(max_size=20),
    FileEvent=st.sampled_from(["", "file deleted", "file truncated"]),
)
GAP = st.sampled_from([b"", b"", b"{}", b"\n", b" \t\r\n", b"{}\n"])
"""What may sit between frames: nothing, heartbeats, whitespace."""


def encode(frame: StreamFrame, ascii_only: bool) -> bytes:
    """As the agent writes a frame: empty fields left out (Go's omitempty)."""
    body: dict[str, Any] = {}
    if frame.Offset:
        body["Offset"] = frame.Offset
    if frame.Data:
        body["Data"] = base64.b64encode(frame.Data).decode()
    if frame.File:
        body["File"] = frame.File
    if frame.FileEvent:
        body["FileEvent"] = frame.FileEvent
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[StreamFrame]]:
    frames = draw(st.lists(FRAME, max_size=6))
    ascii_only = draw(st.booleans())
    parts = [draw(GAP)]
    for frame in frames:
        parts += [encode(frame, ascii_only), draw(GAP)]
    return b"".join(parts), [f for f in frames if not f.is_heartbeat]


def pieces(data: st.DataObject, stream: bytes) -> list[bytes]:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12), label="cuts"))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def surrogate_free(stream: tuple[bytes, list[StreamFrame]]) -> bool:
    """Lone surrogates cannot be UTF-8: a Go agent could never send them."""
    try:
        stream[0].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=EXAMPLES)
@given(stream=streams().filter(surrogate_free), data=st.data())
def test_any_split_of_a_valid_stream_gives_the_same_frames(
    stream: tuple[bytes, list[StreamFrame]], data: st.DataObject
) -> None:
    body, frames = stream
    decoder = FrameDecoder()
    got = [frame for piece in pieces(data, body) for frame in decoder.feed(piece)]
    decoder.finish()
    assert got == frames
    assert decoder.buffered == 0


EVENT = st.dictionaries(
    st.sampled_from(["Index", "Events", "Topic", "Key", "Payload", "x"]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=8,
    ),
)


@settings(max_examples=EXAMPLES)
@given(events=st.lists(EVENT, max_size=6), data=st.data())
def test_any_split_of_an_event_stream_gives_the_same_objects(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    body = b"".join(json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in events)
    splitter = JsonObjectSplitter()
    got = [json.loads(raw) for piece in pieces(data, body) for raw in splitter.feed(piece)]
    splitter.finish()
    assert got == events


def _decode_all(parts: list[bytes]) -> None:
    decoder = FrameDecoder(max_frame_bytes=4096)
    try:
        for part in parts:
            for frame in decoder.feed(part):
                assert isinstance(frame, StreamFrame) and frame.Offset >= 0
        decoder.finish()
    except FrameError as exc:
        assert exc.message  # one sentence for the user


@settings(max_examples=EXAMPLES * 2)
@given(body=st.binary(max_size=300), data=st.data())
def test_arbitrary_bytes_give_frames_or_a_frame_error(body: bytes, data: st.DataObject) -> None:
    _decode_all(pieces(data, body))


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(streams())[0])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(body)))
        match draw(st.sampled_from(["cut", "swap", "insert"])):
            case "cut":
                del body[at:]
            case "swap" if at < len(body):
                body[at] = draw(st.integers(min_value=0, max_value=255))
            case _:
                body[at:at] = draw(st.sampled_from([b"{", b"}", b'"', b"\\", b"\xff", b"\x00"]))
    return bytes(body)


# Found by this test: msgspec raises UnicodeDecodeError (not a DecodeError) for a string
# that is not UTF-8.
NOT_UTF8 = b'{"Offset":1,"File":"\xff"}'


@settings(max_examples=EXAMPLES * 2)
@example(body=NOT_UTF8, data=None)
@given(body=damaged(), data=st.data())
def test_damaged_streams_give_frames_or_a_frame_error(body: bytes, data: Any) -> None:
    _decode_all(pieces(data, body) if data is not None else [body])
