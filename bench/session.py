"""A live session with many attendees: N pages follow it, then V of them upvote one
question within one second. Reports the p50/p99 from each vote's send to every
page's receipt of it (the moment that page's board can change) and the frames the
server sent meanwhile.

The server (``practica run``, SQLite, fsync before fan-out) is pinned to core 0 and
this load generator to core 1; the attendees enter through a guest link (guests of
the session's room may attend, ask and upvote).

    python bench/session.py [--attendees 500] [--votes 200] [--window-ms 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, table, write_results  # noqa: E402
from bench.fanout import free_port, practica_sessions, start_target, wait_for_port  # noqa: E402


class Page:
    """One attendee's socket: counts frames, notes when each vote reached it."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames = 0
        self.member = ""
        self.votes: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.task = asyncio.ensure_future(self.read())

    async def read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            self.frames += 1
            if '"question_upvoted"' in raw:
                frame = json.loads(raw)
                self.votes[frame["body"]["member"]] = now
                continue
            frame = json.loads(raw)
            if frame["type"] == "ready":
                self.member = frame["session"]["member"]["id"]
            ref = frame.get("ref") if frame["type"] != "event" else None
            waiter = self.waiters.pop(ref or frame["type"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)

    async def ask(self, frame: dict[str, Any], key: str) -> dict[str, Any]:
        waiter = self.waiters[key] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps(frame))
        return await asyncio.wait_for(waiter, 60)


async def run(port: int, attendees: int, votes: int, window_ms: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    base = f"http://127.0.0.1:{port}"
    room, host_cookie, cookies = await asyncio.to_thread(practica_sessions, base, attendees)
    url = f"ws://127.0.0.1:{port}/ws"

    async def page(cookie: str) -> Page:
        ws = await connect(url, additional_headers={"Cookie": cookie}, max_queue=None,
                           ping_interval=None)
        p = Page(ws)
        await p.ask({"type": "identify", "community": "bench"}, "ready")
        return p

    host = await page(host_cookie)
    opened = await host.ask({"type": "session", "ref": "open", "op": {
        "op": "open", "room": room, "title": "Bench hour"}}, "open")
    session = opened["stream"].partition(":")[2]
    await host.ask({"type": "session", "ref": "attend", "session": session,
                    "op": {"op": "attend"}}, "attend")
    await host.ask({"type": "session", "ref": "ask", "session": session,
                    "op": {"op": "ask", "text": "Which question matters most?"}}, "ask")
    pages: list[Page] = []
    for start in range(0, attendees, 100):  # 100 in flight at a time, as in fanout.py
        pages += await asyncio.gather(*(page(c) for c in cookies[start:start + 100]))
    joined = time.perf_counter()
    for start in range(0, attendees, 100):
        replies = await asyncio.gather(*(
            p.ask({"type": "session", "ref": "attend", "session": session,
                   "op": {"op": "attend"}}, "attend") for p in pages[start:start + 100]))
        refused = [r for r in replies if r["type"] != "ack"]
        assert not refused, refused[:3]
    attend_s = time.perf_counter() - joined
    await asyncio.sleep(1)  # let the attendance events settle before counting
    frames_before = sum(p.frames for p in pages) + host.frames
    voters = pages[:votes]
    sent: dict[str, float] = {}

    async def vote(i: int, p: Page) -> None:
        await asyncio.sleep(i * window_ms / 1000 / votes)
        sent[str(i)] = time.perf_counter()
        reply = await p.ask({"type": "session", "ref": f"v{i}", "session": session,
                             "op": {"op": "upvote", "question": 1}}, f"v{i}")
        assert reply["type"] == "ack", reply

    started = time.perf_counter()
    await asyncio.gather(*(vote(i, p) for i, p in enumerate(voters)))
    everyone = [*pages, host]
    deadline = time.perf_counter() + 60
    while sum(len(p.votes) for p in everyone) < votes * len(everyone):
        if time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    member_of = [p.member for p in voters]
    latencies = [(p.votes[member_of[i]] - sent[str(i)]) * 1000
                 for p in everyone for i in range(votes) if member_of[i] in p.votes]
    frames = sum(p.frames for p in everyone) - frames_before
    for p in everyone:
        await p.ws.close()
    return {
        "attendees": attendees, "votes": votes, "window_ms": window_ms,
        "attend_all_s": round(attend_s, 2),
        "deliveries": len(latencies), "expected_deliveries": votes * len(everyone),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1), "frames_sent": frames,
        "frames_per_vote": round(frames / votes, 1), "all_delivered_s": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attendees", type=int, default=500)
    parser.add_argument("--votes", type=int, default=200)
    parser.add_argument("--window-ms", type=int, default=1000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = start_target("practica", port, folder, "")
        try:
            wait_for_port(port, server)
            if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
                os.sched_setaffinity(0, {1})
            row = asyncio.run(run(port, args.attendees, args.votes, args.window_ms))
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    columns = list(row)
    print(table([row], columns))
    print(write_results("session", vars(args), [row]))


if __name__ == "__main__":
    main()
