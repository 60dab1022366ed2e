"""The Janus websocket client against a stand-in Janus on 127.0.0.1 that answers as Janus
1.1 does: ``ack`` then an ``event`` for asynchronous plugin requests, ``error`` in the
direct reply for an ICE/SDP failure (which must not leave a caller waiting), plugin
``error_code``s, a dropped connection, and nothing listening at all."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from server.media.janus_client import JanusClient, JanusDown, JanusError
from tests.conftest import free_port

pytestmark = pytest.mark.anyio


async def fake_janus(socket: ServerConnection) -> None:
    async for raw in socket:
        frame: dict[str, Any] = json.loads(raw)
        t = frame["transaction"]
        kind = frame["janus"]
        if kind in ("create", "attach"):
            await socket.send(json.dumps({"janus": "success", "transaction": t,
                                          "data": {"id": 42 if kind == "create" else 7}}))
            continue
        request = frame.get("body", {}).get("request")
        if request == "join":
            await socket.send(json.dumps({"janus": "ack", "transaction": t}))
            await socket.send(json.dumps({"janus": "webrtcup", "session_id": 42}))
            await socket.send(json.dumps({
                "janus": "event", "transaction": t, "sender": frame["handle_id"],
                "plugindata": {"plugin": "janus.plugin.videoroom",
                               "data": {"videoroom": "attached", "streams": []}},
                "jsep": {"type": "offer", "sdp": "v=0"}}))
        elif request == "publish":
            await socket.send(json.dumps({"janus": "error", "transaction": t, "error": {
                "code": 490, "reason": "Error setting ICE locally"}}))
        elif request == "create":
            await socket.send(json.dumps({"janus": "success", "transaction": t, "plugindata": {
                "plugin": "janus.plugin.videoroom",
                "data": {"videoroom": "event", "error_code": 427, "error": "Room exists"}}}))
        elif request == "drop":
            await socket.close()
            return
        elif request == "listparticipants":
            await socket.send(json.dumps({"janus": "success", "transaction": t, "plugindata": {
                "data": {"participants": [{"id": 5, "publisher": True}]}}}))


@pytest.fixture
async def janus_url() -> AsyncIterator[str]:
    port = free_port()
    async with serve(fake_janus, "127.0.0.1", port, subprotocols=["janus-protocol"]):
        yield f"ws://127.0.0.1:{port}"


async def test_async_requests_wait_past_the_ack_for_their_event(janus_url):
    client = JanusClient(janus_url)
    try:
        handle = await client.attach()
        assert handle == 7 and client.connected
        data, jsep = await client.message(handle, {"request": "join"})
        assert data["videoroom"] == "attached"
        assert jsep == {"type": "offer", "sdp": "v=0"}
        listed = await client.request(handle, {"request": "listparticipants"})
        assert listed["participants"] == [{"id": 5, "publisher": True}]
    finally:
        await client.close()


async def test_an_error_in_the_direct_reply_ends_the_wait(janus_url):
    client = JanusClient(janus_url)
    try:
        handle = await client.attach()
        with pytest.raises(JanusError) as refused:
            await client.message(handle, {"request": "publish"}, {"type": "offer", "sdp": "x"})
        assert refused.value.code == 490
        assert "ICE" in refused.value.reason
        with pytest.raises(JanusError) as exists:
            await client.request(handle, {"request": "create"})
        assert exists.value.code == 427
    finally:
        await client.close()


async def test_a_dropped_connection_fails_waiters_and_the_next_call_reconnects(janus_url):
    client = JanusClient(janus_url)
    try:
        handle = await client.attach()
        with pytest.raises(JanusDown):
            await client.request(handle, {"request": "drop"})
        assert not client.connected
        assert await client.attach() == 7  # a new Janus session on a new socket
        assert client.connected
    finally:
        await client.close()


async def test_nothing_listening_is_janus_down():
    client = JanusClient(f"ws://127.0.0.1:{free_port()}")
    with pytest.raises(JanusDown):
        await client.attach()
    assert not client.connected
    await client.close()
