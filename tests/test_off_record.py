"""Off the record: what is said and noted reaches those following the session live, in
every process, and is never stored; the store keeps only that the stretch happened."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from server.domain.events import session_stream
from server.domain.session_events import (
    ChatSaid,
    OffRecordEnded,
    OffRecordStarted,
    SessionStarted,
)
from tests.people import Person
from tests.test_cluster import on, two_servers, until_true
from tests.test_transcripts import SESSION, session_op
from tests.wsclient import Client

pytestmark = pytest.mark.anyio
SECRETS = ("we lost a patient", "the audit found nothing")


def stamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


async def following(person: Person, server: Any) -> Client:
    socket = await person.connect(server.ws_url)
    socket.keep_reading()
    assert (await socket.identify(community="guild"))["type"] == "ready"
    await session_op(socket, {"op": "attend"})
    return socket


async def all_bodies(server: Any) -> bytes:
    """Every stored event body of every stream, as JSON (audit log included)."""
    store = server.practica.store
    rows = b""
    for stream in await store.streams(""):
        for event in await store.read(stream, 0, 100_000):
            rows += repr(event.body).encode()
    return rows


async def off_the_record_is_relayed_not_stored(a: Any, b: Any) -> None:
    """``a`` and ``b`` may be one process or two sharing PostgreSQL and Redis."""
    owner = await Person.sign_up(a.url, "Hana Host")
    made = await owner.call("POST", "/api/communities", {
        "community": "guild", "name": "Guild", "domain": "d", "purpose": "p",
        "join_policy": "open"})
    assert made.status_code == 201, made.text
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    member = await Person.sign_up(a.url, "Mo Member")
    await member.join("guild")
    host = await owner.connect(a.ws_url)
    host.keep_reading()
    await host.identify(community="guild")
    await session_op(host, {"op": "open", "room": room, "title": "Failures hour"})
    await session_op(host, {"op": "start"})
    await session_op(host, {"op": "attend"})
    listener = await following(on(b, member), b)
    await until_true(lambda: member.id in a.practica.folds.session(SESSION).attendees,
                     "the host's process sees the member attending")
    await session_op(host, {"op": "name_scribe", "member": member.id})
    await session_op(host, {"op": "say", "text": "on the record"})
    store = a.practica.store
    head = await store.head(session_stream(SESSION))

    await session_op(host, {"op": "off_record", "on": True})
    await until_true(lambda: b.practica.folds.session(SESSION).off_record is not None,
                     "the member's process knows the session is off the record")
    said = await session_op(host, {"op": "say", "text": SECRETS[0]})
    assert said.get("seq") is None  # acknowledged, nothing appended
    heard = await listener.wait_for(lambda f: f["type"] == "relayed")
    assert heard == {"type": "relayed", "stream": session_stream(SESSION), "kind": "off_record",
                     "from": {"id": owner.id, "name": "Hana Host"},
                     "data": {"what": "say", "text": SECRETS[0], "name": "Hana Host"}}
    await session_op(listener, {"op": "note", "text": SECRETS[1]})  # the scribe's note
    noted = await host.wait_for(lambda f: f["type"] == "relayed")
    assert noted["data"] == {"what": "note", "text": SECRETS[1], "name": "Mo Member"}
    await session_op(host, {"op": "off_record", "on": False})
    await until_true(lambda: b.practica.folds.session(SESSION).off_record is None,
                     "the member's process knows the session is on the record again")
    await session_op(listener, {"op": "say", "text": "back on the record"})

    stretch = await store.read(session_stream(SESSION), head)
    assert [type(e.body) for e in stretch] == [OffRecordStarted, OffRecordEnded, ChatSaid]
    started, ended, after = stretch
    assert ended.body.started_ms == started.ts and started.actor == ended.actor == owner.id  # type: ignore[union-attr]
    assert after.body.text == "back on the record"  # type: ignore[union-attr]
    stored = await all_bodies(a)
    assert all(secret.encode() not in stored for secret in SECRETS)
    # A caption file cannot put back what was said off the record: its cues in the
    # stretch are left out.
    begun = next(e.ts for e in await store.read(session_stream(SESSION))
                 if isinstance(e.body, SessionStarted))
    inside, before = started.ts - begun + 1, max(started.ts - begun - 2000, 0)
    vtt = (f"WEBVTT\n\n{stamp(before)} --> {stamp(before + 1)}\nkept line\n\n"
           f"{stamp(inside)} --> {stamp(inside + 1)}\n{SECRETS[0]}\n").encode()
    async with httpx2.AsyncClient(base_url=owner.base_url, cookies=owner.cookies) as http:
        uploaded = await http.post(f"/api/sessions/{SESSION}/captions", content=vtt,
                                   headers={"x-csrf-token": owner.csrf})
    assert (uploaded.status_code, uploaded.json()["cues"], uploaded.json()["left_out"]) == (
        201, 1, 1), uploaded.text
    stored = await all_bodies(a)
    assert b"kept line" in stored and SECRETS[0].encode() not in stored
    markdown = (await owner.call("GET", f"/api/sessions/{SESSION}/transcript.md")).text
    assert "_Off the record from " in markdown and " by_ **Hana Host**" in markdown
    assert all(secret not in markdown for secret in SECRETS)
    await host.close()
    await listener.close()


async def test_off_the_record_is_relayed_and_never_stored(server):
    await off_the_record_is_relayed_not_stored(server, server)


async def test_off_the_record_reaches_followers_in_another_process(tmp_path):
    async with two_servers(tmp_path) as (a, b, _):
        await off_the_record_is_relayed_not_stored(a, b)
