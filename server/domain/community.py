"""A community's state (its stated domain and purpose, its rooms) as a fold over its stream."""

from __future__ import annotations

import msgspec

from .events import CommunityCreated, Event, RoomCreated


class RoomInfo(msgspec.Struct, kw_only=True):
    room: str
    name: str
    topic: str


class CommunitySnapshot(msgspec.Struct, tag="community", tag_field="kind", kw_only=True):
    community: str
    name: str
    domain: str
    purpose: str
    description: str
    rooms: list[RoomInfo]


class CommunityState:
    __slots__ = ("community", "description", "domain", "name", "purpose", "rooms", "seq")

    def __init__(self, community: str) -> None:
        self.community = community
        self.name = community
        self.domain = ""
        self.purpose = ""
        self.description = ""
        self.seq = 0
        self.rooms: dict[str, RoomInfo] = {}

    def snapshot(self) -> CommunitySnapshot:
        return CommunitySnapshot(
            community=self.community, name=self.name, domain=self.domain,
            purpose=self.purpose, description=self.description,
            rooms=list(self.rooms.values()),
        )


def apply(state: CommunityState, event: Event) -> CommunityState:
    state.seq = event.seq
    body = event.body
    if isinstance(body, CommunityCreated):
        state.name, state.domain, state.purpose = body.name, body.domain, body.purpose
        state.description = body.description
    elif isinstance(body, RoomCreated):
        state.rooms[body.room] = RoomInfo(room=body.room, name=body.name, topic=body.topic)
    return state
