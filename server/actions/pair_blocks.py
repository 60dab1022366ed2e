"""A member's private "do not pair me with" list: the matcher never puts two people in
one group when either has the other on their list.

Kept in the ``pair_blocks`` table, never as an event in a shared stream, so nobody can
learn who blocked them (not even conveners, whose pairing history shows meetings only).
Adding someone already there, or removing someone not there, changes nothing.
"""

from __future__ import annotations

from ..authority import Authority, Principal, now_ms
from ..domain.policy import Action
from ..errors import Conflict, InvalidCommand, NotFound
from ..folds import Folds
from ..http.pairing_types import PairBlock, PairBlocks
from ..store import EventStore
from ..store.pairings import MAX_BLOCKS, PairTables


class CannotBlockYourself(InvalidCommand):
    """Your own id on your own list."""


class NotAMember(NotFound):
    """Only a member of the community can be put on a list there."""


class TooManyBlocks(Conflict):
    """The list holds :data:`MAX_BLOCKS` people already."""


class PairBlockList:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority, *,
                 limit: int = MAX_BLOCKS) -> None:
        self.tables, self.folds, self.authority = PairTables(store), folds, authority
        self.limit = limit

    async def listed(self, principal: Principal, community: str) -> PairBlocks:
        state = await self.authority.check(principal, Action.KEEP_PAIR_BLOCKS, community)
        blocks = await self.tables.blocks_of(community, principal.member)
        return PairBlocks(limit=self.limit, blocks=[PairBlock(
            member=b.other, name=state.names.get(b.other, b.other), since_ms=b.created)
            for b in blocks])

    async def block(self, principal: Principal, community: str, other: str) -> None:
        state = await self.authority.check(principal, Action.KEEP_PAIR_BLOCKS, community)
        if other == principal.member:
            raise CannotBlockYourself("you cannot put yourself on your own list")
        if other not in state.members:
            raise NotAMember(f"{other} is not a member of {community}")
        added = await self.tables.add_block(community, principal.member, other, now_ms(),
                                            limit=self.limit)
        if added is None:
            raise TooManyBlocks(f"your list holds {self.limit} people already; take someone"
                                " off first")

    async def unblock(self, principal: Principal, community: str, other: str) -> None:
        await self.authority.check(principal, Action.KEEP_PAIR_BLOCKS, community)
        await self.tables.remove_block(community, principal.member, other)
