"""A connection's cursors and queue, driven without a socket."""

from __future__ import annotations

import asyncio

import pytest

from server.connection import Connection
from server.errors import CloseCode
from server.ratelimit import TokenBucket

pytestmark = pytest.mark.anyio


def make(queue_limit: int = 100, store: dict[int, str] | None = None) -> Connection:
    store = store or {}

    async def catch_up(stream: str, after: int) -> list[tuple[int, str]]:
        await asyncio.sleep(0)
        return [(seq, frame) for seq, frame in sorted(store.items()) if seq > after]

    return Connection(lambda message: asyncio.sleep(0), queue_limit=queue_limit,
                      catch_up=catch_up, bucket=TokenBucket(60, 10, 0.0))


async def test_delivers_in_order_once_and_drops_repeats():
    conn = make()
    conn.end_sync("s", 3)
    for seq in (4, 4, 3, 5):
        conn.deliver("s", seq, f"e{seq}")
    assert list(conn.queue) == ["e4", "e5"]
    conn.deliver("other", 1, "not subscribed")
    assert list(conn.queue) == ["e4", "e5"]


async def test_events_during_sync_are_held_then_released_after_the_snapshot_seq():
    conn = make()
    conn.begin_sync("s")
    conn.deliver("s", 11, "e11")
    conn.deliver("s", 10, "e10")
    conn.deliver("s", 12, "e12")
    assert not conn.queue
    conn.push("snapshot@10")
    conn.end_sync("s", 10)
    assert list(conn.queue) == ["snapshot@10", "e11", "e12"]


async def test_streams_being_synced_and_followed_are_known_until_forgotten():
    conn = make()
    conn.begin_sync("a")
    conn.end_sync("b", 3)
    assert conn.syncing("a") and not conn.syncing("b")
    assert sorted(conn.streams()) == ["a", "b"]
    conn.deliver("a", 1, "held")
    conn.forget("a")  # no longer readable while syncing: nothing of it is ever sent
    conn.end_sync("b", 3)
    assert conn.streams() == ["b"] and not conn.syncing("a")
    conn.deliver("a", 2, "dropped")
    assert list(conn.queue) == []


async def test_a_gap_is_filled_from_the_store_before_newer_events():
    store = {6: "e6", 7: "e7", 8: "e8"}
    conn = make(store=store)
    conn.end_sync("s", 5)
    conn.deliver("s", 8, "e8")  # 6 and 7 were announced somewhere we did not hear
    conn.deliver("s", 9, "e9")
    assert not conn.queue
    for _ in range(5):
        await asyncio.sleep(0)
    assert list(conn.queue) == ["e6", "e7", "e8", "e9"]


async def test_overflowing_queue_closes_as_slow_consumer_and_stops_queueing():
    conn = make(queue_limit=3)
    conn.end_sync("s", 0)
    for seq in range(1, 6):
        conn.deliver("s", seq, f"e{seq}")
    assert conn.closing is not None and conn.closing.code == CloseCode.SLOW_CONSUMER
    assert len(conn.queue) == 3


async def test_sender_sends_queued_frames_then_the_close_frame():
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    conn = Connection(send, queue_limit=10, catch_up=None,  # type: ignore[arg-type]
                      bucket=TokenBucket(60, 10, 0.0))
    task = asyncio.create_task(conn.run_sender())
    conn.push("a")
    conn.push("b")
    await asyncio.sleep(0.01)
    conn.close(CloseCode.GOING_AWAY, "restart")
    await asyncio.wait_for(task, 1)
    assert [m.get("text") for m in sent[:2]] == ["a", "b"]
    assert sent[2] == {"type": "websocket.close", "code": 1001, "reason": "restart"}
    assert conn.closed.is_set()


async def test_eager_send_writes_at_once_when_writable_and_queues_when_not():
    writable = asyncio.Event()
    writable.set()
    sent: list[str] = []

    async def send(message: dict[str, object]) -> None:  # shaped like uvicorn's sansio send
        await writable.wait()
        sent.append(str(message.get("text")))

    conn = Connection(send, queue_limit=10, catch_up=None,  # type: ignore[arg-type]
                      bucket=TokenBucket(60, 10, 0.0), eager=True)
    conn.push("now")
    assert sent == ["now"] and not conn.queue  # no task switch needed
    writable.clear()
    conn.push("later-1")
    conn.push("later-2")
    assert sent == ["now"] and list(conn.queue) == ["later-1", "later-2"]
    sender = asyncio.create_task(conn.run_sender())
    await asyncio.sleep(0.01)
    assert sent == ["now"]
    writable.set()
    await asyncio.sleep(0.01)
    assert sent == ["now", "later-1", "later-2"]  # in order, once each
    conn.close(CloseCode.NORMAL, "done")
    await asyncio.wait_for(sender, 1)


async def test_an_idle_eager_connection_holds_no_task_queue_or_event_until_needed():
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    conn = Connection(send, queue_limit=10, catch_up=None,  # type: ignore[arg-type]
                      bucket=TokenBucket(60, 10, 0.0), eager=True, own_sender=True)
    conn.push("hello")
    assert [m.get("text") for m in sent] == ["hello"]
    assert conn.sender is None and conn.queue == () and not hasattr(conn, "__dict__")
    conn.close(CloseCode.GOING_AWAY, "restart")  # now a sender starts, to send the close
    await asyncio.wait_for(conn.closed.wait(), 1)
    assert sent[-1] == {"type": "websocket.close", "code": 1001, "reason": "restart"}
