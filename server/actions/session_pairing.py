"""What a pair-up decision needs from outside the session's fold, worked out at the edge
so that :mod:`server.domain.session_pairs` stays pure: who is present in the session's
room now (the room fold), the matching inputs (history, stages, blocks: an injectable
provider) and a fresh seed.

The provider is ``async (store, community, people, now_ms) -> PairingInputs``;
:func:`no_history` (nobody met anybody, everyone a member, no blocks) until the
community's pairing history is wired in (``server/pairing_inputs.py``).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from ..domain.community import CommunityState
from ..domain.events import Event, MemberLeft, MembersChanged
from ..domain.matching import Stage
from ..domain.session import SessionState
from ..domain.session_pair_moves import rejoin_refusal
from ..domain.session_pairs import NO_CONTEXT, PairContext, PairingInputs, arrives_late
from ..folds import Folds
from ..store import EventStore

InputsProvider = Callable[[EventStore, CommunityState, list[str], int],
                          Awaitable[PairingInputs]]

NEEDS_CONTEXT = frozenset({"pair", "attend", "leave_pair", "partner_choice", "rejoin_pairs"})
"""The ops whose decision reads a :class:`PairContext` (``attend`` only while a round
runs: it may place a late arrival; ``rejoin_pairs`` the inputs only when it places)."""


async def no_history(store: EventStore, community: CommunityState, people: list[str],
                     now_ms: int) -> PairingInputs:
    """No pairing history, everyone a member, no blocks."""
    return PairingInputs(stages=dict.fromkeys(people, Stage.MEMBER))


def departures(event: Event) -> list[str]:
    """Who a room event says left the room."""
    body = event.body
    if isinstance(body, MemberLeft):
        return [body.member]
    if isinstance(body, MembersChanged):
        return [d.member for d in body.left]
    return []


def involved(state: SessionState, member: str) -> bool:
    """Whether ``member`` leaving changes the session's running round."""
    ups = state.ups
    return ups.active and (ups.group_of(member) is not None or member in ups.waiting
                           or member in ups.alone or member in ups.visits)


class Pairing:
    def __init__(self, store: EventStore, folds: Folds,
                 inputs: InputsProvider = no_history) -> None:
        self.store, self.folds, self.inputs = store, folds, inputs

    async def present(self, state: SessionState) -> frozenset[str]:
        """The session's attendees present in its room now."""
        room = await self.folds.room(state.room)
        return frozenset(m for m in state.attendees if m in room.present)

    async def context(self, name: str, state: SessionState, community: CommunityState,
                      sender: str, now_ms: int, *, runs: bool = False) -> PairContext:
        if name not in NEEDS_CONTEXT or (name != "pair" and not state.ups.active):
            return NO_CONTEXT
        if name == "attend" and not arrives_late(state, sender, runs):
            return NO_CONTEXT  # a reconnect mid-round places nobody: no history to read
        present = await self.present(state)
        if name == "rejoin_pairs" and rejoin_refusal(state, sender, runs, present):
            return PairContext(present=present)  # refused: a double click reads no history
        ups = state.ups
        people = sorted({*present, *ups.waiting, *ups.alone, sender,
                         *(m for g in ups.groups.values() for m in g)})
        return PairContext(present=present,
                           inputs=await self.inputs(self.store, community, people, now_ms),
                           seed=secrets.token_hex(8) if name == "pair" else "")
