"""The browser's folds (web/folds/*.js) against the server's (server/domain/*.py): the
same recorded sequences, a snapshot at some seq and the events after it, folded in
Chromium and in Python; the normal forms must be equal field by field (the idea of
Zulip's verify_action, across two languages)."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import msgspec
import pytest
from playwright.async_api import Page

from server.domain.session import SessionState
from server.domain.session_erasure import WORDS, erasure
from server.domain.session_events import ChatSaid, QuestionAsked, QuestionUpvoted
from server.streams import KINDS
from tests.browser.ui import assert_clean, new_page
from tests.fold_sequences import (
    Recorded,
    Recorder,
    client_fold,
    community_sequence,
    room_sequence,
    server_fold,
    session_sequence,
    stale,
)
from tests.pair_sequences import pairs_sequence
from tests.server_sequences import record
from tests.session_setup import circle, op

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

# Run in the page: import each kind's fold as the app does, fold every case, return the
# normal forms. Passed to page.evaluate (the CSP forbids inline script in the page).
FOLD_ALL = """async (cases) => {
  const { foldOfKind } = await import('/static/folds/index.js');
  return cases.map((c) => {
    const fold = foldOfKind(c.kind);
    return fold.normalForm(fold.fold(c.snapshot, c.seq, c.events));
  });
}"""


async def folds_page(new_context: Any, server: Any) -> Page:
    page = await new_page(new_context)
    await page.goto(f"{server.url}/static/folds/room.js")  # any page of the server's origin
    return page


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Where two normal forms differ, field by field."""
    if isinstance(want, dict) and isinstance(got, dict):
        return [d for key in sorted(want.keys() | got.keys())
                for d in differences(want.get(key), got.get(key), f"{path}.{key}")]
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [d for i, (a, b) in enumerate(zip(want, got, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]
    return [] if want == got else [f"{path}: python {want!r}, javascript {got!r}"]


async def compare(page: Page, recorded: Recorded, cases: list[dict[str, Any]]) -> None:
    whole = server_fold(recorded)
    results = await page.evaluate(FOLD_ALL, cases)
    for case, got in zip(cases, results, strict=True):
        assert client_fold(case) == whole, f"python, snapshot at {case['seq']}"
        assert differences(whole, got) == [], f"{recorded.stream}, snapshot at {case['seq']}"


def split_points(recorded: Recorded) -> list[int]:
    total = len(recorded.events)
    return sorted({0, 1, total // 4, total // 2, total - 3, total})


async def test_the_browser_folds_every_kind_the_server_snapshots_and_no_other(new_context,
                                                                              server):
    """One table (web/folds/index.js) maps kinds to fold modules; it names exactly the
    registry's kinds that are folded and sent to clients as snapshots (server/streams.py;
    a series' fold is the server's own, read over HTTP), and an unknown kind maps to
    none."""
    page = await folds_page(new_context, server)
    got = await page.evaluate("""async () => {
      const index = await import('/static/folds/index.js');
      const kinds = Object.keys(index.FOLDS).sort();
      return {kinds, modules: kinds.map((k) => index.FOLDS[k].KIND),
              unknown: index.foldOf('zzz:x'), audit: index.foldOf('audit:guild'),
              room: index.foldOf('room:lobby') === index.FOLDS.room,
              refused: (() => { try { index.streamOf('zzz', 'x'); return null; }
                                catch (e) { return String(e.message); } })()};
    }""")
    folded = sorted(kind.name for kind in KINDS if kind.folded and kind.snapshots)
    assert got == {"kinds": folded, "modules": folded, "unknown": None, "audit": None,
                   "room": True, "refused": "no stream kind zzz"}
    assert_clean(page)


@pytest.mark.parametrize("make", [room_sequence, community_sequence, session_sequence,
                                  pairs_sequence],
                         ids=["room", "community", "session", "pair-ups"])
async def test_the_browser_folds_like_the_server_over_random_sequences(new_context, server,
                                                                       make):
    page = await folds_page(new_context, server)
    for seed in (7, 42, 2026):
        recorded = make(seed, steps=150)
        rng = random.Random(seed)
        cases = [recorded.case(at) for at in split_points(recorded)]
        cases += [recorded.case(at, stale(recorded, at, rng)) for at in split_points(recorded)]
        await compare(page, recorded, cases)
    assert_clean(page)


async def test_a_long_room_keeps_the_same_recent_messages(new_context, server):
    """More posts than a snapshot keeps: the browser holds more, the recent ones agree,
    and edits to messages past the window change nothing either side shows."""
    page = await folds_page(new_context, server)
    recorded = room_sequence(99, steps=400)
    assert sum(e.body is not None and type(e.body).__name__ == "MessagePosted"
               for e in recorded.events) > 60
    await compare(page, recorded, [recorded.case(at) for at in (0, 120, len(recorded.events))])
    assert_clean(page)


async def test_unreadable_erased_duplicate_and_older_events_change_nothing(new_context, server):
    page = await folds_page(new_context, server)
    recorded = room_sequence(5, steps=60)
    at = len(recorded.events) // 2
    case = recorded.case(at)
    events = case["events"]
    unreadable = {**events[0], "body": {"type": "unreadable", "original_type": "poll_opened",
                                        "problem": "unknown type"}}
    erased = {**events[1], "body": None}
    # Sent again after the real ones: the unreadable and erased ones at seqs already
    # folded, every event once more, and one from before the snapshot.
    before = recorded.case(0)["events"][max(0, at - 1)]
    case["events"] = [*events, unreadable, erased, *reversed(events), before]
    await compare(page, recorded, [case])
    # At a new seq an unreadable or erased event moves seq only.
    last = recorded.events[-1]
    tail = [{"stream": last.stream, "seq": last.seq + 1, "ts": last.ts + 1, "actor": None,
             "body": unreadable["body"]},
            {"stream": last.stream, "seq": last.seq + 2, "ts": last.ts + 2, "actor": None,
             "body": None}]
    full = recorded.case(len(recorded.events))
    full["events"] = tail
    (got,) = await page.evaluate(FOLD_ALL, [full])
    want = {**server_fold(recorded), "seq": last.seq + 2}
    assert client_fold(full) == want
    assert differences(want, got) == []
    assert_clean(page)


def fresh_case(got: dict[str, Any]) -> dict[str, Any]:
    return {"kind": got["fresh"]["snapshot"]["kind"], **got["fresh"], "events": []}


@pytest.mark.settings(presence_grace_ms=600_000)  # see tests/server_sequences.py
async def test_the_browser_folds_what_a_real_server_sent(new_context, server):
    """Events recorded from a real server's socket: the browser's fold of the first
    snapshot and those events equals the snapshot a fresh socket got."""
    recorded = await record(server)
    page = await folds_page(new_context, server)
    cases = [{"kind": got["first"]["snapshot"]["kind"], **got["first"]}
             for got in recorded.values()]
    fresh = [fresh_case(got) for got in recorded.values()]
    results = await page.evaluate(FOLD_ALL, cases + fresh)
    for (stream, got), folded, want in zip(recorded.items(), results[:len(cases)],
                                           results[len(cases):], strict=True):
        assert differences(want, folded) == [], stream
        assert differences(client_fold(fresh_case(got)), folded) == [], stream
        assert folded["seq"] == got["fresh"]["seq"]
    assert_clean(page)


async def test_the_browser_folds_a_session_a_real_server_ran(new_context, server):
    """A live session run over real sockets (anonymous and named questions, votes, hands,
    stage, the timer, off the record, the end): the browser's fold of the snapshot the
    host's socket started from and the events it received equals the server's view at
    the end, and the Python client fold agrees."""
    the = await circle(server, members=2)
    (ann, ann_ws), (bob, bob_ws) = the.members
    opened = await op(the.host_ws, None, "open", room=the.room, title="Hour")
    session = opened["stream"].partition(":")[2]
    first = (await op(the.host_ws, session, "attend"))["sync"]
    for ws in (ann_ws, bob_ws):
        assert (await op(ws, session, "attend"))["type"] == "ack"
    steps: list[tuple[Any, str, dict[str, Any]]] = [
        (the.host_ws, "start", {}), (ann_ws, "ask", {"text": "Named?"}),
        (bob_ws, "ask", {"text": "Anonymous?", "anonymous": True}),
        (bob_ws, "upvote", {"question": 1}), (the.host_ws, "upvote", {"question": 2}),
        (ann_ws, "raise_hand", {}), (bob_ws, "raise_hand", {}),
        (the.host_ws, "bring_up", {"member": bob.id}), (the.host_ws, "extend", {"minutes": 5}),
        (the.host_ws, "pause", {}), (the.host_ws, "resume", {}),
        (the.host_ws, "advance", {}), (the.host_ws, "pin", {"question": 2, "pinned": True}),
        (ann_ws, "edit_question", {"question": 1, "text": "Named, edited?"}),
        (the.host_ws, "answer", {"question": 1}), (the.host_ws, "off_record", {"on": True}),
        (ann_ws, "say", {"text": "between us"}), (the.host_ws, "off_record", {"on": False}),
        (bob_ws, "say", {"text": "on the record"}), (the.host_ws, "name_scribe",
                                                     {"member": ann.id}),
        (ann_ws, "note", {"text": "a note"}), (the.host_ws, "advance", {}),
        (the.host_ws, "unvote", {"question": 2}), (the.host_ws, "end", {}),
    ]
    for ws, name, fields in steps:
        reply = await op(ws, session, name, **fields)
        assert reply["type"] == "ack", (name, reply)
    stream = f"session:{session}"
    head = await server.practica.store.head(stream)
    await the.host_ws.wait_for(lambda f: f["type"] == "event" and f["stream"] == stream
                               and f["seq"] == head)
    fresh = (await the.host.call("GET", f"/api/sessions/{session}")).json()
    page = await folds_page(new_context, server)
    case = {"kind": "session", **first, "events": the.host_ws.events(stream)}
    assert first["mode"] == "snapshot" and len(case["events"]) >= len(steps) - 2
    fresh_case = {"kind": "session", "snapshot": fresh["snapshot"], "seq": fresh["seq"],
                  "events": []}
    folded, want = await page.evaluate(FOLD_ALL, [case, fresh_case])
    assert folded["seq"] == head
    assert differences(want, folded) == []
    assert differences(client_fold(fresh_case), folded) == []
    assert want["phase"] == "ended" and [q["state"] for q in want["questions"]] == [
        "answered", "open"]
    for socket in (the.host_ws, ann_ws, bob_ws):
        await socket.close()
    assert_clean(page)


async def test_the_browser_folds_pair_up_rounds_a_real_server_ran(new_context, server):
    """Pair-up rounds run over real sockets (sitting out and back in, pairing, a
    broadcast, calls for help, a visit, a dismissal, a partner leaving and the one left
    choosing, the host ending the round, a takeaway, a reshuffle, moving on mid-round):
    the browser's fold of the host's first snapshot and the events it received equals
    the server's view at the end, and the Python client fold agrees."""
    the = await circle(server, members=4)
    people = {person.id: ws for person, ws in the.members}
    for ws in (the.host_ws, *people.values()):
        assert (await ws.command("join", room=the.room))["type"] == "ack"
    opened = await op(the.host_ws, None, "open", room=the.room, title="Hour")
    session = opened["stream"].partition(":")[2]
    first = (await op(the.host_ws, session, "attend"))["sync"]
    for ws in people.values():
        assert (await op(ws, session, "attend"))["type"] == "ack"
    last_ws = list(people.values())[-1]

    async def ok(ws: Any, name: str, **fields: Any) -> None:
        reply = await op(ws, session, name, **fields)
        assert reply["type"] == "ack", (name, reply)

    async def groups() -> list[list[str]]:
        view = (await the.host.call("GET", f"/api/sessions/{session}")).json()["snapshot"]
        return [g["members"] for g in view["groups"]]

    await ok(the.host_ws, "start")
    await ok(last_ws, "sit_out", out=True)
    await ok(last_ws, "sit_out", out=False)
    await ok(the.host_ws, "pair", round=0)
    one, two = await groups()
    assert sorted(len(g) for g in (one, two)) == [2, 2]
    await ok(the.host_ws, "broadcast", text="Swap who talks first")
    await ok(people[one[0]], "call_help")
    await ok(the.host_ws, "visit", group=1)
    await ok(the.host_ws, "leave_visit")
    await ok(people[two[0]], "call_help")
    await ok(the.host_ws, "clear_help", group=2)
    await ok(people[one[0]], "leave_pair")
    await ok(people[one[1]], "partner_choice", choice="join_pair")
    assert sorted(len(g) for g in await groups()) == [3]
    await ok(the.host_ws, "end_pairs", round=1)
    await ok(people[one[1]], "takeaway", round=1, text="Ask before advising")
    await ok(the.host_ws, "pair", round=1)
    await ok(the.host_ws, "advance")
    await ok(the.host_ws, "end")
    stream = f"session:{session}"
    head = await server.practica.store.head(stream)
    await the.host_ws.wait_for(lambda f: f["type"] == "event" and f["stream"] == stream
                               and f["seq"] == head)
    fresh = (await the.host.call("GET", f"/api/sessions/{session}")).json()
    page = await folds_page(new_context, server)
    case = {"kind": "session", **first, "events": the.host_ws.events(stream)}
    fresh_case = {"kind": "session", "snapshot": fresh["snapshot"], "seq": fresh["seq"],
                  "events": []}
    folded, want = await page.evaluate(FOLD_ALL, [case, fresh_case])
    assert folded["seq"] == head
    assert differences(want, folded) == []
    assert differences(client_fold(fresh_case), folded) == []
    kinds = [e["body"]["type"] for e in case["events"] if e.get("body")]
    for kind in ("sat_out", "pairs_made", "pairs_broadcast", "help_called", "host_visited",
                 "help_cleared", "host_left", "pairs_changed", "pairs_ended",
                 "takeaway_shared"):
        assert kind in kinds, kind
    assert want["pair_round"] == 2 and want["pairs_active"] is False
    assert want["paired"] == sorted(people)
    for socket in (the.host_ws, *people.values()):
        await socket.close()
    assert_clean(page)


def while_broadcast_shown(recorded: Recorded) -> Recorded:
    """``recorded`` up to the last point where a pair-up broadcast shows (so erasing it
    changes what a page shows), or whole if none ever does."""
    for end in range(len(recorded.events), 0, -1):
        state = recorded.fold_until(end)
        assert isinstance(state, SessionState)
        if state.ups.broadcasts:
            return Recorded(recorded.kind, recorded.stream, recorded.events[:end])
    return recorded


def erase_some(original: Recorded, rng: random.Random) -> Recorded:
    """``original`` after erasures as the server makes them (server/domain/
    session_erasure.py): for a few lines, the bodies of every event going with it (a
    question's edits, a segment's earlier case prompts) nulled and one ``words_erased``
    naming them (the last broadcast still shown among them); then a question asked
    after them (its number never given before), a vote and a line of chat."""
    erased = Recorded(original.kind, original.stream, list(original.events))
    words = [e.seq for e in original.events if isinstance(e.body, WORDS)]
    rec = Recorder(erased, rng)
    rec.now = erased.events[-1].ts
    last = original.fold_until(len(original.events))
    assert isinstance(last, SessionState)
    shown = [b.seq for b in last.ups.broadcasts[-1:]]  # one still shown, if any
    for seq in [*shown, *rng.sample(words, min(8, len(words)))]:
        if erased.events[seq - 1].body is None:
            continue  # gone with an earlier line (an edit with its question)
        marker = erasure(erased.events, seq)
        gone = set(marker.seqs)
        erased.events = [msgspec.structs.replace(e, body=None) if e.seq in gone else e
                         for e in erased.events]
        rec.append([marker])
    state = erased.fold_until(len(erased.events))
    assert isinstance(state, SessionState)
    number = state.asked + 1
    rec.append([QuestionAsked(question=number, text="after the erasure?", asker="m-1",
                              asker_name="Bob", owner_key="k-after")], "m-1")
    rec.append([QuestionUpvoted(question=number, member="m-2")], "m-2")
    rec.append([ChatSaid(text="still talking", name="Bob")], "m-1")
    return erased


# Streams stamped as the server stamps questions now (legacy ones, which gave a number
# twice, are folded alike by both sides but cannot be erased exactly).
@pytest.mark.parametrize("make", [partial(session_sequence, legacy=False), pairs_sequence],
                         ids=["session", "pair-ups"])
async def test_the_browser_folds_an_erasure_like_the_server(new_context, server, make):
    """words_erased: a page that saw the words live (a snapshot from before, the events
    with their bodies, then words_erased) ends where the server's fold of the erased
    stream from nothing ends (questions gone from the board and their numbers never
    given again, case prompts and broadcasts gone), and so does a page that joins after
    (bodies null); in Python too."""
    page = await folds_page(new_context, server)
    for seed in (7, 42, 2026):
        original = while_broadcast_shown(make(seed, steps=150))
        erased = erase_some(original, random.Random(seed))
        tail = erased.events[len(original.events):]
        live = []
        for at in split_points(original):
            case = original.case(at)
            case["events"] += [msgspec.to_builtins(e) for e in tail]
            live.append(case)
        after = [erased.case(at) for at in split_points(erased)]
        await compare(page, erased, live + after)
        assert sum(e.body is not None and type(e.body).__name__ == "WordsErased"
                   for e in tail) >= 3
    assert_clean(page)
