"""Fan-out: one room, many connected clients, one sender; Practica against baselines.

Each target server runs pinned to core 0; the load generator (picows, a C-backed
client) runs pinned to core 1 and reports its own CPU so you can see it is not
the bottleneck. Targets:

- practica: the real server (`practica run`, SQLite, synchronous=FULL): every
  post is made durable before it is fanned out.
- websockets-broadcast: a bare `websockets` server that builds each frame once
  and calls `websockets.broadcast()` (no store, no protocol work).
- socketio: python-socketio (ASGI, under uvicorn, websocket transport only)
  emitting each post to a room of all receivers.
- practica-pg: Practica on PostgreSQL + Redis, one process.
- practica-pg-2p: two Practica processes on PostgreSQL + Redis (both on core 0),
  the clients split between them, the sender on the first: every frame the
  second process delivers travelled through a Redis announcement and a read.

Phases, per target: connect and join N clients (memory per connection);
throughput (the sender keeps a window of posts in flight for --seconds;
delivered frames/s and server CPU µs per delivered frame); latency (an
open-loop --rate posts/s; p50/p99 from send to receipt over sampled clients).

    python bench/fanout.py [--clients 1000] [--seconds 5] [--rate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, percentile, rss_bytes, table, write_results  # noqa: E402

ROOM = "case-review"
SAMPLE_EVERY = 25  # one receiver in 25 parses frames for latency; all count them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv


# --- the baseline server -----------------------------------------------------------------


async def serve_baseline(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    receivers: set[Any] = set()
    seq = 0

    async def handler(ws: Any) -> None:
        nonlocal seq
        role = await ws.recv()
        if role == "recv":
            receivers.add(ws)
            try:
                await ws.wait_closed()
            finally:
                receivers.discard(ws)
            return
        async for message in ws:  # the sender: one frame built per post, then broadcast
            request = json.loads(message)
            seq += 1
            frame = json.dumps({
                "type": "event", "stream": f"room:{ROOM}", "seq": seq,
                "ts": int(time.time() * 1000), "actor": "m-sender",
                "body": {"type": "message_posted", "author": "m-sender",
                         "author_name": "Sender", "text": request["text"]},
            }, separators=(",", ":"))
            broadcast(receivers, frame)
            await ws.send(json.dumps({"type": "ack", "ref": request["ref"], "seq": seq}))

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=65536,
                     ping_interval=None):
        await asyncio.Future()


def socketio_app() -> Any:
    """The python-socketio baseline: receivers enter a room; each post is emitted to it."""
    import socketio

    sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"],
                               ping_interval=300, ping_timeout=300)
    seq = 0

    @sio.on("recv")  # type: ignore[untyped-decorator]
    async def recv(sid: str) -> None:
        await sio.enter_room(sid, ROOM)

    @sio.on("post")  # type: ignore[untyped-decorator]
    async def post(sid: str, request: dict[str, Any]) -> dict[str, Any]:
        nonlocal seq
        seq += 1
        await sio.emit("event", {
            "type": "event", "stream": f"room:{ROOM}", "seq": seq,
            "ts": int(time.time() * 1000), "actor": "m-sender",
            "body": {"type": "message_posted", "author": "m-sender",
                     "author_name": "Sender", "text": request["text"]},
        }, room=ROOM)
        return {"type": "ack", "ref": request["ref"], "seq": seq}

    return socketio.ASGIApp(sio)


# --- Practica sessions: a signed-in sender, guests as receivers -----------------------------


def practica_sessions(base: str, clients: int) -> tuple[str, str, list[str]]:
    """Sign up the sender (it founds a community and a room) and enter one guest per
    receiver through guest links (cheap: no password hashing per receiver).
    Returns (room, the sender's Cookie header, each receiver's Cookie header)."""
    import http.cookiejar
    import urllib.request

    def browser() -> tuple[Any, dict[str, str]]:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(base + "/api/me") as reply:
            csrf = json.loads(reply.read())["csrf"]
        return opener, {"x-csrf-token": csrf, "content-type": "application/json", "jar": jar}

    def call(session: tuple[Any, dict[str, Any]], method: str, path: str,
             body: dict[str, Any]) -> dict[str, Any]:
        opener, headers = session
        request = urllib.request.Request(
            base + path, method=method, data=json.dumps(body).encode(),
            headers={k: v for k, v in headers.items() if k != "jar"})
        with opener.open(request) as reply:
            raw = reply.read()
        return dict(json.loads(raw)) if raw else {}

    def cookie(session: tuple[Any, dict[str, Any]]) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in session[1]["jar"])

    sender = browser()
    me = call(sender, "POST", "/api/signup", {"login": "bench-sender",
                                               "password": "bench password 1", "name": "Sender"})
    sender[1]["x-csrf-token"] = me["csrf"]
    call(sender, "POST", "/api/communities", {"community": "bench", "name": "Bench",
                                              "domain": "load", "purpose": "measure"})
    room = call(sender, "POST", "/api/communities/bench/rooms",
                {"name": "Fan-out"})["rooms"][0]["room"]
    cookies: list[str] = []
    while len(cookies) < clients:
        link = call(sender, "POST", "/api/communities/bench/invites",
                    {"kind": "guest", "room": room, "max_uses": 1000})
        for _ in range(min(1000, clients - len(cookies))):
            guest = browser()
            call(guest, "POST", "/api/guest", {"token": link["token"],
                                               "name": f"bench {len(cookies)}"})
            cookies.append(cookie(guest))
    return room, cookie(sender), cookies


# --- the load generator ----------------------------------------------------------------------


async def loadgen(target: str, ports: list[int], pids: list[int], clients: int,
                  seconds: float, rate: float, window: int) -> dict[str, Any]:
    from picows import WSListener, WSMsgType, ws_connect

    sio = target == "socketio"
    path = "/socket.io/?EIO=4&transport=websocket" if sio else "/ws"
    urls = [f"ws://127.0.0.1:{port}{path}" for port in ports]
    url = urls[0]
    practica = target.startswith("practica")
    room, sender_cookie, cookies = ROOM, "", [""] * clients
    if practica:  # the upgrade needs a session: sign in over HTTP first
        room, sender_cookie, cookies = await asyncio.to_thread(
            practica_sessions, f"http://127.0.0.1:{ports[0]}", clients)

    def decode(payload: bytes) -> dict[str, Any]:
        """A Practica/baseline frame, or a socket.io event packet's data (42["name", data])."""
        if not sio:
            return dict(json.loads(payload))
        if payload.startswith(b"42"):
            return dict(json.loads(payload[2:])[1])
        if payload.startswith(b"43"):  # an ack: 43<id>[data]
            return dict(json.loads(payload[payload.index(b"["):])[0])
        return {"type": "engineio", "raw": payload.decode()}

    class Receiver(WSListener):
        def __init__(self, sample: bool) -> None:
            self.sample = sample
            self.frames = 0
            self.latencies: list[float] = []
            self.inbox: asyncio.Queue[dict[str, Any]] | None = asyncio.Queue()

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type != WSMsgType.TEXT:
                return
            if sio and frame.get_payload_as_bytes() == b"2":  # engine.io ping
                transport.send(WSMsgType.TEXT, b"3")
                return
            if self.inbox is not None:  # handshake phase: hand frames to the script
                self.inbox.put_nowait(decode(frame.get_payload_as_bytes()))
                return
            self.frames += 1
            if self.sample:
                data = decode(frame.get_payload_as_bytes())
                text = data.get("body", {}).get("text", "")
                if text.startswith("t"):
                    self.latencies.append((time.monotonic_ns() - int(text[1:])) / 1e6)

    async def expect(listener: Receiver, kind: str) -> dict[str, Any]:
        assert listener.inbox is not None
        while True:
            frame = await asyncio.wait_for(listener.inbox.get(), 30)
            if frame.get("type") == kind:
                return frame
            if frame.get("type") == "error":
                raise RuntimeError(frame)

    async def join(n: int, sample: bool) -> tuple[Any, Receiver]:
        transport, listener = await ws_connect(
            lambda: Receiver(sample), urls[n % len(urls)],
            extra_headers={"Cookie": cookies[n]} if practica else None)
        if practica:
            await expect(listener, "hello")
            transport.send(WSMsgType.TEXT, b'{"type":"identify"}')
            await expect(listener, "ready")
            transport.send(WSMsgType.TEXT, json.dumps({"type": "join", "ref": "j",
                                                       "room": room}).encode())
            await expect(listener, "ack")
        elif sio:
            await expect(listener, "engineio")  # 0{"sid":...}
            transport.send(WSMsgType.TEXT, b"40")
            await expect(listener, "engineio")  # 40{"sid":...}
            transport.send(WSMsgType.TEXT, b'42["recv"]')
        else:
            transport.send(WSMsgType.TEXT, b"recv")
        return transport, listener

    def server_cpu() -> float:
        return sum(cpu_seconds(pid) for pid in pids)

    rss_before = sum(rss_bytes(pid) for pid in pids)
    receivers: list[tuple[Any, Receiver]] = []
    for start in range(0, clients, 100):
        receivers += await asyncio.gather(*(
            join(n, n % SAMPLE_EVERY == 0) for n in range(start, min(clients, start + 100))))
    await asyncio.sleep(1.0)
    rss_after = sum(rss_bytes(pid) for pid in pids)
    for _, listener in receivers:
        listener.inbox = None

    # The sender: its own connection; acks come back to it.
    class Sender(WSListener):
        def __init__(self) -> None:
            self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type != WSMsgType.TEXT:
                return
            if sio and frame.get_payload_as_bytes() == b"2":
                transport.send(WSMsgType.TEXT, b"3")
                return
            self.inbox.put_nowait(decode(frame.get_payload_as_bytes()))

    s_transport, sender = await ws_connect(
        Sender, url, extra_headers={"Cookie": sender_cookie} if practica else None)
    if practica:
        async def wait(kind: str) -> None:
            while (await asyncio.wait_for(sender.inbox.get(), 30)).get("type") != kind:
                pass
        await wait("hello")
        s_transport.send(WSMsgType.TEXT, b'{"type":"identify","community":"bench"}')
        await wait("ready")
        s_transport.send(WSMsgType.TEXT, json.dumps({"type": "join", "ref": "j",
                                                     "room": room}).encode())
        await wait("ack")
    elif sio:
        for _ in range(2):
            await asyncio.wait_for(sender.inbox.get(), 30)
            if _ == 0:
                s_transport.send(WSMsgType.TEXT, b"40")
    else:
        s_transport.send(WSMsgType.TEXT, b"send")
    refs = iter(range(10**9))

    def post() -> None:
        number = next(refs)
        frame = {"type": "post", "ref": f"p{number}", "room": room,
                 "text": f"t{time.monotonic_ns()}"}
        if sio:  # an event with an ack id, answered as 43<id>[...]
            payload = f'42{number}["post",{json.dumps(frame)}]'.encode()
        else:
            payload = json.dumps(frame).encode()
        s_transport.send(WSMsgType.TEXT, payload)

    async def drain_acks(until: float) -> int:
        acked = 0
        while time.monotonic() < until:
            try:
                reply = await asyncio.wait_for(sender.inbox.get(), until - time.monotonic())
            except TimeoutError:
                break
            if reply.get("type") == "ack":
                acked += 1
                yield_post()
            elif reply.get("type") == "error":
                raise RuntimeError(reply)
        return acked

    window_open = [True]

    def yield_post() -> None:
        if window_open[0]:
            post()

    def total_frames() -> int:
        return sum(listener.frames for _, listener in receivers)

    # Throughput: a window of posts in flight, as fast as the server acks them.
    frames0, cpu0, own0, t0 = total_frames(), server_cpu(), own_cpu(), time.monotonic()
    for _ in range(window):
        post()
    await drain_acks(t0 + seconds)
    window_open[0] = False
    frames1, cpu1, own1, t1 = total_frames(), server_cpu(), own_cpu(), time.monotonic()
    await drain_acks(time.monotonic() + 2.0)  # let the window settle
    delivered = frames1 - frames0
    throughput = {
        "delivered_frames_per_s": round(delivered / (t1 - t0)),
        "server_cpu_us_per_frame": round((cpu1 - cpu0) / max(1, delivered) * 1e6, 2),
        "server_cpu_pct": round((cpu1 - cpu0) / (t1 - t0) * 100),
        "loadgen_cpu_pct": round((own1 - own0) / (t1 - t0) * 100),
    }

    # Latency: open loop at a fixed rate.
    for _, listener in receivers:
        listener.latencies.clear()
    period = 1.0 / rate
    next_at = time.monotonic()
    end = next_at + seconds
    sent = 0
    while next_at < end:
        post()
        sent += 1
        next_at += period
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.sleep(2.0)
    latencies = [ms for _, listener in receivers for ms in listener.latencies]
    expected = sent * len([1 for _, listener in receivers if listener.sample])
    latency = {
        "rate_posts_per_s": rate,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "latency_samples": len(latencies),
        "all_sampled_frames_arrived": len(latencies) == expected,
    }
    for transport, _ in [*receivers, (s_transport, None)]:
        transport.disconnect()
    return {"target": target, "clients": clients, **throughput, **latency,
            "memory_per_connection_kb": round((rss_after - rss_before) / clients / 1024, 1)}


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- orchestration ----------------------------------------------------------------


def wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("server did not open its port")


PG_URL = os.environ.get("PRACTICA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PRACTICA_BENCH_REDIS", "redis://127.0.0.1:6379/14")


def start_target(target: str, port: int, folder: str, schema: str) -> subprocess.Popen[bytes]:
    if target.startswith("practica"):
        env = {**os.environ, "PRACTICA_PORT": str(port), "PRACTICA_LOG_FORMAT": "text",
               "PRACTICA_DATABASE_URL": f"sqlite:///{folder}/bench.db",
               "PRACTICA_COMMANDS_PER_MINUTE": "100000000", "PRACTICA_COMMAND_BURST": "1000000",
               "PRACTICA_HEARTBEAT_INTERVAL_MS": "300000",
               "PRACTICA_HEARTBEAT_TIMEOUT_MS": "900000",
               # a saturated load generator may answer pings late: not what is measured
               "PRACTICA_KEEPALIVE_MS": "0"}
        if target.startswith("practica-pg"):
            env |= {"PRACTICA_DATABASE_URL": f"{PG_URL}?schema={schema}",
                    "PRACTICA_REDIS_URL": REDIS_URL}
        argv = [sys.executable, "-m", "server", "run"]
    elif target == "socketio":
        env = dict(os.environ)
        argv = [sys.executable, "-m", "uvicorn", "bench.fanout:socketio_app", "--factory",
                "--port", str(port), "--ws", "websockets-sansio", "--ws-per-message-deflate",
                "false", "--log-level", "warning"]
    else:
        env = dict(os.environ)
        argv = [sys.executable, __file__, "--serve-baseline", str(port)]
    return subprocess.Popen(pinned(0, argv), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def run_target(target: str, args: argparse.Namespace) -> dict[str, Any]:
    import uuid

    processes = 2 if target.endswith("-2p") else 1
    ports = [free_port() for _ in range(processes)]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    servers: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            for port in ports:  # one at a time: the first seeds, the next finds it seeded
                servers.append(start_target(target, port, folder, schema))
                wait_for_port(port, servers[-1])
            out = subprocess.run(
                pinned(1, [sys.executable, __file__, "--loadgen", target,
                           ",".join(map(str, ports)), ",".join(str(s.pid) for s in servers),
                           str(args.clients), str(args.seconds), str(args.rate),
                           str(args.window)]),
                cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
            if out.returncode != 0:
                raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
            return {**json.loads(out.stdout.strip().splitlines()[-1]), "processes": processes}
        finally:
            for server in servers:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            if target.startswith("practica-pg"):
                drop_schema(schema)


def drop_schema(schema: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()

    asyncio.run(drop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=5.0, help="posts/s in the latency phase")
    parser.add_argument("--window", type=int, default=8, help="posts in flight (throughput)")
    parser.add_argument("--targets",
                        default="practica,websockets-broadcast,socketio,practica-pg,"
                                "practica-pg-2p")
    parser.add_argument("--serve-baseline", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--loadgen", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        asyncio.run(serve_baseline(args.serve_baseline))
        return
    if args.loadgen:
        target, ports, pids, clients, seconds, rate, window = args.loadgen
        result = asyncio.run(loadgen(target, [int(p) for p in ports.split(",")],
                                     [int(p) for p in pids.split(",")], int(clients),
                                     float(seconds), float(rate), int(window)))
        print(json.dumps(result))
        return

    rows = []
    for target in args.targets.split(","):
        print(f"running {target} with {args.clients} clients…", flush=True)
        rows.append(run_target(target, args))
    baseline = next((r for r in rows if r["target"] == "websockets-broadcast"), None)
    socketio_row = next((r for r in rows if r["target"] == "socketio"), None)
    for row in rows:
        if baseline:
            row["frames_vs_broadcast"] = round(
                row["delivered_frames_per_s"] / baseline["delivered_frames_per_s"], 2)
        if socketio_row:
            row["frames_vs_socketio"] = round(
                row["delivered_frames_per_s"] / socketio_row["delivered_frames_per_s"], 2)
    print()
    print(table(rows, ["target", "processes", "delivered_frames_per_s", "frames_vs_broadcast",
                       "frames_vs_socketio",
                       "server_cpu_us_per_frame", "server_cpu_pct", "loadgen_cpu_pct",
                       "p50_ms", "p99_ms", "memory_per_connection_kb"]))
    path = write_results("fanout", vars(args) | {"serve_baseline": None, "loadgen": None}, rows)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
