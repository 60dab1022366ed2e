"""One Origin rule for HTTP calls and websocket upgrades: no Origin (not a browser) is
judged by cookie and CSRF token alone; an Origin must be the server's own or listed."""

from __future__ import annotations

import httpx2
import pytest
from websockets.exceptions import InvalidStatus

from server.http.api import origin_allowed
from tests.people import DEMO, Person

pytestmark = pytest.mark.anyio
LISTED = "https://app.example"


@pytest.mark.parametrize(("origin", "allowed"), [
    (None, True),
    ("http://chat.example:8000", True),
    ("https://chat.example:8000/", True),
    (LISTED, True),
    ("https://evil.example", False),
    ("null", False),
    ("ftp://chat.example:8000", False),
    ("http://chat.example:8000.evil.example", False),
    ("", False),
])
def test_the_origin_rule(origin, allowed):
    assert origin_allowed(origin, "chat.example:8000", (LISTED,)) is allowed


def origins(server) -> list[tuple[str | None, bool]]:
    return [(None, True), (server.url, True), (LISTED, True), ("https://evil.example", False),
            ("null", False), (server.url.replace("http://", "ftp://"), False)]


@pytest.mark.settings(allowed_origins=(LISTED,))
async def test_http_calls_and_upgrades_follow_the_same_rule(server):
    person = await Person.sign_up(server.url, "Olu")
    for origin, allowed in origins(server):
        headers = {"x-csrf-token": person.csrf} | ({"origin": origin} if origin else {})
        reply = await person.call("POST", f"/api/communities/{DEMO}/leave", headers=headers)
        if allowed:
            assert reply.status_code in (204, 403, 404, 409), (origin, reply.text)
            assert reply.status_code == 204 or reply.json()["code"] != "csrf_failed"
        else:
            assert (reply.status_code, reply.json()["code"]) == (403, "csrf_failed"), origin
        kwargs = {"origin": origin} if origin else {}
        if allowed:
            client = await person.connect(server.ws_url, **kwargs)
            assert client.hello["type"] == "hello"
            await client.close()
        else:
            with pytest.raises(InvalidStatus) as refused:
                await person.connect(server.ws_url, **kwargs)
            assert refused.value.response.status_code == 403, origin


async def test_without_origin_a_state_change_still_needs_the_csrf_token(server):
    person = await Person.sign_up(server.url, "Cass")
    reply = await person.call("POST", f"/api/communities/{DEMO}/join", {}, headers={})
    assert (reply.status_code, reply.json()["code"]) == (403, "csrf_failed")
    assert (await person.refresh())["memberships"] == []


async def test_a_plain_get_of_the_websocket_path_answers_426(server):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        reply = await http.get("/ws")
    assert reply.status_code == 426 and reply.json()["code"] == "invalid"
