"""The matcher's inputs for one round, read from the store: history and practice as the
``pairings`` projection keeps them (:mod:`server.projections.pairings`), join times from
the community's fold, and the blocks members keep (:mod:`server.actions.pair_blocks`).
The decision itself stays pure: these come in as data (:class:`PairingInputs`)."""

from __future__ import annotations

from .domain.community import CommunityState
from .domain.pairing_inputs import DAY_MS, HISTORY_DAYS, Experience, PairingInputs, inputs_from
from .store import EventStore
from .store.pairings import PairTables

__all__ = ["PairingInputs", "pairing_inputs"]


async def pairing_inputs(store: EventStore, community: CommunityState, people: list[str],
                         now_ms: int) -> PairingInputs:
    """History (the last :data:`HISTORY_DAYS` of meetings between two of ``people``),
    stages (sessions attended, times presented, days since joining) and blocks among
    ``people`` in ``community``. A meeting made a moment ago may not be projected yet:
    the caller reads the current round from the session's own state."""
    tables = PairTables(store)
    ident = community.community
    meetings = await tables.history_since(ident, now_ms - HISTORY_DAYS * DAY_MS)
    practice = await tables.practice(ident)
    blocks = await tables.blocks_among(ident, people)
    return inputs_from(
        people, meetings=meetings,
        experience={who: Experience(p.sessions_attended, p.times_presented, p.first_seen_ms)
                    for who, p in practice.items()},
        joined=community.joined, blocks=blocks, now_ms=now_ms)
