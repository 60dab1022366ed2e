"""Who may signal whom for a breakout room's call (the session op ``signal``). Pure.

The members of one pair-up group (a pair or a trio) call each other peer to peer;
Practica carries only their WebRTC signalling, relayed to the one member named and
never stored. Only the members of the sender's group may be named: not someone in
another group, not someone in the main room, not a host visiting the group (a visit
is chat only), not the sender.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec

from ..errors import Forbidden, InvalidCommand, OutOfOrder
from .session import SessionState
from .session_rules import Decided, SessionActor, require_phase


def decide_signal(state: SessionState, actor: SessionActor, op: Any, now: int,
                  rng: random.Random) -> Decided:
    """``op.signal`` for ``op.to``: relayed to them alone (kind ``signal``), with the
    group and round it belongs to, so a page drops what was meant for a round or a
    room it has left."""
    require_phase(state, "running", "paused", doing="call your breakout room")
    ups = state.ups
    if not ups.active:
        raise OutOfOrder("cannot call your breakout room: no pair-up round is running")
    group = ups.group_of(actor.id)
    if group is None:
        raise OutOfOrder("cannot call your breakout room: you are in none")
    if op.to == actor.id:
        raise InvalidCommand("a signal goes to someone else in your breakout room, not you")
    if op.to not in ups.groups[group]:
        raise Forbidden(f"{op.to} is not in your breakout room: signalling goes only to "
                        "the members of your group")
    data = {"group": group, "round": ups.round, "signal": msgspec.to_builtins(op.signal)}
    return Decided([], relay=data, to=[op.to], kind="signal")


SIGNAL_DECIDERS: dict[str, Any] = {"signal": decide_signal}
"""Each takes ``(state, actor, op, now_ms, rng)``."""
