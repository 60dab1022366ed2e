"""A session's deadlines through the scheduler: warnings and auto-advance fire exactly
once, however many schedulers sweep, and a host's command decided meanwhile wins.
The clock is the test's; nothing waits for real time."""

from __future__ import annotations

import asyncio

import pytest

from server.cluster.lease import LocalLeases
from server.cluster.scheduler import Scheduler
from server.domain.deadlines import TIMER_ACTOR
from server.domain.session import SESSION_TIMERS
from server.domain.session_events import (
    CaseRoundStarted,
    Segment,
    SegmentChanged,
    SessionEnded,
    SessionOpened,
    SessionStarted,
)
from server.domain.session_pair_events import PairGroup, PairsEnded, PairsMade
from server.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio
STREAM = "session:s-1"
T = 1_900_000_000_000
MIN = 60_000


@pytest.fixture
async def store(tmp_path):
    store = SqliteStore(str(tmp_path / "sessions.db"))
    await store.open()
    yield store
    await store.close()


async def started(store: SqliteStore, auto: bool = True) -> None:
    await store.append(STREAM, "m-host", [
        SessionOpened(session="s-1", room="hall", title="Hour", community="g", agenda=[
            Segment(kind="open", title="A", minutes=5, auto_advance=auto),
            Segment(kind="qa", title="B", minutes=10)]),
        SessionStarted(deadline_ms=T)])


def kinds(events) -> list[str]:
    return [e.body.__struct_config__.tag for e in events if e.body is not None]


def at(now: list[int]):
    return lambda: now[0]


async def test_warnings_then_auto_advance_fire_once_across_two_schedulers(store):
    await started(store)
    now = [T - 3 * MIN]
    first = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    second = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    for moment in (T - 3 * MIN, T - 2 * MIN + 1, T - 29_000, T + 5):
        now[0] = moment
        for _sweep in range(3):
            await asyncio.gather(first.sweep_once(), second.sweep_once())
    events = await store.read(STREAM)
    assert kinds(events)[2:] == ["segment_warned", "segment_warned", "segment_changed"]
    assert [e.body.left for e in events[2:4]] == ["2m", "30s"]  # type: ignore[union-attr]
    changed = events[4].body
    assert isinstance(changed, SegmentChanged)
    assert (changed.index, changed.how, changed.deadline_ms) == (1, "auto", T + 5 + 10 * MIN)
    assert all(e.actor == TIMER_ACTOR for e in events[2:])
    assert first.fired + second.fired == 3
    # the last segment does not auto-advance: nothing more, however late
    now[0] = T + 60 * MIN
    await asyncio.gather(first.sweep_once(), second.sweep_once())
    assert kinds(await store.read(STREAM))[5:] == []


async def test_a_segment_without_auto_advance_waits_for_the_host(store):
    await started(store, auto=False)
    now = [T - 20_000]
    scheduler = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    await scheduler.sweep_once()
    now[0] = T + 10 * MIN  # long past: no more warnings, and no moving on
    await scheduler.sweep_once()
    assert kinds(await store.read(STREAM)) == ["session_opened", "session_started",
                                               "segment_warned"]


async def test_a_host_advance_decided_first_wins_over_a_stale_firing(store):
    await started(store)
    now = [T - 10 * MIN]
    scheduler = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    await scheduler.sweep_once()  # folded at seq 2, nothing due
    # the host advances (another process) before the scheduler's next sweep
    await store.append(STREAM, "m-host", [SegmentChanged(index=1, deadline_ms=T + 20 * MIN,
                                                         how="advance")], expected=2)
    now[0] = T + 1
    await scheduler.sweep_once()
    await scheduler.sweep_once()
    events = await store.read(STREAM)
    assert kinds(events) == ["session_opened", "session_started", "segment_changed"]
    assert scheduler.fired == 0


async def test_an_auto_advancing_case_runs_each_round_once_then_moves_on(store):
    await store.append(STREAM, "m-host", [
        SessionOpened(session="s-1", room="hall", title="Cases", community="g", agenda=[
            Segment(kind="case", title="Case", minutes=5, rounds=2, round_minutes=1,
                    auto_advance=True),
            Segment(kind="qa", title="Q&A", minutes=10)]),
        SessionStarted(deadline_ms=T)])
    now = [T + 5]
    first = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    second = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    for moment in (T + 5, T + 5 + MIN - 20_000, T + 5 + MIN, T + 5 + 2 * MIN - 20_000,
                   T + 5 + 2 * MIN):
        now[0] = moment
        for _sweep in range(3):
            await asyncio.gather(first.sweep_once(), second.sweep_once())
    events = await store.read(STREAM)
    assert kinds(events)[2:] == ["case_round_started", "segment_warned", "case_round_started",
                                 "segment_warned", "segment_changed"]
    rounds = [e.body for e in events if isinstance(e.body, CaseRoundStarted)]
    assert [(r.round, r.how, r.deadline_ms) for r in rounds] == [
        (1, "auto", T + 5 + MIN), (2, "auto", T + 5 + 2 * MIN)]
    assert [e.body.round for e in events  # type: ignore[union-attr]
            if e.body.__struct_config__.tag == "segment_warned"] == [1, 2]
    changed = events[-1].body
    assert isinstance(changed, SegmentChanged) and changed.index == 1


async def test_a_pair_up_round_warns_at_one_minute_and_ends_once_then_moves_on(store):
    await store.append(STREAM, "m-host", [
        SessionOpened(session="s-1", room="hall", title="Pairs", community="g", agenda=[
            Segment(kind="pairs", title="Pairs", minutes=5, auto_advance=True),
            Segment(kind="qa", title="Q&A", minutes=10)]),
        SessionStarted(deadline_ms=T),
        PairsMade(round=1, seed="s", groups=[PairGroup(group=1, members=["a", "b"])])])
    now = [T - 3 * MIN]
    first = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    second = Scheduler(store, LocalLeases(), [SESSION_TIMERS], clock=at(now))
    for moment in (T - 3 * MIN, T - 2 * MIN + 1, T - MIN + 1, T - 29_000, T + 5):
        now[0] = moment
        for _sweep in range(3):
            await asyncio.gather(first.sweep_once(), second.sweep_once())
    events = await store.read(STREAM)
    assert kinds(events)[3:] == ["segment_warned"] * 3 + ["pairs_ended", "segment_changed"]
    assert [e.body.left for e in events[3:6]] == ["2m", "1m", "30s"]  # type: ignore[union-attr]
    assert events[6].body == PairsEnded(round=1, how="time")
    assert all(e.actor == TIMER_ACTOR for e in events[3:])


class CountingLeases(LocalLeases):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def hold(self, name: str) -> bool:
        self.asked.append(name)
        return await super().hold(name)


async def test_an_ended_session_is_no_longer_swept(store):
    await started(store)
    leases = CountingLeases()
    scheduler = Scheduler(store, leases, [SESSION_TIMERS], clock=at([T - 10 * MIN]))
    await scheduler.sweep_once()
    assert len(leases.asked) == 1
    await store.append(STREAM, "m-host", [SessionEnded()])
    await scheduler.sweep_once()  # folds the end
    await scheduler.sweep_once()
    await scheduler.sweep_once()
    assert len(leases.asked) == 2
