"""SIGKILL the writer mid-stream, many times: every acknowledged event survives."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from server.store.sqlite import SqliteStore

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 30


async def run_round(db: Path, round_: int, rng: random.Random) -> dict[tuple[str, int], str]:
    """Start the writer, let it ack for a random moment, SIGKILL it; return what it acked."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.store.crash_writer", str(db), str(round_),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    acked: dict[tuple[str, int], str] = {}
    assert (await asyncio.wait_for(proc.stdout.readline(), 20)).strip() == b"open"
    deadline = asyncio.get_running_loop().time() + rng.uniform(0.05, 0.4)
    try:
        while asyncio.get_running_loop().time() < deadline:
            line = await asyncio.wait_for(proc.stdout.readline(), 5)
            stream, seq, text = line.decode().split()
            acked[(stream, int(seq))] = text
    finally:
        proc.send_signal(signal.SIGKILL)
        rest = await proc.stdout.read()  # lines written before the kill were acked too
        await proc.wait()
    for line in rest.decode().splitlines():
        if line.count(" ") == 2:
            stream, seq, text = line.split()
            acked[(stream, int(seq))] = text
    return acked


async def test_every_acknowledged_event_survives_sigkill(tmp_path):
    db = tmp_path / "crash.db"
    rng = random.Random(1234)
    acked: dict[tuple[str, int], str] = {}
    for round_ in range(ROUNDS):
        acked.update(await run_round(db, round_, rng))
        with sqlite3.connect(db) as conn:
            stored = dict(((s, q), t) for s, q, t in conn.execute(
                "SELECT stream, seq, json_extract(body, '$.text') FROM events"))
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        missing = {k: v for k, v in acked.items() if stored.get(k) != v}
        assert not missing, f"round {round_}: acknowledged but lost: {list(missing)[:5]}"
    store = SqliteStore(str(db))
    await store.open()
    try:
        report = await store.verify()
        assert report.ok, report
        for check in report.streams:  # seqs 1..N with no gap
            assert check.events == await store.head(check.stream)
    finally:
        await store.close()
    print(f"\n{ROUNDS} SIGKILLs, {len(acked)} acknowledged events, all present; "
          f"{report.events} events in {len(report.streams)} chains verify")
    assert len(acked) > ROUNDS * 10
