"""The scale-out event store: PostgreSQL through asyncpg, shared by several processes.

Like the SQLite store, one writer task per process commits whatever appends
are queued in one transaction. Unlike it, other processes append to the same
streams: each batch locks the head rows of its streams (in name order, so
two batches cannot deadlock) and numbers events from the locked heads, never
from a cache. Command keys are checked after the locks are held, so a
command resent to another process is still applied once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from ..domain.events import Event
from ..errors import StoreError
from .base import AppliedCommand, CommandKey, StreamCheck, VerifyReport, decode_body, migrations
from .batch import (
    Assembled,
    ExecJob,
    GroupCommitWriter,
    Job,
    SoloJob,
    assemble,
    commands_of,
    streams_of,
)
from .chain import GENESIS, ChainBreak, verify_row

log = logging.getLogger("practica.store")

CONNECT_TIMEOUT_S = 5
"""A new connection to an unreachable database fails within this (then ``unavailable``)."""

_COLUMNS = "stream, seq, ts, actor, body"
_EVENT_COLUMNS = ["stream", "seq", "ts", "actor", "type", "subject", "body", "digest", "hash"]


def split_schema(url: str) -> tuple[str, str]:
    """``postgresql://…?schema=name`` → (the DSN without it, the schema; default public)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), "public")
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    if not schema.replace("_", "").isalnum():
        raise ValueError(f"schema must be letters, digits and _: {schema!r}")
    return urlunsplit(parts._replace(query=rest)), schema


def _event(row: Any) -> Event:
    return Event(stream=row[0], seq=row[1], ts=row[2], actor=row[3],
                 body=decode_body(row[4], f"{row[0]} seq {row[1]}"))


class PostgresStore(GroupCommitWriter):
    numbered_parameters = True

    def __init__(self, dsn: str, *, schema: str = "public", group_commit: bool = True) -> None:
        super().__init__(group_commit=group_commit)
        self.dsn, self.schema = dsn, schema
        self._pool: asyncpg.Pool | None = None

    # --- lifecycle ---------------------------------------------------------------

    async def open(self) -> None:
        setup = await asyncpg.connect(self.dsn)
        try:
            await setup.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        except asyncpg.UniqueViolationError:  # another process created it just now
            pass
        finally:
            await setup.close()
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=2, max_size=10, timeout=CONNECT_TIMEOUT_S,
            server_settings={"search_path": self.schema, "application_name": "practica"})
        await self._migrate()
        self._start_writer()

    async def close(self) -> None:
        await self._stop_writer()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _p(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("store is closed")
        return self._pool

    async def _migrate(self) -> None:
        async with self._p().acquire() as conn, conn.transaction():
            # Several processes may start at once: one migrates, the others wait.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                               f"practica-migrate:{self.schema}")
            await conn.execute("CREATE TABLE IF NOT EXISTS migrations (version int PRIMARY KEY)")
            current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM migrations")
            for version, sql in migrations("postgres"):
                if version > current:
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO migrations VALUES ($1)", version)
                    log.info("applied postgres migration %04d", version)

    # --- writes ------------------------------------------------------------------

    async def _commit_batch(self, batch: list[Job]) -> Assembled:
        async with self._p().acquire() as conn, conn.transaction():
            streams = streams_of(batch)
            heads: dict[str, tuple[int, bytes]] = {}
            if streams:
                await conn.execute(
                    "INSERT INTO streams (stream, seq, hash)"
                    " SELECT s, 0, $2 FROM unnest($1::text[]) s ON CONFLICT DO NOTHING",
                    streams, GENESIS)
                for row in await conn.fetch(
                    "SELECT stream, seq, hash FROM streams WHERE stream = ANY($1::text[])"
                    " ORDER BY stream FOR UPDATE", streams,
                ):
                    heads[row[0]] = (row[1], bytes(row[2]))
            done = await self._applied_commands(conn, batch)
            out = assemble(batch, heads, done)
            if out.rows:
                await conn.copy_records_to_table("events", records=out.rows,
                                                  columns=_EVENT_COLUMNS, schema_name=self.schema)
            if out.command_rows:
                await conn.executemany(
                    "INSERT INTO commands (member, ref, stream, seq, digest)"
                    " VALUES ($1, $2, $3, $4, $5)",
                                       out.command_rows)
            if out.heads:
                await conn.executemany("UPDATE streams SET seq = $2, hash = $3 WHERE stream = $1",
                                       [(s, seq, h) for s, (seq, h) in out.heads.items()])
            for sql, params in out.also:
                await conn.execute(sql, *params)
            for job in batch:
                if isinstance(job, ExecJob):
                    for sql, params in job.statements:
                        status = await conn.execute(sql, *params)
                        last = status.rsplit(" ", 1)[-1]
                        job.counts.append(int(last) if last.isdigit() else 0)
        return out

    async def transact(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """On a connection of its own (not the writer's queue): several processes write
        to PostgreSQL anyway, and a projection's transaction must not wait behind, nor
        hold up, a group commit."""
        job = SoloJob([(self._sql(sql), params) for sql, params in statements],
                      asyncio.get_running_loop().create_future())
        try:
            await self._run_solo(job)
        except (asyncpg.PostgresError, OSError) as exc:
            raise StoreError(f"write failed: {exc}") from exc
        return job.counts

    async def _run_solo(self, job: SoloJob) -> None:
        async with self._p().acquire() as conn, conn.transaction():
            for sql, params in job.statements:
                status = await conn.execute(sql, *params)
                last = status.rsplit(" ", 1)[-1]
                job.counts.append(int(last) if last.isdigit() else 0)

    async def _applied_commands(
        self, conn: asyncpg.Connection, batch: list[Job]
    ) -> dict[CommandKey, AppliedCommand]:
        keys = commands_of(batch)
        if not keys:
            return {}
        rows = await conn.fetch(
            "SELECT c.member, c.ref, c.stream, c.seq, c.digest FROM commands c"
            " JOIN unnest($1::text[], $2::text[]) AS k(member, ref)"
            " ON c.member = k.member AND c.ref = k.ref",
            [k.member for k in keys], [k.ref for k in keys])
        return {CommandKey(r[0], r[1]): AppliedCommand(r[2], r[3], r[4]) for r in rows}

    # --- reads -------------------------------------------------------------------

    async def read(self, stream: str, after: int = 0, limit: int = 1000) -> list[Event]:
        rows = await self._p().fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            stream, after, limit)
        return [_event(r) for r in rows]

    async def head(self, stream: str) -> int:
        seq = await self._p().fetchval("SELECT seq FROM streams WHERE stream = $1", stream)
        return int(seq or 0)

    async def read_type_before(
        self, stream: str, type_: str, before: int | None, limit: int
    ) -> list[Event]:
        rows = await self._p().fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream = $1 AND type = $2 AND seq < $3"
            " ORDER BY seq DESC LIMIT $4",
            stream, type_, before if before is not None else 2**62, limit)
        return [_event(r) for r in rows]

    async def read_about(self, stream: str, subjects: list[int]) -> list[Event]:
        if not subjects:
            return []
        rows = await self._p().fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream = $1 AND subject = ANY($2::bigint[])"
            " ORDER BY seq", stream, subjects)
        return [_event(r) for r in rows]

    async def find_command(self, key: CommandKey) -> tuple[str, int] | None:
        applied = await self.applied_command(key)
        return (applied.stream, applied.seq) if applied is not None else None

    async def applied_command(self, key: CommandKey) -> AppliedCommand | None:
        row = await self._p().fetchrow(
            "SELECT stream, seq, digest FROM commands WHERE member = $1 AND ref = $2", *key)
        return AppliedCommand(row[0], row[1], row[2]) if row else None

    # --- plain queries (accounts, sessions, invites) -------------------------------

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        rows = await self._p().fetch(self._sql(sql), *params)
        return [tuple(row) for row in rows]

    async def streams(self, prefix: str) -> list[str]:
        rows = await self._p().fetch(
            "SELECT stream FROM streams WHERE starts_with(stream, $1) AND seq > 0"
            " ORDER BY stream", prefix)
        return [row[0] for row in rows]

    async def heads(self, prefix: str) -> dict[str, int]:
        rows = await self._p().fetch(
            "SELECT stream, seq FROM streams WHERE starts_with(stream, $1) AND seq > 0", prefix)
        return {row[0]: int(row[1]) for row in rows}

    # --- operations --------------------------------------------------------------

    async def check_writable(self) -> None:
        await self.execute([("SELECT 1 WHERE NOT pg_is_in_recovery()", ())])
        if await self._p().fetchval("SELECT pg_is_in_recovery()"):
            raise StoreError("the database is a read-only replica")

    async def verify(self) -> VerifyReport:
        pool = self._p()
        streams = [r[0] for r in await pool.fetch("SELECT stream FROM streams ORDER BY stream")]
        checks = [await self._verify_stream(stream) for stream in streams]
        mismatched = await pool.fetch(
            "SELECT s.stream FROM streams s LEFT JOIN (SELECT stream, max(seq) AS top"
            " FROM events GROUP BY stream) e USING (stream) WHERE coalesce(e.top, 0) <> s.seq")
        integrity = "ok" if not mismatched else (
            "stream heads disagree with events: " + ", ".join(r[0] for r in mismatched))
        return VerifyReport(integrity_check=integrity, streams=checks)

    async def _verify_stream(self, stream: str) -> StreamCheck:
        prev, count, erased = GENESIS, 0, 0
        async with self._p().acquire() as conn, conn.transaction():
            try:
                async for r in conn.cursor(
                    "SELECT seq, ts, actor, type, body, digest, hash FROM events"
                    " WHERE stream = $1 ORDER BY seq", stream,
                ):
                    body = bytes(r[4]) if r[4] is not None else None
                    prev = verify_row(prev, count + 1, stream, r[0], r[1], r[2], r[3], body,
                                      bytes(r[5]), bytes(r[6]))
                    count += 1
                    erased += body is None
            except ChainBreak as exc:
                return StreamCheck(stream=stream, events=count, erased=erased, ok=False,
                                   problem=str(exc))
        return StreamCheck(stream=stream, events=count, erased=erased, ok=True)
