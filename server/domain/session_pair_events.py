"""The bodies of a session's pair-up events (stream ``session:<id>``), and the shapes
of a pair-up round in the session's state.

A *round* happens inside a running ``pairs`` segment: the host presses pair
(``pairs_made``, round = previous + 1; pressing again is the next round and replaces
the groups), people arrive, leave and choose mid-round (``pairs_changed``, always with
the full groups after), and everyone is back in the main room with ``pairs_ended``
(at the segment's deadline, or by the host). What pairs say in their breakout room is
relayed, never stored (``breakout_say``); what they took away is kept
(``takeaway_shared``), and so are the host's broadcasts and the calls for help.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .event_base import EventBody
from .names import DisplayName
from .session_events import SessionText

ChangeWhy = Literal["late", "left", "wait", "join_pair", "main_room", "leave", "rejoin"]
PartnerChoice = Literal["wait", "join_pair", "main_room"]


class PairGroup(msgspec.Struct, kw_only=True):
    """One breakout room of a round: a pair, or the round's trio. ``group`` ids are
    1, 2, 3… within a round and stable while it runs (a new group gets the next id;
    a group keeps its id when someone joins or leaves it)."""

    group: int
    members: list[str]


class HelpCall(msgspec.Struct, kw_only=True):
    """A group asked the host for help (``member`` pressed it), not yet cleared."""

    group: int
    member: str
    name: str
    ts: int


class Broadcast(msgspec.Struct, kw_only=True):
    """A host's message to every breakout room of ``round``."""

    round: int
    text: str
    name: str
    ts: int
    seq: int = 0
    """The ``pairs_broadcast`` event's seq (``words_erased`` names it; 0 in snapshots
    written before it was kept)."""


class Visit(msgspec.Struct, kw_only=True):
    """A host (``member``) is visiting ``group``'s breakout room."""

    member: str
    name: str
    group: int


class PairsMade(EventBody, tag="pairs_made"):
    """The host paired everyone present: round ``round`` begins (a reshuffle is the next
    round: its groups replace the last's). ``random.Random(seed)`` with the same inputs
    reproduces it."""

    round: int
    groups: list[PairGroup]
    seed: str
    sitting_out: list[str] = msgspec.field(default_factory=list)
    """Present but opted out of this round (``sit_out``)."""
    host_joins: bool = False
    """The host who pressed takes part (the event's actor)."""
    waiting: list[str] = msgspec.field(default_factory=list)
    """Present, but blocks leave them with nobody they may be paired with."""


class PairsChanged(EventBody, tag="pairs_changed"):
    """A change mid-round, with the round's full groups, waiting and alone after it.

    ``why``: ``late`` — ``member`` arrived and was paired with others waiting or late,
    or added to a pair as a third (or waits); ``left`` — ``member`` left the room;
    ``leave`` — ``member`` pressed leave (back to the main room); ``wait`` /
    ``join_pair`` / ``main_room`` — the choice of ``member``, whose partner left;
    ``rejoin`` — ``member``, back in the main room, pressed rejoin and was placed as a
    late arrival is (paired with someone waiting, a third in a pair, or waiting)."""

    round: int
    groups: list[PairGroup]
    why: ChangeWhy
    member: str
    waiting: list[str] = msgspec.field(default_factory=list)
    alone: list[str] = msgspec.field(default_factory=list)
    """Whose partner left and who has not chosen yet (wait, join a pair, main room)."""


class PairsEnded(EventBody, tag="pairs_ended"):
    """Everyone is back in the main room: at the segment's deadline (``time``) or by a
    host (``end_pairs``, or moving the session on while a round runs)."""

    round: int
    how: Literal["time", "host"]


class PairsBroadcast(EventBody, tag="pairs_broadcast"):
    """A host's message to every breakout room (kept: part of the record)."""

    round: int
    text: SessionText
    name: DisplayName


class HelpCalled(EventBody, tag="help_called"):
    round: int
    group: int
    member: str
    name: DisplayName


class HelpCleared(EventBody, tag="help_cleared"):
    round: int
    group: int
    how: Literal["visit", "dismiss"]


class HostVisited(EventBody, tag="host_visited"):
    """A host joined ``group``'s breakout room (until ``host_left``)."""

    round: int
    group: int
    member: str
    name: DisplayName


class HostLeft(EventBody, tag="host_left"):
    round: int
    group: int
    member: str


class SatOut(EventBody, tag="sat_out"):
    """``member`` opts out of (``out``) or back into the next pairing; cleared when the
    pairs segment is left."""

    member: str
    out: bool


class TakeawayShared(EventBody, tag="takeaway_shared"):
    """"One thing I took away" from round ``round``, by the event's actor (joins the
    transcript)."""

    round: int
    text: SessionText
    name: DisplayName


PairEventBody = (
    PairsMade | PairsChanged | PairsEnded | PairsBroadcast | HelpCalled | HelpCleared
    | HostVisited | HostLeft | SatOut | TakeawayShared
)
