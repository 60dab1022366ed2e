"""No server frame exceeds ``limits.max_server_frame_bytes``: long replays follow ``ready``
as event frames, snapshots and history pages keep their newest messages."""

from __future__ import annotations

import json

import pytest

from server.domain.events import Event, MessagePosted
from server.domain.room import Member, Message, RoomSnapshot
from server.paging import fit_history, fit_synced
from server.protocol import HistoryPage, Ready, Session, Sync
from tests.people import signed_in

ROOM, STREAM = "case-review", "room:case-review"
LONG = "é" * 4000  # 8,000 bytes of UTF-8: 1,000 of them make an 8 MB replay


def _event(seq: int, text: str = LONG) -> Event:
    return Event(stream=STREAM, seq=seq, ts=seq, actor="m-a",
                 body=MessagePosted(author="m-a", author_name="Ann", text=text))


def _message(seq: int) -> Message:
    return Message(id=seq, author="m-a", author_name="Ann", text=LONG, ts=seq)


def _ready(*syncs: Sync) -> Ready:
    return Ready(session=Session(member=Member(id="m-a", name="Ann"), community="c",
                                 role="member"), syncs=list(syncs))


# --- pure -------------------------------------------------------------------------


def test_a_small_ready_is_sent_as_it_is():
    frame = _ready(Sync(stream=STREAM, mode="replay", seq=3, events=[_event(2), _event(3)]))
    text, moved = fit_synced(frame, 1 << 20)
    assert moved == {} and len(json.loads(text)["syncs"][0]["events"]) == 2


def test_a_long_replay_moves_its_events_out_and_starts_the_sync_where_they_begin():
    events = [_event(seq) for seq in range(11, 211)]
    frame = _ready(Sync(stream=STREAM, mode="replay", seq=210, events=events))
    text, moved = fit_synced(frame, 64 * 1024)
    assert len(text.encode()) <= 64 * 1024
    sync = json.loads(text)["syncs"][0]
    assert sync["mode"] == "replay" and sync["seq"] == 10 and "events" not in sync
    assert [e.seq for e in moved[STREAM]] == list(range(11, 211))


def test_a_large_room_snapshot_keeps_its_latest_messages():
    snapshot = RoomSnapshot(room=ROOM, name="Case review", topic="", present=[],
                            messages=[_message(seq) for seq in range(1, 51)], message_count=50)
    text, _ = fit_synced(_ready(Sync(stream=STREAM, mode="snapshot", seq=50,
                                     snapshot=snapshot)), 100_000)
    assert len(text.encode()) <= 100_000
    kept = [m["id"] for m in json.loads(text)["syncs"][0]["snapshot"]["messages"]]
    assert kept and kept == list(range(51 - len(kept), 51)) and len(kept) < 50


def test_a_large_history_page_keeps_its_newest_messages_and_says_there_is_more():
    page = HistoryPage(ref="h", room=ROOM, messages=[_message(s) for s in range(1, 101)],
                       has_more=False)
    text = fit_history(page, 200_000)
    body = json.loads(text)
    assert len(text.encode()) <= 200_000 and body["has_more"] is True
    ids = [m["id"] for m in body["messages"]]
    assert ids == list(range(101 - len(ids), 101))


# --- over a real socket -----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
@pytest.mark.settings(presence_grace_ms=600_000)  # no "left" event adds to the 1,000 missed
async def test_a_client_with_a_1_mib_limit_resumes_after_1000_long_messages(server):
    limit = server.settings.max_server_frame_bytes
    reader = await signed_in(server, "Reader", max_size=1 << 20)
    assert reader.hello["limits"]["max_server_frame_bytes"] == limit <= 1 << 20
    ack = await reader.command("join", room=ROOM)
    last = ack["sync"]["seq"]
    await reader.close()
    store = server.practica.store
    for start in range(0, 1000, 100):
        await store.append(STREAM, "m-writer", [
            MessagePosted(author="m-writer", author_name="Writer", text=f"{n} {LONG[:3990]}")
            for n in range(start, start + 100)])
    head = await store.head(STREAM)
    assert head - last >= 1000

    again = await reader.person.connect(server.ws_url, max_size=1 << 20)
    await again.send({"type": "resume", "streams": {STREAM: last}})
    sizes, texts, seqs, ready = [], [], [], None
    while not seqs or seqs[-1] < head:
        raw = await again.ws.recv()
        sizes.append(len(raw.encode()))
        frame = json.loads(raw)
        if frame["type"] == "ready":
            ready = frame
            sync = next(s for s in frame["syncs"] if s["stream"] == STREAM)
            assert sync["mode"] == "replay"
            seqs.append(sync["seq"])
            for event in sync.get("events", []):
                seqs.append(event["seq"])
                texts.append(event["body"].get("text"))
        elif frame["type"] == "event" and frame["stream"] == STREAM:
            seqs.append(frame["seq"])
            texts.append(frame["body"].get("text"))
    assert ready is not None and max(sizes) <= limit
    assert seqs == list(range(seqs[0], head + 1)), "every missed event, once, in order"
    assert [t.split(" ")[0] for t in texts if t and t.endswith(LONG[:3990])] == [
        str(n) for n in range(1000)]
    await again.close()


@pytest.mark.anyio
@pytest.mark.settings(max_server_frame_bytes=100_000)
async def test_join_and_history_stay_under_the_limit(server):
    client = await signed_in(server, "Ann", max_size=1 << 20)
    await client.command("join", room=ROOM)
    store = server.practica.store
    await store.append(STREAM, "m-w", [MessagePosted(author="m-w", author_name="W", text=LONG)
                                       for _ in range(100)])
    sizes: list[int] = []
    original = client.ws.recv

    async def recv(*args, **kwargs):
        raw = await original(*args, **kwargs)
        sizes.append(len(raw.encode()))
        return raw

    client.ws.recv = recv  # type: ignore[method-assign]
    ack = await client.command("join", room="journal-club")
    assert ack["type"] == "ack"
    page = await client.command("history", room=ROOM, limit=100)
    assert page["type"] == "history" and page["has_more"] is True
    assert 0 < len(page["messages"]) < 100
    await client.command("leave", room=ROOM)
    rejoin = await client.command("join", room=ROOM)
    assert 0 < len(rejoin["sync"]["snapshot"]["messages"]) < 50
    assert sizes and max(sizes) <= 100_000
    await client.close()
