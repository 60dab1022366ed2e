"""Projections: read models kept from committed events, rebuildable from the streams.

A :class:`Projection` says which streams it reads and turns a run of a stream's events
into statements on its own tables (pure). A :class:`~.projector.Projector` keeps one
projection up to date apart from the appends it follows: appends commit without any
projection write, and the projector reads the committed events after its cursor (per
projection and stream, ``projection_cursors``, written in the same transaction as the
projection's rows) and applies them in transactions of its own, promptly after each
commit it hears of (this process's commits, other processes' announcements) and on a
poll besides. A projection that fails keeps its cursor, logs, and is retried with
backoff while the others (and every append) go on; its lag is on ``/healthz`` and
``/metrics``. Applying an event twice changes nothing, so two processes keeping the
same tables (PostgreSQL) need no coordination.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..domain.events import Event
from ..store import EventStore

Statement = tuple[str, tuple[Any, ...]]


class Projection(Protocol):
    name: str
    prefix: str
    """The streams it reads: every stream whose name starts with this."""

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        """What applying ``events`` (in seq order, after the cursor) writes. Pure."""

    def reset(self) -> list[Statement]:
        """Empty the projection's tables (before a rebuild)."""

    async def reconcile(self, store: EventStore) -> int:
        """Repair what changed behind the cursor (erased bodies); how many rows changed."""


from .projector import Projections, Projector  # noqa: E402  (they use Projection)

__all__ = ["Projection", "Projections", "Projector", "Statement"]
