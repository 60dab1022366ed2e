"""The transcript over HTTP against a running server: exports (Markdown, WebVTT,
JSON) with their permissions, and WebVTT caption uploads (hosts and the scribe only,
applied once per Idempotency-Key, a bad file changing nothing)."""

from __future__ import annotations

from typing import Any

import httpx2
import msgspec
import pytest

from server.domain.captions import parse_webvtt
from server.domain.events import audit_stream, session_stream
from server.domain.session_events import CaptionAdded, SessionStarted
from server.domain.transcript import Transcript
from tests.people import Person
from tests.test_communities import found
from tests.wsclient import Client

pytestmark = pytest.mark.anyio
BACKENDS = ["sqlite", "postgres+redis"]
SESSION = "s-hour"
CAPTIONS = (b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Olu Owner>Welcome\n\n"
            b"00:00:04.000 --> 00:00:06.500\nLet us begin\n")


async def session_op(socket: Client, op: dict[str, Any], session: str = SESSION
                     ) -> dict[str, Any]:
    reply = await socket.command("session", session=session, op=op)
    assert reply["type"] == "ack", reply
    return reply


async def open_session(server: Any, owner: Person, room: str, session: str = SESSION,
                       community: str = "guild") -> None:
    """A session run through its commands: opened, started, one chat line, one
    anonymous question."""
    socket = await owner.connect(server.ws_url)
    assert (await socket.identify(community=community))["type"] == "ready"
    await session_op(socket, {"op": "open", "room": room, "title": "Community hour",
                              "agenda": [{"kind": "presentation", "title": "Talk",
                                          "minutes": 50}]}, session)
    await session_op(socket, {"op": "start"}, session)
    await session_op(socket, {"op": "say", "text": "hello *all*"}, session)
    await session_op(socket, {"op": "ask", "text": "Who pays?", "anonymous": True}, session)
    await socket.close()


async def community_with_session(server: Any) -> tuple[Person, Person, str]:
    owner = await found(server, join_policy="open")
    room = (await owner.call("POST", "/api/communities/guild/rooms",
                             {"name": "Clinic"})).json()["rooms"][0]["room"]
    member = await Person.sign_up(server.url, "Mo Member")
    await member.join("guild")
    await open_session(server, owner, room)
    return owner, member, room


async def upload(person: Person, data: bytes, key: str | None = None) -> httpx2.Response:
    headers = {"x-csrf-token": person.csrf, "content-type": "text/vtt"}
    if key is not None:
        headers["idempotency-key"] = key
    async with httpx2.AsyncClient(base_url=person.base_url, cookies=person.cookies) as http:
        return await http.post(f"/api/sessions/{SESSION}/captions", content=data,
                               headers=headers)


async def test_exports_have_their_types_names_and_contents(server):
    owner, member, _ = await community_with_session(server)
    base = f"/api/sessions/{SESSION}/transcript"
    markdown = await member.call("GET", base + ".md?tz=Europe/Paris")
    assert markdown.status_code == 200, markdown.text
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.headers["content-disposition"] == (
        f'attachment; filename="{SESSION}-transcript.md"')
    assert markdown.text.startswith("# Community hour\n")
    assert "**Olu Owner**: hello \\*all\\*" in markdown.text
    assert "(**Anonymous**, 0 votes, open): Who pays?" in markdown.text
    assert "(times in CET)" in markdown.text
    vtt = await member.call("GET", base + ".vtt")
    assert vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    assert vtt.headers["content-disposition"].endswith(f'"{SESSION}-transcript.vtt"')
    assert [c.text for c in parse_webvtt(vtt.content)] == [
        "The session started (Olu Owner)", "hello *all*", "Question 1: Who pays?"]
    as_json = await member.call("GET", base + ".json")
    assert as_json.headers["content-type"] == "application/json"
    transcript = msgspec.json.decode(as_json.content, type=Transcript)
    assert transcript.session == SESSION and transcript.segments[0].title == "Talk"
    asked = [line for s in transcript.segments for line in s.lines if line.kind == "question"]
    assert [(q.who, q.text) for q in asked] == [("Anonymous", "Who pays?")]
    assert owner.id not in as_json.text  # nobody is named by id, the anonymous asker least


async def test_exports_are_read_like_the_session_stream(server):
    await community_with_session(server)
    outsider = await Person.sign_up(server.url, "Out Sider")
    for ext in ("md", "vtt", "json"):
        refused = await outsider.call("GET", f"/api/sessions/{SESSION}/transcript.{ext}")
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        missing = await outsider.call("GET", f"/api/sessions/nothing/transcript.{ext}")
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    signed_out = await Person(server.url).call("GET", f"/api/sessions/{SESSION}/transcript.md")
    assert signed_out.status_code == 401
    member = await Person.sign_up(server.url, "Mae")
    await member.join("guild")
    zone = await member.call("GET", f"/api/sessions/{SESSION}/transcript.md?tz=Mars/Base")
    assert (zone.status_code, zone.json()["code"]) == (400, "invalid")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_host_uploads_captions_once_per_key_with_its_audit_entry(server, backend):
    owner, _, _ = await community_with_session(server)
    store = server.practica.store
    head, audit_head = await store.head(session_stream(SESSION)), await store.head(
        audit_stream("guild"))
    first = await upload(owner, CAPTIONS, key="captions-1")
    assert first.status_code == 201, first.text
    assert first.json() == {"session": SESSION, "cues": 2, "left_out": 0,
                            "first_seq": head + 1, "last_seq": head + 2}
    again = await upload(owner, CAPTIONS, key="captions-1")
    assert (again.status_code, again.json()) == (201, first.json())
    added = await store.read(session_stream(SESSION), head)
    started = next(e.ts for e in await store.read(session_stream(SESSION))
                   if isinstance(e.body, SessionStarted))  # cue times count from here
    assert [e.body for e in added] == [
        CaptionAdded(text="Welcome", start_ms=started + 1000, end_ms=started + 3000,
                     speaker="Olu Owner"),
        CaptionAdded(text="Let us begin", start_ms=started + 4000, end_ms=started + 6500)]
    audit = await store.read(audit_stream("guild"), audit_head)
    assert [(e.body.action, e.body.target, e.body.detail) for e in audit] == [  # type: ignore[union-attr]
        ("upload_captions", SESSION, "2 caption cues from a WebVTT file")]
    markdown = (await owner.call("GET", f"/api/sessions/{SESSION}/transcript.md")).text
    assert "**Olu Owner**: Welcome _(caption)_" in markdown


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_hosts_and_the_scribe_upload_and_a_bad_file_adds_nothing(server, backend):
    owner, member, _ = await community_with_session(server)
    store = server.practica.store
    head = await store.head(session_stream(SESSION))
    refused = await upload(member, CAPTIONS)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    bad = await upload(owner, b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nok\n\n"
                              b"00:00:09.000 --> 00:00:05.000\nbackwards\n")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
    assert bad.json()["message"] == "line 6 (cue 2): the cue ends before it starts"
    too_big = await upload(owner, b"WEBVTT\n\n" + b"x" * 70_000)
    assert too_big.status_code == 413
    assert await store.head(session_stream(SESSION)) == head
    attending = await member.connect(server.ws_url)
    await attending.identify(community="guild")
    await session_op(attending, {"op": "attend"})
    socket = await owner.connect(server.ws_url)
    await socket.identify(community="guild")
    await session_op(socket, {"op": "name_scribe", "member": member.id})
    await socket.close()
    await attending.close()
    scribe = await upload(member, CAPTIONS)
    assert (scribe.status_code, scribe.json()["cues"]) == (201, 2), scribe.text
    missing = await upload(owner, CAPTIONS.replace(b"Welcome", b"Hi"))
    assert missing.status_code == 201
    async with httpx2.AsyncClient(base_url=owner.base_url, cookies=owner.cookies) as http:
        nowhere = await http.post("/api/sessions/nothing/captions", content=CAPTIONS,
                                  headers={"x-csrf-token": owner.csrf})
    assert nowhere.status_code == 404
