"""How long reading the matcher's inputs takes (``server/pairing_inputs.py``): the
history, stages and blocks of a large community, read when the host presses pair,
before the matching itself (``bench/pairs.py``).

A community of N members with a year of weekly sessions that all of them attend and
pair up in (N/2 meetings and N attendances a week), a few presenters, and each member
blocking a few others: the tables are filled as the pairings projection would fill
them (its own statements, from real event bodies), then ``pairing_inputs`` is timed
for everyone present, on SQLite and, with ``--postgres URL``, on PostgreSQL.

    python bench/pairing_inputs.py [--members 1000] [--weeks 52] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import table, write_results  # noqa: E402
from server.domain.community import CommunityState, MemberInfo  # noqa: E402
from server.domain.events import Event  # noqa: E402
from server.domain.pairing_inputs import DAY_MS  # noqa: E402
from server.domain.session_events import (  # noqa: E402
    AttendeeArrived,
    SessionOpened,
    StageChanged,
    community_hour,
)
from server.domain.session_pair_events import PairGroup, PairsMade  # noqa: E402
from server.pairing_inputs import pairing_inputs  # noqa: E402
from server.projections.pairings import PairingsProjection  # noqa: E402
from server.store import EventStore, open_store  # noqa: E402
from server.store.pairings import PairTables  # noqa: E402

COMMUNITY = "bench"
NOW = 1_800_000_000_000


async def fill(store: EventStore, members: list[str], weeks: int, rng: random.Random) -> int:
    projection = PairingsProjection()
    rows = 0
    for week in range(weeks):
        session = f"w{week}"
        ts = NOW - (weeks - week) * 7 * DAY_MS
        people = members[:]
        rng.shuffle(people)
        bodies = [SessionOpened(session=session, room="hall", title=f"Week {week}",
                                agenda=community_hour(), community=COMMUNITY)]
        bodies += [AttendeeArrived(member=m, name=m) for m in people]
        bodies += [StageChanged(member=people[0], name=people[0], on=True)]
        bodies.append(PairsMade(round=1, seed="b", groups=[
            PairGroup(group=i // 2 + 1, members=people[i:i + 2])
            for i in range(0, len(people) - 1, 2)]))
        events = [Event(stream=f"session:{session}", seq=i + 1, ts=ts, actor=None, body=b)
                  for i, b in enumerate(bodies)]
        statements = projection.statements(f"session:{session}", events)
        rows += len(statements)
        await store.transact(statements)
    tables = PairTables(store)
    for who in members:
        for other in rng.sample(members, 3):
            if other != who:
                await tables.add_block(COMMUNITY, who, other, NOW)
    return rows


async def measure(url: str, members: int, weeks: int, runs: int) -> dict[str, object]:
    store = open_store(url)
    await store.open()
    try:
        ids = [f"m-{i:05d}" for i in range(members)]
        started = time.perf_counter()
        rows = await fill(store, ids, weeks, random.Random(1))
        filled = time.perf_counter() - started
        state = CommunityState(COMMUNITY)
        for i, who in enumerate(ids):
            state.members[who] = MemberInfo(member=who, name=who, role="member")
            state.joined[who] = NOW - (i % 400) * DAY_MS
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            inputs = await pairing_inputs(store, state, ids, NOW)
            times.append((time.perf_counter() - started) * 1000)
        return {"store": url.split(":", 1)[0], "members": members, "weeks": weeks,
                "rows": rows, "fill_s": round(filled, 1),
                "meetings_read": len(inputs.history), "blocks": len(inputs.blocks),
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1)}
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default="", help="postgresql://…?schema=… to use too")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(await measure(f"sqlite:///{folder}/bench.db", args.members, args.weeks,
                                  args.runs))
    if args.postgres:
        rows.append(await measure(args.postgres, args.members, args.weeks, args.runs))
    print(table(rows, list(rows[0])))
    write_results("pairing_inputs", {**vars(args), "postgres": bool(args.postgres)}, rows)


if __name__ == "__main__":
    asyncio.run(main())
