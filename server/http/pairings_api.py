"""HTTP routes of pair-ups: your "do not pair me with" list, whom you have met, and (for
conveners and owners) the community's pairing history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import pairing_types as p
from .endpoints import Call, Endpoint

if TYPE_CHECKING:
    from ..actions.pair_blocks import PairBlockList
    from ..pairing_history import PairingHistory


def pairing_endpoints(blocks: PairBlockList, history: PairingHistory) -> list[Endpoint]:
    async def page(call: Call) -> p.PairingsPage:
        return await history.page(
            call.who, call.param("community"),
            member=call.query("member", p.MemberFilter, None),
            before=call.query("before", p.PairingsCursor, None),
            limit=call.query("limit", p.PairingsLimit, 50))

    c = "/api/communities/{community}"
    return [
        Endpoint("GET", c + "/pair-blocks", "Your \"do not pair me with\" list: pair-ups "
                 "never put you in a group with anyone on it. Only you see it",
                 lambda call: blocks.listed(call.who, call.param("community")),
                 reply=p.PairBlocks),
        Endpoint("PUT", c + "/pair-blocks/{member}", "Put a member on your list (again: "
                 "nothing changes). Not yourself; at most the list's limit",
                 lambda call: blocks.block(call.who, call.param("community"),
                                           call.param("member")), refusals=(404, 409)),
        Endpoint("DELETE", c + "/pair-blocks/{member}", "Take someone off your list (not "
                 "there: nothing changes)",
                 lambda call: blocks.unblock(call.who, call.param("community"),
                                             call.param("member"))),
        Endpoint("GET", c + "/pairings", "The community's pairing history, newest first: "
                 "who met whom in which session and round (conveners and owners)", page,
                 reply=p.PairingsPage, query=(
                     ("member", p.MemberFilter, "Only the meetings of this member"),
                     ("before", p.PairingsCursor, "The previous page's next"),
                     ("limit", p.PairingsLimit, "How many (1 to 200, default 50)"))),
        Endpoint("GET", c + "/pairings/mine", "Whom you have met in pair-ups: how often, "
                 "when last, and in which sessions",
                 lambda call: history.mine(call.who, call.param("community")),
                 reply=p.MyPairings),
    ]
