"""Everything that changes state: each action decides (pure domain logic), appends
durably, and only then do events go out (the store's commit listeners fan them out).

An action returns the reply frame for the command's sender or raises a
:class:`~server.errors.CommandError`; a refused command appends nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from .. import subscriptions
from ..authority import Authority, audit_entry
from ..cluster.presence import LocalSharedPresence, Presence, SharedPresence
from ..connection import Connection
from ..domain import room as room_fold
from ..domain.events import (
    EventBody,
    MessagePosted,
    audit_stream,
    community_stream,
    room_stream,
    type_of,
)
from ..domain.policy import Action, Decision
from ..domain.room import Member, Message
from ..errors import (
    CommandError,
    ErrorCode,
    Forbidden,
    InvalidCommand,
    NotFound,
    RateLimited,
)
from ..folds import Folds
from ..frames import command_digest
from ..hub import LocalHub
from ..pipeline import Once, Outcome, Parts
from ..pipeline import Sync as CatchUp
from ..presence_batch import PresenceBatcher
from ..protocol import (
    Ack,
    ClientFrame,
    Delete,
    Edit,
    History,
    HistoryPage,
    Identify,
    Join,
    Leave,
    Post,
    Ready,
    Resume,
    Sync,
    session_of,
)
from ..settings import Settings
from ..store import EventStore
from ..streams import ROOT, parse
from ..subscriptions import Subscriptions
from .message_changes import changed

log = logging.getLogger("practica.actions")


class Actions:
    def __init__(
        self, store: EventStore, folds: Folds, hub: LocalHub, presence: Presence,
        settings: Settings, authority: Authority,
    ) -> None:
        self.store, self.folds, self.hub, self.authority = store, folds, hub, authority
        self.presence, self.settings = presence, settings
        self.once = Once(store)
        """Each command applied at most once per (member, ref) (server/pipeline.py)."""
        self.sync: CatchUp = _caught_up
        """Catch this process's fold of a stream up to the store (the feed's; set by the app)."""
        self.shared: SharedPresence = LocalSharedPresence(presence)
        self._tasks: set[asyncio.Task[None]] = set()
        self.subscriptions = Subscriptions(store, folds, hub, authority, settings)
        self.presence_batch = PresenceBatcher(self.folds.room, self._append_presence,
                                              tick_s=settings.presence_tick_ms / 1000)

    async def _append_presence(self, stream: str, bodies: list[EventBody]) -> int:
        return (await self.store.append(stream, None, bodies)).seq

    # --- sessions ------------------------------------------------------------------

    async def identify(self, conn: Connection, cmd: Identify) -> None:
        await self._start(conn, cmd.community, {})

    async def resume(self, conn: Connection, cmd: Resume) -> None:
        if len(cmd.streams) > self.settings.max_resume_streams:
            raise InvalidCommand(f"at most {self.settings.max_resume_streams} streams")
        await self._start(conn, cmd.community, dict(cmd.streams))

    async def _start(self, conn: Connection, community: str | None,
                     streams: dict[str, int | None]) -> None:
        """Enter a community as the socket's signed-in principal (checked at the upgrade).

        Each stream asked for is decided on its own (:mod:`server.streams`): one that is
        no stream, or that the principal may not read, gets a ``refused`` sync (a
        member's refusal is audited), never a snapshot."""
        principal = conn.principal
        assert principal is not None
        if principal.is_guest:
            community = principal.guest_community
        community = community or self._community_in(streams) or self.settings.community
        state = self.folds.community(community)
        actor = self.authority.actor(principal, state)
        if actor.role is None:
            await self.authority.refused(principal, Action.VIEW_COMMUNITY, community,
                                         Decision(False, f"not a member of {community}"))
        member = Member(id=principal.member, name=principal.name)
        wanted: dict[str, int | None] = {}
        if not principal.is_guest:
            wanted[community_stream(community)] = None
        wanted.update(streams)
        refused: list[Sync] = []
        rooms: list[str] = []
        for stream in list(wanted):
            try:
                found = await self.authority.check_read(principal, stream)
                enter = found.ref.kind.enter
                if enter is not None:  # resuming a room enters it: that needs join_room
                    await self.authority.check(principal, enter, found.community.community,
                                               room=found.ref.ident)
                    rooms.append(found.ref.ident)
            except (Forbidden, NotFound) as exc:
                del wanted[stream]
                refused.append(subscriptions.refused(stream, exc))
            except RateLimited as exc:  # refused too often: still refused, just not audited
                del wanted[stream]
                refused.append(subscriptions.refused(stream, Forbidden(exc.message)))
        conn.member, conn.community = member, community
        for room in rooms:
            await self._enter(conn, room, member, ref=None)
        syncs = await self.subscriptions.open(conn, wanted) + refused
        await self.subscriptions.send_synced(conn, Ready(
            session=session_of(member, community, actor), syncs=syncs))

    def _community_in(self, streams: dict[str, int | None]) -> str | None:
        """The community the resumed streams belong to: a ``community:`` stream's, else the
        first other stream's that exists."""
        refs = [ref for ref in map(parse, streams) if ref is not None]
        for ref in sorted(refs, key=lambda ref: ref.kind is not ROOT):
            if self.folds.exists(ref):
                return self.folds.home(ref).community
        return None

    def recheck(self, conn: Connection, community: str | None = None) -> list[str]:
        """Who may read what changed: end the streams ``conn`` may no longer read (and its
        presence in those rooms, as if it had left them). Returns the streams ended."""
        member = conn.member
        ended = self.subscriptions.recheck(conn, community)
        for stream in ended:
            ref = parse(stream)
            if ref is not None and ref.kind.enter is not None and ref.ident in conn.rooms:
                conn.rooms.discard(ref.ident)
                if member is not None and self.presence.detach(ref.ident, member.id, conn):
                    self._background(self.shared.release(ref.ident, member.id))
        return ended

    # --- rooms ---------------------------------------------------------------------

    async def _check(self, conn: Connection, action: Action, room: str) -> Member:
        """Authorize a room command now, with the member's role as it is now; the member,
        with a display name changed since the socket identified taken up."""
        member = self._member(conn)
        assert conn.principal is not None
        community = self.folds.community_of_room(room).community
        state = await self.authority.check(conn.principal, action, community, room=room)
        info = state.members.get(member.id)
        if info is not None and info.name != member.name:
            member = conn.member = Member(id=member.id, name=info.name)
        return member

    async def join(self, conn: Connection, cmd: Join) -> None:
        member = await self._check(conn, Action.JOIN_ROOM, cmd.room)
        assert conn.principal is not None
        await self.authority.check_read(conn.principal, room_stream(cmd.room))
        ack = await self._enter(conn, cmd.room, member, ref=cmd.ref, command=cmd)
        (ack.sync,) = await self.subscriptions.open(conn, {room_stream(cmd.room): None})
        await self.subscriptions.send_synced(conn, ack)

    async def _enter(self, conn: Connection, room: str, member: Member, ref: str | None,
                     command: Join | None = None) -> Ack:
        """Enter ``room`` on ``conn`` (a join, or a resumed room). The presence change goes
        out with the room's other changes of this tick (decided there, on the fold:
        present already, nothing appended); a repeated ``ref`` answers the first seq."""
        await self.folds.room(room)
        stream = room_stream(room)

        async def here() -> None:
            if self.presence.attach(room, member.id, conn):
                await self.shared.hold(room, member.id)
            conn.rooms.add(room)

        async def arrive() -> Outcome:
            return Outcome(stream, await self.presence_batch.change(room, member.id, member))

        outcome = await self.once.applied(member.id, ref, _digest(command), arrive, local=here)
        return Ack(ref=ref or "", stream=stream, seq=outcome.seq)

    async def leave(self, conn: Connection, cmd: Leave) -> Ack:
        member = self._member(conn)
        await self.folds.room(cmd.room)
        stream = room_stream(cmd.room)
        gone = False

        async def away() -> None:
            nonlocal gone
            self.hub.unsubscribe(stream, conn)
            conn.forget(stream)
            conn.rooms.discard(cmd.room)
            gone = self.presence.detach(cmd.room, member.id, conn)
            if gone:  # this process has no other tab of theirs in the room; maybe another does
                await self.shared.release(cmd.room, member.id)
                gone = member.id not in await self.shared.holders(cmd.room)

        async def depart() -> Outcome:
            if not gone:
                return Outcome(stream, None)
            return Outcome(stream, await self.presence_batch.change(cmd.room, member.id, "left"))

        outcome = await self.once.applied(member.id, cmd.ref, _digest(cmd), depart, local=away)
        return Ack(ref=cmd.ref, stream=stream, seq=outcome.seq)

    async def post(self, conn: Connection, cmd: Post) -> Ack:
        member = await self._check(conn, Action.POST, cmd.room)
        state = await self.folds.room(cmd.room)
        stream = room_stream(cmd.room)

        async def decide() -> Parts:  # no expected seq: posts commute, group commit batches them
            return [(stream, room_fold.decide_post(state, member, cmd.text), None)]

        outcome = await self.once.appended(member.id, cmd.ref, _digest(cmd), decide, self.sync)
        return Ack(ref=cmd.ref or "", stream=outcome.stream, seq=outcome.seq)

    async def change(self, conn: Connection, cmd: Edit | Delete) -> Ack:
        member = self._member(conn)
        state = await self.folds.room(cmd.room)
        target = await self.load_message(cmd.room, cmd.message)
        text = cmd.text if isinstance(cmd, Edit) else None
        own = target is None or target.author == member.id
        action = (Action.EDIT_OWN_MESSAGE if text is not None else
                  Action.DELETE_OWN_MESSAGE if own else Action.MODERATE_MESSAGES)
        await self._check(conn, action, cmd.room)
        place = self.folds.community_of_room(cmd.room)
        community = place.community
        if not own and text is not None:
            assert conn.principal is not None
            await self.authority.refused(
                conn.principal, action, community,
                Decision(False, "only the author may edit a message"), target=cmd.room)
        audit: Parts = []
        if not own and target is not None:  # a moderator's deletion: audited in its append
            audit = [(audit_stream(community), [audit_entry(
                action.value, target=target.author, detail=f"deleted message {target.id} in #"
                f"{place.rooms[cmd.room].name if cmd.room in place.rooms else cmd.room}")],
                None)]
        return await changed(self, conn, cmd, state, text, not own, audit)

    async def history(self, conn: Connection, cmd: History) -> HistoryPage:
        self._member(conn)
        assert conn.principal is not None
        stream = room_stream(cmd.room)
        await self.authority.check_read(conn.principal, stream)
        await self.folds.room(cmd.room)
        posts = await self.store.read_type_before(
            stream, type_of(MessagePosted(author="", author_name="x", text="x")),
            cmd.before, cmd.limit + 1)
        has_more = len(posts) > cmd.limit
        messages = {m.id: m for e in reversed(posts[:cmd.limit])
                    if (m := room_fold.message_from(e)) is not None}
        for event in await self.store.read_about(stream, list(messages)):
            if (target := messages.get(getattr(event.body, "message", -1))) is not None:
                room_fold.apply_to_message(target, event)
        return HistoryPage(ref=cmd.ref, room=cmd.room, messages=list(messages.values()),
                           has_more=has_more)

    async def load_message(self, room: str, message: int) -> Message | None:
        """A message as it reads now, from the store (it may be older than the fold keeps)."""
        stream = room_stream(room)
        events = await self.store.read(stream, after=message - 1, limit=1)
        target = room_fold.message_from(events[0]) if events else None
        if target is not None and target.id == message:
            for event in await self.store.read_about(stream, [message]):
                room_fold.apply_to_message(target, event)
            return target
        return None

    # --- disconnects and presence ------------------------------------------------

    def disconnect(self, conn: Connection) -> None:
        """The socket is gone: stop sending to it. Presence lapses after the grace period,
        unless the member comes back (the janitor decides)."""
        for stream in list(conn.cursors):
            self.hub.unsubscribe(stream, conn)
        member = conn.member
        if member is None:
            return
        for room in conn.rooms:
            if self.presence.detach(room, member.id, conn):
                self._background(self.shared.release(room, member.id))

    async def expire(self, room: str, member: str) -> None:
        """Record that ``member`` is gone from ``room`` (called by the lease-holding janitor)."""
        await self.presence_batch.change(room, member, "disconnected")

    async def drain(self) -> None:
        """Wait for background presence updates (at shutdown, before Redis closes)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.presence_batch.settle()

    def _background(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("background presence update failed")

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- helpers -------------------------------------------------------------------

    def _member(self, conn: Connection) -> Member:
        if conn.member is None:
            raise CommandError("identify or resume first", code=ErrorCode.NOT_IDENTIFIED)
        return conn.member


def _digest(command: ClientFrame | None) -> str:
    return command_digest(command) if command is not None else ""


async def _caught_up(stream: str) -> None:
    """Without a feed (tests building Actions alone): the fold follows local commits."""


__all__ = ["Actions", "community_stream"]
