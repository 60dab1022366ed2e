"""Live sessions over real sockets, on both backends: verify_action for every command
(the snapshot before it plus the events it emitted equal a snapshot fetched fresh
after it), anonymous askers kept out of what members receive, off-the-record talk
never stored, refusals changing nothing, and two hosts advancing (or moving a case on a
round) at once."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from server.domain.events import Event, audit_stream
from server.domain.session import SessionSnapshot, SessionState, fold, normal_form
from tests.session_setup import Circle, attend, circle, member, op, open_session

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def fetched(c: Circle, session: str) -> tuple[SessionState, dict[str, Any]]:
    reply = await c.host.call("GET", f"/api/sessions/{session}")
    assert reply.status_code == 200, reply.text
    view = reply.json()
    snapshot = msgspec.convert(view["snapshot"], SessionSnapshot)
    return SessionState.from_snapshot(snapshot, view["seq"]), view


def events_after(frames: list[dict[str, Any]], stream: str, seq: int) -> list[Event]:
    return [msgspec.convert(f, Event) for f in frames
            if f["type"] == "event" and f["stream"] == stream and f["seq"] > seq]


async def received_up_to(client: Any, stream: str, head: int) -> None:
    def reached(frame: dict[str, Any]) -> bool:
        return frame["type"] == "event" and frame["stream"] == stream and frame["seq"] >= head

    if head and not any(reached(f) for f in client.frames):
        await client.wait_for(reached)


@pytest.mark.settings(presence_grace_ms=600_000)
async def test_every_command_verifies_against_a_fresh_snapshot(server):
    c = await circle(server, members=2)
    (ann, ann_ws), (bob, bob_ws) = c.members
    session = await open_session(c, agenda=[
        {"kind": "pairs", "title": "Pairs", "minutes": 10},
        {"kind": "case", "title": "A case", "minutes": 30, "rounds": 2, "round_minutes": 5},
        {"kind": "qa", "title": "Q&A", "minutes": 15}])
    stream = f"session:{session}"
    watcher_person, watcher = await member(server, c.community, "Wanda Watcher")
    await attend(watcher, session)
    host_id, ann_id, bob_id = c.host.id, ann.id, bob.id
    script: list[tuple[Any, str, dict[str, Any]]] = [
        (c.host_ws, "attend", {}), (ann_ws, "attend", {}), (bob_ws, "attend", {}),
        (c.host_ws, "edit_agenda", {"agenda": [
            {"kind": "pairs", "title": "Pairs", "minutes": 10},
            {"kind": "case", "title": "A case", "minutes": 30, "rounds": 2,
             "round_minutes": 5},
            {"kind": "qa", "title": "Q&A", "minutes": 20}]}),
        (c.host_ws, "start", {}), (c.host_ws, "extend", {"minutes": 5}),
        (c.host_ws, "pause", {}), (c.host_ws, "resume", {}),
        (c.host_ws, "advance", {}), (c.host_ws, "back", {}), (c.host_ws, "advance", {}),
        (c.host_ws, "stage", {"member": ann_id, "on": True}),
        (ann_ws, "case_prompts", {"segment": 1, "situation": "A ward", "tried": "Talking",
                                  "question": "What next?"}),
        (c.host_ws, "next_round", {}), (c.host_ws, "next_round", {"round": 1}),
        (c.host_ws, "round_back", {}),
        (c.host_ws, "stage", {"member": ann_id, "on": False}),
        (bob_ws, "raise_hand", {}), (bob_ws, "lower_hand", {}), (bob_ws, "raise_hand", {}),
        (c.host_ws, "bring_up", {"member": bob_id}),
        (ann_ws, "raise_hand", {}), (c.host_ws, "lower_hand", {"member": ann_id}),
        (ann_ws, "ask", {"text": "Who decides?", "anonymous": True}),
        (bob_ws, "ask", {"text": "How long?"}),
        (ann_ws, "edit_question", {"question": 1, "text": "Who decides, and when?"}),
        (bob_ws, "upvote", {"question": 1}), (c.host_ws, "upvote", {"question": 1}),
        (c.host_ws, "unvote", {"question": 1}), (c.host_ws, "pin", {"question": 2}),
        (c.host_ws, "answer", {"question": 1}), (bob_ws, "withdraw", {"question": 2}),
        (ann_ws, "ask", {"text": "Off topic?"}), (c.host_ws, "dismiss", {"question": 3}),
        (c.host_ws, "name_scribe", {"member": bob_id}), (bob_ws, "note", {"text": "Noted"}),
        (ann_ws, "say", {"text": "Thanks all"}),
        (bob_ws, "caption", {"text": "Welcome", "start_ms": 1000, "end_ms": 2000,
                             "speaker": "Olga"}),
        (c.host_ws, "off_record", {"on": True}), (ann_ws, "say", {"text": "candid words"}),
        (c.host_ws, "off_record", {"on": False}), (c.host_ws, "end", {}),
    ]
    ops_done = set()
    for client, name, fields in script:
        before, _ = await fetched(c, session)
        ack = await op(client, session, name, **fields)
        assert ack["type"] == "ack", (name, ack)
        await received_up_to(watcher, stream, await server.practica.store.head(stream))
        after, _ = await fetched(c, session)
        got = fold(before.snapshot(), before.seq, events_after(watcher.frames, stream,
                                                               before.seq))
        assert normal_form(got) == normal_form(after), name
        ops_done.add(name)
    assert len(ops_done) == 29  # every op but open (whose ack names the new session)
    assert after.phase == "ended" and [q.state for q in after.questions.values()] == [
        "answered", "withdrawn", "dismissed"]
    assert host_id in after.attendees and after.scribe is not None

    # the anonymous asker is in no frame a member received, but in the audit log
    asked = [f for f in watcher.frames if f.get("body", {}).get("type") == "question_asked"]
    assert asked[0]["actor"] is None and asked[0]["body"]["asker"] is None
    anonymous = [f for f in watcher.frames if f["type"] == "event" and f["stream"] == stream
                 and f["body"]["type"] in ("question_asked", "question_edited")
                 and f["body"].get("question") == 1]
    assert anonymous and all(ann_id not in msgspec.json.encode(f).decode() for f in anonymous)
    audit = await server.practica.store.read(audit_stream(c.community))
    assert any(e.body.target == ann_id and "anonymously" in e.body.action for e in audit)
    # every host action done is in the audit log, by whom, with what it was
    host_ops = [name for client, name, _ in script if client is c.host_ws and name not in (
        "attend", "upvote", "unvote")]
    done = [e.body.detail.split(" ")[0] for e in audit if e.actor == host_id
            and e.body.outcome == "done" and e.body.action in (
                "run_session", "moderate_questions")]
    assert done == host_ops
    mine = (await ann.call("GET", f"/api/sessions/{session}")).json()["mine"]
    assert mine == [1, 3]
    assert (await bob.call("GET", f"/api/sessions/{session}")).json()["mine"] == [2]

    # off the record: relayed live to those following, never stored
    relayed = await watcher.wait_for(lambda f: f["type"] == "relayed")
    assert (relayed["kind"], relayed["data"]["text"]) == ("off_record", "candid words")
    stored = msgspec.json.encode(await server.practica.store.read(stream)).decode()
    assert "candid words" not in stored
    kinds = [e.body.__struct_config__.tag for e in await server.practica.store.read(stream)
             if e.body is not None]
    assert kinds.count("off_record_started") == kinds.count("off_record_ended") == 1
    await watcher_person.call("GET", "/api/me")


async def test_refusals_are_typed_and_change_nothing(server):
    c = await circle(server, members=1)
    (ann, ann_ws), = c.members
    session = await open_session(c)
    stream = f"session:{session}"
    await attend(ann_ws, session)
    store = server.practica.store
    head = await store.head(stream)
    for client, name, fields, code in [
        (c.host_ws, "advance", {}, "out_of_order"),
        (c.host_ws, "next_round", {}, "out_of_order"),
        (ann_ws, "start", {}, "forbidden"),
        (ann_ws, "next_round", {}, "forbidden"),
        (c.host_ws, "answer", {"question": 1}, "not_found"),
        (ann_ws, "ask", {"text": "   "}, "invalid"),
    ]:
        reply = await op(client, session, name, **fields)
        assert (reply["type"], reply["code"]) == ("error", code), (name, reply)
    assert await store.head(stream) == head
    await op(c.host_ws, session, "start")
    await op(ann_ws, session, "ask", text="Mine?")
    await op(ann_ws, session, "withdraw", question=1)
    head = await store.head(stream)
    for name in ("answer", "upvote"):
        reply = await op(c.host_ws, session, name, question=1)
        assert reply["code"] == "out_of_order", reply
    for name in ("next_round", "round_back"):  # segment 0 of the hour is no case
        reply = await op(c.host_ws, session, name)
        assert reply["code"] == "out_of_order", reply
    assert await store.head(stream) == head
    missing = await op(c.host_ws, "no-such-session", "start")
    assert missing["code"] == "not_found"
    no_room = await op(c.host_ws, None, "open", room="nowhere", title="X")
    assert no_room["code"] == "not_found"
    bad_template = await op(c.host_ws, None, "open", room=c.room, title="X", template="nope")
    assert bad_template["code"] == "not_found"
    assert (await ann.call("GET", "/api/sessions/nope")).status_code == 404


async def test_two_hosts_pressing_at_once_move_one_round_or_one_segment(server):
    c = await circle(server, members=1)
    (second, second_ws), = c.members
    made_host = await c.host.call("PUT", f"/api/communities/{c.community}/members/"
                                  f"{second.id}/role", {"role": "host"})
    assert made_host.status_code == 204, made_host.text
    second_ws = await second.connect(server.ws_url)  # the role change closed the old one
    await second_ws.identify(community=c.community)
    session = await open_session(c, agenda=[
        {"kind": "case", "title": "Case", "minutes": 5, "rounds": 2, "round_minutes": 3},
        *({"kind": "open", "title": f"Part {i}", "minutes": 5} for i in range(5))])
    await op(c.host_ws, session, "start")
    for expected_round in (1, 2):  # "Next round" on the round each screen shows
        seen = expected_round - 1
        replies = await asyncio.gather(op(c.host_ws, session, "next_round", round=seen),
                                       op(second_ws, session, "next_round", round=seen))
        assert sorted(r["type"] for r in replies) == ["ack", "error"], replies
        assert [r["code"] for r in replies if r["type"] == "error"] == ["out_of_order"]
        state, _ = await fetched(c, session)
        assert (state.index, state.round) == (0, expected_round)
    for expected_index in range(1, 5):
        # Each presses "advance" on the segment their screen shows (as the browser does).
        seen = expected_index - 1
        replies = await asyncio.gather(op(c.host_ws, session, "advance", index=seen),
                                       op(second_ws, session, "advance", index=seen))
        kinds = sorted(r["type"] for r in replies)
        assert kinds == ["ack", "error"], replies
        (refused,) = [r for r in replies if r["type"] == "error"]
        assert refused["code"] == "out_of_order"
        state, _ = await fetched(c, session)
        assert state.index == expected_index


async def test_templates_are_saved_and_open_sessions(server):
    c = await circle(server, members=1)
    (ann, _), = c.members
    path = f"/api/communities/{c.community}/templates"
    agenda = [{"kind": "case", "title": "Case", "minutes": 40, "rounds": 3,
               "round_minutes": 5}, {"kind": "qa", "title": "Q&A", "minutes": 10}]
    saved = await c.host.call("POST", path, {"name": "Case night", "agenda": agenda})
    assert saved.status_code == 201, saved.text
    refused = await ann.call("POST", path, {"name": "Mine", "agenda": agenda})
    assert refused.status_code == 403
    bad = await c.host.call("POST", path, {"name": "Empty", "agenda": []})
    assert bad.status_code == 400
    listed = (await ann.call("GET", path)).json()
    assert [t["name"] for t in listed] == ["community hour", "Case night"]
    session = await open_session(c, template="Case night")
    state, _ = await fetched(c, session)
    assert [s.kind for s in state.agenda] == ["case", "qa"]
    rooms = (await ann.call("GET", f"/api/rooms/{c.room}/sessions")).json()
    assert [r["session"] for r in rooms] == [session]
