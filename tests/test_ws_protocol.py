"""The lighter uvicorn websocket protocol: its queue and gate behave as asyncio's, and a
live socket keeps nothing of its handshake."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from server.cli import uvicorn_config
from server.settings import Settings
from server.ws_protocol import Gate, Inbox, LeanWebSocketProtocol
from tests.people import signed_in

pytestmark = pytest.mark.anyio


async def test_the_inbox_hands_items_over_in_order_and_waits_when_empty():
    inbox = Inbox()
    assert inbox.empty() and inbox.qsize() == 0
    getting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not getting.done()  # nothing yet: it waits
    inbox.put_nowait("a")
    inbox.put_nowait("b")
    assert await getting == "a"
    assert inbox.qsize() == 1 and await inbox.get() == "b" and inbox.empty()


async def test_a_cancelled_get_leaves_the_inbox_usable():
    inbox = Inbox()
    getting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    getting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getting
    inbox.put_nowait("x")
    assert await asyncio.wait_for(inbox.get(), 1) == "x"


def test_an_open_gate_does_not_suspend():
    """The eager send drives uvicorn's send by hand and relies on this (server.connection)."""
    step = Gate().wait()
    with pytest.raises(StopIteration):
        step.send(None)


async def test_a_closed_gate_waits_until_it_opens():
    gate = Gate()
    gate.clear()
    assert not gate.is_set()
    waiters = [asyncio.ensure_future(gate.wait()) for _ in range(2)]
    cancelled = asyncio.ensure_future(gate.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    gate.set()
    assert await asyncio.gather(*waiters) == [True, True]
    assert cancelled.cancelled() and gate.is_set()


def test_practica_serves_websockets_with_the_lighter_protocol():
    config = uvicorn_config(object(), Settings())
    assert config.ws is LeanWebSocketProtocol


async def test_a_live_socket_keeps_nothing_of_its_handshake(server):
    client = await signed_in(server, "Ann")
    assert (await client.command("join", room="case-review"))["type"] == "ack"
    (conn,) = server.practica.gateway.connections
    protocol = conn._direct._protocol
    assert isinstance(protocol, LeanWebSocketProtocol)
    assert protocol.response is None and protocol.scope["headers"] == []
    assert isinstance(protocol.queue, Inbox) and isinstance(protocol.writable, Gate)
    await client.close()


async def test_other_websocket_paths_are_still_refused(server):
    """Only ``/ws`` goes straight to the gateway: a signed-in upgrade elsewhere is refused
    by the router (the gateway would have accepted this cookie)."""
    client = await signed_in(server, "Ann")
    cookie = {"Cookie": f"practica_session={client.person.session_cookie}"}
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(server.ws_url.replace("/ws", "/elsewhere"),
                                      additional_headers=cookie):
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(server.ws_url, additional_headers=cookie) as accepted:
        assert '"type":"hello"' in str(await accepted.recv())
    await client.close()
