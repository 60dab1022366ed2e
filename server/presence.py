"""Which connections hold each member in each room.

A member is present in a room while at least one of their connections has
joined it. When the last one goes away without leaving (a dropped socket, a
closed laptop), the leave is held back for a grace period so that a quick
reconnect does not flicker the presence list.
"""

from __future__ import annotations

from typing import Any


class Presence:
    def __init__(self) -> None:
        self._holders: dict[tuple[str, str], set[Any]] = {}

    def attach(self, room: str, member: str, connection: Any) -> None:
        self._holders.setdefault((room, member), set()).add(connection)

    def detach(self, room: str, member: str, connection: Any) -> bool:
        """Remove one connection; True if the member now has none in the room."""
        holders = self._holders.get((room, member))
        if holders is None:
            return True
        holders.discard(connection)
        if holders:
            return False
        del self._holders[(room, member)]
        return True

    def held(self, room: str, member: str) -> bool:
        return bool(self._holders.get((room, member)))

    def connections(self) -> int:
        return len({c for holders in self._holders.values() for c in holders})
