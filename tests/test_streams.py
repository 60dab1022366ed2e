"""The stream-kind registry: names matched whole, and who may read each kind (pure)."""

from __future__ import annotations

import pytest

from server.domain.policy import Actor, Role
from server.streams import AUDIT, COMMUNITY, KINDS, ROOM, may_read, parse, reading_table


@pytest.mark.parametrize(("name", "kind", "ident"), [
    ("community:guild", COMMUNITY, "guild"),
    ("room:case-review", ROOM, "case-review"),
    ("audit:guild", AUDIT, "guild"),
])
def test_names_of_every_kind_parse(name, kind, ident):
    ref = parse(name)
    assert ref is not None and (ref.kind, ref.ident, ref.name) == (kind, ident, name)


@pytest.mark.parametrize("name", [
    "zzz", "room:", ":guild", "room:guild\n", "room:guild ", " room:guild", "ROOM:guild",
    "rooms:guild", "xyz:guild", "room:Guild", "room:-guild", "room:a:b", "room:g\u200b",
    "community:" + "a" * 65, "audit:guild\n", "",
])
def test_anything_else_is_no_stream(name):
    assert parse(name) is None


def test_every_kind_is_named_once_with_a_read_action():
    assert len({kind.name for kind in KINDS}) == len(KINDS)
    assert all(kind.read is not None for kind in KINDS)
    assert len(reading_table()) == 2 + len(KINDS)


def _actor(role: Role | None, guest_room: str | None = None) -> Actor:
    return Actor(id="m-1", role=role, guest_room=guest_room)


@pytest.mark.parametrize(("role", "community", "room", "audit"), [
    (None, False, False, False),
    (Role.GUEST, False, True, False),
    (Role.MEMBER, True, True, False),
    (Role.HOST, True, True, False),
    (Role.CONVENER, True, True, True),
    (Role.OWNER, True, True, True),
])
def test_who_may_read_each_kind(role, community, room, audit):
    actor = _actor(role, "r1" if role is Role.GUEST else None)
    assert bool(may_read(actor, parse("community:guild"), "guild")) is community  # type: ignore[arg-type]
    assert bool(may_read(actor, parse("room:r1"), "guild")) is room  # type: ignore[arg-type]
    assert bool(may_read(actor, parse("audit:guild"), "guild")) is audit  # type: ignore[arg-type]


def test_a_guest_reads_only_the_room_of_their_link():
    guest = _actor(Role.GUEST, "r1")
    assert may_read(guest, parse("room:r1"), "guild")  # type: ignore[arg-type]
    refused = may_read(guest, parse("room:r2"), "guild")  # type: ignore[arg-type]
    assert not refused and "one room" in refused.reason
