"""The kinds of stream there are: one declaration per kind, everything else derives from it.

A stream is named ``<kind>:<id>``, matched whole (a trailing newline or any other
stray character makes it no stream at all). Each :class:`StreamKind` says:

- its name and what its id names (a community, or a room of one), and how the id
  finds the community it belongs to (:attr:`StreamKind.home`; a room: the community
  whose room list holds it);
- which :class:`~server.domain.policy.Action` reading it needs: reading is an action
  like any other, decided by :func:`~server.domain.policy.allowed` on the
  :class:`~server.domain.policy.Resource` the stream belongs to. The server asks
  :func:`may_read` for ``join``, ``resume``, ``history``, gap catch-up, and again
  for every socket's subscriptions whenever the community's members or roles
  change, so live delivery never outlives the permission;
- optionally, how it is folded into live state and snapshotted (a fresh state, the
  pure fold, and what the fold leaves to the edge, like rendering markdown), and
  whether all its streams are folded at start or each on first use. Kinds without a
  fold, like the audit log, are replayed, never snapshotted;
- whether members enter its streams (join, leave, presence; resuming one enters it),
  or may ``follow`` them without entering, and which ephemeral relays it takes, each
  with the action sending it needs.

:class:`~server.folds.Folds`, the gateway's subscriptions, resume, catch-up and the
relay derive from this. A name that matches no kind, or names a community or room
that does not exist, is ``not_found``; one the reader may not read is ``forbidden``.
Neither ever gets a snapshot. Adding a kind is adding one entry to :data:`KINDS`
(or :func:`register` it).

Pure: the caller says which community a stream belongs to (see :func:`resource_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from .domain import artefact as artefact_fold
from .domain import community as community_fold
from .domain import room as room_fold
from .domain.artefact import ArtefactState
from .domain.artefact_events import ArtefactCreated, ArtefactRevised
from .domain.community import CommunityState
from .domain.events import CommunityCreated, CommunityEdited, Event
from .domain.policy import Action, Actor, Decision, Resource, allowed
from .domain.room import RoomState
from .domain.series import SeriesState
from .domain.series import apply as series_apply
from .domain.series_clock import SERIES_TIMERS as SERIES_TIMERS
from .domain.session import SessionState
from .domain.session import apply as session_apply
from .domain.session import restore as session_restore
from .markup import render_markdown

ID = r"[a-z0-9][a-z0-9-]{0,63}"
"""A community or room id, as :data:`server.domain.events.Id` allows."""

Scope = Literal["community", "room", "session", "series"]
Loaded = Literal["at_start", "on_use"]


class Places(Protocol):
    """What a kind's :attr:`StreamKind.home` may look at: the states this process holds
    (:class:`~server.folds.Folds`)."""

    @property
    def communities(self) -> Mapping[str, CommunityState]: ...

    def of(self, kind: StreamKind) -> Mapping[str, Any]:
        """The states of ``kind`` held, by id."""
        ...

    def home(self, ref: StreamRef) -> CommunityState:
        """Another stream's community (NotFound if none): for a kind that belongs to a
        room, or to anything else that belongs to a community."""
        ...


Home = Callable[[Places, str], "CommunityState | None"]
"""``home(places, id)``: the community a stream's id belongs to; None if there is none."""


def the_community(places: Places, ident: str) -> CommunityState | None:
    """A community's own streams: the id is the community (one created, seq > 0)."""
    state = places.communities.get(ident)
    return state if state is not None and state.seq > 0 else None


def room_home(places: Places, ident: str) -> CommunityState | None:
    """A room's streams: the community whose room list holds the room (a room never moves)."""
    for state in places.communities.values():
        if ident in state.rooms:
            return state
    return None


def render_description(state: CommunityState, event: Event) -> None:
    """What the community fold leaves to the edge: rendering the description's markdown
    (markdown-it and nh3 are I/O-free but not domain logic)."""
    if isinstance(event.body, CommunityCreated | CommunityEdited):
        state.description_html = render_markdown(state.description)


@dataclass(slots=True, eq=False)
class StreamKind:
    name: str
    scope: Scope
    """What the id after the colon names: a community, or a room (of one community)."""
    read: Action
    """The action reading the stream needs, on the community (and room) it belongs to."""
    summary: str
    home: Home = the_community
    """The community a stream's id belongs to; None when there is none (``not_found``)."""
    new_state: Callable[[str], Any] | None = None
    """A fresh state for the id (to fold into); None for kinds that are only replayed.
    A state has ``seq`` and ``snapshot()``."""
    fold: Callable[[Any, Event], object] | None = None
    """Apply one committed event to the state (pure)."""
    after_fold: Callable[[Any, Event], object] | None = None
    """What the pure fold leaves to the edge, run after it on every event."""
    loaded: Loaded = "on_use"
    """``at_start``: every stream of the kind is folded when the process starts, and one
    created later is followed from its first event; ``on_use``: each the first time it
    is needed (and only if its home exists)."""
    enter: Action | None = None
    """Members enter streams of this kind (presence); entering needs this action, and
    resuming one enters it too. None: the kind is only read."""
    relays: Mapping[str, Action] = field(default_factory=dict)
    """The ephemeral relays a stream of this kind takes, each with the action sending it
    needs (so the permission table says who may)."""
    followable: bool = False
    """A socket may ``follow`` its streams (read only: nothing entered, no presence): a
    series (the Schedule), a session (its transcript and the artefacts quoting it, live in
    any tab; attending it, not following, is what counts someone there). Rooms are joined
    instead, since joining says who is there."""
    snapshots: bool = True
    """False: the fold is the server's own (a series'); a client that resumes too far
    behind, or asks for the stream afresh, gets no snapshot but a replay from the head
    with a reason, and reads the state over HTTP."""
    restore: Callable[[str, bytes, int], Any] | None = None
    """``restore(id, body, seq)``: the state a snapshot kept in the store
    (``stream_snapshots``) says it was at ``seq``, so loading folds only the events after
    it. None: the kind keeps no snapshots (a body it cannot read: fold it whole)."""

    def stream(self, ident: str) -> str:
        return f"{self.name}:{ident}"

    @property
    def prefix(self) -> str:
        return f"{self.name}:"

    @property
    def folded(self) -> bool:
        return self.fold is not None and self.new_state is not None

    def apply(self, state: Any, event: Event) -> None:
        """Fold one committed event: the pure fold, then its edge step."""
        assert self.fold is not None
        self.fold(state, event)
        if self.after_fold is not None:
            self.after_fold(state, event)


COMMUNITY = StreamKind(
    "community", "community", Action.VIEW_COMMUNITY,
    "The community itself: its rooms, members and roles. The first stream of a session.",
    new_state=CommunityState, fold=community_fold.apply, after_fold=render_description,
    loaded="at_start")
ROOM = StreamKind(
    "room", "room", Action.READ_HISTORY,
    "A room: who is present and what is said. Entering it (``join``) needs ``join_room``"
    " as well.",
    home=room_home, new_state=RoomState, fold=room_fold.apply, enter=Action.JOIN_ROOM,
    relays={"typing": Action.RELAY_TYPING})
AUDIT = StreamKind(
    "audit", "community", Action.VIEW_AUDIT,
    "The community's audit log: every privileged action and every member's refusal."
    " Replayed, never snapshotted (older entries: ``GET /api/communities/{id}/audit``).")



def session_home(places: Places, ident: str) -> CommunityState | None:
    """A session's stream: the community of the room it was opened in (its first event)."""
    state = places.of(SESSION).get(ident)
    if state is None or not state.opened:
        return None
    return room_home(places, state.room)


SESSION = StreamKind(
    "session", "session", Action.READ_HISTORY,
    "A room's live session: agenda, timer, stage, hands, Q&A, and its transcript (chat,"
    " notes, captions). Reading it needs ``read_history`` on its room.",
    home=session_home, new_state=SessionState, fold=session_apply, loaded="at_start",
    followable=True, restore=session_restore)


def series_home(places: Places, ident: str) -> CommunityState | None:
    """A series' stream: the community named in its first event."""
    state = places.of(SERIES).get(ident)
    if state is None or not state.created:
        return None
    return the_community(places, state.community)


def artefact_home(places: Places, ident: str) -> CommunityState | None:
    """An artefact's stream: the community it was made in (its first event)."""
    state = places.of(ARTEFACT).get(ident)
    if state is None or not state.created:
        return None
    return the_community(places, state.community)


SERIES = StreamKind(
    "series", "series", Action.VIEW_COMMUNITY,
    "A recurring room: its rule and exceptions, RSVPs, topics, presenters, and the"
    " lobbies and reminders the scheduler fired. Reading it needs ``view_community``.",
    home=series_home, new_state=SeriesState, fold=series_apply, loaded="at_start",
    followable=True, snapshots=False)


def render_artefact(state: ArtefactState, event: Event) -> None:
    """The edge step: the latest revision's markdown, rendered and sanitized."""
    if isinstance(event.body, ArtefactCreated | ArtefactRevised):
        state.body_html = render_markdown(state.current.body)


ARTEFACT = StreamKind(
    "artefact", "community", Action.READ_REPERTOIRE,
    "A repertoire artefact (FAQ, summary, case story, reflection on a failure, insight,"
    " template): its revisions, comments, endorsements and suggested revisions, with the"
    " transcript excerpts it cites. Reading it needs ``read_repertoire`` in its community.",
    home=artefact_home, new_state=ArtefactState, fold=artefact_fold.apply,
    after_fold=render_artefact, loaded="at_start")

ROOT = COMMUNITY
"""The kind whose fold decides who may read every stream (members and roles): caught up
before any other, and the only one whose streams start with no home to find."""

KINDS: list[StreamKind] = [COMMUNITY, ROOM, AUDIT, SESSION, SERIES, ARTEFACT]
"""Every kind, in the order they are loaded (a kind's home before the kind)."""
BY_NAME = {kind.name: kind for kind in KINDS}
_NAME = re.compile(rf"(?P<kind>[a-z]+):(?P<ident>{ID})")


def register(kind: StreamKind) -> StreamKind:
    """Add a kind (after those there are). Its name must be new."""
    if kind.name in BY_NAME:
        raise ValueError(f"there is a stream kind {kind.name!r} already")
    KINDS.append(kind)
    BY_NAME[kind.name] = kind
    return kind


def unregister(kind: StreamKind) -> None:
    """Remove a kind added by :func:`register` (tests)."""
    KINDS.remove(kind)
    del BY_NAME[kind.name]


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


def split(stream: str) -> StreamRef | None:
    """As :func:`parse`, for names already checked (committed events'): no pattern match."""
    name, _, ident = stream.partition(":")
    kind = BY_NAME.get(name)
    return None if kind is None else StreamRef(kind, ident)


def resource_of(ref: StreamRef, community: str, room: str | None = None) -> Resource:
    """What reading ``ref`` is an action on, given the community it belongs to (and, for
    a session, its room)."""
    if ref.kind.scope == "room":
        return Resource(community=community, room=ref.ident)
    if ref.kind.scope == "session":  # a session guest reads their one session only
        return Resource(community=community, room=room, session=ref.ident)
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
