"""A community's state as a fold over its stream: its stated domain and purpose, its
rooms, its members with their roles (who may do what is decided from here), and the
moderation that outlives membership: running timeouts and removals (bans).

``apply`` folds one event; ``decide_*`` turn a change of membership into the events to
append, or raise a :class:`CommandError` and append nothing. Both are pure.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal

import msgspec

from ..errors import Conflict, Forbidden, NotFound
from .artefact_events import CollectionSaved, RepertoireReviewSet
from .events import (
    CommunityCreated,
    CommunityEdited,
    Event,
    EventBody,
    JoinPolicy,
    MemberAdmitted,
    MemberRemoved,
    MemberRenamed,
    MemberTimedOut,
    RemovalLifted,
    RoleChanged,
    RoleName,
    RoomCreated,
)
from .names import readable_name
from .policy import Role
from .session_events import Segment, TemplateSaved

Via = Literal["founded", "invite", "approval", "open", "seed", "operator"]


class RoomInfo(msgspec.Struct, kw_only=True):
    room: str
    name: str
    topic: str


class MemberInfo(msgspec.Struct, kw_only=True):
    member: str
    name: str
    role: RoleName
    timed_out_until: int = 0
    """Milliseconds since the epoch; 0 when never timed out."""
    timeout_reason: str = ""


class Timeout(msgspec.Struct, frozen=True):
    until: int
    """Milliseconds since the epoch."""
    reason: str


class Removal(msgspec.Struct, kw_only=True, frozen=True):
    """Someone removed (banned) until a convener lifts it."""

    member: str
    name: str
    at: int
    """When, in milliseconds since the epoch."""
    by: str | None
    """Who removed them (a member id)."""
    reason: str


class CommunitySnapshot(msgspec.Struct, tag="community", tag_field="kind", kw_only=True):
    community: str
    name: str
    domain: str
    purpose: str
    description: str
    """Markdown, as written."""
    description_html: str
    """The description rendered and sanitized; safe to insert as HTML. The fold stays
    pure: it leaves this empty and the process's folds (server/folds.py) render it."""
    join_policy: JoinPolicy
    rooms: list[RoomInfo]
    members: list[MemberInfo]


class CommunityState:
    __slots__ = ("collections", "community", "description", "description_html", "domain",
                 "join_policy", "joined", "members", "name", "names", "owner", "purpose",
                 "removed", "review_confidential", "rooms", "seq", "templates", "timeouts")

    def __init__(self, community: str) -> None:
        self.community = community
        self.name = community
        self.domain = ""
        self.purpose = ""
        self.description = ""
        self.description_html = ""
        self.join_policy: JoinPolicy = "approval"
        self.owner: str | None = None
        self.seq = 0
        self.rooms: dict[str, RoomInfo] = {}
        self.members: dict[str, MemberInfo] = {}
        self.names: dict[str, str] = {}
        """The last known name of everyone who was ever a member (for the audit log)."""
        self.timeouts: dict[str, Timeout] = {}
        """The last timeout of everyone ever timed out, member or guest, present or not:
        it runs its time whatever they do (leave, be removed, come back)."""
        self.removed: dict[str, Removal] = {}
        """Who is removed and may not come back until the removal is lifted."""
        self.templates: dict[str, list[Segment]] = {}
        """Saved run-of-show templates of live sessions, by name (the last save wins)."""
        self.joined: dict[str, int] = {}
        """When each member first came in (ms since the epoch), as the stream shows; not
        in a snapshot (a fold from one knows none: callers fall back to first seen)."""
        self.review_confidential = False
        """The repertoire's confidential-details review is mandatory."""
        self.collections: dict[str, CollectionSaved] = {}
        """The repertoire's reading lists, by id (in the order first saved)."""

    def role_of(self, member: str) -> Role | None:
        info = self.members.get(member)
        return None if info is None else Role.parse(info.role)

    def owners(self) -> list[str]:
        return [m.member for m in self.members.values() if m.role == "owner"]

    def timed_out_until(self, member: str) -> int:
        """When ``member``'s timeout ends (ms since the epoch); 0 when never timed out."""
        timeout = self.timeouts.get(member)
        return 0 if timeout is None else timeout.until

    def snapshot(self) -> CommunitySnapshot:
        return CommunitySnapshot(
            community=self.community, name=self.name, domain=self.domain,
            purpose=self.purpose, description=self.description,
            description_html=self.description_html, join_policy=self.join_policy,
            rooms=list(self.rooms.values()), members=list(self.members.values()),
        )


def apply(state: CommunityState, event: Event) -> CommunityState:
    state.seq = event.seq
    body = event.body
    if isinstance(body, CommunityCreated | CommunityEdited):
        state.name, state.domain, state.purpose = body.name, body.domain, body.purpose
        state.description = body.description
        state.description_html = ""  # rendered at the edge (server/folds.py), not in the fold
        state.join_policy = body.join_policy
        if isinstance(body, CommunityCreated) and body.owner is not None:
            state.owner = body.owner
            name = readable_name(body.owner_name)  # a plain string, from before names
            state.members[body.owner] = MemberInfo(member=body.owner, name=name, role="owner")
            state.joined.setdefault(body.owner, event.ts)
            state.names[body.owner] = name
    elif isinstance(body, TemplateSaved):
        state.templates[body.name] = list(body.agenda)
    elif isinstance(body, RepertoireReviewSet):
        state.review_confidential = body.required
    elif isinstance(body, CollectionSaved):
        if body.artefacts:
            state.collections[body.collection] = body
        else:
            state.collections.pop(body.collection, None)
    elif isinstance(body, RoomCreated):
        state.rooms[body.room] = RoomInfo(room=body.room, name=body.name, topic=body.topic)
    elif isinstance(body, MemberAdmitted):
        timeout = state.timeouts.get(body.member, _NO_TIMEOUT)
        if timeout.until <= event.ts:  # ended before they came in: a client that never
            timeout = _NO_TIMEOUT       # saw it (not in its snapshot) shows none either
        state.members[body.member] = MemberInfo(
            member=body.member, name=body.name, role=body.role,
            timed_out_until=timeout.until, timeout_reason=timeout.reason)
        state.names[body.member] = body.name
        state.joined.setdefault(body.member, event.ts)
        # Admission is decided against the ban (decide_admit); what is in the stream
        # anyway (the operator's make-owner, history from before bans) ends it.
        state.removed.pop(body.member, None)
    elif isinstance(body, MemberTimedOut):
        state.timeouts[body.member] = Timeout(body.until, body.reason)
        info = state.members.get(body.member)
        if info is not None:
            info.timed_out_until, info.timeout_reason = body.until, body.reason
    elif isinstance(body, RoleChanged | MemberRenamed):
        info = state.members.get(body.member)
        if info is None:
            return state
        if isinstance(body, RoleChanged):
            info.role = body.role
        else:
            info.name = state.names[body.member] = body.name
    elif isinstance(body, MemberRemoved):
        info = state.members.pop(body.member, None)
        if body.how == "removed":  # a ban; leaving or deleting one's account is not
            state.removed[body.member] = Removal(
                member=body.member, name=info.name if info else state.names.get(
                    body.member, body.member),
                at=event.ts, by=event.actor, reason=body.reason)
    elif isinstance(body, RemovalLifted):
        state.removed.pop(body.member, None)
    return state


_NO_TIMEOUT = Timeout(0, "")


# --- decisions ------------------------------------------------------------------------


def decide_admit(state: CommunityState, member: str, name: str, via: Via,
                 now_ms: int) -> list[EventBody]:
    """Admit ``member``, unless they were removed. A timeout still running is restated
    after the admission, so every reader of the stream (the browser's fold too) sees
    that it carries on."""
    if member in state.removed:
        raise Forbidden(f"you were removed from {state.name}; a convener may lift it")
    if member in state.members:
        raise Conflict(f"already a member of {state.name}")
    events: list[EventBody] = [MemberAdmitted(member=member, name=name, role="member",
                                              via=via)]
    timeout = state.timeouts.get(member)
    if timeout is not None and timeout.until > now_ms:
        events.append(MemberTimedOut(member=member, until=timeout.until,
                                     reason=timeout.reason))
    return events


def decide_edit(state: CommunityState, *, name: str, domain: str, purpose: str,
                description: str, join_policy: JoinPolicy) -> list[EventBody]:
    return [CommunityEdited(name=name, domain=domain.strip(),
                            purpose=purpose.strip(), description=description,
                            join_policy=join_policy)]


def room_slug(name: str) -> str:
    """The readable start of a room's id, from its name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "room"


def decide_create_room(state: CommunityState, name: str, topic: str, rng: random.Random,
                       taken: Callable[[str], bool]) -> RoomCreated:
    """A new room with an id no stream has (``taken``): room ids are global, since a
    room's stream is named by its id alone. ``rng`` is passed in so the decision is pure."""
    slug = room_slug(name)
    room = f"{slug}-{rng.getrandbits(24):06x}"
    while taken(room) or room in state.rooms:
        room = f"{slug}-{rng.getrandbits(24):06x}"
    return RoomCreated(room=room, name=name, topic=topic.strip())


def decide_set_role(state: CommunityState, member: str, role: RoleName) -> list[EventBody]:
    """Give ``member`` ``role`` (who may is :func:`~.policy.allowed`'s call); nothing when
    they have it already."""
    info = state.members.get(member)
    if info is None:
        raise NotFound(f"not a member of {state.name}")
    return [] if info.role == role else [RoleChanged(member=member, role=role)]


def decide_remove(state: CommunityState, member: str, reason: str) -> list[EventBody]:
    """Remove (ban until lifted) ``member``."""
    return [MemberRemoved(member=member, reason=reason.strip())]


def decide_timeout(state: CommunityState, member: str, minutes: int, reason: str,
                   now_ms: int) -> list[EventBody]:
    """Stop ``member`` posting for ``minutes`` from ``now_ms`` (0 lifts a timeout)."""
    return [MemberTimedOut(member=member, until=now_ms + minutes * 60_000,
                           reason=reason.strip())]


def decide_leave(state: CommunityState, member: str) -> list[EventBody]:
    """Leave; the last owner may not (the community would have no one to run it)."""
    if member not in state.members:
        raise Conflict(f"not a member of {state.name}")
    if state.owners() == [member]:
        raise Conflict("you are the only owner: make someone else owner first")
    return [MemberRemoved(member=member, how="left")]


def decide_lift(state: CommunityState, member: str) -> list[EventBody]:
    if member not in state.removed:
        raise NotFound("no such removal")
    return [RemovalLifted(member=member)]


# --- what a client folds, in a form to compare ------------------------------------------


def from_snapshot(snapshot: CommunitySnapshot, seq: int) -> CommunityState:
    """Rebuild what a snapshot shows (what a client starts its fold with): everything
    but who was removed, and the timeouts of people who are not members now."""
    state = CommunityState(snapshot.community)
    state.name, state.domain, state.purpose = snapshot.name, snapshot.domain, snapshot.purpose
    state.description, state.description_html = snapshot.description, snapshot.description_html
    state.join_policy, state.seq = snapshot.join_policy, seq
    state.rooms = {r.room: msgspec.structs.replace(r) for r in snapshot.rooms}
    state.members = {m.member: msgspec.structs.replace(m) for m in snapshot.members}
    state.names = {m.member: m.name for m in snapshot.members}
    state.timeouts = {m.member: Timeout(m.timed_out_until, m.timeout_reason)
                      for m in snapshot.members if m.timed_out_until}
    owners = state.owners()
    state.owner = owners[0] if owners else None
    return state


def fold(snapshot: CommunitySnapshot, seq: int, events: Iterable[Event]) -> CommunityState:
    """A client's fold: the state at ``seq`` (from ``snapshot``) and the events after it.
    An event at or below the state's seq changes nothing. The browser's
    ``web/folds/community.js`` folds the same way."""
    state = from_snapshot(snapshot, seq)
    for event in events:
        if event.seq > state.seq:
            apply(state, event)
    return state


def normal_form(state: CommunityState) -> dict[str, Any]:
    """The state as plain, ordered data (rooms and members by id), equal to what the
    browser's ``normalForm`` gives for the same fold; ``description_html`` is left out
    (the server renders it, a client fetches it)."""
    return {
        "community": state.community, "name": state.name, "domain": state.domain,
        "purpose": state.purpose, "description": state.description,
        "join_policy": state.join_policy, "seq": state.seq,
        "rooms": [msgspec.to_builtins(r) for r in sorted(state.rooms.values(),
                                                         key=lambda r: r.room)],
        "members": [msgspec.to_builtins(m) for m in sorted(state.members.values(),
                                                           key=lambda m: m.member)],
    }
