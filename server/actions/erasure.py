"""Erasing words from a session's transcript for privacy.

A member may erase their own words (a chat line, a note or caption they added, a
question they asked, anonymous or not, with its edits, case prompts, a pair-up
broadcast or takeaway); an owner may erase anyone's (``erase_words``). An anonymous
question's asker is recognised by its owner key, as the Q&A board does, so nobody else
learns who asked. What one line takes with it is :func:`~server.domain.session_erasure.
erasure`'s (a question goes with its edits; case prompts by segment).

One transaction nulls the bodies (their digests and hashes stay: tombstones, so the
chain still verifies), drops the session's kept snapshot, and appends a
``words_erased`` event (actor None) to the session's stream. That event travels like
every other: this process folds it at once, other processes fetch it through the feed
(the bus, or the store poll when Redis is down), open pages receive it, and every fold
forgets the words it held. Then the search projections reconcile (the words leave the
index), and artefacts quoting the line read ``erased`` (quotes are read from the
stream). The audit log records who erased which line, never the words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from ..authority import Authority, Principal
from ..domain.events import session_stream
from ..domain.policy import Action
from ..domain.session_erasure import WORDS, asks_by_number, erasure
from ..domain.session_events import WordsErased
from ..domain.session_rules import said_by
from ..errors import InvalidCommand, NotFound
from ..folds import Folds
from ..pipeline import append_keyed, decided
from ..store import AppliedCommand, EventStore, read_stream

KeyOf = Callable[[str, str], Awaitable[str]]
"""(session, member) → the member's asker key in that session (the sessions' secret)."""


class Erased(msgspec.Struct, kw_only=True):
    session: str
    seqs: list[int]
    """The events whose bodies were erased (a question's edits go with it)."""


class Erasure:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 key_of: KeyOf) -> None:
        self.store, self.folds, self.authority, self.key_of = store, folds, authority, key_of
        self.after: list[Callable[[], Awaitable[object]]] = []
        """Run after an erasure (the search projections' reconcile)."""

    async def erase(self, principal: Principal, session: str, seq: int) -> Erased:
        stream = session_stream(session)
        found = await self.authority.check_read(principal, stream)
        community = found.community.community
        key = await self.key_of(session, principal.member)

        async def attempt() -> tuple[list[int], bool]:
            events = await read_stream(self.store, stream)
            event = next((e for e in events if e.seq == seq), None)
            if event is None:
                raise NotFound(f"no line {seq} in session {session}")
            if event.body is None:
                return [], False  # erased already
            if not isinstance(event.body, WORDS):
                raise InvalidCommand("only words said can be erased (chat, notes, captions, "
                                     "questions, case prompts, broadcasts, takeaways)")
            own = said_by(event, principal.member, key, asks_by_number(events))
            if not own:  # an anonymous asker stays unnamed: no target then
                await self.authority.check(principal, Action.ERASE_WORDS, community,
                                           target=event.actor)
            marker = erasure(events, seq)
            # Keyed (an Idempotency-Key call): a retry after a crash answers from the marker.
            await append_keyed(self.store, [(stream, [marker], events[-1].seq)], None, also=[
                *[("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?", (stream, s))
                  for s in marker.seqs],
                ("DELETE FROM stream_snapshots WHERE stream = ?", (stream,))])
            return marker.seqs, own

        async def sync(stream: str) -> None:
            return None  # each attempt reads the stream afresh

        seqs, own = await decided(attempt, sync)
        if not seqs:
            return Erased(session=session, seqs=[])
        await self.authority.record(principal.member, Action.ERASE_WORDS.value, community,
                                    target=f"{stream} seq {seq}",
                                    detail="their own words" if own else "")
        for step in self.after:
            await step()
        return Erased(session=session, seqs=seqs)

    async def replayed(self, principal: Principal, applied: AppliedCommand) -> Erased:
        """The answer to an erasure committed before by a process that died before
        answering (an Idempotency-Key call): read from its ``words_erased`` marker."""
        await self.authority.check_read(principal, applied.stream)
        (event,) = await self.store.read(applied.stream, applied.seq - 1, 1)
        assert isinstance(event.body, WordsErased), event
        return Erased(session=applied.stream.partition(":")[2], seqs=list(event.body.seqs))
