"""The pair-up part of a session's fold (:mod:`.session` holds a :class:`PairUps` and
hands it the events of :mod:`.session_pair_events`). Pure; no clock.

A round runs from ``pairs_made`` to ``pairs_ended`` (or a segment change, or the end);
``pairs_changed`` carries the groups, waiting and alone after each change, so folding
it is a replacement, never a computation a client could get wrong.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .events import Event, EventBody
from .session_pair_events import (
    Broadcast,
    HelpCall,
    HelpCalled,
    HelpCleared,
    HostLeft,
    HostVisited,
    PairGroup,
    PairsBroadcast,
    PairsChanged,
    PairsEnded,
    PairsMade,
    SatOut,
    TakeawayShared,
    Visit,
)


class PairUps:
    """The pair-up state of one session (see ``SessionSnapshot`` for each field)."""

    def __init__(self) -> None:
        self.round = 0
        self.active = False
        self.groups: dict[int, list[str]] = {}
        self.waiting: list[str] = []
        self.alone: list[str] = []
        self.sitting_out: list[str] = []
        self.help: dict[int, HelpCall] = {}
        self.visits: dict[str, Visit] = {}
        self.broadcasts: list[Broadcast] = []
        self.host_joins = False
        self.paired: list[str] = []

    # --- reading -----------------------------------------------------------------------

    def group_of(self, member: str) -> int | None:
        """The group ``member`` is in in the running round (None: in none)."""
        for group, members in self.groups.items():
            if member in members:
                return group
        return None

    def member_lists(self) -> list[list[str]]:
        return [list(self.groups[g]) for g in sorted(self.groups)]

    def snapshot_fields(self) -> dict[str, Any]:
        return {
            "pair_round": self.round, "pairs_active": self.active,
            "groups": [PairGroup(group=g, members=list(self.groups[g]))
                       for g in sorted(self.groups)],
            "pairs": self.member_lists(),
            "waiting": list(self.waiting), "alone": list(self.alone),
            "sitting_out": list(self.sitting_out),
            "help": [msgspec.structs.replace(h) for h in self.help.values()],
            "visits": [msgspec.structs.replace(v) for v in self.visits.values()],
            "broadcasts": [msgspec.structs.replace(b) for b in self.broadcasts],
            "host_joins": self.host_joins, "paired": list(self.paired),
        }

    @classmethod
    def from_snapshot(cls, snap: Any) -> PairUps:
        ups = cls()
        ups.round, ups.active, ups.host_joins = snap.pair_round, snap.pairs_active, snap.host_joins
        ups.groups = {g.group: list(g.members) for g in snap.groups}
        ups.waiting, ups.alone = list(snap.waiting), list(snap.alone)
        ups.sitting_out, ups.paired = list(snap.sitting_out), list(snap.paired)
        ups.help = {h.group: msgspec.structs.replace(h) for h in snap.help}
        ups.visits = {v.member: msgspec.structs.replace(v) for v in snap.visits}
        ups.broadcasts = [msgspec.structs.replace(b) for b in snap.broadcasts]
        return ups

    # --- folding -----------------------------------------------------------------------

    def _back_to_main(self) -> None:
        self.active = False
        self.groups, self.waiting, self.alone = {}, [], []
        self.help, self.visits = {}, {}

    def segment_changed(self, old_pairs: list[list[str]]) -> None:
        """A segment began (or the session started): whatever round ran is over, nobody
        sits out any more; an old stream's ``pairs`` field folds as a round of its own."""
        self._back_to_main()
        self.sitting_out = []
        if old_pairs:
            self.round += 1
            self.active, self.host_joins, self.broadcasts = True, False, []
            self.groups = {i + 1: list(p) for i, p in enumerate(old_pairs)}
            self.paired = sorted({m for p in old_pairs for m in p})

    def session_ended(self) -> None:
        self._back_to_main()
        self.sitting_out = []

    def erased(self, seqs: set[int]) -> None:
        """The events at ``seqs`` were erased: their broadcasts are no longer shown."""
        self.broadcasts = [b for b in self.broadcasts if b.seq not in seqs]

    def apply(self, body: EventBody, event: Event) -> None:
        handler = PAIR_HANDLERS[type(body)]
        handler(self, body, event)


def _made(ups: PairUps, body: Any, event: Event) -> None:
    assert isinstance(body, PairsMade)
    ups.round, ups.active, ups.host_joins = body.round, True, body.host_joins
    ups.groups = {g.group: list(g.members) for g in body.groups}
    ups.waiting, ups.alone = list(body.waiting), []
    ups.help, ups.visits, ups.broadcasts = {}, {}, []
    ups.paired = sorted({m for g in body.groups for m in g.members})


def _changed(ups: PairUps, body: Any, event: Event) -> None:
    assert isinstance(body, PairsChanged)
    if not ups.active or body.round != ups.round:
        return
    ups.groups = {g.group: list(g.members) for g in body.groups}
    ups.waiting, ups.alone = list(body.waiting), list(body.alone)
    ups.paired = sorted({*ups.paired, *(m for g in body.groups for m in g.members)})
    ups.help = {g: h for g, h in ups.help.items() if g in ups.groups}
    ups.visits = {m: v for m, v in ups.visits.items() if v.group in ups.groups}


def _ended(ups: PairUps, body: Any, event: Event) -> None:
    if body.round == ups.round:
        ups._back_to_main()


def _this_round(handler: Any) -> Any:
    def apply(ups: PairUps, body: Any, event: Event) -> None:
        if ups.active and body.round == ups.round:
            handler(ups, body, event)
    return apply


def _broadcast(ups: PairUps, body: Any, event: Event) -> None:
    ups.broadcasts.append(Broadcast(round=body.round, text=body.text, name=body.name,
                                    ts=event.ts, seq=event.seq))


def _help(ups: PairUps, body: Any, event: Event) -> None:
    ups.help[body.group] = HelpCall(group=body.group, member=body.member, name=body.name,
                                    ts=event.ts)


def _help_cleared(ups: PairUps, body: Any, event: Event) -> None:
    ups.help.pop(body.group, None)


def _visited(ups: PairUps, body: Any, event: Event) -> None:
    ups.visits.pop(body.member, None)  # one visit at a time, in the order made
    ups.visits[body.member] = Visit(member=body.member, name=body.name, group=body.group)


def _left(ups: PairUps, body: Any, event: Event) -> None:
    ups.visits.pop(body.member, None)


def _sat_out(ups: PairUps, body: Any, event: Event) -> None:
    if body.out and body.member not in ups.sitting_out:
        ups.sitting_out.append(body.member)
    elif not body.out and body.member in ups.sitting_out:
        ups.sitting_out.remove(body.member)


def _kept(ups: PairUps, body: Any, event: Event) -> None:
    """Takeaways are the transcript's: read from the stream, not the state."""


PAIR_HANDLERS: dict[type[EventBody], Any] = {
    PairsMade: _made, PairsChanged: _changed, PairsEnded: _ended,
    PairsBroadcast: _this_round(_broadcast), HelpCalled: _this_round(_help),
    HelpCleared: _this_round(_help_cleared), HostVisited: _this_round(_visited),
    HostLeft: _this_round(_left), SatOut: _sat_out, TakeawayShared: _kept,
}
