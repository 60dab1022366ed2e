"""``follow`` over a real socket: a member follows a community's series streams and gets
their events as conveners change them (how the Schedule pane stays live), or a session's
stream from the seq its transcript was read at (how a transcript or artefact page stays
live in any tab) without attending it or appearing present; anyone who may not read one,
or names what is no followable stream, gets a typed error and nothing of it."""

from __future__ import annotations

import asyncio

import pytest

from tests.series_setup import community, create, joined, occurrences
from tests.session_setup import attend, circle, member, op, open_session
from tests.test_cluster import two_servers
from tests.test_session_guests import enter
from tests.test_session_pairs import pairs_room, partner_of
from tests.test_session_scaleout import event_of
from tests.test_transcripts import SESSION, community_with_session, session_op
from tests.test_transcripts import open_session as open_transcript

pytestmark = pytest.mark.anyio
BACKENDS = ["sqlite", "postgres+redis"]


async def cancel_first(owner, series: str) -> None:
    first = (await occurrences(owner, series))[0]["occurrence"]
    reply = await owner.call("POST", f"/api/series/{series}/occurrences/{first}/cancel",
                             {"reason": "snow"})
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_member_following_a_series_gets_its_events_as_a_convener_changes_it(server):
    owner, room = await community(server)
    series = (await create(owner, room))["series"]
    stream = f"series:{series}"
    head = await server.practica.store.head(stream)
    ann = await joined(server, "Ann Member")
    ws = await ann.connect(server.ws_url)
    await ws.identify(community="guild")

    ack = await ws.command("follow", streams={stream: head})  # the seq its view was read at
    assert ack["type"] == "ack", ack
    (sync,) = ack["syncs"]
    assert (sync["stream"], sync["mode"], sync["seq"]) == (stream, "replay", head)
    assert "events" not in sync

    await cancel_first(owner, series)
    event = await ws.wait_for(lambda f: f["type"] == "event" and f["stream"] == stream)
    assert event["seq"] == head + 1
    await ws.close()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_outsider_is_refused_and_gets_nothing_of_the_series(server):
    owner, room = await community(server)
    series = (await create(owner, room))["series"]
    stream = f"series:{series}"
    await community(server, "other")
    otto = await joined(server, "Otto Outsider", community="other")
    ws = await otto.connect(server.ws_url)
    await ws.identify(community="other")

    refused = await ws.command("follow", streams={stream: 0})
    assert (refused["type"], refused["code"]) == ("error", "forbidden"), refused

    ann = await joined(server, "Ann Member")  # a member's socket shows the event went out
    member_ws = await ann.connect(server.ws_url)
    await member_ws.identify(community="guild")
    await member_ws.command("follow", streams={stream: 0})
    await cancel_first(owner, series)
    await member_ws.wait_for(lambda f: f["type"] == "event" and f["stream"] == stream)
    probe = await ws.command("follow", streams={"series:nope": 0})  # a round trip after it
    assert probe["code"] == "not_found"
    assert ws.events(stream) == []
    await ws.close()
    await member_ws.close()


async def test_a_series_changed_in_one_process_reaches_its_follower_in_another(tmp_path):
    async with two_servers(tmp_path) as (a, b, _):
        owner, room = await community(a)
        series = (await create(owner, room))["series"]
        stream = f"series:{series}"
        ann = await joined(b, "Ann Member")
        ws = await ann.connect(b.ws_url)
        await ws.identify(community="guild")
        head = await b.practica.store.head(stream)
        assert (await ws.command("follow", streams={stream: head}))["type"] == "ack"
        await cancel_first(owner, series)  # owner's calls go to process a
        event = await ws.wait_for(lambda f: f["type"] == "event" and f["stream"] == stream)
        assert (event["seq"], event["body"]["type"]) == (head + 1, "occurrence_cancelled")
        await ws.close()


async def test_a_follow_replays_what_came_after_the_seq_the_view_was_read_at(server):
    owner, room = await community(server)
    view = await create(owner, room)
    stream = f"series:{view['series']}"
    await cancel_first(owner, view["series"])  # after the view was read, before the follow
    ann = await joined(server, "Ann Member")
    ws = await ann.connect(server.ws_url)
    await ws.identify(community="guild")
    ack = await ws.command("follow", streams={stream: view["seq"]})
    (sync,) = ack["syncs"]
    assert [e["seq"] for e in sync["events"]] == [view["seq"] + 1]
    assert sync["seq"] == view["seq"] + 1 == await server.practica.store.head(stream)
    await ws.close()


async def test_a_guest_of_the_community_may_not_follow_its_series(server):
    owner, _, room = await community_with_session(server)
    stream = f"series:{(await create(owner, room))['series']}"
    made = await owner.call("POST", "/api/communities/guild/invites",
                            {"kind": "guest", "session": SESSION, "max_uses": 1})
    guest = await enter(server, made.json()["token"], "Remote Rosa")
    ws = await guest.connect(server.ws_url)
    assert (await ws.identify())["session"]["role"] == "guest"
    refused = await ws.command("follow", streams={stream: 0})
    assert (refused["type"], refused["code"]) == ("error", "forbidden"), refused
    await ws.close()


@pytest.mark.parametrize(("extra", "code"), [
    ("series:nope", "not_found"),
    ("room:{room}", "invalid"),
    ("audit:guild", "forbidden"),
    ("nothing", "not_found"),
])
async def test_one_stream_not_followable_refuses_the_whole_follow(server, extra, code):
    owner, room = await community(server)
    series = (await create(owner, room))["series"]
    stream = f"series:{series}"
    ann = await joined(server, "Ann Member")
    ws = await ann.connect(server.ws_url)
    await ws.identify(community="guild")

    refused = await ws.command("follow", streams={stream: 0, extra.format(room=room): 0})
    assert (refused["type"], refused["code"]) == ("error", code), refused
    assert "syncs" not in refused

    await cancel_first(owner, series)  # not followed: the whole command changed nothing
    again = await ws.command("follow", streams={stream: 0})  # a round trip after the change
    assert again["type"] == "ack"
    assert ws.events(stream) == []
    await ws.close()


@pytest.mark.settings(max_resume_streams=2)
async def test_following_more_streams_than_the_limit_is_refused(server):
    owner, room = await community(server)
    names = [f"series:{(await create(owner, room, title=f'S{i}'))['series']}" for i in range(3)]
    ann = await joined(server, "Ann Member")
    ws = await ann.connect(server.ws_url)
    await ws.identify(community="guild")
    refused = await ws.command("follow", streams=dict.fromkeys(names, 0))
    assert (refused["type"], refused["code"]) == ("error", "invalid"), refused
    assert (await ws.command("follow", streams=dict.fromkeys(names[:2], 0)))["type"] == "ack"
    await ws.close()


async def test_a_removed_member_stops_getting_the_series(server):
    owner, room = await community(server)
    series = (await create(owner, room))["series"]
    stream = f"series:{series}"
    ann = await joined(server, "Ann Member")
    ws = await ann.connect(server.ws_url)
    await ws.identify(community="guild")
    await ws.command("follow", streams={stream: 0})
    reply = await owner.call("POST", f"/api/communities/guild/members/{ann.id}/remove", {})
    assert reply.status_code == 204, reply.text
    gone = await ws.wait_for(lambda f: f["type"] == "unsubscribed" and f["stream"] == stream)
    assert gone["code"] == "forbidden"
    await ws.close()


async def test_follow_before_identify_is_refused(server):
    owner, room = await community(server)
    series = (await create(owner, room))["series"]
    ws = await owner.connect(server.ws_url)
    refused = await ws.command("follow", streams={f"series:{series}": 0})
    assert (refused["type"], refused["code"]) == ("error", "not_identified"), refused
    await ws.close()


# --- following a session (its transcript page, an artefact quoting it) -------------------


async def read_transcript(person, session: str) -> dict:
    reply = await person.call("GET", f"/api/sessions/{session}/transcript.json")
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_member_following_a_session_hears_an_erasure_and_is_not_there(server):
    c = await circle(server, members=2)
    (ann, ann_ws), (bob, bob_ws) = c.members
    session = await open_session(c)
    stream = f"session:{session}"
    for socket in (c.host_ws, ann_ws):
        await attend(socket, session)
    said = await op(ann_ws, session, "say", text="My pangolin is shy")
    transcript = await read_transcript(bob, session)  # Bob reads the transcript page only
    assert transcript["seq"] == said["seq"] == await server.practica.store.head(stream)

    ack = await bob_ws.command("follow", streams={stream: transcript["seq"]})
    assert ack["type"] == "ack", ack
    (sync,) = ack["syncs"]
    assert (sync["stream"], sync["mode"], sync["seq"]) == (stream, "replay", transcript["seq"])
    erased = await ann.call("POST", f"/api/sessions/{session}/lines/{said['seq']}/erase")
    assert erased.status_code == 200, erased.text
    heard = await bob_ws.wait_for(event_of("words_erased"))
    assert heard["stream"] == stream and said["seq"] in heard["body"]["seqs"]

    # Following neither attends nor enters: Bob is in no one's count of who is there.
    assert bob.id not in server.practica.folds.session(session).attendees
    assert ann.id in server.practica.folds.session(session).attendees
    room = server.practica.folds.rooms.get(c.room)
    assert room is None or bob.id not in room.present
    for socket in (c.host_ws, ann_ws, bob_ws):
        await socket.close()


async def test_a_follow_from_a_seq_replays_what_the_transcript_read_missed(server):
    c = await circle(server, members=1)
    ((ann, ann_ws),) = c.members
    session = await open_session(c)
    stream = f"session:{session}"
    await attend(ann_ws, session)
    seq = (await read_transcript(ann, session))["seq"]
    said = await op(ann_ws, session, "say", text="after the read")  # before the follow
    other = await ann.connect(server.ws_url)  # a second tab, on the transcript page
    await other.identify(community=c.community)
    ack = await other.command("follow", streams={stream: seq})
    (sync,) = ack["syncs"]
    assert sync["mode"] == "replay" and [e["seq"] for e in sync["events"]] == [said["seq"]]
    for socket in (c.host_ws, ann_ws, other):
        await socket.close()


async def test_an_outsider_and_a_guest_of_another_session_may_not_follow_it(server):
    owner, _, room = await community_with_session(server)
    await open_transcript(server, owner, room, "s-other")
    stream = f"session:{SESSION}"
    link = await owner.call("POST", "/api/communities/guild/invites",
                            {"kind": "guest", "session": "s-other", "max_uses": 1})
    assert link.status_code == 201, link.text
    guest = await enter(server, link.json()["token"], "Remote Rosa")
    guest_ws = await guest.connect(server.ws_url)
    await guest_ws.identify()
    await community(server, "other")
    otto = await joined(server, "Otto Outsider", community="other")
    otto_ws = await otto.connect(server.ws_url)
    await otto_ws.identify(community="other")

    for socket in (guest_ws, otto_ws):
        refused = await socket.command("follow", streams={stream: 0})
        assert (refused["type"], refused["code"]) == ("error", "forbidden"), refused
        assert "syncs" not in refused
    theirs = await guest_ws.command("follow", streams={"session:s-other": 0})
    assert theirs["type"] == "ack"  # the guest's own session is theirs to follow
    host = await owner.connect(server.ws_url)
    await host.identify(community="guild")
    await session_op(host, {"op": "say", "text": "secret of the clinic"})
    await host.close()
    probe = await otto_ws.command("follow", streams={"session:nope": 0})  # a round trip
    assert probe["code"] == "not_found"
    assert guest_ws.events(stream) == [] and otto_ws.events(stream) == []
    await guest_ws.close()
    await otto_ws.close()


@pytest.mark.settings(presence_grace_ms=600_000)
async def test_a_session_follower_gets_no_breakout_talk_only_the_group_does(server):
    """A follow only listens: breakout talk reaches the group's attending sockets, never
    a follower's, not even a tab of the partner's that only follows (a transcript page)."""
    r = await pairs_room(server, 4)
    await r.checked("host", "pair")
    (partner,) = partner_of(r, "ann")
    other = next(n for n in r.people if r.id(n) not in (r.id("ann"), partner))
    eve, _ = await member(server, r.c.community, "Eve Reader")  # on the transcript page
    tabs = []
    for person in (eve, r.people[other][0], r.people[r.name_of(partner)][0]):
        tab = await person.connect(server.ws_url)
        await tab.identify(community=r.c.community)
        assert (await tab.command("follow", streams={r.stream: await r.head()}))["type"] == "ack"
        tabs.append(tab)

    assert (await op(r.ws("ann"), r.session, "breakout_say", text="just us"))["type"] == "ack"
    got = await r.ws(r.name_of(partner)).wait_for(lambda f: f["type"] == "relayed")
    assert (got["kind"], got["data"]["text"]) == ("breakout", "just us")
    probe = await tabs[0].command("follow", streams={"session:nope": 0})  # a round trip
    assert probe["code"] == "not_found"
    await asyncio.sleep(0.2)
    assert [f for tab in tabs for f in tab.frames if f["type"] == "relayed"] == []
    assert eve.id not in r.state.attendees
    for tab in tabs:
        await tab.close()


async def test_off_the_record_talk_reaches_who_attends_not_who_follows(server):
    """Off the record is said to those there: a member who only follows the session (its
    transcript page) hears none of it, and is in no count of who is there; once they
    attend, on that same socket, they hear it."""
    c = await circle(server, members=2)
    (_, ann_ws), (bob, bob_ws) = c.members
    session = await open_session(c)
    stream = f"session:{session}"
    await attend(ann_ws, session)
    head = (await read_transcript(bob, session))["seq"]
    assert (await bob_ws.command("follow", streams={stream: head}))["type"] == "ack"
    assert (await op(c.host_ws, session, "off_record", on=True))["type"] == "ack"
    await bob_ws.wait_for(event_of("off_record_started"))
    await op(c.host_ws, session, "say", text="between us here")
    heard = await ann_ws.wait_for(lambda f: f["type"] == "relayed")
    assert heard["data"]["text"] == "between us here"
    probe = await bob_ws.command("follow", streams={"session:nope": 0})  # a round trip
    assert probe["code"] == "not_found"
    assert [f for f in bob_ws.frames if f["type"] == "relayed"] == []

    await attend(bob_ws, session)  # now there: the room's talk reaches this socket
    await op(c.host_ws, session, "say", text="and now with Bob")
    heard = await bob_ws.wait_for(lambda f: f["type"] == "relayed")
    assert heard["data"]["text"] == "and now with Bob"
    for socket in (c.host_ws, ann_ws, bob_ws):
        await socket.close()
