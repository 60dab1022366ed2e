"""The repertoire's HTTP calls under an ``Idempotency-Key``: a call whose change committed
before its process died is answered, on retry, with what the first answer would have
been (the same status and reply, read from what was committed) and is not applied
again; the same key with another call is a conflict and changes nothing. Every
repertoire endpoint that changes something says how it is replayed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx2
import msgspec
import pytest

from server.http import artefact_types as a
from server.http import idempotency
from server.http.artefact_api import artefact_endpoints
from server.pipeline import keyed_call, keyed_step
from tests.people import Person
from tests.test_artefacts import make
from tests.test_http_idempotency import claim, keyed, orphan
from tests.test_repertoire_io import zipped
from tests.test_transcripts import SESSION, community_with_session

pytestmark = pytest.mark.anyio

READ_ONLY = {("POST", "/api/communities/{community}/repertoire/scan")}
"""Calls with a body and a reply that append nothing: nothing to replay."""


@pytest.mark.parametrize("endpoint", [
    e for e in artefact_endpoints(cast(Any, None))
    if e.method != "GET" and e.reply is not None and (e.method, e.path) not in READ_ONLY],
    ids=lambda e: f"{e.method} {e.path}")
def test_every_repertoire_change_answers_a_retry_after_a_crash(endpoint):
    assert endpoint.replay is not None, "a keyed retry after a crash would be a conflict"


@dataclass
class World:
    server: Any
    owner: Person
    member: Person
    artefact: str

    @property
    def one(self) -> str:
        return f"/api/artefacts/{self.artefact}"


async def world(server: Any) -> World:
    owner, member, _ = await community_with_session(server)
    made = await make(member)
    assert made.status_code == 201, made.text
    return World(server, owner, member, made.json()["artefact"]["artefact"])


Call = tuple[Person, str, str, Any]
"""Who sends it, method, path, JSON body (or bytes for a raw body)."""

SUGGESTION = {"title": "Who pays (fixed)", "body": "We learned a lot.", "tags": ["billing"],
              "reason": "typo", "sources": [], "credit": True}
ZIP = zipped({
    "artefacts/faq/a-first.md": '---\nartefact: "a-first"\nkind: "faq"\ntitle: "First"\n'
                                'tags: ["intake"]\n---\nOne.\n',
    "artefacts/faq/a-second.md": '---\nkind: "faq"\ntitle: "Second"\n---\nTwo.\n',
    "collections/start-here.md": '---\ncollection: "start-here"\ntitle: "Start here"\n'
                                 'artefacts: ["a-first"]\n---\n'})


async def suggested(w: World) -> None:
    reply = await w.owner.call("POST", w.one + "/suggestions", SUGGESTION)
    assert reply.status_code == 201, reply.text


async def asked_and_edited(w: World) -> int:
    socket = await w.member.connect(w.server.ws_url)
    await socket.identify(community="guild")
    said = await socket.command("session", session=SESSION,
                                op={"op": "ask", "text": "Pangolins or tapirs?"})
    edited = await socket.command("session", session=SESSION, op={
        "op": "edit_question", "question": 2, "text": "Pangolins or okapis?"})
    assert said["type"] == edited["type"] == "ack", (said, edited)
    await socket.close()
    return int(said["seq"])


async def create(w: World) -> Call:
    return (w.member, "POST", "/api/communities/guild/artefacts",
            {"kind": "faq", "title": "Once", "body": "Made once.", "tags": []})


async def revise(w: World) -> Call:
    return (w.member, "POST", w.one + "/revisions", {
        "kind": "case_story", "title": "Who pays, and when", "body": "Clearer.",
        "tags": ["billing"], "note": "clearer", "base_revision": 1})


async def comment(w: World) -> Call:
    return (w.owner, "POST", w.one + "/comments", {"text": "Useful"})


async def endorse(w: World) -> Call:
    return (w.owner, "PUT", w.one + "/endorsement", None)


async def suggest(w: World) -> Call:
    return (w.owner, "POST", w.one + "/suggestions", SUGGESTION)


async def accept(w: World) -> Call:
    await suggested(w)
    return (w.member, "POST", w.one + "/suggestions/1/accept", {"reason": "yes"})


async def decline(w: World) -> Call:
    await suggested(w)
    return (w.member, "POST", w.one + "/suggestions/1/decline", {"reason": "not now"})


async def collection(w: World) -> Call:
    return (w.owner, "PUT", "/api/communities/guild/collections/start-here",
            {"title": "Start here", "artefacts": [w.artefact]})


async def erase(w: World) -> Call:
    seq = await asked_and_edited(w)  # a question and its edit go together
    return (w.member, "POST", f"/api/sessions/{SESSION}/lines/{seq}/erase", None)


async def import_(w: World) -> Call:
    return (w.owner, "POST", "/api/communities/guild/repertoire/import", ZIP)


CASES: dict[str, Callable[[World], Awaitable[Call]]] = {
    "create": create, "revise": revise, "comment": comment, "endorse": endorse,
    "suggest": suggest, "accept": accept, "decline": decline, "collection": collection,
    "erase": erase, "import": import_}


async def send(call: Call, key: str) -> httpx2.Response:
    person, method, path, body = call
    if isinstance(body, bytes):
        headers = {**keyed(person, key), "content-type": "application/octet-stream"}
        async with httpx2.AsyncClient(base_url=person.base_url, cookies=person.cookies
                                      ) as http:
            return await http.request(method, path, content=body, headers=headers)
    return await person.call(method, path, body, headers=keyed(person, key))


async def heads(server: Any) -> dict[str, int]:
    """Every stream's head: what a call appended anywhere shows here."""
    store = server.practica.store
    return {s: await store.head(s) for s in await store.streams("")}


async def erased_bodies(server: Any) -> int:
    (row,) = await server.practica.store.fetch(
        "SELECT count(*) FROM events WHERE body IS NULL")
    return int(row[0])


@pytest.mark.parametrize("case", list(CASES))
async def test_a_change_committed_before_its_process_died_is_answered_not_applied_again(
        server, case):
    w = await world(server)
    call = await CASES[case](w)
    first = await send(call, "k-1")
    assert first.status_code in (200, 201), first.text
    if case == "import":
        assert (len(first.json()["artefacts"]), first.json()["collections"]) == (
            2, ["start-here"]), first.text
    before, erased = await heads(server), await erased_bodies(server)
    # Its process died after the change committed, before the answer was kept.
    await orphan(server, call[0].id, "k-1")
    again = await send(call, "k-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert await heads(server) == before  # nothing applied twice, nothing audited twice
    assert await erased_bodies(server) == erased
    # The replay's answer is kept like any other.
    kept = await send(call, "k-1")
    assert (kept.status_code, kept.json()) == (first.status_code, first.json())


@pytest.mark.parametrize("backend", ["postgres+redis"])
async def test_a_replay_reads_the_artefact_made_on_postgres(server):
    w = await world(server)
    call = await create(w)
    first = await send(call, "k-pg")
    assert first.status_code == 201, first.text
    before = await heads(server)
    await orphan(server, w.member.id, "k-pg")
    again = await send(call, "k-pg")
    assert (again.status_code, again.json()) == (201, first.json())
    assert await heads(server) == before


@pytest.mark.parametrize("case", ["create", "comment", "collection", "import"])
async def test_the_same_key_with_another_call_is_a_conflict_and_changes_nothing(
        server, case):
    w = await world(server)
    call = await CASES[case](w)
    first = await send(call, "k-1")
    assert first.status_code in (200, 201), first.text
    before = await heads(server)
    person, method, path, body = call
    other = (person, method, path,
             ZIP + b"\0" if isinstance(body, bytes) else {**body, "title": "Another"}
             if "title" in body else {**body, "text": "Another"})
    for orphaned in (False, True):  # answered, or its process died after the commit
        if orphaned:
            await orphan(server, person.id, "k-1")
        reused = await send(other, "k-1")
        assert (reused.status_code, reused.json()["code"]) == (409, "conflict"), reused.text
        assert "different call" in reused.json()["message"]
        assert await heads(server) == before


async def test_an_import_cut_off_midway_makes_only_the_rest_on_retry(server):
    """The process importing died after making the first artefact (under that file's own
    key), before the rest: the retry makes the rest and reports the first as made."""
    w = await world(server)
    practica, path = server.practica, "/api/communities/guild/repertoire/import"
    digest = idempotency.digest_of("POST", path, msgspec.json.encode(ZIP))
    principal = await practica.identity.principal(w.owner.cookies["practica_session"])
    with keyed_call(idempotency.command_key(w.owner.id, "k-cut"), digest), keyed_step(
            "artefacts/faq/a-first.md"):
        page = await practica.artefacts.create(principal, "guild", a.NewArtefact(
            kind="faq", title="First", body="One.", tags=["intake"], artefact="a-first"))
    await claim(server, w.owner.id, "k-cut", ZIP, "dead-process", path)
    made = set(await practica.store.streams("artefact:"))
    retry = await send((w.owner, "POST", path, ZIP), "k-cut")
    assert retry.status_code == 201, retry.text
    report = retry.json()
    assert report["artefacts"]["artefacts/faq/a-first.md"] == page.artefact.artefact
    assert report["collections"] == ["start-here"] and report["skipped"] == []
    new = set(await practica.store.streams("artefact:")) - made
    assert new == {f"artefact:{report['artefacts']['artefacts/faq/a-second.md']}"}
    again = await send((w.owner, "POST", path, ZIP), "k-cut")
    assert (again.status_code, again.json()) == (201, report)
