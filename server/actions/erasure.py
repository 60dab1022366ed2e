"""Erasing words from a session's transcript for privacy.

A member may erase their own words (a chat line, a note or caption they added, a
question they asked with its edits); an owner may erase anyone's (``erase_words``). The
event's body is removed, its digest and hash stay (a tombstone), so the chain still
verifies. Then, in this process: the session's kept snapshot is dropped and its fold
loaded again from the store, the search projections reconcile (the words leave the
index), and every artefact quoting the line reads ``erased`` (quotes are read from the
stream). Every other process is told (``announce``: a control message on the bus) and
folds the session again from the store too (:meth:`Erasure.refold`), so none keeps the
words in memory or writes them back in a snapshot. The audit log records who erased
which line, never the words.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ..authority import Authority, Principal, audit_entry
from ..domain.events import AuditRecorded, Event, audit_stream, session_stream
from ..domain.policy import Action
from ..domain.session_events import (
    CaptionAdded,
    CasePromptsSet,
    ChatSaid,
    NoteAdded,
    QuestionAsked,
    QuestionEdited,
)
from ..errors import InvalidCommand, NotFound
from ..folds import Folds
from ..pipeline import append_keyed
from ..store import AppliedCommand, EventStore
from ..streams import SESSION, StreamRef

log = logging.getLogger("practica.erasure")
WORDS = (ChatSaid, NoteAdded, CaptionAdded, QuestionAsked, QuestionEdited, CasePromptsSet)
PAGE = 1000
EDITS = "with its edits, seqs "
"""How the audit entry of an erased question names its edits (erased with it)."""


class Erased(msgspec.Struct, kw_only=True):
    session: str
    seqs: list[int]
    """The events whose bodies were erased (a question's edits go with it)."""


def erasure_message(session: str, process: str) -> dict[str, Any]:
    """The bus control message saying ``process`` erased words of ``session``."""
    return {"erased": {"session": session, "by": process}}


def erased_elsewhere(message: dict[str, Any], process: str) -> str | None:
    """The session of an erasure control message from another process than ``process``
    (None if ``message`` is not one, or this process sent it)."""
    erased = message.get("erased")
    if not isinstance(erased, dict) or erased.get("by") == process:
        return None
    session = erased.get("session")
    return session if isinstance(session, str) else None


class Erasure:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority) -> None:
        self.store, self.folds, self.authority = store, folds, authority
        self.after: list[Callable[[], Awaitable[object]]] = []
        """Run after an erasure (the search projections' reconcile)."""
        self.announce: Callable[[str], Awaitable[object]] | None = None
        """Tell the other processes that a session's words were erased (the bus)."""

    async def _events(self, stream: str) -> list[Event]:
        events: list[Event] = []
        while True:
            page = await self.store.read(stream, events[-1].seq if events else 0, PAGE)
            events += page
            if len(page) < PAGE:
                return events

    async def erase(self, principal: Principal, session: str, seq: int) -> Erased:
        stream = session_stream(session)
        found = await self.authority.check_read(principal, stream)
        community = found.community.community
        events = await self._events(stream)
        event = next((e for e in events if e.seq == seq), None)
        if event is None:
            raise NotFound(f"no line {seq} in session {session}")
        if event.body is None:
            return Erased(session=session, seqs=[])  # erased already
        if not isinstance(event.body, WORDS):
            raise InvalidCommand("only words said can be erased (chat, notes, captions, "
                                 "questions, case prompts)")
        own = event.actor is not None and event.actor == principal.member
        if not own:
            await self.authority.check(principal, Action.ERASE_WORDS, community,
                                       target=event.actor)
        seqs = [seq]
        if isinstance(event.body, QuestionAsked):  # its edits hold its words too
            number = event.body.question
            seqs += [e.seq for e in events if isinstance(e.body, QuestionEdited)
                     and e.body.question == number]
        await self.store.execute([
            *[("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?", (stream, s))
              for s in seqs],
            ("DELETE FROM stream_snapshots WHERE stream = ?", (stream,))])
        # Keyed (an Idempotency-Key call): a retry after a crash answers from this entry.
        notes = ["their own words"] if own else []
        if len(seqs) > 1:
            notes.append(EDITS + ", ".join(str(s) for s in seqs[1:]))
        await append_keyed(self.store, [(audit_stream(community), [audit_entry(
            Action.ERASE_WORDS.value, target=f"{stream} seq {seq}",
            detail="; ".join(notes))], None)], principal.member)
        await self.folds.load(StreamRef(SESSION, session))
        for step in self.after:
            await step()
        if self.announce is not None:
            try:
                await self.announce(session)
            except Exception:  # right here; the others refold at their next start
                log.exception("could not tell other processes of the erasure in %s", session)
        return Erased(session=session, seqs=seqs)

    async def replayed(self, principal: Principal, applied: AppliedCommand) -> Erased:
        """The answer to an erasure committed before by a process that died before
        answering (an Idempotency-Key call): read from its audit entry."""
        (event,) = await self.store.read(applied.stream, applied.seq - 1, 1)
        entry = event.body
        assert isinstance(entry, AuditRecorded) and entry.target, entry
        stream, _, first = entry.target.rpartition(" seq ")
        await self.authority.check_read(principal, stream)
        edits = entry.detail.partition(EDITS)[2]
        return Erased(session=stream.partition(":")[2],
                      seqs=[int(first), *(int(s) for s in edits.split(", ") if s)])

    async def refold(self, session: str) -> None:
        """Another process erased words of ``session``: fold it again from the store (the
        old fold held the words), then drop any snapshot written from the old fold while
        the news travelled."""
        if session not in self.folds.sessions:
            return  # never folded here: nothing held
        await self.folds.load(StreamRef(SESSION, session))
        await self.store.execute([("DELETE FROM stream_snapshots WHERE stream = ?",
                                   (session_stream(session),))])
