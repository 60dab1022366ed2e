"""Joining: N clients connect, identify and join one room; Practica against bare websockets.

Reports the time from the first connect to the last join's ack (100 clients in
flight at a time, as in fanout.py), the time until presence stops arriving,
every frame the clients received meanwhile (and how many of them were
presence events), and the server's RSS growth per connection. The server is
pinned to core 0, this load generator to core 1.

    python bench/join.py [--clients 2000] [--runs 2] [--targets practica,websockets-broadcast]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, rss_bytes, table, write_results  # noqa: E402
from bench.fanout import (  # noqa: E402
    free_port,
    own_cpu,
    pinned,
    practica_sessions,
    start_target,
    wait_for_port,
)

PRESENCE = b'"body":{"type":"member'  # member_joined, member_left, members_changed
SNAPSHOT_SEQ = re.compile(rb'"seq":(\d+)')


def listener_class() -> Any:
    from picows import WSListener, WSMsgType

    class Counter(WSListener):  # type: ignore[misc]
        """Counts frames; hands the one a handshake step waits for (by prefix) to it."""

        def __init__(self) -> None:
            self.frames = self.presence = self.bytes = 0
            self.last_at = 0.0
            self.replies: list[bytes] = []
            """Frames that are not events (hello, ready, ack, error), until expected."""
            self.arrived = asyncio.Event()

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type != WSMsgType.TEXT:
                return
            payload = frame.get_payload_as_bytes()
            self.frames += 1
            self.bytes += len(payload)
            self.last_at = time.monotonic()
            if payload.startswith(b'{"type":"event"'):
                if PRESENCE in payload[:200]:
                    self.presence += 1
                return
            self.replies.append(payload)
            self.arrived.set()

        async def expect(self, prefix: bytes) -> bytes:
            async with asyncio.timeout(60):
                while True:
                    for n, payload in enumerate(self.replies):
                        if payload.startswith(b'{"type":"error"'):
                            raise RuntimeError(payload[:300])
                        if payload.startswith(prefix):
                            del self.replies[:n + 1]
                            return payload
                    self.arrived.clear()
                    await self.arrived.wait()

    return Counter


async def practica_client(url: str, cookie: str, room: str, *,
                          resume: dict[str, int] | None = None,
                          identify: bytes = b'{"type":"identify"}') -> tuple[Any, Any, bytes]:
    """Connect, identify (or resume) and join ``room``; returns the join's ack (or ready)."""
    from picows import WSMsgType, ws_connect

    transport, listener = await ws_connect(listener_class(), url,
                                           extra_headers={"Cookie": cookie})
    await listener.expect(b'{"type":"hello"')
    if resume is not None:
        transport.send(WSMsgType.TEXT, json.dumps({"type": "resume", "streams": resume}).encode())
        return transport, listener, await listener.expect(b'{"type":"ready"')
    transport.send(WSMsgType.TEXT, identify)
    await listener.expect(b'{"type":"ready"')
    transport.send(WSMsgType.TEXT, json.dumps({"type": "join", "ref": "j", "room": room}).encode())
    return transport, listener, await listener.expect(b'{"type":"ack"')


async def baseline_client(url: str) -> tuple[Any, Any, bytes]:
    from picows import WSMsgType, ws_connect

    transport, listener = await ws_connect(listener_class(), url)
    transport.send(WSMsgType.TEXT, b"recv")
    return transport, listener, b""


async def quiet(listeners: list[Any], for_s: float = 1.0, limit_s: float = 120) -> float:
    """Wait until no frame has arrived for ``for_s``; the time the last one came."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        last = max((listener.last_at for listener in listeners), default=0.0)
        if time.monotonic() - last >= for_s:
            return last
        await asyncio.sleep(0.1)
    return max(listener.last_at for listener in listeners)


async def join_run(target: str, clients: int) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = start_target(target, port, folder, "unused")
        try:
            wait_for_port(port, server)
            url = f"ws://127.0.0.1:{port}/ws"
            practica = target == "practica"
            room, cookies = "", [""] * clients
            if practica:
                room, _, cookies = await asyncio.to_thread(
                    practica_sessions, f"http://127.0.0.1:{port}", clients)
            rss0, cpu0, own0 = rss_bytes(server.pid), cpu_seconds(server.pid), own_cpu()
            started = time.monotonic()
            joined: list[tuple[Any, Any, bytes]] = []
            for first in range(0, clients, 100):
                joined += await asyncio.gather(*(
                    practica_client(url, cookies[n], room) if practica else baseline_client(url)
                    for n in range(first, min(clients, first + 100))))
            all_acked = time.monotonic()
            listeners = [listener for _, listener, _ in joined]
            settled = max(all_acked, await quiet(listeners))
            cpu1, rss1, own1 = cpu_seconds(server.pid), rss_bytes(server.pid), own_cpu()
            for transport, _, _ in joined:
                transport.disconnect()
            return {
                "target": target, "clients": clients,
                "join_s": round(all_acked - started, 2),
                "settled_s": round(settled - started, 2),
                "frames": sum(listener.frames for listener in listeners),
                "presence_frames": sum(listener.presence for listener in listeners),
                "mbytes_sent": round(sum(listener.bytes for listener in listeners) / 2**20, 1),
                "server_cpu_s": round(cpu1 - cpu0, 2),
                "loadgen_cpu_s": round(own1 - own0, 2),
                "memory_per_connection_kb": round((rss1 - rss0) / clients / 1024, 1),
            }
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--targets", default="practica,websockets-broadcast")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        rows = [asyncio.run(join_run(target, args.clients))
                for _ in range(args.runs) for target in args.targets.split(",")]
        print(json.dumps(rows))
        return
    out = subprocess.run(pinned(1, [sys.executable, __file__, "--inner", *sys.argv[1:]]),
                         cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"load generator failed:\n{out.stderr[-3000:]}")
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    print(table(rows, ["target", "clients", "join_s", "settled_s", "frames", "presence_frames",
                       "mbytes_sent", "server_cpu_s", "loadgen_cpu_s", "memory_per_connection_kb"]))
    path = write_results("join", {"clients": args.clients, "runs": args.runs,
                                  "targets": args.targets}, rows)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
