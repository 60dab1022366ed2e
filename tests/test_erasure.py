"""Erasing words over a running server: the session's stream gets a ``words_erased``
event that reaches its subscribers (a live page forgets the words without a reload),
the transcript shows the line as erased and tells each reader which lines they may
erase, an anonymous question's asker may erase it without anyone learning who asked,
and every refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from server.domain.events import session_stream
from tests.session_setup import attend, circle, op, open_session
from tests.test_session_scaleout import event_of

pytestmark = pytest.mark.anyio


async def lines(person: Any, session: str) -> dict[int, dict[str, Any]]:
    reply = await person.call("GET", f"/api/sessions/{session}/transcript.json")
    assert reply.status_code == 200, reply.text
    return {line["seq"]: line for s in reply.json()["segments"] for line in s["lines"]}


async def erase(person: Any, session: str, seq: int | str) -> Any:
    return await person.call("POST", f"/api/sessions/{session}/lines/{seq}/erase")


async def test_a_subscriber_hears_words_erased_and_question_numbers_hold(server):
    c = await circle(server, members=2)
    (ann, ann_ws), (_, bob_ws) = c.members
    session = await open_session(c)
    for socket in (c.host_ws, ann_ws, bob_ws):
        await attend(socket, session)
    await op(c.host_ws, session, "start")
    first = await op(ann_ws, session, "ask", text="Pangolins are shy?")
    await op(ann_ws, session, "edit_question", question=1, text="Pangolins, very shy?")
    assert (await op(bob_ws, session, "ask", text="Tapirs too?"))["type"] == "ack"

    erased = await erase(ann, session, first["seq"])
    assert erased.status_code == 200, erased.text
    seqs = erased.json()["seqs"]
    heard = await bob_ws.wait_for(event_of("words_erased"))
    assert heard["stream"] == session_stream(session) and heard["actor"] is None
    assert (heard["body"]["seqs"], heard["body"]["questions"]) == (seqs, [1])
    assert len(seqs) == 2 and seqs[0] == first["seq"]
    board = server.practica.folds.session(session).questions
    assert [(q.question, q.text) for q in board.values()] == [(2, "Tapirs too?")]
    # Numbers hold: a vote on 2 is Bob's question's; the next question is 3, not 2.
    assert (await op(ann_ws, session, "upvote", question=2))["type"] == "ack"
    third = await op(c.host_ws, session, "ask", text="Okapis next?")
    assert third["type"] == "ack"
    assert sorted(server.practica.folds.session(session).questions) == [2, 3]
    assert server.practica.folds.session(session).questions[2].votes == 1
    late = await attend(await _fresh(c), session)  # a late joiner: nothing of the words
    assert "Pangolins" not in str(late) and "Tapirs too" in str(late)
    for socket in (c.host_ws, ann_ws, bob_ws):
        await socket.close()


async def _fresh(c: Any) -> Any:
    socket = await c.host.connect(c.server.ws_url)
    await socket.identify(community=c.community)
    return socket


async def test_an_anonymous_asker_may_erase_their_question_and_nobody_learns_who(server):
    c = await circle(server, members=2)
    (ann, ann_ws), (bob, bob_ws) = c.members
    session = await open_session(c)
    for socket in (c.host_ws, ann_ws, bob_ws):
        await attend(socket, session)
    await op(c.host_ws, session, "start")
    asked = await op(ann_ws, session, "ask", text="Is it safe?", anonymous=True)
    said = await op(bob_ws, session, "say", text="Bob says hello")
    assert asked["type"] == said["type"] == "ack", (asked, said)
    seq, chat = asked["seq"], said["seq"]

    mine, bobs, owners = (await lines(ann, session), await lines(bob, session),
                          await lines(c.host, session))
    assert (mine[seq]["erasable"], mine[chat]["erasable"]) == (True, False)
    assert (bobs[seq]["erasable"], bobs[chat]["erasable"]) == (False, True)
    assert owners[seq]["erasable"] and owners[chat]["erasable"]  # erase_words
    assert not any(line["erasable"] for line in mine.values()
                   if line["seq"] not in (seq,))  # the session's own lines: nobody's words
    assert bobs[seq]["who"] == "Anonymous" and "Ann" not in str(bobs[seq])

    # Someone else's line without erase_words: refused, nothing changed.
    stream = session_stream(session)
    head = await server.practica.store.head(stream)
    refused = await erase(bob, session, seq)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert "Ann" not in refused.text
    assert await server.practica.store.head(stream) == head
    assert "Is it safe" in str(await server.practica.store.read(stream, seq - 1, 1))

    assert (await erase(ann, session, seq)).json()["seqs"] == [seq]
    after = await lines(ann, session)
    assert after[seq] | {"ts": 0, "at_ms": 0} == {
        "seq": seq, "ts": 0, "at_ms": 0, "end_ms": None, "until": None, "kind": "erased",
        "who": "", "text": "", "question": None, "votes": None, "status": "",
        "erasable": False}
    assert not [line for line in after.values() if line["seq"] > chat]  # the marker: none
    text = (await c.host.call("GET", f"/api/sessions/{session}/transcript.md")).text
    assert "Is it safe" not in text and "(erased)" in text
    vtt = (await c.host.call("GET", f"/api/sessions/{session}/transcript.vtt")).text
    assert "Is it safe" not in vtt and "Bob says hello" in vtt
    for socket in (c.host_ws, ann_ws, bob_ws):
        await socket.close()


async def test_bad_erasures_are_typed_and_change_nothing(server):
    c = await circle(server, members=1)
    (ann, ann_ws), = c.members
    session = await open_session(c)
    await attend(ann_ws, session)
    said = await op(ann_ws, session, "say", text="Pangolins!")
    stream = session_stream(session)
    head = await server.practica.store.head(stream)
    for seq, status, code in ((1, 400, "invalid"), (999, 404, "not_found"),
                              ("x", 404, "not_found")):
        reply = await erase(c.host, session, seq)
        assert (reply.status_code, reply.json()["code"]) == (status, code), reply.text
    assert await server.practica.store.head(stream) == head
    assert (await erase(ann, session, said["seq"])).json()["seqs"] == [said["seq"]]
    head = await server.practica.store.head(stream)
    again = await erase(c.host, session, said["seq"])
    assert (again.status_code, again.json()["seqs"]) == (200, [])
    assert await server.practica.store.head(stream) == head  # no second marker
    assert (await server.practica.store.verify()).ok
    await ann_ws.close()
    await c.host_ws.close()
