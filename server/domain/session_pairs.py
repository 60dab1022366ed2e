"""What each pair-up command decides (the events of :mod:`.session_pair_events`, or a
typed refusal). Pure: who is present in the session's room, the matching inputs
(history, stages, blocks) and the seed come in as data (:class:`PairContext`), worked
out at the edge (:mod:`server.actions.sessions`); the groups come from the matcher
(:mod:`.matching`: ``match``; placing, leaving and choosing mid-round are in
:mod:`.session_pair_moves`).

Group ids are stable within a round: a group keeps its id when someone joins or
leaves it; a new group gets the next id.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from ..errors import NotFound, OutOfOrder
from .events import EventBody
from .matching import Meeting, NotEnoughPeople, PairingImpossible, match
from .pairing_inputs import PairingInputs as PairingInputs
from .session import SessionState
from .session_pair_events import (
    HelpCalled,
    HelpCleared,
    HostLeft,
    HostVisited,
    PairGroup,
    PairsBroadcast,
    PairsEnded,
    PairsMade,
    SatOut,
    TakeawayShared,
)
from .session_pair_moves import MOVE_DECIDERS, inputs_pairing, round_running
from .session_pair_moves import NO_CONTEXT as NO_CONTEXT
from .session_pair_moves import PairContext as PairContext
from .session_pair_moves import arrives_late as arrives_late
from .session_pair_moves import left as left
from .session_rules import Decided, SessionActor, clean, require_live, require_phase


def _with_this_round(inputs: PairingInputs, state: SessionState) -> PairingInputs:
    """The inputs with the round running now counted as meetings of today: a reshuffle
    must not hand back the same partners, even before the pairings projection (which
    the history is read from) has caught up with this round."""
    now = [Meeting(a, b, inputs.today) for members in state.ups.groups.values()
           for i, a in enumerate(sorted(members)) for b in sorted(members)[i + 1:]]
    return replace(inputs, history=[*inputs.history, *now]) if now else inputs


# --- the host's round -------------------------------------------------------------------


def _pair(state: SessionState, actor: SessionActor, op: Any, now: int, rng: random.Random,
          ctx: PairContext) -> list[EventBody]:
    require_phase(state, "running", doing="pair")
    segment = state.segment
    assert segment is not None
    if segment.kind != "pairs":
        raise OutOfOrder(f"cannot pair: segment {state.index + 1} is not a pair-up segment")
    ups = state.ups
    if op.round is not None and op.round != ups.round:
        raise OutOfOrder(f"round {ups.round} of pair-ups was made already, not round "
                         f"{op.round}: someone paired everyone meanwhile")
    here = [m for m in state.attendees if m in ctx.present]
    sitting_out = [m for m in here if m in ups.sitting_out]
    people = [m for m in here if m not in ups.sitting_out
              and (m not in state.stage or (op.host_joins and m == actor.id))
              and (m != actor.id or op.host_joins)]
    round_rng = random.Random(ctx.seed)
    inputs = _with_this_round(ctx.inputs, state)
    waiting: list[str] = []
    while True:
        if len(people) < 2:
            names = ", ".join(state.attendees[m].name for m in here) or "nobody"
            raise NotEnoughPeople(
                f"{len(people)} to pair; pair-ups need at least two (present: {names}"
                + (f"; sitting out: {len(sitting_out)}" if sitting_out else "") + ")")
        try:
            made = match(inputs_pairing(inputs, people, round_rng), round_rng)
            break
        except PairingImpossible as impossible:  # they wait; the rest are paired
            waiting.extend(impossible.stranded)
            people = [m for m in people if m not in impossible.stranded]
    groups = [PairGroup(group=i + 1, members=list(g)) for i, g in enumerate(made.groups)]
    return [PairsMade(round=ups.round + 1, groups=groups, seed=ctx.seed,
                      sitting_out=sitting_out, host_joins=op.host_joins,
                      waiting=sorted(waiting))]


def _end_pairs(state: SessionState, actor: SessionActor, op: Any, now: int,
               rng: random.Random, ctx: PairContext) -> list[EventBody]:
    round_running(state, "end the pair-ups")
    if op.round is not None and op.round != state.ups.round:
        raise OutOfOrder(f"round {op.round} of pair-ups is over")
    return [PairsEnded(round=state.ups.round, how="host")]


def ended_by_host(state: SessionState) -> list[EventBody]:
    """What moving the session on (advance, back, end) appends first while a round runs."""
    return [PairsEnded(round=state.ups.round, how="host")] if state.ups.active else []


def _sit_out(state: SessionState, actor: SessionActor, op: Any, now: int,
             rng: random.Random, ctx: PairContext) -> list[EventBody]:
    require_live(state, "sit out")
    if actor.id not in state.attendees:
        raise NotFound(f"{actor.id} has not come to this session")
    if (actor.id in state.ups.sitting_out) == op.out:
        return []
    return [SatOut(member=actor.id, out=op.out)]


def _broadcast(state: SessionState, actor: SessionActor, op: Any, now: int,
               rng: random.Random, ctx: PairContext) -> list[EventBody]:
    round_running(state, "broadcast")
    return [PairsBroadcast(round=state.ups.round, text=clean(op.text, "message"),
                           name=actor.name)]


# --- help and visits --------------------------------------------------------------------


def _my_group(state: SessionState, member: str, doing: str) -> int:
    round_running(state, doing)
    group = state.ups.group_of(member)
    if group is None:
        raise OutOfOrder(f"cannot {doing}: you are in no breakout room")
    return group


def _call_help(state: SessionState, actor: SessionActor, op: Any, now: int,
               rng: random.Random, ctx: PairContext) -> list[EventBody]:
    group = _my_group(state, actor.id, "call for help")
    if group in state.ups.help:
        raise OutOfOrder("your group has called for help already")
    return [HelpCalled(round=state.ups.round, group=group, member=actor.id, name=actor.name)]


def _visit(state: SessionState, actor: SessionActor, op: Any, now: int,
           rng: random.Random, ctx: PairContext) -> list[EventBody]:
    round_running(state, "visit a breakout room")
    ups = state.ups
    if op.group not in ups.groups:
        raise NotFound(f"no group {op.group} in round {ups.round}")
    current = ups.visits.get(actor.id)
    if current is not None and current.group == op.group:
        raise OutOfOrder(f"you are visiting group {op.group} already")
    bodies: list[EventBody] = []
    if current is not None:
        bodies.append(HostLeft(round=ups.round, group=current.group, member=actor.id))
    bodies.append(HostVisited(round=ups.round, group=op.group, member=actor.id,
                              name=actor.name))
    if op.group in ups.help:
        bodies.append(HelpCleared(round=ups.round, group=op.group, how="visit"))
    return bodies


def _leave_visit(state: SessionState, actor: SessionActor, op: Any, now: int,
                 rng: random.Random, ctx: PairContext) -> list[EventBody]:
    round_running(state, "leave a breakout room")
    current = state.ups.visits.get(actor.id)
    if current is None:
        raise OutOfOrder("you are visiting no breakout room")
    return [HostLeft(round=state.ups.round, group=current.group, member=actor.id)]


def _clear_help(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random, ctx: PairContext) -> list[EventBody]:
    round_running(state, "dismiss a call for help")
    if op.group not in state.ups.help:
        raise OutOfOrder(f"group {op.group} has not called for help")
    return [HelpCleared(round=state.ups.round, group=op.group, how="dismiss")]


# --- after the round --------------------------------------------------------------------


def _takeaway(state: SessionState, actor: SessionActor, op: Any, now: int,
              rng: random.Random, ctx: PairContext) -> list[EventBody]:
    require_phase(state, "running", "paused", "ended", doing="share a takeaway")
    ups = state.ups
    if op.round != ups.round or actor.id not in ups.paired:
        raise OutOfOrder(f"you were in no breakout room of round {op.round} (the last "
                         f"round is {ups.round})")
    return [TakeawayShared(round=op.round, text=clean(op.text, "takeaway"), name=actor.name)]


def _breakout_say(state: SessionState, actor: SessionActor, op: Any, now: int,
                  rng: random.Random, ctx: PairContext) -> Decided:
    """Relayed to the group's members and the hosts visiting it; never stored."""
    round_running(state, "talk in a breakout room")
    ups = state.ups
    group = ups.group_of(actor.id)
    if group is None:
        visit = ups.visits.get(actor.id)
        if visit is None:
            raise OutOfOrder("cannot talk in a breakout room: you are in none")
        group = visit.group
    text = clean(op.text, "message")
    to = [*ups.groups[group], *(v.member for v in ups.visits.values() if v.group == group)]
    return Decided([], relay={"group": group, "round": ups.round, "text": text},
                   to=sorted(set(to) - {actor.id}))


PAIR_DECIDERS: dict[str, Any] = {
    "pair": _pair, "end_pairs": _end_pairs, "sit_out": _sit_out, "broadcast": _broadcast,
    "call_help": _call_help, "visit": _visit, "leave_visit": _leave_visit,
    "clear_help": _clear_help, "takeaway": _takeaway, "breakout_say": _breakout_say,
    **MOVE_DECIDERS,
}
"""Each takes ``(state, actor, op, now_ms, rng, context)``."""
