"""The pair-up tables (migration 0012), on either backend: meetings and practice as the
``pairings`` projection keeps them, and members' private "do not pair me with" lists.

Plain statements through :meth:`EventStore.fetch` and :meth:`EventStore.execute`
(``?`` placeholders; the PostgreSQL store numbers them), so both backends answer alike.
"""

from __future__ import annotations

from typing import NamedTuple

from .base import EventStore

MAX_BLOCKS = 200
"""How many people one member may keep on their "do not pair me with" list."""


class MeetingRow(NamedTuple):
    session: str
    round: int
    a: str
    b: str
    ts: int


class Practice(NamedTuple):
    member: str
    sessions_attended: int
    times_presented: int
    first_seen_ms: int


class Block(NamedTuple):
    other: str
    created: int


class PairTables:
    """Reads and writes of the pair-up tables of one store."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    # --- meetings (kept by the projection) ----------------------------------------

    async def meetings_since(self, community: str, since_ms: int) -> list[MeetingRow]:
        """Every meeting in ``community`` at or after ``since_ms``, oldest first."""
        rows = await self.store.fetch(
            "SELECT session, round, a, b, ts FROM pair_meetings WHERE community = ?"
            " AND ts >= ? ORDER BY ts, session, round, a, b", (community, since_ms))
        return [MeetingRow(str(s), int(r), str(a), str(b), int(ts)) for s, r, a, b, ts in rows]

    async def history_since(self, community: str, since_ms: int) -> list[tuple[str, str, int]]:
        """(a, b, ts) of every meeting in ``community`` at or after ``since_ms``, in no
        order: what the matcher reads (the fewest columns, nothing sorted)."""
        rows = await self.store.fetch(
            "SELECT a, b, ts FROM pair_meetings WHERE community = ? AND ts >= ?",
            (community, since_ms))
        return [(str(a), str(b), int(ts)) for a, b, ts in rows]

    async def meetings_page(self, community: str, *, member: str | None = None,
                            before: tuple[int, str, int, str, str] | None = None,
                            limit: int = 50) -> list[MeetingRow]:
        """Meetings newest first (of ``member`` only, if given), after the ``before``
        position (ts, session, round, a, b) of the last row of the previous page."""
        where: list[str] = ["community = ?"]
        params: list[str | int] = [community]
        if member is not None:
            where.append("(a = ? OR b = ?)")
            params += [member, member]
        if before is not None:
            ts, session, round_, a, b = before
            where.append("(ts < ? OR (ts = ? AND (session < ? OR (session = ? AND"
                         " (round < ? OR (round = ? AND (a < ? OR (a = ? AND b < ?))))))))")
            params += [ts, ts, session, session, round_, round_, a, a, b]
        rows = await self.store.fetch(
            "SELECT session, round, a, b, ts FROM pair_meetings WHERE " + " AND ".join(where)
            + " ORDER BY ts DESC, session DESC, round DESC, a DESC, b DESC LIMIT ?",
            (*params, limit))
        return [MeetingRow(str(s), int(r), str(a), str(b), int(ts)) for s, r, a, b, ts in rows]

    async def met_by(self, community: str, member: str) -> list[MeetingRow]:
        """Every meeting of ``member`` in ``community``, newest first."""
        rows = await self.store.fetch(
            "SELECT session, round, a, b, ts FROM pair_meetings WHERE community = ?"
            " AND (a = ? OR b = ?) ORDER BY ts DESC, session DESC, round DESC",
            (community, member, member))
        return [MeetingRow(str(s), int(r), str(a), str(b), int(ts)) for s, r, a, b, ts in rows]

    async def session_titles(self, sessions: list[str]) -> dict[str, tuple[str, str]]:
        """(room, title) of each of ``sessions`` the projection has seen opened."""
        if not sessions:
            return {}
        marks = ", ".join("?" for _ in sessions)
        rows = await self.store.fetch(
            f"SELECT session, room, title FROM pair_sessions WHERE session IN ({marks})",
            tuple(sessions))
        return {str(s): (str(room), str(title)) for s, room, title in rows}

    async def attendee_names(self, community: str, members: list[str]) -> dict[str, str]:
        """The latest name each of ``members`` attended a session of ``community`` under
        (guests are in no community fold)."""
        if not members:
            return {}
        marks = ", ".join("?" for _ in members)
        rows = await self.store.fetch(
            "SELECT member, name FROM pair_attendance WHERE community = ?"
            f" AND member IN ({marks}) AND name <> '' ORDER BY ts", (community, *members))
        return {str(m): str(name) for m, name in rows}

    async def practice(self, community: str) -> dict[str, Practice]:
        """What the streams show of each attendee's experience in ``community``."""
        rows = await self.store.fetch(
            "SELECT member, sessions_attended, times_presented, first_seen_ms FROM practice"
            " WHERE community = ?", (community,))
        return {str(m): Practice(str(m), int(n), int(p or 0), int(first))
                for m, n, p, first in rows}

    # --- blocks (a member's own list) -----------------------------------------------

    async def blocks_of(self, community: str, member: str) -> list[Block]:
        rows = await self.store.fetch(
            "SELECT other, created FROM pair_blocks WHERE community = ? AND member = ?"
            " ORDER BY created, other", (community, member))
        return [Block(str(o), int(c)) for o, c in rows]

    async def blocks_among(self, community: str, people: list[str]) -> list[tuple[str, str]]:
        """Every block in ``community`` between two of ``people`` (either side's)."""
        wanted = set(people)
        rows = await self.store.fetch(
            "SELECT member, other FROM pair_blocks WHERE community = ?", (community,))
        return [(str(m), str(o)) for m, o in rows if m in wanted and o in wanted]

    async def add_block(self, community: str, member: str, other: str, now_ms: int,
                        *, limit: int = MAX_BLOCKS) -> bool | None:
        """Put ``other`` on ``member``'s list: True if added, False if there already,
        None if the list is full (nothing written)."""
        (added,) = await self.store.execute([(
            "INSERT INTO pair_blocks (community, member, other, created)"
            " SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT)"
            " WHERE (SELECT count(*) FROM pair_blocks WHERE community = ? AND member = ?) < ?"
            " ON CONFLICT (community, member, other) DO NOTHING",
            (community, member, other, now_ms, community, member, limit))])
        if added:
            return True
        there = await self.store.fetch(
            "SELECT 1 FROM pair_blocks WHERE community = ? AND member = ? AND other = ?",
            (community, member, other))
        return False if there else None

    async def remove_block(self, community: str, member: str, other: str) -> bool:
        """Take ``other`` off ``member``'s list; whether it was there."""
        (removed,) = await self.store.execute([(
            "DELETE FROM pair_blocks WHERE community = ? AND member = ? AND other = ?",
            (community, member, other))])
        return removed > 0
