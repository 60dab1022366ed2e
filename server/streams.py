"""The kinds of stream there are, and who may read each: one declaration per kind.

A stream is named ``<kind>:<id>``, matched whole (a trailing newline or any other
stray character makes it no stream at all). Each :class:`StreamKind` says:

- its name and what its id names (a community, or a room of one);
- which :class:`~server.domain.policy.Action` reading it needs: reading is an action
  like any other, decided by :func:`~server.domain.policy.allowed` on the
  :class:`~server.domain.policy.Resource` the stream belongs to. The server asks
  :func:`may_read` for ``join``, ``resume``, ``history``, gap catch-up, and again
  for every socket's subscriptions whenever the community's members or roles
  change, so live delivery never outlives the permission;
- optionally, how it is folded into live state and snapshotted (kinds without a
  fold, like the audit log, are replayed, never snapshotted).

A name that matches no kind, or names a community or room that does not exist,
is ``not_found``; one the reader may not read is ``forbidden``. Neither ever gets
a snapshot. Adding a kind is adding one entry to :data:`KINDS`.

Pure: the caller says which community a stream belongs to (see :func:`resource_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from .domain import community as community_fold
from .domain import room as room_fold
from .domain import session as session_fold
from .domain.community import CommunityState
from .domain.events import Event
from .domain.policy import Action, Actor, Decision, Resource, allowed
from .domain.room import RoomState
from .domain.session import SessionState

ID = r"[a-z0-9][a-z0-9-]{0,63}"
"""A community or room id, as :data:`server.domain.events.Id` allows."""

Scope = Literal["community", "room", "session"]


@dataclass(frozen=True, slots=True)
class StreamKind:
    name: str
    scope: Scope
    """What the id after the colon names: a community, a room (of one community), or a
    live session (of one room)."""
    read: Action
    """The action reading the stream needs, on the community (and room) it belongs to."""
    summary: str
    new_state: Callable[[str], Any] | None = None
    """A fresh state for the id (to fold into); None for kinds that are only replayed."""
    fold: Callable[[Any, Event], object] | None = None
    """Apply one committed event to the state."""

    def stream(self, ident: str) -> str:
        return f"{self.name}:{ident}"

    @property
    def prefix(self) -> str:
        return f"{self.name}:"


COMMUNITY = StreamKind(
    "community", "community", Action.VIEW_COMMUNITY,
    "The community itself: its rooms, members and roles. The first stream of a session.",
    new_state=CommunityState, fold=community_fold.apply)
ROOM = StreamKind(
    "room", "room", Action.READ_HISTORY,
    "A room: who is present and what is said. Entering it (``join``) needs ``join_room``"
    " as well.",
    new_state=RoomState, fold=room_fold.apply)
AUDIT = StreamKind(
    "audit", "community", Action.VIEW_AUDIT,
    "The community's audit log: every privileged action and every member's refusal."
    " Replayed, never snapshotted (older entries: ``GET /api/communities/{id}/audit``).")

SESSION = StreamKind(
    "session", "session", Action.READ_HISTORY,
    "A room's live session: agenda, timer, stage, hands, Q&A, and its transcript (chat,"
    " notes, captions). Reading it needs ``read_history`` on its room.",
    new_state=SessionState, fold=session_fold.apply)

KINDS: tuple[StreamKind, ...] = (COMMUNITY, ROOM, AUDIT, SESSION)
BY_NAME = {kind.name: kind for kind in KINDS}
_NAME = re.compile(rf"(?P<kind>[a-z]+):(?P<ident>{ID})")


class StreamRef(NamedTuple):
    kind: StreamKind
    ident: str

    @property
    def name(self) -> str:
        return self.kind.stream(self.ident)


def parse(stream: str) -> StreamRef | None:
    """The kind and id of a stream name; None when it names no kind of stream."""
    match = _NAME.fullmatch(stream)
    if match is None:
        return None
    kind = BY_NAME.get(match["kind"])
    return None if kind is None else StreamRef(kind, match["ident"])


def resource_of(ref: StreamRef, community: str, room: str | None = None) -> Resource:
    """What reading ``ref`` is an action on, given the community it belongs to (and, for
    a session, its room)."""
    if ref.kind.scope == "room":
        return Resource(community=community, room=ref.ident)
    if ref.kind.scope == "session":
        return Resource(community=community, room=room)
    return Resource(community=community)


def may_read(actor: Actor, ref: StreamRef, community: str, room: str | None = None) -> Decision:
    """May ``actor`` (their role in ``community``, which ``ref`` belongs to) read it?"""
    return allowed(actor, ref.kind.read, resource_of(ref, community, room))


def reading_table() -> list[str]:
    """Markdown lines: each kind and the action reading it needs (for the docs)."""
    lines = ["| stream | reading needs | what it is |", "| --- | --- | --- |"]
    for kind in KINDS:
        lines.append(f"| `{kind.name}:<{kind.scope}>` | `{kind.read.value}` | {kind.summary} |")
    return lines
