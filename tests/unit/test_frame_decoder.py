"""The incremental frame decoder: any split of the byte stream gives the same frames."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nomtui.client.frames import FrameDecoder, FrameError, JsonObjectSplitter, TrailingText
from nomtui.models.frames import StreamFrame


def encode(frame: StreamFrame) -> bytes:
    """As Nomad writes a frame: zero fields left out, raw UTF-8, no separator."""
    body: dict[str, object] = {}
    if frame.Offset:
        body["Offset"] = frame.Offset
    if frame.Data:
        body["Data"] = base64.b64encode(frame.Data).decode()
    if frame.File:
        body["File"] = frame.File
    if frame.FileEvent:
        body["FileEvent"] = frame.FileEvent
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


FRAMES = [
    StreamFrame(Offset=11, Data=b"hello world", File="alloc/logs/web.stdout.0"),
    StreamFrame(Offset=5, Data="žluťoučký\n".encode(), File="alloc/logs/wéb.stdout.0"),
    StreamFrame(Offset=3, Data=b'{"}\\', File='odd "name" {with} \\ braces'),
    StreamFrame(Offset=3, File="alloc/logs/web.stdout.0", FileEvent="file deleted"),
]
STREAM = b"{}" + b"{}".join(encode(f) for f in FRAMES) + b"\n{}  "


def test_frames_decode_and_heartbeats_drop() -> None:
    assert FrameDecoder().feed(STREAM) == FRAMES


def test_split_at_every_byte_boundary() -> None:
    for cut in range(len(STREAM) + 1):
        dec = FrameDecoder()
        got = dec.feed(STREAM[:cut]) + dec.feed(STREAM[cut:])
        dec.finish()
        assert got == FRAMES, cut


def test_one_byte_at_a_time() -> None:
    dec = FrameDecoder()
    got = [f for i in range(len(STREAM)) for f in dec.feed(STREAM[i : i + 1])]
    assert got == FRAMES
    assert dec.buffered == 0


def test_escape_split_from_its_escaped_character() -> None:
    raw = b'{"File":"a\\"}b","Offset":1}'
    cut = raw.index(b"\\") + 1  # the backslash ends the first piece
    dec = FrameDecoder()
    assert dec.feed(raw[:cut]) == []
    assert dec.feed(raw[cut:]) == [StreamFrame(Offset=1, File='a"}b')]


def test_invalid_base64_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="base64") as info:
        FrameDecoder().feed(b'{"Offset":1,"Data":"!!!notb64"}')
    assert info.value.kind == "invalid"


def test_negative_offset_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="negative Offset"):
        FrameDecoder().feed(b'{"Offset":-4,"Data":"YQ=="}')


def test_wrong_types_are_a_frame_error() -> None:
    with pytest.raises(FrameError, match="Offset"):
        FrameDecoder().feed(b'{"Offset":"7"}')


def test_broken_json_inside_an_object_is_a_frame_error() -> None:
    with pytest.raises(FrameError):
        FrameDecoder().feed(b'{"Offset":1,,}')


def test_oversized_garbage_is_refused_instead_of_buffered() -> None:
    dec = FrameDecoder(max_frame_bytes=1024)
    dec.feed(b'{"Data":"' + b"A" * 1000)
    with pytest.raises(FrameError, match="grew past 1024") as info:
        dec.feed(b"A" * 100)
    assert info.value.kind == "oversized"


def test_a_full_size_frame_fits() -> None:
    frame = StreamFrame(Offset=65536, Data=bytes(range(256)) * 256, File="f")
    assert FrameDecoder().feed(encode(frame)) == [frame]


def test_trailing_text_is_collected_and_raised_at_the_end() -> None:
    dec = FrameDecoder()
    assert dec.feed(encode(FRAMES[0]) + b"rpc error: ACL token ") == [FRAMES[0]]
    assert dec.feed(b"expired") == []
    with pytest.raises(TrailingText) as info:
        dec.finish()
    assert info.value.text == "rpc error: ACL token expired"


def test_end_inside_a_frame_is_truncated() -> None:
    dec = FrameDecoder()
    dec.feed(STREAM[:20])
    with pytest.raises(FrameError) as info:
        dec.finish()
    assert info.value.kind == "truncated"


def test_splitter_handles_ndjson_lines() -> None:
    split = JsonObjectSplitter()
    assert split.feed(b'{}\n{"Index":3,"Events":[{"A":{"b":"}"}}]}\n{"In') == [
        b"{}",
        b'{"Index":3,"Events":[{"A":{"b":"}"}}]}',
    ]
    assert split.feed(b'dex":4}\n') == [b'{"Index":4}']


frames_strategy = st.lists(
    st.builds(
        StreamFrame,
        Offset=st.integers(min_value=0, max_value=2**40),
        Data=st.binary(max_size=300),
        File=st.text(max_size=30),
        FileEvent=st.sampled_from(["", "file deleted", "file truncated"]),
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(frames=frames_strategy, heartbeats=st.lists(st.booleans()), data=st.data())
def test_any_frames_any_chunking(
    frames: list[StreamFrame], heartbeats: list[bool], data: st.DataObject
) -> None:
    parts: list[bytes] = []
    for i, frame in enumerate(frames):
        if i < len(heartbeats) and heartbeats[i]:
            parts.append(b"{}")
        parts.append(encode(frame))
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    dec = FrameDecoder()
    got: list[StreamFrame] = []
    last = 0
    for cut in [*cuts, len(stream)]:
        got += dec.feed(stream[last:cut])
        last = cut
    dec.finish()
    assert got == [f for f in frames if not f.is_heartbeat]


# -- the find-based scanner: big frames, escapes, every cut ------------------------------

ROTATION = [
    StreamFrame(Offset=65536, Data=bytes(range(256)) * 256, File="alloc/logs/web.stdout.3"),
    StreamFrame(Offset=65536, File="alloc/logs/web.stdout.3", FileEvent="file deleted"),
    StreamFrame(Offset=9, Data=b"new file\n", File="alloc/logs/web.stdout.4"),
    StreamFrame(Offset=4, Data=b"trun", File="alloc/logs/web.stdout.4", FileEvent="file truncated"),
]


def test_rotation_fields_survive_any_cut() -> None:
    """A full-size frame, a deletion, the next file and a truncation, cut at every byte
    around the places where the scanner changes state and every ~1000 bytes between
    (every byte of the 87 KiB base64 string would be 90k decodes of it)."""
    stream = b"{}".join(encode(f) for f in ROTATION) + b"{}"
    edges = {len(stream), *range(0, len(stream), 1009)}
    for i, byte in enumerate(stream):
        if byte in b'{}"\\:,':
            edges.update(range(max(0, i - 2), min(len(stream), i + 3)))
    for cut in sorted(edges):
        dec = FrameDecoder()
        got = dec.feed(stream[:cut]) + dec.feed(stream[cut:])
        dec.finish()
        assert got == ROTATION, cut


def test_strings_full_of_escapes_split_everywhere() -> None:
    name = 'a\\"b\\\\"c' * 40 + "\\"  # quotes and backslashes, escaped and not
    frame = StreamFrame(Offset=1, Data=b'"\\\\"', File=name)
    raw = encode(frame) + b"{}" + encode(frame)
    for cut in range(len(raw) + 1):
        dec = FrameDecoder()
        assert dec.feed(raw[:cut]) + dec.feed(raw[cut:]) == [frame, frame], cut


def test_a_backslash_ending_a_chunk_escapes_the_next_quote() -> None:
    dec = FrameDecoder()
    assert dec.feed(b'{"Offset":2,"File":"x\\') == []
    assert dec.feed(b'"') == []  # escaped: the string goes on
    assert dec.feed(b'}","Data":"YQ=="}') == [StreamFrame(Offset=2, Data=b"a", File='x"}')]
    assert dec.buffered == 0


def test_heartbeats_alone_and_between_cuts() -> None:
    dec = FrameDecoder()
    assert dec.feed(b"{") == []
    assert dec.feed(b"}{}\n{") == []
    assert dec.feed(b"}  {}") == []
    assert dec.buffered == 0
    dec.finish()


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b'{"Data":"YQ="}', "base64"),  # wrong padding
        (b'{"Data":"YQ==\\n"}', "base64"),  # an escaped newline is not base64
        (b'{"Data":12}', "Data"),
        (b'{"Offset":1.5}', "Offset"),
        (b'{"Offset":-1}', "negative Offset"),
        (b'{"Offset":1e3}', "Offset"),
        (b'{"File":7}', "File"),
    ],
)
def test_invalid_frames_are_clear_frame_errors(raw: bytes, needle: str) -> None:
    with pytest.raises(FrameError, match=needle) as info:
        FrameDecoder(address="http://agent", path="/v1/client/fs/logs/x").feed(raw)
    assert info.value.kind == "invalid"
    assert "\n" not in info.value.message and "/v1/client/fs/logs/x" in info.value.message


def test_odd_but_valid_offsets_and_fields() -> None:
    raw = (
        b'{"Offset":0,"Data":"","File":"","FileEvent":""}'  # all zero: a heartbeat too
        + b' {"Offset":9223372036854775807}'  # the largest int64, nothing else
        + b'{"FileEvent":"file deleted","File":"f","Unknown":{"a":[1,"}"]}}'
    )
    assert FrameDecoder().feed(raw) == [
        StreamFrame(Offset=2**63 - 1),
        StreamFrame(File="f", FileEvent="file deleted"),
    ]
