"""Who moves in and out of a running pair-up round, decided purely: a late arrival
placed (``attend``), someone back from the main room placed again (``rejoin_pairs``),
leaving (``leave_pair``, or the room) and the choice of a partner left alone
(``partner_choice``); plus what every pair-up decision shares (:class:`PairContext`,
stable group ids). :mod:`.session_pairs` holds the host's round and the rest.

Placing someone into the running round has one path (:func:`placement`): a late arrival,
a rejoin and the server's choice of a pair for someone whose partner left all go
through ``place_late`` with the same matching inputs.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import OutOfOrder
from .events import EventBody
from .matching import Pairing, after_leave, pair_key, pairing, place_late
from .pairing_inputs import PairingInputs
from .session import SessionState
from .session_events import AttendeeArrived
from .session_pair_events import ChangeWhy, HostLeft, PairGroup, PairsChanged
from .session_rules import SessionActor, require_phase


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


def round_running(state: SessionState, doing: str) -> None:
    require_phase(state, "running", "paused", doing=doing)
    if not state.ups.active:
        raise OutOfOrder(f"cannot {doing}: no pair-up round is running")


def groups_with_ids(old: dict[int, list[str]],
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


def inputs_pairing(inputs: PairingInputs, people: Iterable[str],
                   rng: random.Random) -> Pairing:
    return pairing(people, history=inputs.history, today=inputs.today, stages=inputs.stages,
                   blocks=inputs.blocks, rng=rng)


def _changed(state: SessionState, groups: list[PairGroup], why: ChangeWhy, member: str,
             waiting: Iterable[str], alone: Iterable[str]) -> PairsChanged:
    return PairsChanged(round=state.ups.round, groups=groups, why=why, member=member,
                        waiting=list(waiting), alone=list(alone))


def placement(state: SessionState, member: str, ctx: PairContext, rng: random.Random, *,
            with_waiting: bool) -> tuple[list[PairGroup], list[str]]:
    """The round's groups and waiting once ``member`` is placed into it as a late arrival
    is: paired with whoever waits (``with_waiting``), else a third in the pair they gain
    most from, else waiting (every pair full, or blocked for them). Without
    ``with_waiting`` (someone whose partner left chose "join a pair") only a pair is
    joined: those waiting keep waiting."""
    ups = state.ups
    others = [m for m in ups.waiting if m != member]
    placed = place_late(ups.member_lists(), [*others, member] if with_waiting else [member],
                        inputs_pairing(ctx.inputs, (), rng), rng)
    waiting = list(placed.waiting) if with_waiting else [*others, *placed.waiting]
    return groups_with_ids(ups.groups, placed.groups), waiting


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
    if arrives_late(state, actor.id, actor.runs):
        groups, waiting = placement(state, actor.id, ctx, rng, with_waiting=True)
        bodies.append(_changed(state, groups, "late", actor.id, waiting, state.ups.alone))
    return bodies


def rejoin_refusal(state: SessionState, member: str, runs: bool,
                   present: Iterable[str]) -> str | None:
    """Why ``member`` may not (re)join the running round now (None: they may). For who
    went back to the main room (pressed it, whether in a group or waiting, or chose it
    when their partner left), and for a member who came but was not placed (sat back in
    after the host paired, came off stage). Sitting out and on stage keep their rules
    (wait for the next round); a host joins only if they took part (``host_joins``)."""
    ups = state.ups
    if ups.group_of(member) is not None:
        return "you are in a breakout room already"
    if member in ups.waiting:
        return "you are waiting for a partner already"
    if member in ups.alone:
        return "your partner left: choose to wait, join a pair or go back (partner_choice)"
    if member not in state.attendees:
        return "you have not come to this session"
    if member in ups.sitting_out:
        return "you are sitting out: sit back in first"
    if member in state.stage:
        return "you are on stage"
    if runs and member not in ups.paired:
        return f"you host this session and took no part in round {ups.round}"
    if member not in present:
        return "you are not in the session's room"
    return None


def _rejoin_pairs(state: SessionState, actor: SessionActor, op: Any, now: int,
                  rng: random.Random, ctx: PairContext) -> list[EventBody]:
    """From the main room into the running round ``op.round``, placed as a late
    arrival is (``pairs_changed`` why ``rejoin``). Once: pressed twice (or on two
    processes, one appending after the other re-decides) the second finds them in a
    group and is refused."""
    round_running(state, "rejoin the pairs")
    if op.round != state.ups.round:
        raise OutOfOrder(f"round {op.round} of pair-ups is not running (round "
                         f"{state.ups.round} is)")
    refusal = rejoin_refusal(state, actor.id, actor.runs, ctx.present)
    if refusal is not None:
        raise OutOfOrder(f"cannot rejoin the pairs: {refusal}")
    groups, waiting = placement(state, actor.id, ctx, rng, with_waiting=True)
    return [_changed(state, groups, "rejoin", actor.id, waiting, state.ups.alone)]


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
        return [_changed(state, groups_with_ids(ups.groups, ups.member_lists()), why,
                         member, waiting, alone)]
    after = after_leave(ups.member_lists(), member, ctx.inputs.blocks)
    if after.alone is not None:
        alone.append(after.alone)
    remaining = {gid: [m for m in ms if m != member] for gid, ms in ups.groups.items()}
    return [_changed(state, groups_with_ids(remaining, after.groups), why, member, waiting,
                     alone)]


def _leave_pair(state: SessionState, actor: SessionActor, op: Any, now: int,
                rng: random.Random, ctx: PairContext) -> list[EventBody]:
    round_running(state, "leave the breakout room")
    bodies = left(state, actor.id, "leave", ctx)
    if not bodies:
        raise OutOfOrder("cannot leave the breakout room: you are in none")
    return bodies


def _partner_choice(state: SessionState, actor: SessionActor, op: Any, now: int,
                    rng: random.Random, ctx: PairContext) -> list[EventBody]:
    round_running(state, "choose")
    ups = state.ups
    if actor.id not in ups.alone:
        raise OutOfOrder("cannot choose: your partner has not left you alone")
    alone = [m for m in ups.alone if m != actor.id]
    waiting = list(ups.waiting)
    groups = groups_with_ids(ups.groups, ups.member_lists())
    if op.choice == "wait":
        waiting.append(actor.id)
    elif op.choice == "join_pair" and op.group is not None:
        blocks = {pair_key(a, b) for a, b in ctx.inputs.blocks}
        mine = ups.groups.get(op.group, [])
        if len(mine) != 2 or any(pair_key(actor.id, m) in blocks for m in mine):
            raise OutOfOrder(f"group {op.group} is not a pair you may join")
        groups = groups_with_ids(ups.groups, [[*ms, actor.id] if gid == op.group else ms
                                              for gid, ms in sorted(ups.groups.items())])
    elif op.choice == "join_pair":  # the server's choice: placed as a late arrival is
        groups, waiting = placement(state, actor.id, ctx, rng, with_waiting=False)
        if actor.id in waiting:
            raise OutOfOrder("there is no pair you may join")
    return [_changed(state, groups, op.choice, actor.id, waiting, alone)]


MOVE_DECIDERS: dict[str, Any] = {
    "attend": _attend, "rejoin_pairs": _rejoin_pairs, "leave_pair": _leave_pair,
    "partner_choice": _partner_choice,
}
"""Each takes ``(state, actor, op, now_ms, rng, context)``."""
