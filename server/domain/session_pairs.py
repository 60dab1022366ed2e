"""What each pair-up command decides (the events of :mod:`.session_pair_events`, or a
typed refusal). Pure: who is present in the session's room, the matching inputs
(history, stages, blocks) and the seed come in as data (:class:`PairContext`), worked
out at the edge (:mod:`server.actions.sessions`); the groups come from the matcher
(:mod:`.matching`: ``match``, ``place_late``, ``after_leave``).

Group ids are stable within a round: a group keeps its id when someone joins or
leaves it; a new group gets the next id.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import NotFound, OutOfOrder
from .events import EventBody
from .matching import (
    Meeting,
    NotEnoughPeople,
    Pairing,
    PairingImpossible,
    add_third,
    after_leave,
    match,
    pair_key,
    pairing,
    place_late,
)
from .pairing_inputs import PairingInputs as PairingInputs
from .session import SessionState
from .session_events import AttendeeArrived
from .session_pair_events import (
    ChangeWhy,
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
)
from .session_rules import Decided, SessionActor, clean, require_live, require_phase


@dataclass(frozen=True)
class PairContext:
    """The data a pair-up decision needs from outside the session's fold."""

    present: frozenset[str] = frozenset()
    """Who is present in the session's room now (the room fold's ``present``)."""
    inputs: PairingInputs = field(default_factory=PairingInputs)
    seed: str = ""
    """For ``pair``: made at the edge (``secrets``); the round's rng is
    ``random.Random(seed)``."""


NO_CONTEXT = PairContext()


def _round_running(state: SessionState, doing: str) -> None:
    require_phase(state, "running", "paused", doing=doing)
    if not state.ups.active:
        raise OutOfOrder(f"cannot {doing}: no pair-up round is running")


def _groups_with_ids(old: dict[int, list[str]],
                     groups: Iterable[Sequence[str]]) -> list[PairGroup]:
    """``groups`` (from the matcher, without ids) with the ids they had: a group keeps
    the id of the old group it holds most of; the others get the next ids."""
    was_in = {m: gid for gid, members in old.items() for m in members}
    taken: set[int] = set()
    with_ids: list[tuple[int, list[str]]] = []
    fresh: list[list[str]] = []
    for members in groups:
        votes = Counter(was_in[m] for m in members if m in was_in)
        best = next((gid for gid, _ in sorted(votes.items(), key=lambda v: (-v[1], v[0]))
                     if gid not in taken), None)
        if best is not None:
            taken.add(best)
            with_ids.append((best, sorted(members)))
        else:
            fresh.append(sorted(members))
    next_id = max([*old, 0]) + 1
    for members in sorted(fresh):
        with_ids.append((next_id, members))
        next_id += 1
    return [PairGroup(group=g, members=m) for g, m in sorted(with_ids)]


def _pairing(inputs: PairingInputs, people: Iterable[str], rng: random.Random) -> Pairing:
    return pairing(people, history=inputs.history, today=inputs.today, stages=inputs.stages,
                   blocks=inputs.blocks, rng=rng)


def _with_this_round(inputs: PairingInputs, state: SessionState) -> PairingInputs:
    """The inputs with the round running now counted as meetings of today: a reshuffle
    must not hand back the same partners, even before the pairings projection (which
    the history is read from) has caught up with this round."""
    now = [Meeting(a, b, inputs.today) for members in state.ups.groups.values()
           for i, a in enumerate(sorted(members)) for b in sorted(members)[i + 1:]]
    return replace(inputs, history=[*inputs.history, *now]) if now else inputs


def _changed(state: SessionState, groups: list[PairGroup], why: ChangeWhy, member: str,
             waiting: Iterable[str], alone: Iterable[str]) -> PairsChanged:
    return PairsChanged(round=state.ups.round, groups=groups, why=why, member=member,
                        waiting=list(waiting), alone=list(alone))


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
            made = match(_pairing(inputs, people, round_rng), round_rng)
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
    _round_running(state, "end the pair-ups")
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
    _round_running(state, "broadcast")
    return [PairsBroadcast(round=state.ups.round, text=clean(op.text, "message"),
                           name=actor.name)]


# --- help and visits --------------------------------------------------------------------


def _my_group(state: SessionState, member: str, doing: str) -> int:
    _round_running(state, doing)
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
    _round_running(state, "visit a breakout room")
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
    _round_running(state, "leave a breakout room")
    current = state.ups.visits.get(actor.id)
    if current is None:
        raise OutOfOrder("you are visiting no breakout room")
    return [HostLeft(round=state.ups.round, group=current.group, member=actor.id)]


def _clear_help(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random, ctx: PairContext) -> list[EventBody]:
    _round_running(state, "dismiss a call for help")
    if op.group not in state.ups.help:
        raise OutOfOrder(f"group {op.group} has not called for help")
    return [HelpCleared(round=state.ups.round, group=op.group, how="dismiss")]


# --- arriving, leaving, choosing ---------------------------------------------------------


def arrives_late(state: SessionState, member: str, runs: bool) -> bool:
    """Whether ``member`` attending now is placed into the running round: a newcomer to
    it (not a host, not on stage, not sitting out, not already in it or waiting)."""
    ups = state.ups
    return (ups.active and not runs and member not in ups.paired and member not in ups.waiting
            and member not in ups.sitting_out and member not in state.stage)


def _attend(state: SessionState, actor: SessionActor, op: Any, now: int,
            rng: random.Random, ctx: PairContext) -> list[EventBody]:
    """Counted present (first arrival); during a round, a newcomer to it is placed:
    paired with those waiting, or added to a pair as a third (``pairs_changed`` late)."""
    if state.phase == "ended":
        return []
    bodies: list[EventBody] = []
    if actor.id not in state.attendees:
        bodies.append(AttendeeArrived(member=actor.id, name=actor.name, guest=actor.guest))
    ups = state.ups
    if arrives_late(state, actor.id, actor.runs):
        placed = place_late(ups.member_lists(), [*ups.waiting, actor.id],
                            _pairing(ctx.inputs, (), rng), rng)
        bodies.append(_changed(state, _groups_with_ids(ups.groups, placed.groups), "late",
                               actor.id, placed.waiting, ups.alone))
    return bodies


def left(state: SessionState, member: str, why: ChangeWhy,
         ctx: PairContext = NO_CONTEXT) -> list[EventBody]:
    """``member`` left the room (``left``) or pressed leave (``leave``) mid-round: their
    group goes on without them; a partner left alone gets a choice (``alone``); a host
    visiting a group who left the room leaves it. Nothing when they are in no group,
    not waiting, not alone and visiting none (or no round runs)."""
    ups = state.ups
    if not ups.active:
        return []
    visit = ups.visits.get(member)
    if visit is not None and why == "left":  # a visiting host left the room
        return [HostLeft(round=ups.round, group=visit.group, member=member)]
    alone = [m for m in ups.alone if m != member]
    waiting = [m for m in ups.waiting if m != member]
    if ups.group_of(member) is None:
        if member not in ups.alone and member not in ups.waiting:
            return []
        return [_changed(state, _groups_with_ids(ups.groups, ups.member_lists()), why,
                         member, waiting, alone)]
    after = after_leave(ups.member_lists(), member, ctx.inputs.blocks)
    if after.alone is not None:
        alone.append(after.alone)
    remaining = {gid: [m for m in ms if m != member] for gid, ms in ups.groups.items()}
    return [_changed(state, _groups_with_ids(remaining, after.groups), why, member, waiting,
                     alone)]


def _leave_pair(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random, ctx: PairContext) -> list[EventBody]:
    _round_running(state, "leave the breakout room")
    bodies = left(state, actor.id, "leave", ctx)
    if not bodies:
        raise OutOfOrder("cannot leave the breakout room: you are in none")
    return bodies


def _partner_choice(state: SessionState, actor: SessionActor, op: Any, now: int,
                    rng: random.Random, ctx: PairContext) -> list[EventBody]:
    _round_running(state, "choose")
    ups = state.ups
    if actor.id not in ups.alone:
        raise OutOfOrder("cannot choose: your partner has not left you alone")
    alone = [m for m in ups.alone if m != actor.id]
    waiting = list(ups.waiting)
    groups = ups.member_lists()
    if op.choice == "wait":
        waiting.append(actor.id)
    elif op.choice == "join_pair":
        blocks = {pair_key(a, b) for a, b in ctx.inputs.blocks}
        joinable = {gid: ms for gid, ms in ups.groups.items() if len(ms) == 2
                    and all(pair_key(actor.id, m) not in blocks for m in ms)}
        if op.group is not None:
            if op.group not in joinable:
                raise OutOfOrder(f"group {op.group} is not a pair you may join")
            groups = [[*ms, actor.id] if gid == op.group else list(ms)
                      for gid, ms in sorted(ups.groups.items())]
        else:
            if not joinable:
                raise OutOfOrder("there is no pair you may join")
            joined = add_third(_pairing(ctx.inputs, (), rng),
                               [tuple(ms) for ms in groups], actor.id)
            groups = [list(g) for g in joined]
    return [_changed(state, _groups_with_ids(ups.groups, groups), op.choice, actor.id,
                     waiting, alone)]


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
    _round_running(state, "talk in a breakout room")
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
    "clear_help": _clear_help, "attend": _attend, "leave_pair": _leave_pair,
    "partner_choice": _partner_choice, "takeaway": _takeaway, "breakout_say": _breakout_say,
}
"""Each takes ``(state, actor, op, now_ms, rng, context)``."""
