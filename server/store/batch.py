"""Group commit, shared by every backend: one writer task, one queue, one transaction
per batch of whatever appends are waiting.

A backend supplies :meth:`GroupCommitWriter._commit_batch` (run the batch in one
transaction, given the stream heads it locked); assembling rows, chaining
hashes, deduplicating command keys, calling listeners and resolving futures
happen here, the same way for all of them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..domain.events import Event, EventBody, subject_of, type_of
from ..errors import StaleState, StoreError
from .base import AppendResult, AppliedCommand, CommandKey, CommitListener, encode_body
from .chain import body_digest, link_hash

log = logging.getLogger("practica.store")

MAX_BATCH = 1024
Head = tuple[int, bytes]


class Part(NamedTuple):
    """One stream's share of an append: its events and the head they were decided on."""

    stream: str
    bodies: list[EventBody]
    expected: int | None = None
    """Append only if the stream's head is still this seq (optimistic concurrency)."""


Answer = list[AppendResult] | None


@dataclass(slots=True)
class AppendJob:
    """Appends to one or more streams, all or nothing, under one command key."""

    parts: list[Part]
    actor: str | None
    command: CommandKey | None
    future: asyncio.Future[Answer]
    digest: str = ""
    also: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    """Plain statements committed with these events, run only if they are written (not
    stale, not a repeated command): an erasure nulls bodies with its marker event."""


@dataclass(slots=True)
class ExecJob:
    """Plain statements to run in the next batch's transaction (accounts, sessions,
    invites, health checks). They must not raise on expected conflicts (use
    ``ON CONFLICT DO NOTHING`` and conditional updates): a failing statement
    fails the whole batch. The backend records each statement's row count."""

    statements: list[tuple[str, tuple[Any, ...]]]
    future: asyncio.Future[Answer]
    counts: list[int] = field(default_factory=list)


@dataclass(slots=True)
class SoloJob:
    """Statements committed in a transaction of their own, never batched with appends
    (projections): if one fails, only this job fails, and nobody's append with it."""

    statements: list[tuple[str, tuple[Any, ...]]]
    future: asyncio.Future[Answer]
    counts: list[int] = field(default_factory=list)


Job = AppendJob | ExecJob


@dataclass(slots=True)
class Assembled:
    """What one batch writes: event rows, command rows, head updates, and the answers."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    command_rows: list[tuple[str, str, str, int, str]] = field(default_factory=list)
    heads: dict[str, Head] = field(default_factory=dict)
    results: list[list[AppendResult] | StaleState | None] = field(default_factory=list)
    committed: list[Event] = field(default_factory=list)
    also: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    """The written appends' ``also`` statements, to run after the event rows."""


def assemble(batch: list[Job], heads: dict[str, Head],
             done: dict[CommandKey, AppliedCommand]) -> Assembled:
    """Number and chain every append of a batch from the locked ``heads``; a command key
    already in ``done`` (or earlier in the batch) is answered with its first result, and
    an append whose expected seq is not the head (as locked, or as left by an earlier
    job of the batch) is answered with :class:`StaleState` and writes nothing."""
    out = Assembled()
    ts = int(time.time() * 1000)
    for job in batch:
        if isinstance(job, ExecJob):
            out.results.append(None)
            continue
        if job.command is not None and job.command in done:
            stream, seq, recorded = done[job.command]
            conflict = bool(recorded and job.digest and recorded != job.digest)
            out.results.append([AppendResult(stream, seq, [], True, conflict)])
            continue
        stale = _stale(job.parts, out.heads, heads)
        if stale is not None:
            out.results.append(stale)
            continue
        results = [_write(part, job.actor, ts, out, heads) for part in job.parts]
        out.also += job.also
        if job.command is not None and results:
            first = results[0]
            done[job.command] = AppliedCommand(first.stream, first.seq, job.digest)
            out.command_rows.append((job.command.member, job.command.ref, first.stream,
                                     first.seq, job.digest))
        out.results.append(results)
    return out


def _stale(parts: list[Part], written: dict[str, Head],
           locked: dict[str, Head]) -> StaleState | None:
    """The first part whose expected seq is not its stream's head (as locked, or as left
    by an earlier job of the batch or an earlier part of this job), if any."""
    seen: dict[str, int] = {}
    for part in parts:
        head = seen.get(part.stream)
        if head is None:
            head = (written.get(part.stream) or locked[part.stream])[0]
        if part.expected is not None and part.expected != head:
            return StaleState(part.stream, part.expected, head)
        seen[part.stream] = head + len(part.bodies)
    return None


def _write(part: Part, actor: str | None, ts: int, out: Assembled,
           locked: dict[str, Head]) -> AppendResult:
    seq, prev = out.heads.get(part.stream) or locked[part.stream]
    events: list[Event] = []
    for body in part.bodies:
        seq += 1
        raw = encode_body(body)
        type_ = type_of(body)
        digest = body_digest(raw)
        prev = link_hash(prev, part.stream, seq, ts, actor, type_, digest)
        out.rows.append((part.stream, seq, ts, actor, type_, subject_of(body), raw,
                         digest, prev))
        events.append(Event(stream=part.stream, seq=seq, ts=ts, actor=actor,
                            body=body))  # type: ignore[arg-type]
    out.heads[part.stream] = (seq, prev)
    out.committed.extend(events)
    return AppendResult(part.stream, seq, events, False)


def streams_of(batch: list[Job]) -> list[str]:
    """Every stream a batch appends to, once each, in name order (the lock order)."""
    return sorted({p.stream for j in batch if isinstance(j, AppendJob) for p in j.parts})


def commands_of(batch: list[Job]) -> list[CommandKey]:
    return [j.command for j in batch if isinstance(j, AppendJob) and j.command is not None]


class GroupCommitWriter:
    """The queue, the writer task and what happens after a commit; backends add SQL."""

    def __init__(self, *, group_commit: bool = True) -> None:
        self.max_batch = MAX_BATCH if group_commit else 1
        self._listeners: list[CommitListener] = []
        self._queue: asyncio.Queue[Job | SoloJob | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.failing = False
        """True while the last batch failed (the store is down): ``practica_degraded``."""

    def on_commit(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    def _start_writer(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(),
                                                              name="store-writer")

    async def _stop_writer(self) -> None:
        """Flush every queued job, then stop (graceful shutdown)."""
        if self._writer is not None:
            self._queue.put_nowait(None)
            await self._writer
            self._writer = None

    def _submit(self, job: Job | SoloJob) -> None:
        if self._writer is None:
            raise StoreError("store is closed")
        self._queue.put_nowait(job)

    async def append(
        self, stream: str, actor: str | None, bodies: list[EventBody],
        command: CommandKey | None = None, digest: str = "", *, expected: int | None = None,
        also: list[tuple[str, tuple[Any, ...]]] | None = None,
    ) -> AppendResult:
        results = await self.append_all([(stream, bodies, expected)], actor, command, digest,
                                        also=also)
        return results[0]

    async def append_all(
        self, parts: list[tuple[str, list[EventBody], int | None]], actor: str | None,
        command: CommandKey | None = None, digest: str = "", *,
        also: list[tuple[str, tuple[Any, ...]]] | None = None,
    ) -> list[AppendResult]:
        """Append to several streams in one transaction, all or nothing: if any part's
        expected seq is not its stream's head, :class:`StaleState` and nothing is written.
        One result per part; a duplicate ``command`` answers one result, the recorded one.
        ``also``: statements (``?`` placeholders) committed with the events, only if
        they are written."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._submit(AppendJob([Part(*p) for p in parts], actor, command, future, digest,
                               [(self._sql(sql), params) for sql, params in also or []]))
        results = await future
        assert results is not None
        return results

    async def execute(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run ``statements`` (``?`` placeholders) in one transaction, in the writer's
        queue; returns each one's row count."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        job = ExecJob([(self._sql(sql), params) for sql, params in statements], future)
        self._submit(job)
        await future
        return job.counts

    async def record_command(self, key: CommandKey, stream: str, seq: int,
                             digest: str) -> None:
        """Keep ``key``'s answer (stream and seq; 0: it changed nothing) for a command
        whose events were appended without it (a presence change, appended in its tick's
        batch); the first answer kept stands."""
        await self.execute([(
            "INSERT INTO commands (member, ref, stream, seq, digest)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (member, ref) DO NOTHING",
            (key.member, key.ref, stream, seq, digest))])

    async def transact(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run ``statements`` in a transaction of their own, apart from every append: a
        failing statement fails this call only (projections write this way). Each one's
        row count. The base runs them in the writer's queue, alone (SQLite has one
        writer); PostgreSQL uses a connection of its own."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        job = SoloJob([(self._sql(sql), params) for sql, params in statements], future)
        self._submit(job)
        await future
        return job.counts

    async def _write_loop(self) -> None:
        stopping = False
        solo: SoloJob | None = None
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            if isinstance(first, SoloJob):
                await self._commit_solo(first)
                continue
            batch: list[Job] = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                job = self._queue.get_nowait()
                if job is None:
                    stopping = True
                    break
                if isinstance(job, SoloJob):
                    solo = job
                    break
                batch.append(job)
            await self._commit(batch)
            if solo is not None:
                await self._commit_solo(solo)
                solo = None

    async def _commit_solo(self, job: SoloJob) -> None:
        try:
            await self._run_solo(job)
        except Exception as exc:  # the caller logs and retries; appends are not touched
            if not job.future.done():
                job.future.set_exception(StoreError(f"write failed: {exc}"))
            return
        if not job.future.done():
            job.future.set_result(None)

    async def _run_solo(self, job: SoloJob) -> None:
        """Run the job's statements in one transaction, recording their row counts."""
        raise NotImplementedError

    async def _commit(self, batch: list[Job]) -> None:
        try:
            assembled = await self._commit_batch(batch)
        except Exception as exc:
            if not self.failing:
                log.exception("batch of %d failed", len(batch))
            self.failing = True
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(StoreError(f"write failed: {exc}"))
            return
        self.batches += 1
        self.failing = False
        if assembled.committed:
            for listener in self._listeners:
                try:
                    listener(assembled.committed)
                except Exception:
                    log.exception("commit listener failed")
        for job, result in zip(batch, assembled.results, strict=True):
            if job.future.done():
                continue
            if isinstance(result, StaleState):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    async def _commit_batch(self, batch: list[Job]) -> Assembled:
        """Run the batch in one durable transaction; return what it wrote."""
        raise NotImplementedError

    numbered_parameters = False
    """True where the driver wants ``$1, $2`` instead of ``?`` (asyncpg)."""

    def _sql(self, text: str) -> str:
        if not self.numbered_parameters:
            return text
        count = itertools.count(1)
        return re.sub(r"\?", lambda _: f"${next(count)}", text)
