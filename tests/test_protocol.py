"""The codec: every client frame decodes to its Struct; bad frames get precise codes."""

from __future__ import annotations

import msgspec
import pytest

from server.domain.events import Event, MessagePosted
from server.errors import ErrorCode, InvalidCommand
from server.frames import decode, encode, ref_of
from server.protocol import Ack, ClientMessage, Error, Identify, Post, Resume


def test_round_trip_of_every_client_frame_type():
    samples = {
        "identify": {"community": "circle"},
        "resume": {"streams": {"room:a": 3}, "community": "circle"},
        "heartbeat": {},
        "join": {"ref": "1", "room": "a"},
        "leave": {"ref": "1", "room": "a"},
        "follow": {"ref": "1", "streams": {"series:a": 0}},
        "post": {"ref": "1", "room": "a", "text": "hi"},
        "edit": {"ref": "1", "room": "a", "message": 3, "text": "hi"},
        "delete": {"ref": "1", "room": "a", "message": 3},
        "history": {"ref": "1", "room": "a", "before": 9, "limit": 20},
        "relay": {"ref": "1", "stream": "room:a", "kind": "typing", "to": ["m-1"],
                  "data": {"x": 1}},
        "session": {"ref": "1", "session": "s-1", "op": {"op": "upvote", "question": 2}},
    }
    tags = {cls.__struct_config__.tag for cls in ClientMessage.__args__}
    assert set(samples) == tags
    for tag, fields in samples.items():
        frame = msgspec.json.encode({"type": tag, **fields})
        decoded = decode(frame)
        assert decoded.__struct_config__.tag == tag
        assert msgspec.json.decode(msgspec.json.encode(decoded)) == {"type": tag, **fields}


@pytest.mark.parametrize(("frame", "code"), [
    (b"", ErrorCode.BAD_FRAME),
    (b"\xff\xfe", ErrorCode.BAD_FRAME),
    (b'"just a string"', ErrorCode.BAD_FRAME),
    (b'{"no": "type"}', ErrorCode.UNKNOWN_TYPE),
    (b'{"type": "shout"}', ErrorCode.UNKNOWN_TYPE),
    (b'{"type": "post", "ref": "", "room": "a", "text": "x"}', ErrorCode.INVALID),
    (b'{"type": "post", "ref": "1", "room": "Not A Slug", "text": "x"}', ErrorCode.INVALID),
    (b'{"type": "post", "ref": "1", "room": "a", "text": ""}', ErrorCode.INVALID),
    (b'{"type": "history", "ref": "1", "room": "a", "limit": 1000}', ErrorCode.INVALID),
    (b'{"type": "resume", "streams": {"room:a": -1}}', ErrorCode.INVALID),
    (b'{"type": "identify", "name": "A"}', ErrorCode.INVALID),
    (b'{"type": "identify", "community": "Not A Slug"}', ErrorCode.INVALID),
    (b'{"type": "edit", "ref": "1", "room": "a", "message": -1, "text": "x"}', ErrorCode.INVALID),
    (b'{"type": "session", "ref": "1", "session": "s", "op": {"op": "shout"}}',
     ErrorCode.INVALID),
    (b'{"type": "session", "ref": "1", "session": "s", "op": {"op": "extend", "minutes": 2}}',
     ErrorCode.INVALID),
])
def test_bad_frames_get_precise_codes(frame, code):
    with pytest.raises(InvalidCommand) as refused:
        decode(frame)
    assert refused.value.code == code
    assert refused.value.message


def test_ref_of_recovers_the_ref_of_an_undecodable_command():
    assert ref_of(b'{"type": "post", "ref": "abc", "text": 5}') == "abc"
    assert ref_of(b"{broken") is None
    assert ref_of(b'{"ref": 7}') is None


def test_encode_omits_empty_optionals_and_tags_events():
    assert encode(Ack(ref="r")) == '{"type":"ack","ref":"r"}'
    error = msgspec.json.decode(encode(Error(ref=None, code=ErrorCode.FORBIDDEN, message="no")))
    assert error == {"type": "error", "ref": None, "code": "forbidden", "message": "no"}
    event = Event(stream="room:a", seq=1, ts=5, actor="m",
                  body=MessagePosted(author="m", author_name="M", text="<b>"))
    decoded = msgspec.json.decode(encode(event))
    assert decoded["type"] == "event" and decoded["body"]["type"] == "message_posted"


def test_identify_and_resume_defaults():
    assert decode(b'{"type": "identify"}') == Identify(community=None)
    resume = decode(b'{"type": "resume", "streams": {}}')
    assert isinstance(resume, Resume) and resume.streams == {} and resume.community is None
    assert isinstance(decode(b'{"type":"post","ref":"1","room":"a","text":"x"}'), Post)


@pytest.mark.parametrize("streams", [{}, ["series:a"], {"s": 0}, {"series:a": -1}])
def test_a_follow_names_at_least_one_stream(streams):
    with pytest.raises(InvalidCommand) as refused:
        decode(msgspec.json.encode({"type": "follow", "ref": "1", "streams": streams}))
    assert refused.value.code == ErrorCode.INVALID
