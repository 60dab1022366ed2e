"""Recurring rooms over HTTP against the real app on a temp database: a convener
schedules, members plan, bad input is refused with nothing saved."""

from __future__ import annotations

import time

import pytest

from tests.people import Person
from tests.series_setup import BERLIN, community, create, joined, local_day, occurrences

pytestmark = pytest.mark.anyio
DAY = 86_400_000


async def head(server, series: str) -> int:
    return await server.practica.store.head(f"series:{series}")


async def test_a_convener_schedules_and_members_plan(server):
    owner, room = await community(server)
    ann = await joined(server, "Ann Member")
    made = await create(owner, room, series="clinic", lobby_min=15)
    assert (made["series"], made["rule"], made["zone"], made["host"]) == (
        "clinic", "FREQ=WEEKLY", BERLIN, owner.id)
    assert made["agenda"][0]["kind"] == "pairs"  # the community hour by default
    listed = (await ann.call("GET", "/api/communities/guild/series")).json()
    assert [s["series"] for s in listed] == ["clinic"]
    now = int(time.time() * 1000)
    first, second, third, *_ = await occurrences(ann, "clinic", from_ms=now,
                                                 to_ms=now + 30 * DAY)
    assert first["local_start"] == local_day(1) and first["zone"] == BERLIN
    assert second["start_ms"] - first["start_ms"] in (7 * DAY, 7 * DAY - 3_600_000,
                                                     7 * DAY + 3_600_000)
    assert first["lobby_opens_ms"] == first["start_ms"] - 15 * 60_000
    o = f"/api/series/clinic/occurrences/{second['occurrence']}"
    # The convener cancels one, moves another, gives a third another host.
    reply = await owner.call("POST", o + "/cancel", {"reason": "holiday"})
    assert reply.status_code == 200 and reply.json()["cancelled"], reply.text
    reply = await owner.call("POST", f"/api/series/clinic/occurrences/{third['occurrence']}"
                             "/move", {"start": local_day(16, "19:30")})
    assert reply.status_code == 200, reply.text
    assert reply.json()["moved"] and reply.json()["local_start"] == local_day(16, "19:30")
    # A member may not schedule: refused, nothing saved.
    before = await head(server, "clinic")
    refused = await ann.call("POST", o + "/restore")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    refused = await ann.call("POST", "/api/communities/guild/series",
                             {"room": room, "title": "Mine", "rule": "FREQ=DAILY",
                              "start": local_day(1), "zone": BERLIN})
    assert refused.status_code == 403
    assert await head(server, "clinic") == before
    # Members RSVP, propose and upvote topics, volunteer.
    f = f"/api/series/clinic/occurrences/{first['occurrence']}"
    reply = await ann.call("PUT", f + "/rsvp", {"answer": "yes"})
    assert reply.json()["my_rsvp"] == "yes" and reply.json()["rsvps"] == {ann.id: "yes"}
    topic = (await ann.call("POST", "/api/series/clinic/topics", {"title": "Syncope"})).json()
    voted = await owner.call("PUT", f"/api/series/clinic/topics/{topic['topic']}/vote")
    assert (voted.json()["votes"], voted.json()["voted"]) == (1, True)
    reply = await owner.call("PUT", f + "/title", {"title": "", "topic": topic["topic"]})
    assert reply.json()["title"] == "Syncope", reply.text
    assert (await ann.call("GET", "/api/series/clinic/topics")).json()[0]["used_for"] == [
        first["occurrence"]]
    gaps = (await owner.call("GET", "/api/communities/guild/gaps")).json()
    assert first["occurrence"] in [g["occurrence"] for g in gaps]
    assert second["occurrence"] not in [g["occurrence"] for g in gaps]  # cancelled
    assert (await ann.call("GET", "/api/communities/guild/gaps")).status_code == 403
    reply = await ann.call("POST", f + "/volunteer", {"role": "presenter"})
    assert reply.json()["presenter"] == ann.id and reply.json()["presenter_name"] == "Ann Member"
    reply = await owner.call("POST", f + "/volunteer", {"role": "backup"})
    assert reply.json()["backup"] == owner.id
    gaps = (await owner.call("GET", "/api/communities/guild/gaps")).json()
    assert first["occurrence"] not in [g["occurrence"] for g in gaps]
    taken = await owner.call("POST", f + "/volunteer", {"role": "presenter"})
    assert taken.status_code == 409 and taken.json()["code"] == "conflict"
    # The community's upcoming list holds every series' occurrences, soonest first.
    upcoming = (await ann.call("GET", "/api/communities/guild/occurrences")).json()
    starts = [o["start_ms"] for o in upcoming]
    assert starts == sorted(starts) and upcoming[0]["occurrence"] == first["occurrence"]
    # Edit the rule from now on; end the series.
    edited = await owner.call("PATCH", "/api/series/clinic", {"rule": "FREQ=WEEKLY;INTERVAL=2"})
    assert edited.status_code == 200 and edited.json()["rule"] == "FREQ=WEEKLY;INTERVAL=2"
    ended = await owner.call("POST", "/api/series/clinic/end", {"at_ms": now + 20 * DAY})
    assert ended.json()["ended_ms"] == now + 20 * DAY
    assert all(o["start_ms"] < now + 20 * DAY
               for o in await occurrences(ann, "clinic", from_ms=now, to_ms=now + 60 * DAY))
    audit = (await owner.call("GET", "/api/communities/guild/audit")).json()
    assert "schedule_series" in {e["action"] for e in audit["entries"]}


@pytest.mark.parametrize(("fields", "status", "code", "says"), [
    ({"rule": "FREQ=SOMETIMES"}, 400, "invalid", "FREQ must be one of"),
    ({"rule": "WEEKLY ON TUESDAYS"}, 400, "invalid", "invalid RRULE"),
    ({"zone": "Europe/Atlantis"}, 400, "invalid", "unknown time zone"),
    ({"rule": "FREQ=WEEKLY;UNTIL=20200101T000000Z"}, 400, "invalid", "ends before it starts"),
    ({"start": "next tuesday"}, 400, "invalid", ""),
    ({"room": "no-such-room"}, 404, "not_found", "no room"),
    ({"host": "nobody"}, 400, "invalid", "cannot host"),
])
async def test_a_bad_series_is_refused_and_nothing_is_saved(server, fields, status, code, says):
    owner, room = await community(server)
    body = {"room": room, "title": "Case clinic", "rule": "FREQ=WEEKLY",
            "start": local_day(1), "zone": BERLIN, "series": "bad", **fields}
    reply = await owner.call("POST", "/api/communities/guild/series", body)
    assert (reply.status_code, reply.json()["code"]) == (status, code), reply.text
    assert says in reply.json()["message"]
    assert await head(server, "bad") == 0
    assert (await owner.call("GET", "/api/communities/guild/series")).json() == []


async def test_bad_changes_are_refused_and_nothing_is_saved(server):
    owner, room = await community(server)
    await create(owner, room, series="clinic")
    now = int(time.time() * 1000)
    first, second, *_ = await occurrences(owner, "clinic", from_ms=now, to_ms=now + 30 * DAY)
    before = await head(server, "clinic")
    o = f"/api/series/clinic/occurrences/{first['occurrence']}"
    refusals = [
        # moved onto the next occurrence
        (await owner.call("POST", o + "/move", {"start": local_day(8, "18:30")}), 409,
         "conflict"),
        (await owner.call("POST", o + "/move", {"start": local_day(-3)}), 400, "invalid"),
        (await owner.call("PATCH", "/api/series/clinic", {"rule": "FREQ=MINUTELY"}), 400,
         "invalid"),
        (await owner.call("PATCH", "/api/series/clinic", {"zone": "Nowhere/City"}), 400,
         "invalid"),
        # ending the series before its first occurrence: end before start
        (await owner.call("POST", "/api/series/clinic/end", {"at_ms": now + 60_000}), 400,
         "invalid"),
        (await owner.call("POST", "/api/series/clinic/occurrences/20200101T170000Z/cancel",
                          {}), 404, "not_found"),
        (await owner.call("POST", "/api/series/clinic/occurrences/not-a-key/cancel", {}),
         404, "not_found"),
        (await owner.call("PUT", "/api/series/clinic/topics/999/vote"), 404, "not_found"),
        (await owner.call("PUT", o + "/host", {"host": "nobody"}), 400, "invalid"),
    ]
    for reply, status, code in refusals:
        assert (reply.status_code, reply.json()["code"]) == (status, code), reply.text
    assert await head(server, "clinic") == before
    second_now = await owner.call("GET", f"/api/series/clinic/occurrences/{second['occurrence']}")
    assert second_now.json()["start_ms"] == second["start_ms"]


async def test_a_repeated_idempotency_key_applies_a_change_once(server):
    owner, room = await community(server)
    headers = {"x-csrf-token": owner.csrf, "idempotency-key": "make-clinic-1"}
    body = {"room": room, "title": "Case clinic", "rule": "FREQ=WEEKLY",
            "start": local_day(1), "zone": BERLIN}
    first = await owner.call("POST", "/api/communities/guild/series", body, headers=headers)
    again = await owner.call("POST", "/api/communities/guild/series", body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["series"] == again.json()["series"]
    assert len((await owner.call("GET", "/api/communities/guild/series")).json()) == 1
    series = first.json()["series"]
    topic = {"x-csrf-token": owner.csrf, "idempotency-key": "topic-1"}
    one = await owner.call("POST", f"/api/series/{series}/topics", {"title": "A"},
                           headers=topic)
    two = await owner.call("POST", f"/api/series/{series}/topics", {"title": "A"},
                           headers=topic)
    assert one.json() == two.json()
    assert len((await owner.call("GET", f"/api/series/{series}/topics")).json()) == 1


async def test_a_series_stream_is_followed_over_the_socket_without_snapshots(server):
    owner, room = await community(server)
    await create(owner, room, series="clinic")
    ann = await joined(server, "Ann Member")
    outsider = await Person.sign_up(server.url, "Otto Outsider")
    socket = await ann.connect(server.ws_url)
    ready = await socket.resume({"series:clinic": 10_000}, community="guild")
    (sync,) = [s for s in ready["syncs"] if s["stream"] == "series:clinic"]
    assert sync["mode"] == "replay" and sync["seq"] == 1 and sync["reason"]
    assert sync.get("snapshot") is None
    (first, *_) = await occurrences(owner, "clinic")
    o = f"/api/series/clinic/occurrences/{first['occurrence']}"
    assert (await owner.call("POST", o + "/cancel", {"reason": "snow"})).status_code == 200
    event = await socket.wait_for(lambda f: f["type"] == "event"
                                  and f["stream"] == "series:clinic")
    assert event["body"] == {"type": "occurrence_cancelled",
                             "occurrence": first["occurrence"], "reason": "snow"}
    await socket.close()
    theirs = await outsider.connect(server.ws_url)
    ready = await theirs.resume({"series:clinic": 0})
    refused = [s for s in ready.get("syncs", []) if s["stream"] == "series:clinic"]
    assert ready["type"] == "error" or refused[0]["mode"] == "refused", ready
    await theirs.close()


async def test_take_back_a_cancellation_a_volunteer_and_a_vote(server):
    owner, room = await community(server)
    ann = await joined(server, "Ann Member")
    await create(owner, room, series="clinic")
    (first, *_) = await occurrences(owner, "clinic")
    o = f"/api/series/clinic/occurrences/{first['occurrence']}"
    assert (await owner.call("POST", o + "/cancel", {})).json()["cancelled"]
    refused = await ann.call("PUT", o + "/rsvp", {"answer": "yes"})
    assert (refused.status_code, refused.json()["code"]) == (409, "out_of_order")
    assert not (await owner.call("POST", o + "/restore")).json()["cancelled"]
    assert (await ann.call("POST", o + "/volunteer", {"role": "backup"})).json()["backup"]
    not_hers = await ann.call("POST", o + "/withdraw", {"role": "presenter"})
    assert (not_hers.status_code, not_hers.json()["code"]) == (400, "invalid")
    assert (await ann.call("POST", o + "/withdraw", {"role": "backup"})).json()[
        "backup"] is None
    topic = (await ann.call("POST", "/api/series/clinic/topics", {"title": "T"})).json()
    vote = f"/api/series/clinic/topics/{topic['topic']}/vote"
    assert (await ann.call("PUT", vote)).json()["votes"] == 1
    taken_back = (await ann.call("DELETE", vote)).json()
    assert (taken_back["votes"], taken_back["voted"]) == (0, False)
    assert (await ann.call("GET", "/api/series/clinic/topics")).json() == [taken_back]
    head_before = await head(server, "clinic")
    assert (await ann.call("DELETE", vote)).status_code == 200  # nothing to take back
    assert await head(server, "clinic") == head_before
