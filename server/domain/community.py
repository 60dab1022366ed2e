"""A community's state as a fold over its stream: its stated domain and purpose, its
rooms, and its members with their roles (who may do what is decided from here)."""

from __future__ import annotations

import msgspec

from ..markup import render_markdown
from .events import (
    CommunityCreated,
    CommunityEdited,
    Event,
    JoinPolicy,
    MemberAdmitted,
    MemberRemoved,
    MemberRenamed,
    MemberTimedOut,
    RoleChanged,
    RoleName,
    RoomCreated,
)
from .names import readable_name
from .policy import Role


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


class CommunitySnapshot(msgspec.Struct, tag="community", tag_field="kind", kw_only=True):
    community: str
    name: str
    domain: str
    purpose: str
    description: str
    """Markdown, as written."""
    description_html: str
    """The description rendered and sanitized; safe to insert as HTML."""
    join_policy: JoinPolicy
    rooms: list[RoomInfo]
    members: list[MemberInfo]


class CommunityState:
    __slots__ = ("community", "description", "description_html", "domain", "join_policy",
                 "members", "name", "names", "owner", "purpose", "rooms", "seq")

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

    def role_of(self, member: str) -> Role | None:
        info = self.members.get(member)
        return None if info is None else Role.parse(info.role)

    def owners(self) -> list[str]:
        return [m.member for m in self.members.values() if m.role == "owner"]

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
        state.description_html = render_markdown(body.description)
        state.join_policy = body.join_policy
        if isinstance(body, CommunityCreated) and body.owner is not None:
            state.owner = body.owner
            name = readable_name(body.owner_name)  # a plain string, from before names
            state.members[body.owner] = MemberInfo(member=body.owner, name=name, role="owner")
            state.names[body.owner] = name
    elif isinstance(body, RoomCreated):
        state.rooms[body.room] = RoomInfo(room=body.room, name=body.name, topic=body.topic)
    elif isinstance(body, MemberAdmitted):
        state.members[body.member] = MemberInfo(member=body.member, name=body.name,
                                                role=body.role)
        state.names[body.member] = body.name
    elif isinstance(body, RoleChanged | MemberRenamed | MemberTimedOut):
        info = state.members.get(body.member)
        if info is None:
            return state
        if isinstance(body, RoleChanged):
            info.role = body.role
        elif isinstance(body, MemberRenamed):
            info.name = state.names[body.member] = body.name
        else:
            info.timed_out_until, info.timeout_reason = body.until, body.reason
    elif isinstance(body, MemberRemoved):
        state.members.pop(body.member, None)
    return state
