"""Repertoire search over a real server, on both stores: artefacts and transcript lines
are found, title matches rank first, a revision replaces what is indexed, only what the
searcher may read is searched; an erased line leaves the index, the transcript's
exports and every artefact's quote ("erased"), and the hash chain still verifies while
a tampered body does not."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from server.domain.events import session_stream
from server.errors import StoreError
from tests.people import Person
from tests.test_artefacts import make, transcript_lines
from tests.test_transcripts import SESSION, community_with_session

BACKENDS = ["sqlite", "postgres+redis"]
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", BACKENDS)]


async def find(person: Person, q: str, community: str = "guild") -> list[dict[str, Any]]:
    reply = await person.call(
        "GET", f"/api/communities/{community}/repertoire/search?q={quote(q)}")
    assert reply.status_code == 200, reply.text
    return list(reply.json()["hits"])


async def test_artefacts_and_transcripts_are_found_title_first(server):
    _owner, member, _ = await community_with_session(server)
    body_only = (await make(member, title="Other things", body="tapir tapir tapir, tapir "
                            "and more tapir")).json()["artefact"]["artefact"]
    titled = (await make(member, title="Tapir triage", body="Short.")).json()[
        "artefact"]["artefact"]
    hits = await find(member, "tapir")
    assert [(h["stream"], h["title_hit"]) for h in hits] == [
        (f"artefact:{titled}", True), (f"artefact:{body_only}", False)]
    assert hits[0]["link"] == f"/r/{titled}" and hits[0]["kind"] == "case_story"
    assert any(part["hit"] for part in hits[1]["snippet"])

    said = await find(member, "hello")
    chat = next(line for line in await transcript_lines(member) if line["kind"] == "chat")
    assert [(h["what"], h["stream"], h["seq"], h["who"]) for h in said] == [
        ("transcript", session_stream(SESSION), chat["seq"], "Olu Owner")]
    assert said[0]["link"] == f"/s/{SESSION}/transcript#seq-{chat['seq']}"
    asked = await find(member, "pays")
    assert [(h["kind"], h["who"]) for h in asked] == [("question", "Anonymous")]

    # A revision replaces what is indexed.
    revised = await member.call("POST", f"/api/artefacts/{titled}/revisions", {
        "kind": "insight", "title": "Okapi triage", "body": "Short."})
    assert revised.status_code == 201, revised.text
    assert [h["stream"] for h in await find(member, "tapir")] == [f"artefact:{body_only}"]
    assert [(h["stream"], h["kind"]) for h in await find(member, "okapi")] == [
        (f"artefact:{titled}", "insight")]

    # Only what one may read: someone outside the guild is refused; bad queries invalid.
    outsider = await Person.sign_up(server.url, "Out Sider")
    reply = await outsider.call("GET", "/api/communities/guild/repertoire/search?q=tapir")
    assert reply.status_code == 403
    for bad in ("", "%22", "x" * 201):
        reply = await member.call("GET", f"/api/communities/guild/repertoire/search?q={bad}")
        assert (reply.status_code, reply.json()["code"]) == (400, "invalid"), bad


async def test_erasure_reaches_search_exports_and_quotes_and_the_chain_verifies(server):
    _owner, member, _ = await community_with_session(server)
    chat = next(line for line in await transcript_lines(member) if line["kind"] == "chat")
    made = await make(member, body="From the session",
                      excerpts=[{"session": SESSION, "from_seq": chat["seq"],
                                 "to_seq": chat["seq"] + 1}])
    ident = made.json()["artefact"]["artefact"]
    assert made.json()["quotes"][0]["lines"][0]["text"] == "hello *all*"
    assert len(await find(member, "hello")) == 1
    store = server.practica.store
    assert (await store.verify()).ok

    # Erased for privacy: the body goes, its digest and hash stay.
    await store.execute([("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?",
                          (session_stream(SESSION), chat["seq"]))])
    for name in ("transcript_search", "artefact_search"):
        await server.practica.projections[name].projection.reconcile(store)
    assert await find(member, "hello") == []
    page = (await member.call("GET", f"/api/artefacts/{ident}")).json()
    first = page["quotes"][0]["lines"][0]
    assert (first["seq"], first["text"], first["erased"]) == (chat["seq"], "erased", True)
    assert "hello" not in str(page)
    exported = await member.call("GET", f"/api/sessions/{SESSION}/transcript.md")
    assert exported.status_code == 200 and "hello" not in exported.text
    report = await store.verify()
    assert report.ok
    assert sum(s.erased for s in report.streams if s.stream == session_stream(SESSION)) == 1

    # A changed body (not an erasure): the store refuses it; someone who gets past
    # that (dropping the guard) breaks the chain at that event.
    tamper = (
        "UPDATE events SET body = (SELECT body FROM events WHERE stream = ? AND seq = 1)"
        " WHERE stream = ? AND seq = ?",
        (session_stream(SESSION), session_stream(SESSION), chat["seq"] + 1))
    with pytest.raises(StoreError, match="immutable"):
        await store.execute([tamper])
    postgres = getattr(store, "numbered_parameters", False)
    await store.execute([("ALTER TABLE events DISABLE TRIGGER events_immutable" if postgres
                          else "DROP TRIGGER events_no_update", ())])
    await store.execute([tamper])
    broken = await store.verify()
    assert not broken.ok
    assert [s.stream for s in broken.streams if not s.ok] == [session_stream(SESSION)]


async def test_words_erased_drops_the_rows_and_a_rebuild_agrees(server):
    owner, member, _ = await community_with_session(server)
    lines = await transcript_lines(member)
    chat = next(line for line in lines if line["kind"] == "chat")
    question = next(line for line in lines if line["kind"] == "question")
    projector = server.practica.projections["transcript_search"]
    rows = ("SELECT seq, kind, question, who, text, deleted FROM search_docs"
            " WHERE stream = ? ORDER BY seq")
    stream = session_stream(SESSION)
    await projector.settle()
    assert len(await find(member, "hello")) == 1
    for seq in (chat["seq"], question["seq"]):
        erased = await owner.call("POST", f"/api/sessions/{SESSION}/lines/{seq}/erase")
        assert erased.status_code == 200, erased.text
    await projector.settle()
    live = await server.practica.store.fetch(rows, (stream,))
    assert not {chat["seq"], question["seq"]} & {row[0] for row in live}  # dropped
    assert await find(member, "hello") == [] and await find(member, "pays") == []
    await projector.rebuild()
    assert await server.practica.store.fetch(rows, (stream,)) == live
