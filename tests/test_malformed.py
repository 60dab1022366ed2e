"""Every kind of malformed frame, over a real socket: each gets a typed ``error``
(``bad_frame``, ``unknown_type`` or ``invalid``, never ``internal``), counts toward the
malformed-frame limit (close 4007) and logs no traceback."""

from __future__ import annotations

import json
import logging

import pytest
from websockets.exceptions import ConnectionClosed

from tests.people import signed_in

pytestmark = pytest.mark.anyio
TYPED = {"bad_frame", "unknown_type", "invalid"}
VALID_POST = '{"type":"post","ref":"p1","room":"case-review","text":"hi"}'


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def malformed_frames() -> list[str | bytes]:
    """About 200 malformed frames, by class."""
    frames: list[str | bytes] = []
    # every truncation of a valid command: `[`, `{`, unterminated strings...
    frames += [VALID_POST[:n] for n in range(len(VALID_POST))]
    frames += ["[", "]", "{", "}", "[{", '{"type":', '{"type":"post"', "{,}", "[1,]", "nul"]
    # each lone control byte and invalid UTF-8
    frames += [chr(c) for c in range(32)] + ["\x7f"]
    frames += [b"\xff", b"\xfe\xff", b"\xc3\x28", b'{"type":"post","text":"\xed\xa0\x80"}']
    # numbers JSON allows but nothing can hold, and not-JSON numbers
    for number in ("1e400", "-1e400", "NaN", "Infinity", "-Infinity", "01", "1.", ".5"):
        frames += [number, f'{{"type":"history","ref":"n","room":"case-review","limit":{number}}}']
    # not an object
    frames += ["[]", "1", '"post"', "null", "true", '[{"type":"heartbeat"}]']
    # `type` of every wrong kind
    for kind in ("[1]", "[]", "{}", '{"a":1}', "1", "null", "true", '""', '"nope"', '"POST"'):
        frames.append(f'{{"type":{kind},"ref":"t"}}')
    # nesting: deep enough for RecursionError, at the top and inside a field
    for depth in (1_000, 5_000, 30_000):
        frames.append("[" * depth + "]" * depth)
        shallower = min(depth, 10_000)  # 6 bytes a level: stay under the 64 KiB frame limit
        frames.append('{"a":' * shallower + "1" + "}" * shallower)
        frames.append('{"type":"post","ref":"d","room":"case-review","text":"x","x":'
                      + "[" * depth + "]" * depth + "}")
    # integers out of every bound, in every integer field
    huge = [str(2**53), str(2**63 - 1), str(2**63), str(2**64), str(10**30), "-1", "1.5", "1e20"]
    for value in huge:
        frames += [
            f'{{"type":"history","ref":"h","room":"case-review","before":{value}}}',
            f'{{"type":"edit","ref":"e","room":"case-review","message":{value},"text":"x"}}',
            f'{{"type":"delete","ref":"d","room":"case-review","message":{value}}}',
            f'{{"type":"resume","streams":{{"room:case-review":{value}}}}}',
        ]
    # fields of the wrong type, missing, unknown, out of range
    frames += [
        '{"type":"post","ref":"w","room":"case-review","text":""}',
        '{"type":"post","ref":"w","room":"case-review","text":' + json.dumps("x" * 4001) + "}",
        '{"type":"post","ref":"","room":"case-review","text":"x"}',
        '{"type":"post","ref":' + json.dumps("r" * 65) + ',"room":"case-review","text":"x"}',
        '{"type":"post","ref":7,"room":"case-review","text":"x"}',
        '{"type":"post","ref":"w","room":["case-review"],"text":"x"}',
        '{"type":"post","ref":"w","room":"Case Review","text":"x"}',
        '{"type":"post","ref":"w","room":"case-review","text":"x","extra":1}',
        '{"type":"history","ref":"w","room":"case-review","limit":0}',
        '{"type":"history","ref":"w","room":"case-review","limit":101}',
        '{"type":"join","ref":"w"}',
        '{"type":"join","room":"case-review"}',
        '{"type":"heartbeat","extra":true}',
        '{"type":"resume","streams":[]}',
        '{"type":"resume","streams":{"x":1}}',
        '{"type":"resume","streams":{"room:case-review":"1"}}',
        '{"type":"identify","community":7}',
        '{"type":"post","ref":"\\ud800","room":"case-review","text":"x","extra":1}',
    ]
    return frames


def test_the_generated_list_covers_the_classes_reported():
    frames = malformed_frames()
    assert len(frames) > 165
    for reported in ("[", "\x01", "1e400", '{"type":[1],"ref":"t"}', '{"type":{},"ref":"t"}'):
        assert reported in frames


@pytest.mark.settings(commands_per_minute=1_000_000, command_burst=1_000_000)
async def test_every_malformed_frame_gets_a_typed_error_and_no_traceback(server, caplog):
    client = await signed_in(server, "Fuzz")
    assert (await client.command("join", room="case-review"))["type"] == "ack"
    head = await server.practica.store.head("room:case-review")
    caplog.set_level(logging.INFO)
    frames = malformed_frames()
    for frame in frames:
        await client.ws.send(frame)
        error = await client.wait_for(lambda f: f["type"] == "error", timeout=10)
        assert error["code"] in TYPED, (frame[:80], error)
        await client.send({"type": "heartbeat"})  # a good frame resets the 4007 count
        await client.wait_for(lambda f: f["type"] == "heartbeat_ack", timeout=10)
    assert await server.practica.store.head("room:case-review") == head
    noisy = [r for r in caplog.records if r.name.startswith("practica")
             and (r.exc_info or r.levelno >= logging.ERROR)]
    assert noisy == []
    assert len([r for r in caplog.records if r.name == "practica.gateway"]) <= len(frames)
    await client.close()


@pytest.mark.parametrize("frame", ["[" * 2_000 + "]" * 2_000, "1e400", '{"type":[]}'])
async def test_malformed_frames_in_a_row_close_with_4007(server, frame):
    client = await signed_in(server, "Fuzz")
    limit = client.hello["limits"]["max_invalid_frames"]
    for _ in range(limit):
        await client.ws.send(frame)
        assert (await client.wait_for(lambda f: f["type"] == "error"))["code"] in TYPED
    await client.ws.send(frame)
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(3):
            await client.next_frame()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4007
