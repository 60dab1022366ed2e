"""The confidential-details guard in the repertoire, over a running server: a scan shows
what would be published with its spans; a community making the review mandatory refuses
to publish (nothing saved) until each finding is redacted or confirmed, for excerpts,
artefacts, revisions and suggestions alike."""

from __future__ import annotations

from typing import Any

import pytest

from server.confidential import warm
from tests.people import Person
from tests.test_artefacts import make
from tests.test_transcripts import SESSION, community_with_session, session_op

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True, scope="module")
def detectors() -> None:
    """Load the detectors once for this module's servers (seconds: scikit-learn, NLTK),
    as a server does in the background when a community makes the review mandatory."""
    warm()

BODY = "Mrs Jones (DOB 14/03/1962) of 12 Harbour Street, MRN 00457812, phone 020 7946 0958."


async def said_with_details(server: Any, owner: Person) -> int:
    socket = await owner.connect(server.ws_url)
    await socket.identify(community="guild")
    reply = await session_op(socket, {"op": "say", "text": "Dr. Margaret Hale rang"})
    await socket.close()
    return int(reply["seq"])


async def mandatory(owner: Person, required: bool = True) -> None:
    reply = await owner.call("PUT", "/api/communities/guild/repertoire/review",
                             {"required": required})
    assert reply.status_code == 200 and reply.json() == {"required": required}, reply.text


async def test_a_scan_shows_findings_and_saves_nothing(server):
    owner, member, _ = await community_with_session(server)
    seq = await said_with_details(server, owner)
    before = await server.practica.store.streams("artefact:")
    reply = await member.call("POST", "/api/communities/guild/repertoire/scan", {
        "kind": "case_story", "title": "A hard week", "body": BODY,
        "excerpts": [{"session": SESSION, "from_seq": seq, "to_seq": seq}]})
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert report["review_required"] is False
    got = [(f["where"], f["finding"]["kind"], f["finding"]["text"])
           for f in report["findings"]]
    assert got == [
        ("body", "titled_name", "Mrs Jones"), ("body", "date_of_birth", "14/03/1962"),
        ("body", "street_address", "12 Harbour Street"),
        ("body", "record_number", "MRN 00457812"), ("body", "phone", "020 7946 0958"),
        ("quote", "titled_name", "Dr. Margaret Hale")]
    body = next(f["finding"] for f in report["findings"] if f["where"] == "body")
    assert BODY[body["start"]:body["end"]] == "Mrs Jones"
    assert report["findings"][-1]["seq"] == seq
    assert await server.practica.store.streams("artefact:") == before
    # Without the mandatory review, findings are advice: publishing goes ahead.
    assert (await make(member, body=BODY)).status_code == 201


async def test_a_mandatory_review_refuses_until_each_is_redacted_or_confirmed(server):
    owner, member, _ = await community_with_session(server)
    refused = await member.call("PUT", "/api/communities/guild/repertoire/review",
                                {"required": True})
    assert refused.status_code == 403  # owners only
    await mandatory(owner)
    assert (await member.call("GET", "/api/communities/guild/repertoire/review")).json() == {
        "required": True}
    seq = await said_with_details(server, owner)
    excerpt = [{"session": SESSION, "from_seq": seq, "to_seq": seq}]
    before = await server.practica.store.streams("artefact:")
    reply = await make(member, body=BODY, excerpts=excerpt)
    assert (reply.status_code, reply.json()["code"]) == (400, "invalid"), reply.text
    assert "titled_name:Mrs Jones" in reply.json()["message"]
    assert "titled_name:Dr. Margaret Hale" in reply.json()["message"]
    # Some confirmed, the rest still there: refused again, nothing saved.
    partly = await make(member, body=BODY, excerpts=excerpt,
                        confirm=["titled_name:Mrs Jones", "phone:020 7946 0958"])
    assert partly.status_code == 400 and "Mrs Jones" not in partly.json()["message"]
    assert await server.practica.store.streams("artefact:") == before
    # Redacted in the body, the quote's name confirmed: published, the keys kept.
    redacted = "Mrs J. (DOB withheld), MRN withheld, phone withheld."
    ok = await make(member, body=redacted, excerpts=excerpt,
                    confirm=["titled_name:Dr. Margaret Hale"])
    assert ok.status_code == 201, ok.text
    ident = ok.json()["artefact"]["artefact"]
    events = await server.practica.store.read(f"artefact:{ident}")
    assert events[0].body.confirmed == ["titled_name:Dr. Margaret Hale"]

    # A revision that brings a detail back is refused; what was confirmed stays so.
    one = f"/api/artefacts/{ident}"
    back = await member.call("POST", one + "/revisions", {
        "kind": "case_story", "title": "Who pays", "body": redacted + " Mr. Patel too."})
    assert back.status_code == 400 and "Mr. Patel" in back.json()["message"]
    kept = await member.call("POST", one + "/revisions", {
        "kind": "case_story", "title": "Who pays", "body": redacted + " More."})
    assert kept.status_code == 201, kept.text
    # Suggestions are published too: the same rule, and again when accepted.
    other = await Person.sign_up(server.url, "Sam Suggester")
    await other.join("guild")
    suggestion = {"title": "Who pays", "body": "Ask Mrs Khan at 4 Mill Lane", "reason": "x"}
    assert (await other.call("POST", one + "/suggestions", suggestion)).status_code == 400
    made = await other.call("POST", one + "/suggestions", {
        **suggestion, "confirm": ["titled_name:Mrs Khan", "street_address:4 Mill Lane"]})
    assert made.status_code == 201, made.text
    accepted = await member.call("POST", one + "/suggestions/1/accept", {})
    assert accepted.status_code == 200, accepted.text
    assert "Mrs Khan" in accepted.json()["artefact"]["body"]
    await mandatory(owner, False)
