"""Room-wide video's authorization and its absence, over a real server with no Janus
listening: the session says video is off, publish/subscribe answer ``unavailable`` (503)
or are refused first when the caller may not, and everything else in the session works.
(With Janus running, in a loopback-only namespace: tests/media/test_stage_media.py.)"""

from __future__ import annotations

import pytest

from server.media.stage import feed_of, room_of
from tests.conftest import free_port
from tests.session_setup import attend, circle, op, open_session

pytestmark = pytest.mark.anyio

OFFER = {"jsep": {"type": "offer", "sdp": "v=0\r\n"}}


@pytest.mark.settings(janus_url=f"ws://127.0.0.1:{free_port()}")
async def test_without_janus_video_is_off_and_the_session_works(server):
    c = await circle(server, members=2)
    (ann, ann_ws), (bob, _bob_ws) = c.members
    session = await open_session(c)
    media = f"/api/sessions/{session}/media"

    # not attending: no look at the session's video, no subscription
    assert (await ann.call("GET", media)).status_code == 403
    refused = await ann.call("POST", f"{media}/subscriptions", {"feed": 7})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "forbidden"

    await attend(c.host_ws, session)
    await attend(ann_ws, session)
    view = await ann.call("GET", media)
    assert view.status_code == 200, view.text
    assert view.json()["available"] is False
    assert "room-wide video is off" in view.json()["reason"]
    assert view.json()["may_publish"] is False

    # not on stage: refused before Janus is asked, so forbidden rather than unavailable
    refused = await ann.call("POST", f"{media}/publish", OFFER)
    assert refused.status_code == 403, refused.text
    assert "only people on stage" in refused.json()["message"]

    # on stage, Janus down: unavailable (503) with a retry hint
    assert (await op(c.host_ws, session, "stage", member=ann.id, on=True))["type"] == "ack"
    assert (await ann.call("GET", media)).json()["may_publish"] is True
    down = await ann.call("POST", f"{media}/publish", OFFER)
    assert down.status_code == 503, down.text
    assert down.json()["code"] == "unavailable"
    # a feed of someone not on stage is nobody's: not found, whatever Janus's state
    missing = await ann.call("POST", f"{media}/subscriptions",
                             {"feed": feed_of(session, bob.id)})
    assert missing.status_code == 404, missing.text
    down = await ann.call("POST", f"{media}/subscriptions", {"feed": feed_of(session, ann.id)})
    assert down.status_code == 503, down.text
    assert (await ann.call("DELETE", f"{media}/subscriptions/nope")).status_code == 404

    # the rest of the session does not depend on Janus
    assert (await op(c.host_ws, session, "start"))["type"] == "ack"
    assert (await op(ann_ws, session, "ask", text="Can we see slides?"))["type"] == "ack"
    assert (await op(c.host_ws, session, "stage", member=ann.id, on=False))["type"] == "ack"


async def test_bad_bodies_are_invalid(server):
    c = await circle(server, members=1)
    (ann, ann_ws), = c.members
    session = await open_session(c)
    await attend(ann_ws, session)
    media = f"/api/sessions/{session}/media"
    for body in ({"jsep": {"type": "pranswer", "sdp": "x"}}, {"jsep": {"type": "offer"}},
                 {"jsep": {"type": "offer", "sdp": ""}}, {}):
        reply = await ann.call("POST", f"{media}/publish", body)
        assert reply.status_code == 400, (body, reply.text)
    assert (await ann.call("POST", f"{media}/subscriptions", {"feed": 0})).status_code == 400


def test_room_and_feed_ids_are_stable_and_fit_javascript():
    assert room_of("s-1") == room_of("s-1") != room_of("s-2")
    assert feed_of("s-1", "m-a") != feed_of("s-1", "m-b")
    assert feed_of("s-1", "m-a") != feed_of("s-2", "m-a")
    for value in (room_of("s-1"), feed_of("s-1", "m-a")):
        assert 0 < value < 2**53
