"""The shared repertoire over HTTP against a running server: artefacts from transcript
ranges (exactly those lines, provenance links), revisions kept and diffed, comments,
endorsements, suggested revisions, listing by kind and tag, and the bad paths (a range
from another community, empty, inverted or outside the session; markdown with script)."""

from __future__ import annotations

from typing import Any

import pytest

from server.domain.events import artefact_stream, session_stream
from tests.people import DEMO, Person
from tests.test_communities import found
from tests.test_transcripts import SESSION, community_with_session, open_session

pytestmark = pytest.mark.anyio
BACKENDS = ["sqlite", "postgres+redis"]


async def transcript_lines(person: Person) -> list[dict[str, Any]]:
    reply = await person.call("GET", f"/api/sessions/{SESSION}/transcript.json")
    assert reply.status_code == 200, reply.text
    return [line for segment in reply.json()["segments"] for line in segment["lines"]]


async def make(person: Person, community: str = "guild", **fields: Any) -> Any:
    body = {"kind": "case_story", "title": "Who pays", "body": "We *learned*.",
            "tags": ["billing"], **fields}
    return await person.call("POST", f"/api/communities/{community}/artefacts", body)


async def head(server: Any, stream: str) -> int:
    return int(await server.practica.store.head(stream))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_artefact_quotes_exactly_the_lines_of_its_range(server):
    _owner, member, _ = await community_with_session(server)
    lines = await transcript_lines(member)
    chat = next(line for line in lines if line["kind"] == "chat")
    question = next(line for line in lines if line["kind"] == "question")
    reply = await make(member, excerpts=[{"session": SESSION, "from_seq": chat["seq"],
                                          "to_seq": question["seq"]}])
    assert reply.status_code == 201, reply.text
    page = reply.json()
    quoted = page["quotes"][0]
    wanted = [line for line in lines if chat["seq"] <= line["seq"] <= question["seq"]]
    assert [(q["seq"], q["kind"], q["who"], q["text"]) for q in quoted["lines"]] == [
        (w["seq"], w["kind"], w["who"], w["text"]) for w in wanted]
    assert [q["who"] for q in quoted["lines"]] == ["Olu Owner", "Anonymous"]
    assert quoted["link"] == f"/s/{SESSION}/transcript#seq-{chat['seq']}"
    assert quoted["head"] == await head(server, session_stream(SESSION))  # follow from here
    # The provenance link resolves: that seq is a line of the session's transcript.
    assert chat["seq"] in {line["seq"] for line in await transcript_lines(member)}
    view = page["artefact"]
    assert (view["kind"], view["title"], view["revision"], view["tags"]) == (
        "case_story", "Who pays", 1, ["billing"])
    assert view["authors"] == [{"member": member.id, "name": "Mo Member"}]
    assert view["body_html"] == "<p>We <em>learned</em>.</p>\n"
    again = await member.call("GET", f"/api/artefacts/{view['artefact']}")
    assert again.status_code == 200 and again.json() == page


@pytest.mark.parametrize("backend", BACKENDS)
async def test_revisions_are_all_kept_and_diffed(server):
    owner, member, _ = await community_with_session(server)
    ident = (await make(member)).json()["artefact"]["artefact"]
    one = f"/api/artefacts/{ident}"
    revised = await member.call("POST", one + "/revisions", {
        "kind": "case_story", "title": "Who pays, and when", "body": "We learned.\nMore.",
        "tags": ["billing", "money"], "note": "clearer", "base_revision": 1})
    assert revised.status_code == 201, revised.text
    assert revised.json()["artefact"]["revision"] == 2
    history = (await member.call("GET", one + "/revisions")).json()["revisions"]
    assert [(r["revision"], r["title"]) for r in history] == [
        (1, "Who pays"), (2, "Who pays, and when")]
    diff = (await member.call("GET", one + "/diff?from=1&to=2")).json()["diff"]
    assert diff.splitlines()[3:] == [
        "-# Who pays", "-tags: billing", "+# Who pays, and when", "+tags: billing, money",
        " ", "-We *learned*.", "+We learned.", "+More."]
    # An edit of an older revision is a conflict and saves nothing.
    seq = await head(server, artefact_stream(ident))
    stale = await member.call("POST", one + "/revisions", {
        "kind": "faq", "title": "Other", "body": "x", "base_revision": 1})
    assert (stale.status_code, stale.json()["code"]) == (409, "conflict")
    assert await head(server, artefact_stream(ident)) == seq
    # Someone else's artefact: a member may not revise it, a convener (owner) may.
    other = await Person.sign_up(server.url, "Ola Other")
    await other.join("guild")
    refused = await other.call("POST", one + "/revisions", {
        "kind": "faq", "title": "Mine now", "body": "x"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    by_owner = await owner.call("POST", one + "/revisions", {
        "kind": "faq", "title": "Tidied", "body": "x"})
    assert by_owner.status_code == 201, by_owner.text
    assert by_owner.json()["artefact"]["contributors"] == [
        {"member": owner.id, "name": "Olu Owner"}]
    missing = await member.call("GET", one + "/diff?from=1&to=9")
    assert missing.status_code == 404


async def test_comments_endorsements_and_suggestions(server):
    owner, member, _ = await community_with_session(server)
    ident = (await make(member)).json()["artefact"]["artefact"]
    one = f"/api/artefacts/{ident}"
    other = await Person.sign_up(server.url, "Sam Suggester")
    await other.join("guild")
    commented = await other.call("POST", one + "/comments", {"text": "Useful"})
    assert commented.json()["artefact"]["comments"][0]["text"] == "Useful"
    for _ in range(2):  # twice: endorsed once
        endorsed = await other.call("PUT", one + "/endorsement")
        assert endorsed.status_code == 200, endorsed.text
    assert [p["name"] for p in endorsed.json()["artefact"]["endorsements"]] == [
        "Sam Suggester"]
    back = await other.call("DELETE", one + "/endorsement")
    assert back.json()["artefact"]["endorsements"] == []

    suggest = {"title": "Who pays (fixed)", "body": "We learned a lot.", "tags": ["billing"],
               "reason": "typo", "sources": ["https://example.org/guide"], "credit": True}
    made = await other.call("POST", one + "/suggestions", suggest)
    assert made.status_code == 201, made.text
    assert made.json()["artefact"]["suggestions"][0]["status"] == "open"
    # A member who is neither author nor convener may not accept it.
    refused = await other.call("POST", one + "/suggestions/1/accept", {})
    assert refused.status_code == 403
    accepted = await member.call("POST", one + "/suggestions/1/accept", {"reason": "yes"})
    assert accepted.status_code == 200, accepted.text
    view = accepted.json()["artefact"]
    assert (view["revision"], view["title"], view["suggestions"][0]["status"]) == (
        2, "Who pays (fixed)", "accepted")
    assert view["contributors"] == [{"member": other.id, "name": "Sam Suggester"}]
    twice = await member.call("POST", one + "/suggestions/1/accept", {})
    assert (twice.status_code, twice.json()["code"]) == (409, "conflict")

    quiet = await other.call("POST", one + "/suggestions", {**suggest, "title": "Again",
                                                           "credit": False})
    assert quiet.status_code == 201
    no_reason = await member.call("POST", one + "/suggestions/2/decline", {"reason": " "})
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "invalid")
    declined = await owner.call("POST", one + "/suggestions/2/decline",
                                {"reason": "out of scope"})
    assert declined.json()["artefact"]["suggestions"][1]["status"] == "declined"
    assert (await member.call("POST", one + "/suggestions/9/decline",
                              {"reason": "x"})).status_code == 404


async def test_listing_by_kind_and_tag(server):
    _owner, member, _ = await community_with_session(server)
    await make(member, title="A story", tags=["billing"])
    await make(member, kind="faq", title="An FAQ", tags=["intake", "billing"])
    await make(member, kind="insight", title="An insight", tags=[])
    base = "/api/communities/guild/artefacts"
    every = (await member.call("GET", base)).json()
    assert sorted(a["title"] for a in every) == ["A story", "An FAQ", "An insight"]
    faqs = (await member.call("GET", base + "?kind=faq")).json()
    assert [a["title"] for a in faqs] == ["An FAQ"]
    billing = (await member.call("GET", base + "?tag=billing")).json()
    assert sorted(a["title"] for a in billing) == ["A story", "An FAQ"]
    bad = await member.call("GET", base + "?kind=poem")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
    outsider = await Person.sign_up(server.url, "Out Sider")
    assert (await outsider.call("GET", base)).status_code == 403


async def test_bad_ranges_and_markdown_change_nothing(server):
    _owner, member, _room = await community_with_session(server)
    # Another community's owner, a member of this one too, with a session there.
    other_owner = await found(server, community="other", join_policy="open")
    await other_owner.join("guild")
    other_room = (await other_owner.call("POST", "/api/communities/other/rooms",
                                         {"name": "Elsewhere"})).json()["rooms"][0]["room"]
    await open_session(server, other_owner, other_room, "s-other", community="other")
    top = await head(server, session_stream(SESSION))
    before = set(await server.practica.store.streams("artefact:"))
    cases = [
        ({"session": "s-other", "from_seq": 1, "to_seq": 3}, "invalid", "own community"),
        ({"session": SESSION, "from_seq": 3, "to_seq": 2}, "invalid", "inverted"),
        ({"session": SESSION, "from_seq": 1, "to_seq": top + 1}, "invalid", "outside"),
        ({"session": SESSION, "from_seq": 0, "to_seq": 1}, "invalid", "outside"),
        ({"session": SESSION, "from_seq": 1, "to_seq": 1}, "invalid", "empty range"),
        ({"session": "s-nowhere", "from_seq": 1, "to_seq": 1}, "not_found", ""),
    ]
    for excerpt, code, words in cases:
        reply = await make(other_owner, excerpts=[excerpt])
        assert reply.json()["code"] == code, (excerpt, reply.text)
        assert words in reply.json()["message"], reply.text
    assert set(await server.practica.store.streams("artefact:")) == before
    # Markdown with a script: inert.
    page = (await make(member, body="<script>alert(1)</script> [x](javascript:alert(1))"
                       )).json()
    html = page["artefact"]["body_html"]
    assert "<script" not in html and "href" not in html and "&lt;script&gt;" in html
    # An outsider may not make one, nor read one.
    outsider = await Person.sign_up(server.url, "Out Sider")
    assert (await make(outsider)).status_code == 403
    ident = page["artefact"]["artefact"]
    assert (await outsider.call("GET", f"/api/artefacts/{ident}")).status_code == 403
    assert (await member.call("GET", "/api/artefacts/a-nothing")).status_code == 404
    taken = await make(member, artefact=ident)
    assert (taken.status_code, taken.json()["code"]) == (409, "conflict")


@pytest.mark.settings(max_replay_events=1)  # more missed than that: a snapshot
@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_artefact_stream_is_resumed_and_followed_live(server):
    owner, member, _ = await community_with_session(server)
    ident = (await make(member)).json()["artefact"]["artefact"]
    stream = artefact_stream(ident)
    await member.call("PUT", f"/api/artefacts/{ident}/endorsement")
    socket = await member.connect(server.ws_url)
    socket.keep_reading()
    ready = await socket.resume({stream: 0}, community="guild")
    sync = next(s for s in ready["syncs"] if s["stream"] == stream)
    assert (sync["mode"], sync["snapshot"]["kind"]) == ("snapshot", "artefact"), sync
    assert sync["snapshot"]["view"]["title"] == "Who pays" and sync["seq"] == 2
    await owner.call("POST", f"/api/artefacts/{ident}/comments", {"text": "Nice"})
    live = await socket.wait_for(lambda f: f["type"] == "event" and f["stream"] == stream)
    assert (live["seq"], live["body"]["type"], live["body"]["text"]) == (
        3, "artefact_commented", "Nice")
    await socket.close()
    outsider = await Person.sign_up(server.url, "Out Sider")
    await outsider.join()  # of the demo community, not of the guild
    other = await outsider.connect(server.ws_url)
    ready = await other.resume({stream: 0, "artefact:a-nothing": 0}, community=DEMO)
    refused = {s["stream"]: s for s in ready["syncs"]}
    assert refused[stream]["error"] == "forbidden" and "snapshot" not in refused[stream]
    assert refused["artefact:a-nothing"]["error"] == "not_found"
    await other.close()


async def test_collections_are_ordered_reading_lists(server):
    owner, member, _ = await community_with_session(server)
    first = (await make(member, title="First")).json()["artefact"]["artefact"]
    second = (await make(member, kind="faq", title="Second")).json()["artefact"]["artefact"]
    path = "/api/communities/guild/collections/start-here"
    body = {"title": "Start here", "description": "For newcomers",
            "artefacts": [second, first, second]}
    refused = await member.call("PUT", path, body)
    assert refused.status_code == 403  # conveners curate
    saved = await owner.call("PUT", path, body)
    assert saved.status_code == 200, saved.text
    assert [a["title"] for a in saved.json()["artefacts"]] == ["Second", "First"]
    listed = (await member.call("GET", "/api/communities/guild/collections")).json()
    assert [(c["collection"], c["title"]) for c in listed] == [("start-here", "Start here")]
    assert (await member.call("GET", path)).json()["artefacts"][1]["artefact"] == first
    head = await server.practica.store.head("community:guild")
    for bad in ({**body, "artefacts": ["a-nothing"]}, {**body, "title": "  "}):
        reply = await owner.call("PUT", path, bad)
        assert (reply.status_code, reply.json()["code"]) == (400, "invalid"), reply.text
    assert await server.practica.store.head("community:guild") == head
    removed = await owner.call("PUT", path, {**body, "artefacts": []})
    assert removed.status_code == 200 and removed.json() is None
    assert (await member.call("GET", path)).status_code == 404
    outsider = await Person.sign_up(server.url, "Out Sider")
    assert (await outsider.call("GET", "/api/communities/guild/collections")).status_code == 403


async def test_the_demo_community_has_a_seeded_repertoire(server):
    person = await Person.sign_up(server.url, "New Comer")
    await person.join()
    listed = (await person.call("GET", f"/api/communities/{DEMO}/collections/start-here")
              ).json()
    assert [a["kind"] for a in listed["artefacts"]] == [
        "template", "case_story", "faq", "failure_reflection"]
    story = (await person.call("GET", "/api/artefacts/a-demo-orthostatic")).json()
    quote = story["quotes"][0]
    assert quote["link"] == "/s/s-demo-syncope/transcript#seq-3"
    assert [(line["seq"], line["kind"], line["who"]) for line in quote["lines"]] == [
        (3, "chat", "Dr Amara Osei"), (4, "chat", "Jonas Berg, RN"),
        (5, "question", "Li Wei (PT)"), (6, "answer", "Dr Amara Osei"),
        (7, "chat", "Dr Amara Osei")]
    transcript = await person.call("GET", "/api/sessions/s-demo-syncope/transcript.json")
    said = {line["seq"]: line["text"] for segment in transcript.json()["segments"]
            for line in segment["lines"]}
    assert [said[line["seq"]] for line in quote["lines"]] == [
        line["text"] for line in quote["lines"]]
    found = (await person.call("GET", f"/api/communities/{DEMO}/repertoire/search?q=syncope"
                               )).json()["hits"]
    assert found[0]["stream"] == "artefact:a-demo-orthostatic" and found[0]["title_hit"]
