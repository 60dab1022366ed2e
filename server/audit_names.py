"""Readable names for the ids an audit log mentions.

Members and rooms are named by the community's fold. The rest are looked up once per
page: an invite or guest link (``i-…``) by its kind and room, a guest (``g-<session>``)
by the display name they chose, and an account the fold forgot (deleted, or never a
member, such as someone whose join request was declined) by its account name. What
cannot be found any more is described by its kind, never shown as a bare id.
"""

from __future__ import annotations

from collections.abc import Iterable

from .domain.community import CommunityState
from .store import EventStore


async def audit_names(store: EventStore, state: CommunityState,
                      ids: Iterable[str | None]) -> dict[str, str]:
    rooms = {r.room: r.name for r in state.rooms.values()}
    names = {**rooms, **state.names, state.community: state.name}
    for ident in {i for i in ids if i} - names.keys():
        names[ident] = await _describe(store, state.community, ident, rooms)
    return names


async def _describe(store: EventStore, community: str, ident: str,
                    rooms: dict[str, str]) -> str:
    if ident.startswith("i-"):
        rows = await store.fetch(
            "SELECT kind, room FROM invites WHERE id = ? AND community = ?", (ident, community))
        if not rows:
            return "an invite link"
        kind, room = rows[0]
        if kind == "guest":
            return f"guest link to #{rooms.get(room, room or '?')}"
        return "member invite link"
    if ident.startswith("g-"):
        rows = await store.fetch("SELECT guest_name FROM sessions WHERE id = ?", (ident[2:],))
        return f"{rows[0][0]} (guest)" if rows and rows[0][0] else "a guest"
    rows = await store.fetch("SELECT name FROM accounts WHERE id = ?", (ident,))
    if rows:
        return str(rows[0][0])
    return "a former member" if ident.startswith("m-") else ident
