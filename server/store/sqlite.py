"""The embedded event store: SQLite in WAL mode, one writer task, group commit.

All writes go through one queue to one connection. The writer takes every
append waiting in the queue and commits them in one transaction (group
commit), so one fsync covers many acknowledged events; readers use their own
connection and never block the writer (WAL).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from typing import Any

import aiosqlite

from ..domain.events import Event
from ..errors import StoreError
from .base import (
    AppliedCommand,
    CommandKey,
    StreamCheck,
    VerifyReport,
    decode_body,
    migrations,
)
from .batch import (
    Assembled,
    ExecJob,
    GroupCommitWriter,
    Head,
    Job,
    SoloJob,
    assemble,
    commands_of,
    streams_of,
)
from .chain import GENESIS, ChainBreak, verify_row

log = logging.getLogger("practica.store")

_COLUMNS = "stream, seq, ts, actor, body"


def _event(row: Any) -> Event:
    stream, seq, ts, actor, body = row
    return Event(stream=stream, seq=seq, ts=ts, actor=actor,
                 body=decode_body(body, f"{stream} seq {seq}"))


class SqliteStore(GroupCommitWriter):
    def __init__(self, path: str, *, synchronous: str = "FULL", group_commit: bool = True) -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be FULL, EXTRA or NORMAL")
        super().__init__(group_commit=group_commit)
        self.path = path
        self.synchronous = synchronous.upper()
        self._heads: dict[str, Head] = {}
        self._w: aiosqlite.Connection | None = None
        self._r: aiosqlite.Connection | None = None

    # --- lifecycle ---------------------------------------------------------------

    async def open(self) -> None:
        self._w = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", f"synchronous={self.synchronous}",
                       "foreign_keys=ON", "busy_timeout=5000"):
            await self._w.execute(f"PRAGMA {pragma}")
        await self._migrate(self._w)
        self._r = await aiosqlite.connect(self.path, isolation_level=None)
        await self._r.execute("PRAGMA query_only=ON")
        self._start_writer()

    async def close(self) -> None:
        """Flush every queued append, then close (graceful shutdown)."""
        await self._stop_writer()
        for conn in (self._r, self._w):
            if conn is not None:
                await conn.close()
        self._r = self._w = None

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        await conn.execute("CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY)")
        async with conn.execute("SELECT coalesce(max(version), 0) FROM migrations") as cur:
            row = await cur.fetchone()
        current = row[0] if row else 0
        for version, sql in migrations("sqlite"):
            if version <= current:
                continue
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await _run_script(conn, sql)
                await conn.execute("INSERT INTO migrations VALUES (?)", (version,))
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            log.info("applied migration %04d", version)

    # --- writes ------------------------------------------------------------------

    async def _commit_batch(self, batch: list[Job]) -> Assembled:
        assert self._w is not None
        conn = self._w
        try:
            await conn.execute("BEGIN IMMEDIATE")
            done = await self._applied_commands(conn, batch)
            heads = {stream: await self._head_for_write(conn, stream)
                     for stream in streams_of(batch)}
            out = assemble(batch, heads, done)
            if out.rows:
                await conn.executemany(
                    "INSERT INTO events (stream, seq, ts, actor, type, subject, body, digest, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", out.rows)
            if out.command_rows:
                await conn.executemany(
                    "INSERT INTO commands (member, ref, stream, seq, digest)"
                    " VALUES (?, ?, ?, ?, ?)",
                                       out.command_rows)
            for sql, params in out.also:
                await conn.execute(sql, params)
            for job in batch:
                if isinstance(job, ExecJob):
                    for sql, params in job.statements:
                        async with conn.execute(sql, params) as cur:
                            job.counts.append(max(cur.rowcount, 0))
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.execute("ROLLBACK")
            raise
        self._heads.update(out.heads)
        return out

    async def _run_solo(self, job: SoloJob) -> None:
        assert self._w is not None
        conn = self._w
        try:
            await conn.execute("BEGIN IMMEDIATE")
            for sql, params in job.statements:
                async with conn.execute(sql, params) as cur:
                    job.counts.append(max(cur.rowcount, 0))
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.execute("ROLLBACK")
            raise

    async def _applied_commands(
        self, conn: aiosqlite.Connection, batch: list[Job]
    ) -> dict[CommandKey, AppliedCommand]:
        keys = commands_of(batch)
        if not keys:
            return {}
        found: dict[CommandKey, AppliedCommand] = {}
        for start in range(0, len(keys), 400):
            chunk = keys[start:start + 400]
            values = ",".join("(?, ?)" for _ in chunk)
            params = [part for key in chunk for part in key]
            async with conn.execute(
                f"SELECT member, ref, stream, seq, digest FROM commands WHERE (member, ref) IN "
                f"(VALUES {values})", params,
            ) as cur:
                async for member, ref, stream, seq, digest in cur:
                    found[CommandKey(member, ref)] = AppliedCommand(stream, seq, digest)
        return found

    async def _head_for_write(self, conn: aiosqlite.Connection, stream: str) -> Head:
        cached = self._heads.get(stream)
        if cached is not None:
            return cached
        async with conn.execute(
            "SELECT seq, hash FROM events WHERE stream = ? ORDER BY seq DESC LIMIT 1", (stream,)
        ) as cur:
            row = await cur.fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    # --- reads -------------------------------------------------------------------

    def _reader(self) -> aiosqlite.Connection:
        if self._r is None:
            raise StoreError("store is closed")
        return self._r

    async def read(self, stream: str, after: int = 0, limit: int = 1000) -> list[Event]:
        rows = await self._reader().execute_fetchall(
            f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?",
            (stream, after, limit))
        return [_event(row) for row in rows]

    async def head(self, stream: str) -> int:
        cached = self._heads.get(stream)
        if cached is not None:
            return cached[0]
        async with self._reader().execute(
            "SELECT coalesce(max(seq), 0) FROM events WHERE stream = ?", (stream,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def read_type_before(
        self, stream: str, type_: str, before: int | None, limit: int
    ) -> list[Event]:
        async with self._reader().execute(
            f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND type = ? AND seq < ?"
            " ORDER BY seq DESC LIMIT ?",
            (stream, type_, before if before is not None else 2**62, limit),
        ) as cur:
            return [_event(row) for row in await cur.fetchall()]

    async def read_about(self, stream: str, subjects: list[int]) -> list[Event]:
        if not subjects:
            return []
        marks = ",".join("?" for _ in subjects)
        async with self._reader().execute(
            f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND subject IN ({marks})"
            " ORDER BY seq", (stream, *subjects),
        ) as cur:
            return [_event(row) for row in await cur.fetchall()]

    async def find_command(self, key: CommandKey) -> tuple[str, int] | None:
        applied = await self.applied_command(key)
        return (applied.stream, applied.seq) if applied is not None else None

    async def applied_command(self, key: CommandKey) -> AppliedCommand | None:
        async with self._reader().execute(
            "SELECT stream, seq, digest FROM commands WHERE member = ? AND ref = ?", key
        ) as cur:
            row = await cur.fetchone()
        return AppliedCommand(row[0], row[1], row[2]) if row else None

    # --- plain queries (accounts, sessions, invites) -------------------------------

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        # One hop to the reader thread (execute_fetchall), not three (execute, fetch,
        # close): every websocket upgrade looks its session up here.
        return [tuple(row) for row in await self._reader().execute_fetchall(sql, params)]

    async def streams(self, prefix: str) -> list[str]:
        async with self._reader().execute(
            "SELECT DISTINCT stream FROM events WHERE stream >= ? AND stream < ?"
            " ORDER BY stream", (prefix, prefix + "\uffff"),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def heads(self, prefix: str) -> dict[str, int]:
        # Hop from stream to stream on the primary key (a loose index scan): a GROUP BY
        # would read every event of the table, bodies and all, on each projection poll.
        end = prefix + "\uffff"
        async with self._reader().execute(
            "WITH RECURSIVE s(stream) AS ("
            " SELECT min(stream) FROM events WHERE stream >= ? AND stream < ?"
            " UNION ALL SELECT (SELECT min(stream) FROM events WHERE stream > s.stream"
            " AND stream < ?) FROM s WHERE s.stream IS NOT NULL)"
            " SELECT stream, (SELECT max(seq) FROM events e WHERE e.stream = s.stream)"
            " FROM s WHERE stream IS NOT NULL", (prefix, end, end),
        ) as cur:
            return {row[0]: int(row[1]) for row in await cur.fetchall()}

    # --- operations --------------------------------------------------------------

    async def check_writable(self) -> None:
        await self.execute([("CREATE TEMP TABLE IF NOT EXISTS healthz (x)", ())])

    async def verify(self) -> VerifyReport:
        conn = self._reader()
        async with conn.execute("PRAGMA integrity_check") as cur:
            integrity = "; ".join(str(r[0]) for r in await cur.fetchall())
        checks: list[StreamCheck] = []
        async with conn.execute("SELECT DISTINCT stream FROM events ORDER BY stream") as cur:
            streams = [r[0] for r in await cur.fetchall()]
        for stream in streams:
            checks.append(await self._verify_stream(conn, stream))
        return VerifyReport(integrity_check=integrity, streams=checks)

    async def _verify_stream(self, conn: aiosqlite.Connection, stream: str) -> StreamCheck:
        prev, count, erased = GENESIS, 0, 0
        async with conn.execute(
            "SELECT seq, ts, actor, type, body, digest, hash FROM events WHERE stream = ?"
            " ORDER BY seq", (stream,),
        ) as cur:
            try:
                async for seq, ts, actor, type_, body, digest, stored in cur:
                    if isinstance(body, str):  # rewritten as TEXT behind our back
                        body = body.encode()
                    prev = verify_row(prev, count + 1, stream, seq, ts, actor, type_, body,
                                      digest, stored)
                    count += 1
                    erased += body is None
            except ChainBreak as exc:
                return StreamCheck(stream=stream, events=count, erased=erased, ok=False,
                                   problem=str(exc))
        return StreamCheck(stream=stream, events=count, erased=erased, ok=True)


async def _run_script(conn: aiosqlite.Connection, sql: str) -> None:
    """Run a migration's statements inside the caller's transaction."""
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            await conn.execute(statement)
            statement = ""
