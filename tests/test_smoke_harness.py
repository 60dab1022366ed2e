import pytest

from tests.wsclient import Client

pytestmark = pytest.mark.anyio


async def test_identify_join_post(server):
    a = await Client.connect(server.ws_url)
    await a.identify("Ann")
    ack = await a.command("join", room="case-review")
    assert ack["type"] == "ack" and ack["sync"]["mode"] == "snapshot"
    ack = await a.command("post", room="case-review", text="hi")
    assert ack["type"] == "ack"
    await a.close()
