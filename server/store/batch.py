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
from typing import Any

from ..domain.events import Event, EventBody, subject_of, type_of
from ..errors import StaleState, StoreError
from .base import AppendResult, AppliedCommand, CommandKey, CommitListener, encode_body
from .chain import body_digest, link_hash

log = logging.getLogger("practica.store")

MAX_BATCH = 1024
Head = tuple[int, bytes]


@dataclass(slots=True)
class AppendJob:
    stream: str
    actor: str | None
    bodies: list[EventBody]
    command: CommandKey | None
    future: asyncio.Future[AppendResult | None]
    expected: int | None = None
    """Append only if the stream's head is still this seq (optimistic concurrency)."""
    digest: str = ""


@dataclass(slots=True)
class ExecJob:
    """Plain statements to run in the next batch's transaction (accounts, sessions,
    invites, health checks). They must not raise on expected conflicts (use
    ``ON CONFLICT DO NOTHING`` and conditional updates): a failing statement
    fails the whole batch. The backend records each statement's row count."""

    statements: list[tuple[str, tuple[Any, ...]]]
    future: asyncio.Future[AppendResult | None]
    counts: list[int] = field(default_factory=list)


Job = AppendJob | ExecJob


@dataclass(slots=True)
class Assembled:
    """What one batch writes: event rows, command rows, head updates, and the answers."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    command_rows: list[tuple[str, str, str, int, str]] = field(default_factory=list)
    heads: dict[str, Head] = field(default_factory=dict)
    results: list[AppendResult | StaleState | None] = field(default_factory=list)
    committed: list[Event] = field(default_factory=list)


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
            out.results.append(AppendResult(stream, seq, [], True, conflict))
            continue
        seq, prev = out.heads.get(job.stream) or heads[job.stream]
        if job.expected is not None and job.expected != seq:
            out.results.append(StaleState(job.stream, job.expected, seq))
            continue
        events: list[Event] = []
        for body in job.bodies:
            seq += 1
            raw = encode_body(body)
            type_ = type_of(body)
            digest = body_digest(raw)
            prev = link_hash(prev, job.stream, seq, ts, job.actor, type_, digest)
            out.rows.append((job.stream, seq, ts, job.actor, type_, subject_of(body), raw,
                             digest, prev))
            events.append(Event(stream=job.stream, seq=seq, ts=ts, actor=job.actor,
                                body=body))  # type: ignore[arg-type]
        out.heads[job.stream] = (seq, prev)
        if job.command is not None:
            done[job.command] = AppliedCommand(job.stream, seq, job.digest)
            out.command_rows.append((job.command.member, job.command.ref, job.stream, seq,
                                     job.digest))
        out.results.append(AppendResult(job.stream, seq, events, False))
        out.committed.extend(events)
    return out


class GroupCommitWriter:
    """The queue, the writer task and what happens after a commit; backends add SQL."""

    def __init__(self, *, group_commit: bool = True) -> None:
        self.max_batch = MAX_BATCH if group_commit else 1
        self._listeners: list[CommitListener] = []
        self._queue: asyncio.Queue[Job | None] = asyncio.Queue()
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

    def _submit(self, job: Job) -> None:
        if self._writer is None:
            raise StoreError("store is closed")
        self._queue.put_nowait(job)

    async def append(
        self, stream: str, actor: str | None, bodies: list[EventBody],
        command: CommandKey | None = None, digest: str = "", *, expected: int | None = None,
    ) -> AppendResult:
        future: asyncio.Future[AppendResult | None] = asyncio.get_running_loop().create_future()
        self._submit(AppendJob(stream, actor, bodies, command, future, expected, digest))
        result = await future
        assert result is not None
        return result

    async def execute(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run ``statements`` (``?`` placeholders) in one transaction, in the writer's
        queue; returns each one's row count."""
        future: asyncio.Future[AppendResult | None] = asyncio.get_running_loop().create_future()
        job = ExecJob([(self._sql(sql), params) for sql, params in statements], future)
        self._submit(job)
        await future
        return job.counts

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch: list[Job] = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                job = self._queue.get_nowait()
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            await self._commit(batch)

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
