"""Prebuilt websocket frames and the direct writer that sends them."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.streams import StreamReader

from server.wire import RAW_SEND, DirectWriter, text_frame
from tests.people import signed_in


def parsed(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frame_is_what_a_websocket_client_parses(size):
    payload = ("é" * (size // 2) + "x" * (size % 2)).encode()
    frame = parsed(text_frame(payload))
    assert (frame.opcode, frame.fin, frame.data) == (Opcode.TEXT, True, payload)


class FakeTransport:
    def __init__(self, closing: bool = False) -> None:
        self.written: list[bytes] = []
        self.closing = closing

    def is_closing(self) -> bool:
        return self.closing

    def write(self, data: bytes) -> None:
        self.written.append(data)


def protocol(**overrides: Any) -> Any:
    writable = asyncio.Event()
    writable.set()
    values = dict(transport=FakeTransport(), conn=SimpleNamespace(state=State.OPEN),
                  writable=writable, close_sent=False) | overrides
    fake = SimpleNamespace(**values)
    fake.send = lambda message: None
    return fake


def writer_of(fake: Any) -> DirectWriter:
    class Bound:  # what uvicorn hands the app: a bound method of its protocol
        __self__ = fake

    writer = DirectWriter.of({RAW_SEND: Bound()})
    assert writer is not None
    return writer


def test_the_writer_writes_only_to_an_open_writable_socket():
    open_one = protocol()
    assert writer_of(open_one).write(b"frame") and open_one.transport.written == [b"frame"]
    paused = protocol()
    paused.writable.clear()
    for fake in (paused, protocol(close_sent=True), protocol(transport=FakeTransport(True)),
                 protocol(conn=SimpleNamespace(state=State.CLOSING))):
        assert not writer_of(fake).write(b"frame")  # the caller queues it instead
        assert fake.transport.written == []


def test_no_writer_without_uvicorns_protocol():
    assert DirectWriter.of({}) is None
    assert DirectWriter.of({RAW_SEND: lambda message: None}) is None


@pytest.mark.anyio
async def test_events_reach_receivers_through_the_direct_writer(server):
    a, b = await signed_in(server, "Ann"), await signed_in(server, "Bob")
    for client in (a, b):
        assert (await client.command("join", room="case-review"))["type"] == "ack"
    connections = server.practica.gateway.connections
    assert connections and all(c._direct is not None for c in connections)
    text = "é" * 300  # a frame past 125 bytes: the 16-bit length form
    assert (await a.command("post", room="case-review", text=text))["type"] == "ack"
    got = await b.wait_for(lambda f: f["type"] == "event"
                           and f["body"]["type"] == "message_posted")
    assert got["body"]["text"] == text
    await a.close()
    await b.close()
