"""Live sessions: every ``session`` command, through the one pipeline.

    authorize (``allowed()`` for the op's action on the session's room, audited when
    refused) → decide (pure, :mod:`server.domain.session_decide`, on the fold) →
    ``append_all`` naming the seq decided on, with the audit entry of a host action
    (or of an anonymous question, naming its asker) → on a stale seq: decide again

A command is applied at most once per (member, ref). Two hosts pressing ``advance``
at once: both decide on the same seq, one append wins, the other is decided again on
the new state and refused (``out_of_order``: the segment it advanced from is past).

Off the record, ``say``/``note``/``caption`` are not appended: they go to those
following the session, in every process, as ``relayed`` frames of kind
``off_record`` (never stored). An anonymous question is appended without an actor,
and its event carries only a keyed hash of (server secret, session, asker,
question), so members cannot tell who asked or link two questions.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ..authority import PRIVILEGED, Authority, Principal, audit_entry, now_ms
from ..domain.community import CommunityState
from ..domain.events import AuditRecorded, Event, EventBody, audit_stream, session_stream
from ..domain.policy import Action, Resource, allowed
from ..domain.series_clock import OCCURRENCE_SESSION
from ..domain.session import SessionState
from ..domain.session_decide import (
    Decided,
    SessionActor,
    decide,
    decide_open,
    owner_key,
    required_action,
)
from ..domain.session_events import DEFAULT_TEMPLATE, Segment, TemplateSaved, community_hour
from ..domain.session_pairs import left
from ..errors import InvalidCommand, NotFound, StaleState
from ..folds import Folds
from ..frames import command_digest
from ..pipeline import Sync, decided, reused
from ..protocol import Ack, SessionCommand
from ..session_protocol import (
    AdvanceOp,
    BackOp,
    EndPairsOp,
    NextRoundOp,
    OpenOp,
    PairOp,
    RoundBackOp,
    op_name,
)
from ..store import CommandKey, EventStore
from .session_pairing import InputsProvider, Pairing, departures, involved, no_history

SECRET_NAME = "session_owner"
Relay = Callable[[Principal, str, dict[str, Any]], Awaitable[None]]
"""``relay(sender, session stream, data)``: hand an off-the-record frame to those present."""
BreakoutRelay = Callable[[Principal, str, dict[str, Any], list[str], str], Awaitable[None]]
"""``breakout(sender, session stream, data, to, kind)``: a breakout room's talk (kind
``breakout``) or call signalling (``signal``), to ``to`` only."""


async def _no_relay(sender: Principal, stream: str, data: dict[str, Any]) -> None:
    """Without a relayer (tests of the pure path): nothing to send it to."""


async def _no_breakout(sender: Principal, stream: str, data: dict[str, Any],
                       to: list[str], kind: str) -> None:
    """Without a relayer: nothing to send it to."""


class Sessions:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority, sync: Sync,
                 relay: Relay = _no_relay, *, snapshot_every: int = 200,
                 breakout: BreakoutRelay = _no_breakout,
                 pairing_inputs: InputsProvider = no_history) -> None:
        self.store, self.folds, self.authority = store, folds, authority
        self.breakout = breakout
        self.pairing = Pairing(store, folds, pairing_inputs)
        self.snapshot_every = max(1, snapshot_every)
        self.sync, self.relay = sync, relay
        self._secret: bytes | None = None
        self._locks: dict[str, asyncio.Lock] = {}

    # --- the asker's key -------------------------------------------------------------

    async def secret(self) -> bytes:
        """The deployment's secret for owner keys: made once, shared by every process."""
        if self._secret is None:
            query = "SELECT value FROM server_secrets WHERE name = ?"
            rows = await self.store.fetch(query, (SECRET_NAME,))
            if not rows:
                await self.store.execute([(
                    "INSERT INTO server_secrets (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING", (SECRET_NAME, secrets.token_hex(32)))])
                rows = await self.store.fetch(query, (SECRET_NAME,))
            self._secret = bytes.fromhex(rows[0][0])
        return self._secret

    async def key_of(self, session: str, member: str) -> str:
        """The keyed hash that recognises ``member`` as an asker in ``session``."""
        return hmac.new(await self.secret(), f"{session}:{member}".encode(),
                        hashlib.sha256).hexdigest()

    async def mine(self, principal: Principal, state: SessionState) -> list[int]:
        """The questions ``principal`` asked in ``state`` (anonymous ones included)."""
        key = await self.key_of(state.session, principal.member)
        return [q.question for q in state.questions.values()
                if q.owner_key == owner_key(key, q.question)]

    # --- commands --------------------------------------------------------------------

    async def command(self, principal: Principal, cmd: SessionCommand) -> Ack:
        key = CommandKey(principal.member, cmd.ref)
        digest = command_digest(cmd)
        found = await self.store.applied_command(key)
        if found is not None:
            if found.digest and found.digest != digest:
                raise reused(cmd.ref)
            return Ack(ref=cmd.ref, stream=found.stream, seq=found.seq)
        if isinstance(cmd.op, OpenOp):
            return await self._open(principal, cmd, cmd.op, key, digest)
        if cmd.session is None:
            raise InvalidCommand(f"{op_name(cmd.op)} needs the session it is for")
        session = cmd.session
        stream = session_stream(session)
        op = cmd.op
        if isinstance(op, AdvanceOp | BackOp) and op.index is None:
            # Pinned once, before any retry: decided again on a newer state, it is
            # refused rather than moving the session a second segment.
            op = msgspec.structs.replace(op, index=self.folds.session(session).index)
        if isinstance(op, NextRoundOp | RoundBackOp) and op.round is None:
            op = msgspec.structs.replace(op, round=self.folds.session(session).round)
        if isinstance(op, PairOp | EndPairsOp) and op.round is None:
            # As for advance: two hosts pressing pair at once make one round.
            ups = self.folds.session(session).ups
            if isinstance(op, PairOp) or ups.active:
                op = msgspec.structs.replace(op, round=ups.round)

        async def attempt() -> Ack:
            state = self.folds.session(session)
            expected = state.seq
            action = required_action(op_name(op), getattr(op, "member", None),
                                     principal.member)
            community = await self.authority.check(principal, action, state.community,
                                                   room=state.room, session=session)
            actor = await self._actor(principal, community, state)
            now = now_ms()
            context = await self.pairing.context(op_name(op), state, community,
                                                 principal.member, now, runs=actor.runs)
            if state.seq != expected:  # moved on while the inputs were read: decide anew
                raise StaleState(stream, expected, state.seq)
            result = decide(state, actor, op, now, random.Random(), context)
            if result.relay is not None and result.to is not None:
                await self.breakout(principal, stream, result.relay, result.to, result.kind)
                return Ack(ref=cmd.ref, stream=stream)
            if result.relay is not None:
                await self.relay(principal, stream, result.relay)
                return Ack(ref=cmd.ref, stream=stream)
            if not result.bodies:
                return Ack(ref=cmd.ref, stream=stream)
            parts: list[tuple[str, list[EventBody], int | None]] = [
                (stream, result.bodies, expected)]
            entry = self._audit(action, op, state, principal, result)
            if entry is not None:
                parts.append((audit_stream(state.community), [entry], None))
            (appended, *_) = await self.store.append_all(
                parts, None if result.anonymous else principal.member, key, digest)
            if appended.conflict:
                raise reused(cmd.ref)
            if appended.seq // self.snapshot_every > expected // self.snapshot_every:
                await self.keep_snapshot(session)
            return Ack(ref=cmd.ref, stream=appended.stream, seq=appended.seq)

        async with self._lock(session):
            return await decided(attempt, self.sync)

    async def member_left(self, room: str, member: str) -> None:
        """``member`` left ``room``: in each of its sessions where a round runs and they
        are in it, the round goes on without them (``pairs_changed`` why ``left``).
        Decided on the fold and appended naming its seq, so when several processes see
        the leave, one change is made (the others find them in no group any more)."""
        for found in self.folds.sessions_of_room(room):
            if involved(found, member):
                await self._left_round(found.session, member)

    async def _left_round(self, session: str, member: str) -> None:
        stream = session_stream(session)

        async def attempt() -> None:
            state = self.folds.session(session)
            present = await self.pairing.present(state)
            if member in present or not involved(state, member):
                return  # back already, or someone else's process did it
            expected = state.seq
            community = self.folds.community(state.community)
            context = await self.pairing.context("leave_pair", state, community,
                                                 member, now_ms())
            bodies = left(state, member, "left", context)
            if bodies and state.seq == expected:
                await self.store.append_all([(stream, bodies, expected)], None)

        async with self._lock(session):
            await decided(attempt, self.sync)

    def room_changed(self, state: Any, event: Event) -> list[tuple[str, str]]:
        """(room, member) for each member a room event says left who is in a running
        round of one of the room's sessions (the caller runs :meth:`member_left`)."""
        return [(state.room, member) for member in departures(event)
                if any(involved(s, member) for s in self.folds.sessions_of_room(state.room))]

    async def keep_snapshot(self, session: str) -> None:
        """Write the session's fold as it is now (a later one is never replaced by it).
        A fold from before a ``words_erased`` (it may hold the words: this process had
        not heard of the erasure yet) is not kept: the second statement drops it."""
        state, stream = self.folds.session(session), session_stream(session)
        await self.store.execute([(
            "INSERT INTO stream_snapshots (stream, seq, body) VALUES (?, ?, ?)"
            " ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, body = excluded.body"
            " WHERE excluded.seq > stream_snapshots.seq",
            (stream, state.seq, msgspec.json.encode(state.snapshot()))), (
            "DELETE FROM stream_snapshots WHERE stream = ? AND seq < (SELECT MAX(seq)"
            " FROM events WHERE stream = ? AND type = 'words_erased')", (stream, stream))])

    def _lock(self, session: str) -> asyncio.Lock:
        """One command of a session decided at a time in this process: many attendees
        acting at once queue here instead of failing each other's expected seq (which
        still guards against the other processes)."""
        lock = self._locks.get(session)
        if lock is None:
            lock = self._locks[session] = asyncio.Lock()
        return lock

    async def _actor(self, principal: Principal, community: CommunityState,
                     state: SessionState) -> SessionActor:
        actor = self.authority.actor(principal, community)
        runs = allowed(actor, Action.RUN_SESSION,
                       Resource(community=state.community, room=state.room,
                                session=state.session))
        info = community.members.get(principal.member)
        return SessionActor(id=principal.member, name=info.name if info else principal.name,
                            key=await self.key_of(state.session, principal.member),
                            runs=bool(runs), guest=principal.is_guest)

    @staticmethod
    def _audit(action: Action, op: Any, state: SessionState, principal: Principal,
               result: Decided) -> AuditRecorded | None:
        """A host's action, or an anonymous asker's (naming them: only the audit log may)."""
        name = op_name(op)
        where = f"session {state.session}"
        if result.anonymous:
            number = getattr(op, "question", None) or state.asked + 1
            return audit_entry(f"session_{name}_anonymously", target=principal.member,
                               detail=f"question {number} in {where}")
        if action not in PRIVILEGED:
            return None
        target = getattr(op, "member", None)
        question = getattr(op, "question", None)
        detail = f"{name}" + (f" question {question}" if question else "") + f" in {where}"
        return audit_entry(action.value, target=target or where, detail=detail)

    async def _open(self, principal: Principal, cmd: SessionCommand, op: OpenOp,
                    key: CommandKey, digest: str) -> Ack:
        if cmd.session and OCCURRENCE_SESSION.fullmatch(cmd.session):
            raise InvalidCommand(f"session {cmd.session!r}: ids like this are the sessions "
                                 "of recurring rooms' occurrences, opened by their lobby")
        session = cmd.session or f"s-{secrets.token_hex(5)}"
        stream = session_stream(session)

        async def attempt() -> Ack:
            community = self.folds.community_of_room(op.room)
            await self.authority.check(principal, Action.OPEN_SESSION, community.community,
                                       room=op.room)
            agenda = self.agenda_for(community, op.template, op.agenda)
            bodies = decide_open(session, community.community, op.room, op.title, agenda,
                                 op.keep_transcript, self.folds.sessions.get(session)
                                 or SessionState(session))
            entry = audit_entry(Action.OPEN_SESSION.value, target=op.room,
                                detail=f"opened session {session}: {op.title}"[:200])
            (appended, *_) = await self.store.append_all(
                [(stream, bodies, 0), (audit_stream(community.community), [entry], None)],
                principal.member, key, digest)
            if appended.conflict:
                raise reused(cmd.ref)
            return Ack(ref=cmd.ref, stream=appended.stream, seq=appended.seq)

        return await decided(attempt, self.sync)

    @staticmethod
    def agenda_for(community: CommunityState, template: str | None,
                   agenda: list[Segment] | None) -> list[Segment]:
        """The agenda given, else the saved template named, else "community hour"."""
        if agenda:
            return list(agenda)
        if template is None or (template == DEFAULT_TEMPLATE and (
                template not in community.templates)):
            return community_hour()
        saved = community.templates.get(template)
        if saved is None:
            raise NotFound(f"no template {template!r} in {community.community}")
        return list(saved)

    # --- templates -------------------------------------------------------------------

    def templates(self, principal: Principal, community: str) -> dict[str, list[Segment]]:
        """The community's run-of-show templates (the default first, unless saved over)."""
        state = self.folds.community(community)
        if self.authority.actor(principal, state).role is None:
            raise NotFound(f"no community {community!r}")
        return {DEFAULT_TEMPLATE: community_hour(), **state.templates}

    async def save_template(self, principal: Principal, community: str, name: str,
                            agenda: list[Segment]) -> None:
        stream = f"community:{community}"

        async def attempt() -> None:
            state = await self.authority.check(principal, Action.SAVE_TEMPLATE, community)
            body = TemplateSaved(name=name, agenda=agenda)
            if state.templates.get(body.name) == body.agenda:
                return
            entry = audit_entry(Action.SAVE_TEMPLATE.value, target=body.name,
                                detail=f"{len(agenda)} segments")
            await self.store.append_all(
                [(stream, [body], state.seq), (audit_stream(community), [entry], None)],
                principal.member)

        await decided(attempt, self.sync)
