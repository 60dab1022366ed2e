"""Durable, acknowledged appends per second on the stores (no websockets).

Group commit (one writer batching whatever is queued into one transaction and
one fsync) against one transaction per append, at several concurrencies.
Every append is awaited: it counts only once it is durable (synchronous=FULL).

On PostgreSQL (`--postgres URL`, default the local test database; a fresh
schema is made and dropped) it also runs two store instances at once, as two
server processes would, appending to the same streams.

    python bench/append.py [--seconds 3] [--postgres postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import table, write_results
from server.domain.events import MessagePosted
from server.store import CommandKey
from server.store.sqlite import SqliteStore


async def measure(group_commit: bool, concurrency: int, seconds: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(str(Path(folder) / "bench.db"), synchronous="FULL",
                            group_commit=group_commit)
        await store.open()
        done = 0
        stop = time.perf_counter() + seconds

        async def appender(n: int) -> None:
            nonlocal done
            i = 0
            while time.perf_counter() < stop:
                body = MessagePosted(author=f"m{n}", author_name="Bench", text=f"message {i}")
                await store.append(f"room:r{n % 8}", f"m{n}", [body], CommandKey(f"m{n}", str(i)))
                i += 1
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(appender(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        batches = store.batches
        ok = (await store.verify()).ok
        await store.close()
    return {"mode": "group commit" if group_commit else "txn per append",
            "concurrency": concurrency, "appends": done,
            "appends_per_s": round(done / elapsed), "commits": batches,
            "appends_per_commit": round(done / max(1, batches), 1), "chains_verify": ok}


async def measure_postgres(url: str, instances: int, group_commit: bool, concurrency: int,
                           seconds: float) -> dict[str, object]:
    import uuid

    import asyncpg

    from server.store.postgres import PostgresStore

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    stores = [PostgresStore(url, schema=schema, group_commit=group_commit)
              for _ in range(instances)]
    for store in stores:
        await store.open()
    done = 0
    stop = time.perf_counter() + seconds

    async def appender(n: int) -> None:
        nonlocal done
        store, i = stores[n % instances], 0
        while time.perf_counter() < stop:
            body = MessagePosted(author=f"m{n}", author_name="Bench", text=f"message {i}")
            await store.append(f"room:r{n % 8}", f"m{n}", [body], CommandKey(f"m{n}", str(i)))
            i += 1
            done += 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(appender(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        batches = sum(s.batches for s in stores)
        ok = (await stores[0].verify()).ok
    finally:
        for store in stores:
            await store.close()
        conn = await asyncpg.connect(url)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
    return {"mode": f"postgres x{instances} " + ("group" if group_commit else "txn/append"),
            "concurrency": concurrency, "appends": done,
            "appends_per_s": round(done / elapsed), "commits": batches,
            "appends_per_commit": round(done / max(1, batches), 1), "chains_verify": ok}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="'' to skip PostgreSQL")
    args = parser.parse_args()
    rows = []
    for group_commit, concurrency in [(False, 1), (False, 64), (True, 1), (True, 16),
                                      (True, 64), (True, 256)]:
        rows.append(await measure(group_commit, concurrency, args.seconds))
        print(f"  {rows[-1]['mode']:>15} x{concurrency:<4} {rows[-1]['appends_per_s']:>7}/s",
              flush=True)
    if args.postgres:
        for instances, group_commit, concurrency in [(1, False, 64), (1, True, 256),
                                                     (2, True, 256)]:
            rows.append(await measure_postgres(args.postgres, instances, group_commit,
                                               concurrency, args.seconds))
            print(f"  {rows[-1]['mode']:>15} x{concurrency:<4} {rows[-1]['appends_per_s']:>7}/s",
                  flush=True)
    baseline = next(r for r in rows if r["mode"] == "txn per append" and r["concurrency"] == 64)
    for row in rows:
        row["vs_txn_per_append"] = round(row["appends_per_s"] / baseline["appends_per_s"], 2)
    print()
    print(table(rows, ["mode", "concurrency", "appends_per_s", "appends_per_commit",
                       "vs_txn_per_append", "chains_verify"]))
    path = write_results("append", {"seconds": args.seconds, "synchronous": "FULL",
                                    "postgres": bool(args.postgres)}, rows)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    asyncio.run(main())
