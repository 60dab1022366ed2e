"""The wire protocol over a real socket against a running server."""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.people import signed_in
from tests.wsclient import Client

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every protocol test runs on the embedded default and on the scale-out backends."""
    return str(request.param)
ROOM = "case-review"
STREAM = f"room:{ROOM}"


async def joined(server, name: str) -> Client:
    client = await signed_in(server, name)
    ack = await client.command("join", room=ROOM)
    assert ack["type"] == "ack", ack
    return client


def messages(client: Client) -> list[str]:
    return [e["body"]["text"] for e in client.events(STREAM)
            if e["body"]["type"] == "message_posted"]


async def test_hello_advertises_heartbeat_and_limits(server):
    client = await signed_in(server, identify=False)
    hello = client.hello
    assert hello["heartbeat_interval_ms"] == server.settings.heartbeat_interval_ms
    assert hello["limits"]["max_frame_bytes"] == 65536
    assert hello["limits"]["commands_per_minute"] == server.settings.commands_per_minute
    await client.close()


async def test_ready_carries_community_snapshot(server):
    client = await signed_in(server, "Ann", identify=False)
    ready = await client.identify()
    assert ready["type"] == "ready"
    (sync,) = ready["syncs"]
    assert sync["stream"] == "community:clinical-practice-circle"
    assert sync["mode"] == "snapshot"
    assert sync["snapshot"]["name"] == "Clinical Practice Circle"
    assert [r["room"] for r in sync["snapshot"]["rooms"]] == ["case-review", "journal-club",
                                                             "help-desk"]
    await client.close()


async def test_two_clients_see_the_same_events_in_the_same_order(server):
    a, b = await joined(server, "Ann"), await joined(server, "Bob")
    await a.wait_for(lambda f: f["type"] == "event" and f["body"]["type"] == "member_joined")
    for i in range(20):
        sender = a if i % 2 else b
        await sender.send({"type": "post", "ref": f"p{i}", "room": ROOM, "text": f"m{i}"})
    for client in (a, b):
        while len(messages(client)) < 20:
            await client.next_frame()
    seqs_a = [e["seq"] for e in a.events(STREAM) if e["seq"] >= b.events(STREAM)[0]["seq"]]
    seqs_b = [e["seq"] for e in b.events(STREAM)]
    assert seqs_b == list(range(seqs_b[0], seqs_b[0] + len(seqs_b)))  # in order, no gap
    assert seqs_a == seqs_b
    assert messages(a) == messages(b)
    assert sorted(messages(a)) == sorted(f"m{i}" for i in range(20))
    await a.close()
    await b.close()


async def test_resume_replays_exactly_the_missed_events(server):
    a, b = await joined(server, "Ann"), await joined(server, "Bob")
    await a.command("post", room=ROOM, text="before")
    await b.wait_for(lambda f: f["type"] == "event" and f["body"].get("text") == "before")
    last = b.events(STREAM)[-1]["seq"]
    await b.close()
    for i in range(5):
        await a.command("post", room=ROOM, text=f"missed {i}")
    b2 = await b.person.connect(server.ws_url)
    await b2.send({"type": "resume", "streams": {STREAM: last}})
    ready = await b2.wait_for(lambda f: f["type"] == "ready")
    sync = next(s for s in ready["syncs"] if s["stream"] == STREAM)
    assert sync["mode"] == "replay"
    replayed = [e["body"]["text"] for e in sync["events"] if e["body"]["type"] == "message_posted"]
    assert replayed == [f"missed {i}" for i in range(5)]
    assert [e["seq"] for e in sync["events"]] == list(range(last + 1, sync["seq"] + 1))
    # Live events continue right after the replay, with no gap and no duplicate.
    await a.command("post", room=ROOM, text="after")
    live = await b2.wait_for(lambda f: f["type"] == "event" and f["body"].get("text") == "after")
    assert live["seq"] > sync["seq"]
    seen = [e["seq"] for e in sync["events"]] + [e["seq"] for e in b2.events(STREAM)]
    assert seen == list(range(last + 1, live["seq"] + 1))
    await a.close()
    await b2.close()


async def test_resume_within_grace_keeps_presence_without_flicker(server):
    a, b = await joined(server, "Ann"), await joined(server, "Bob")
    last = b.events(STREAM)[-1]["seq"] if b.events(STREAM) else 0
    await b.close()
    b2 = await b.person.connect(server.ws_url)
    await b2.send({"type": "resume", "streams": {STREAM: last}})
    await b2.wait_for(lambda f: f["type"] == "ready")
    await asyncio.sleep(server.settings.presence_grace_ms / 1000 + 0.3)
    await a.command("post", room=ROOM, text="still here?")
    await a.wait_for(lambda f: f["type"] == "event" and f["body"].get("text") == "still here?")
    kinds = [e["body"]["type"] for e in a.events(STREAM)]
    assert "member_left" not in kinds
    await a.close()
    await b2.close()


async def test_dropped_member_leaves_after_grace_once(server):
    a, b = await joined(server, "Ann"), await joined(server, "Bob")
    bob = b.member_id
    b.ws.transport.abort()  # the lid closes: no close frame, the TCP connection just ends
    left = await a.wait_for(lambda f: f["type"] == "event" and f["body"]["type"] == "member_left",
                            timeout=5)
    assert left["body"] == {"type": "member_left", "member": bob, "reason": "disconnected"}
    await asyncio.sleep(server.settings.presence_grace_ms / 1000 + 0.2)
    assert [e["body"]["type"] for e in a.events(STREAM)].count("member_left") == 1
    await a.close()


@pytest.mark.settings(keepalive_ms=300, heartbeat_timeout_ms=60_000)
async def test_member_whose_network_died_leaves_within_the_keepalive(server):
    """No close, no FIN, no heartbeat: the link just went quiet (a cut cable, a dead
    Wi-Fi). The server's websocket pings go unanswered, so it ends the socket long
    before heartbeat_timeout_ms, and the member leaves once, after the grace."""
    a, b = await joined(server, "Ann"), await joined(server, "Bob")
    bob = b.member_id
    b.ws.transport.pause_reading()  # nothing arrives any more: pings go unanswered
    left = await a.wait_for(lambda f: f["type"] == "event" and f["body"]["type"] == "member_left",
                            timeout=10)
    assert left["body"] == {"type": "member_left", "member": bob, "reason": "disconnected"}
    await a.command("post", room=ROOM, text="after")
    await a.wait_for(lambda f: f["type"] == "event" and f["body"].get("text") == "after")
    assert [e["body"]["type"] for e in a.events(STREAM)].count("member_left") == 1
    b.ws.transport.abort()
    await a.close()


@pytest.mark.parametrize(("streams", "reason"), [
    ({STREAM: 10_000}, "was it reset"),
])
async def test_resume_ahead_gets_snapshot_and_says_why(server, streams, reason):
    """(Unknown and unreadable streams are refused: tests/test_stream_access.py.)"""
    a = await joined(server, "Ann")
    await a.close()
    b = await a.person.connect(server.ws_url)
    await b.send({"type": "resume", "streams": streams})
    ready = await b.wait_for(lambda f: f["type"] == "ready")
    (stream,) = streams
    sync = next(s for s in ready["syncs"] if s["stream"] == stream)
    assert sync["mode"] == "snapshot"
    assert reason in sync["reason"]
    await b.close()


@pytest.mark.settings(max_replay_events=3)
async def test_resume_too_far_behind_gets_snapshot(server):
    a = await joined(server, "Ann")
    b = await joined(server, "Bob")
    last = b.events(STREAM)[-1]["seq"] if b.events(STREAM) else b.frames[-1]["seq"]
    await b.close()
    for i in range(6):
        await a.command("post", room=ROOM, text=f"m{i}")
    b2 = await b.person.connect(server.ws_url)
    await b2.send({"type": "resume", "streams": {STREAM: last}})
    ready = await b2.wait_for(lambda f: f["type"] == "ready")
    sync = next(s for s in ready["syncs"] if s["stream"] == STREAM)
    assert sync["mode"] == "snapshot" and "more than the 3 replayed" in sync["reason"]
    assert [m["text"] for m in sync["snapshot"]["messages"]][-6:] == [f"m{i}" for i in range(6)]
    await a.close()
    await b2.close()


@pytest.mark.parametrize(("frame", "code"), [
    ("{not json", "bad_frame"),
    ("[1, 2]", "bad_frame"),
    ('{"type": "teleport", "ref": "t1"}', "unknown_type"),
    ('{"type": "post", "ref": "t2", "room": "case-review", "text": 42}', "invalid"),
    ('{"type": "post", "ref": "t3", "room": "case-review"}', "invalid"),
    ('{"type": "post", "ref": "t4", "room": "case-review", "text": "x", "evil": 1}', "invalid"),
    ('{"type": "join", "ref": "t5", "room": "no-such-room"}', "not_found"),
    ('{"type": "identify"}', "already_identified"),
])
async def test_bad_input_gets_typed_error_changes_nothing_and_connection_stays_usable(
    server, frame, code
):
    a = await joined(server, "Ann")
    head = await server.practica.store.head(STREAM)
    await a.send(frame)
    error = await a.wait_for(lambda f: f["type"] == "error")
    assert error["code"] == code
    if '"ref"' in frame:
        assert error["ref"] == json.loads(frame)["ref"]
    assert await server.practica.store.head(STREAM) == head
    ack = await a.command("post", room=ROOM, text="still usable")
    assert ack["type"] == "ack"
    await a.close()


async def test_commands_before_identify_are_refused(server):
    client = await signed_in(server, identify=False)
    reply = await client.command("post", room=ROOM, text="who am I")
    assert reply["code"] == "not_identified"
    await client.close()


async def test_post_without_join_is_refused(server):
    client = await signed_in(server, "Ann")
    reply = await client.command("post", room=ROOM, text="hello?")
    assert reply["type"] == "error" and reply["code"] == "not_joined"
    await client.close()


async def test_same_ref_twice_is_applied_once_and_answered_the_same(server):
    a, b = await joined(server, "Ann"), await joined(server, "Bob")
    frame = {"type": "post", "ref": "once", "room": ROOM, "text": "only once"}
    await a.send(frame)
    await a.send(frame)  # while the first may still be in flight
    first = await a.wait_for(lambda f: f.get("ref") == "once" and f["type"] == "ack")
    second = await a.wait_for(lambda f: f.get("ref") == "once" and f["type"] == "ack")
    third = await a.command("post", ref="once", room=ROOM, text="only once")  # after commit
    assert first["seq"] == second["seq"] == third["seq"]
    await b.command("post", room=ROOM, text="marker")
    await b.wait_for(lambda f: f["type"] == "event" and f["body"].get("text") == "marker")
    assert messages(b).count("only once") == 1
    await a.close()
    await b.close()


async def test_edit_and_delete_own_message_only(server):
    a, b = await joined(server, "Ann"), await joined(server, "Bob")
    posted = await a.command("post", room=ROOM, text="draft")
    message = posted["seq"]
    refused = await b.command("edit", room=ROOM, message=message, text="hijacked")
    assert refused["code"] == "forbidden"
    refused = await b.command("delete", room=ROOM, message=message)
    assert refused["code"] == "forbidden"
    missing = await a.command("edit", room=ROOM, message=999_999, text="nothing there")
    assert missing["code"] == "not_found"
    edited = await a.command("edit", room=ROOM, message=message, text="final")
    assert edited["type"] == "ack"
    deleted = await a.command("delete", room=ROOM, message=message)
    assert deleted["type"] == "ack"
    again = await a.command("edit", room=ROOM, message=message, text="undead")
    assert again["code"] == "not_found"
    event = await b.wait_for(lambda f: f["type"] == "event"
                             and f["body"]["type"] == "message_deleted")
    assert event["body"]["message"] == message
    kinds = [e["body"]["type"] for e in b.events(STREAM)]
    assert kinds.count("message_edited") == 1 and kinds.count("message_deleted") == 1
    await a.close()
    await b.close()


async def test_history_pages_back_with_edits_applied(server):
    a = await joined(server, "Ann")
    ids = [(await a.command("post", room=ROOM, text=f"m{i}"))["seq"] for i in range(7)]
    await a.command("edit", room=ROOM, message=ids[1], text="m1 edited")
    await a.command("delete", room=ROOM, message=ids[2])
    page = await a.command("history", room=ROOM, limit=4)
    assert [m["text"] for m in page["messages"]] == ["m3", "m4", "m5", "m6"]
    assert page["has_more"] is True
    page2 = await a.command("history", room=ROOM, limit=4, before=page["messages"][0]["id"])
    texts = [m["text"] for m in page2["messages"]]
    assert texts[-3:] == ["m0", "m1 edited", ""]
    assert page2["messages"][-2]["edited_ts"] is not None
    assert page2["messages"][-1]["deleted"] is True
    await a.close()


async def test_oversize_frame_closes_with_1009(server):
    client = await signed_in(server, "Big", max_size=None)
    await client.send({"type": "post", "ref": "big", "room": ROOM, "text": "x" * 70_000})
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.next_frame()
    assert closed.value.rcvd.code == 1009


async def test_bad_origin_gets_403_and_good_origins_connect(server):
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(server.ws_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    same = await signed_in(server, identify=False, origin=server.url)
    await same.close()


@pytest.mark.settings(allowed_origins=("https://app.example",))
async def test_configured_origin_is_allowed(server):
    client = await signed_in(server, identify=False, origin="https://app.example")
    await client.close()


@pytest.mark.settings(commands_per_minute=60, command_burst=3)
async def test_rate_limit_gives_typed_error_then_closes_on_abuse(server):
    client = await joined(server, "Spammer")  # the join used one token
    head = await server.practica.store.head(STREAM)
    replies = [await client.command("post", room=ROOM, text=f"s{i}") for i in range(3)]
    assert [r["type"] for r in replies] == ["ack", "ack", "error"]
    assert replies[2]["code"] == "rate_limited" and replies[2]["retry_after_ms"] > 0
    assert await server.practica.store.head(STREAM) == head + 2
    with pytest.raises(ConnectionClosed) as closed:
        for i in range(20):
            await client.send({"type": "post", "ref": f"x{i}", "room": ROOM, "text": "more"})
        while True:
            await client.next_frame()
    assert closed.value.rcvd.code == 4006


@pytest.mark.settings(identify_timeout_ms=300)
async def test_silent_client_is_closed_4001_before_identify(server):
    client = await signed_in(server, identify=False)
    with pytest.raises(ConnectionClosed) as closed:
        await client.next_frame(timeout=3)
    assert closed.value.rcvd.code == 4001


@pytest.mark.settings(heartbeat_interval_ms=200, heartbeat_timeout_ms=1400)
async def test_heartbeats_keep_alive_and_silence_closes_4004(server):
    client = await signed_in(server, "Beat")
    for _ in range(8):  # 2 s in all: past the 1.4 s deadline, alive only because of heartbeats
        await asyncio.sleep(0.25)
        await client.send({"type": "heartbeat"})
        assert (await client.wait_for(lambda f: f["type"] == "heartbeat_ack"))
    with pytest.raises(ConnectionClosed) as closed:
        await client.next_frame(timeout=4)
    assert closed.value.rcvd.code == 4004


async def test_server_shutdown_closes_with_1001(tmp_path):
    from tests.conftest import make_settings, running_server

    async with running_server(make_settings(tmp_path)) as srv:
        client = await signed_in(srv, "Ann")
    with pytest.raises(ConnectionClosed) as closed:
        await client.next_frame()
    assert closed.value.rcvd.code == 1001


@pytest.mark.settings(metrics_token="scrape-me")
async def test_healthz_and_metrics(server):
    a = await joined(server, "Ann")
    await a.command("post", room=ROOM, text="counted")
    async with httpx2.AsyncClient(base_url=server.url) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json()["ok"] is True
        metrics = (await http.get("/metrics", headers={
            "authorization": "Bearer scrape-me"})).text
        page = await http.get("/")
    for name in ("practica_open_connections 1.0", "practica_events_appended_total",
                 "practica_append_latency_seconds_bucket", "practica_send_queue_frames",
                 "practica_slow_consumers_dropped_total"):
        assert name in metrics
    assert "script-src 'self'" in page.headers["content-security-policy"]
    await a.close()


@pytest.mark.settings(send_queue_frames=16, commands_per_minute=100_000, command_burst=10_000,
                      heartbeat_timeout_ms=120_000)
async def test_reader_that_stops_reading_is_closed_4005_and_room_keeps_going(server):
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.settings.port))
    sleeper = await signed_in(server, "Sleeper", sock=sock, max_queue=1)
    await sleeper.command("join", room=ROOM)
    poster = await joined(server, "Poster")
    other = await joined(server, "Other")
    poster.keep_reading()
    other.keep_reading()
    big = "y" * 3900
    closed_code = None
    for batch in range(40):  # bounded: stops as soon as the server gives up on the sleeper
        for i in range(50):
            await poster.send({"type": "post", "ref": f"b{batch}-{i}", "room": ROOM, "text": big})
        await poster.wait_for(lambda f, b=batch: f.get("ref") == f"b{b}-49", timeout=20)
        if server.practica.metrics.slow_consumers._value.get() > 0:
            closed_code = 4005
            break
    assert closed_code == 4005, "the sleeper was never dropped"
    # The room never waited: the active reader got every message.
    last = [f["seq"] for f in poster.frames if f["type"] == "ack"][-1]
    await other.wait_for(lambda f: f["type"] == "event" and f["seq"] == last, timeout=10)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await sleeper.next_frame(timeout=10)
    # The close frame reaches it if the transport had room for it; else the TCP stream ends.
    assert closed.value.rcvd is None or closed.value.rcvd.code == 4005
    sleeper.ws.transport.abort()
    await poster.close()
    await other.close()
