"""What the contract says about frames, checked over a real socket: binary frames are
read like text, a text frame that is not UTF-8 closes with 1007, and resuming a room
never joined on this connection enters it."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from tests.people import signed_in

pytestmark = pytest.mark.anyio
ROOM, STREAM = "case-review", "room:case-review"


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_binary_frame_is_read_like_a_text_frame(server):
    client = await signed_in(server, "Bin")
    await client.ws.send(b'{"type":"heartbeat"}')
    assert (await client.next_frame())["type"] == "heartbeat_ack"
    await client.ws.send(b'{"type":"join","ref":"b1","room":"case-review"}')
    assert (await client.wait_for(lambda f: f.get("ref") == "b1"))["type"] == "ack"
    await client.ws.send(b"\xff\xfe")
    assert (await client.wait_for(lambda f: f["type"] == "error"))["code"] == "bad_frame"
    await client.close()


async def test_a_text_frame_that_is_not_utf8_closes_with_1007(server):
    client = await signed_in(server, "Bad")
    await client.ws.send(b'{"type":"heartbeat","x":"\xff"}', text=True)
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(3):
            await client.next_frame()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007


async def test_resuming_a_room_never_joined_enters_it(server):
    watcher = await signed_in(server, "Wat")
    await watcher.command("join", room=ROOM)
    newcomer = await signed_in(server, "New", identify=False)
    ready = await newcomer.resume({STREAM: 0})
    sync = next(s for s in ready["syncs"] if s["stream"] == STREAM)
    assert sync["mode"] in ("replay", "snapshot")
    joined = await watcher.wait_for(lambda f: f["type"] == "event"
                                    and f["body"]["type"] == "member_joined"
                                    and f["body"]["name"] == "New")
    assert joined["stream"] == STREAM
    posted = await newcomer.command("post", room=ROOM, text="resumed in")
    assert posted["type"] == "ack"
    await watcher.close()
    await newcomer.close()
