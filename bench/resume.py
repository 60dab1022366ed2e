"""Resuming: N clients in one room, the server restarts, all of them resume at once;
then one client resumes 1,000 events behind.

Phases (server on core 0, this load generator on core 1, SQLite with fsync):

1. N guests join one room; the sender posts one message (seq S), then --missed more.
2. The server is stopped (SIGTERM: it closes every socket "going away") and started
   again on the same database and port. Every client reconnects with
   ``resume {room: S}`` (--concurrency at a time) and must get ``ready`` with a replay
   of what it missed: reported as the time from the new server accepting connections
   to the last ``ready`` (and how many were replays).
3. The crowd disconnects; the sender posts --replay messages; one client resumes from
   just before them, --repeats times on fresh sockets: the time from sending
   ``resume`` to receiving ``ready`` (replaying --replay events), min/median/max.

    python bench/resume.py [--clients 2000] [--runs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import table, write_results  # noqa: E402
from bench.fanout import (  # noqa: E402
    free_port,
    pinned,
    practica_sessions,
    start_target,
    wait_for_port,
)
from bench.join import practica_client  # noqa: E402

ACK_SEQ = re.compile(rb'"seq":(\d+)')


async def post_all(transport: Any, listener: Any, room: str, count: int, window: int = 16) -> int:
    """Post ``count`` messages keeping ``window`` in flight; the last acked seq."""
    from picows import WSMsgType

    last = 0
    sent = acked = 0
    while acked < count:
        while sent < count and sent - acked < window:
            transport.send(WSMsgType.TEXT, json.dumps({
                "type": "post", "ref": f"r{time.monotonic_ns()}-{sent}", "room": room,
                "text": f"missed {sent}"}).encode())
            sent += 1
        ack = await listener.expect(b'{"type":"ack"')
        match = ACK_SEQ.search(ack)
        last = max(last, int(match.group(1)) if match else 0)
        acked += 1
    return last


async def resume_run(clients: int, missed: int, replay: int, repeats: int,
                     concurrency: int) -> dict[str, Any]:
    os.environ["PRACTICA_PRESENCE_GRACE_MS"] = "600000"  # nobody expires during the run
    os.environ["PRACTICA_MAX_REPLAY_EVENTS"] = str(max(1000, replay))
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    with tempfile.TemporaryDirectory() as folder:
        server = start_target("practica", port, folder, "unused")
        try:
            wait_for_port(port, server)
            room, sender_cookie, cookies = await asyncio.to_thread(
                practica_sessions, f"http://127.0.0.1:{port}", clients)
            stream = f"room:{room}"
            crowd: list[tuple[Any, Any, bytes]] = []
            for first in range(0, clients, 100):
                crowd += await asyncio.gather(*(
                    practica_client(url, cookies[n], room)
                    for n in range(first, min(clients, first + 100))))
            s_transport, sender, _ = await practica_client(
                url, sender_cookie, room, identify=b'{"type":"identify","community":"bench"}')
            seen = await post_all(s_transport, sender, room, 1)
            await post_all(s_transport, sender, room, missed)

            server.terminate()
            server.wait(30)
            for transport, _, _ in crowd:
                transport.disconnect()
            s_transport.disconnect()
            server = start_target("practica", port, folder, "unused")
            wait_for_port(port, server)
            started = time.monotonic()
            gate = asyncio.Semaphore(concurrency)

            async def back(n: int) -> tuple[Any, Any, bytes]:
                async with gate:
                    return await practica_client(url, cookies[n], room, resume={stream: seen})

            crowd = await asyncio.gather(*(back(n) for n in range(clients)))
            caught_up = time.monotonic() - started
            replays = sum(1 for _, _, ready in crowd if b'"mode":"replay"' in ready)

            s_transport, sender, _ = await practica_client(
                url, sender_cookie, room, identify=b'{"type":"identify","community":"bench"}')
            for transport, _, _ in crowd[1:]:
                transport.disconnect()
            before = await post_all(s_transport, sender, room, 1)
            await post_all(s_transport, sender, room, replay)
            timings, replayed = [], []
            for _ in range(repeats):
                t0 = time.monotonic()
                transport, _, ready = await practica_client(url, cookies[0], room,
                                                            resume={stream: before})
                timings.append((time.monotonic() - t0) * 1000)
                replayed.append(ready.count(b'"type":"message_posted"'))
                transport.disconnect()
            crowd[0][0].disconnect()
            s_transport.disconnect()
            return {
                "clients": clients, "missed_events": missed,
                "all_caught_up_s": round(caught_up, 2), "replays": replays,
                "replay_events": replay,
                "replayed_per_resume": min(replayed),
                "replay_ms_min": round(min(timings), 1),
                "replay_ms_median": round(statistics.median(timings), 1),
                "replay_ms_max": round(max(timings), 1),
            }
        finally:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--missed", type=int, default=50)
    parser.add_argument("--replay", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        rows = [asyncio.run(resume_run(args.clients, args.missed, args.replay, args.repeats,
                                       args.concurrency)) for _ in range(args.runs)]
        print(json.dumps(rows))
        return
    out = subprocess.run(pinned(1, [sys.executable, __file__, "--inner", *sys.argv[1:]]),
                         cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"load generator failed:\n{out.stderr[-3000:]}")
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    print(table(rows, ["clients", "missed_events", "all_caught_up_s", "replays",
                       "replay_events", "replayed_per_resume", "replay_ms_min",
                       "replay_ms_median", "replay_ms_max"]))
    path = write_results("resume", {k: v for k, v in vars(args).items() if k != "inner"}, rows)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
