"""A live session's clock, pure: how long each part of a segment runs (a case
consultation's rounds of peer advice included), and what the scheduler fires when
(:func:`due`: warnings, the end of a pair-up round's breakouts, and the moving on of a
segment that auto-advances). The fold it reads is :mod:`.session`, which registers
these deadlines with the scheduler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .deadlines import Due
from .events import EventBody
from .session_events import (
    CaseRoundStarted,
    Segment,
    SegmentChanged,
    SegmentWarned,
    SessionEnded,
    round_count,
)
from .session_pair_events import PairsEnded

if TYPE_CHECKING:
    from .session import SessionState

MINUTE_MS = 60_000
WARNINGS: tuple[tuple[Literal["2m", "1m", "30s"], int], ...] = (
    ("2m", 120_000), ("1m", 60_000), ("30s", 30_000))
"""When a segment (or a case round) warns: this long before its deadline (most urgent
last); ``1m`` only in a ``pairs`` segment while a pair-up round runs."""


def segment_ms(segment: Segment) -> int:
    return segment.minutes * MINUTE_MS


def part_ms(segment: Segment, round_: int) -> int:
    """How long a part of a segment runs: the segment itself, or (``round_`` 1..N of a
    case consultation) one round of peer advice."""
    return segment.round_minutes * MINUTE_MS if round_ > 0 else segment_ms(segment)


def due(state: SessionState, now_ms: int) -> list[Due]:
    """What the scheduler fires now: a warning 2 minutes and 30 seconds before the
    current segment's (or case round's) deadline (only when that part is longer than
    that; in a ``pairs`` segment while a round runs, at 1 minute too), and, at the
    deadline, the end of a running pair-up round (everyone back in the main room)
    and, when the segment auto-advances, its next round (a case consultation with
    rounds left) or the next segment (or the end). Each is named by the segment,
    round and deadline it is for, so it fires once."""
    segment = state.segment
    if state.phase != "running" or state.deadline_ms is None or segment is None:
        return []
    left = state.deadline_ms - now_ms
    tag = f"{state.index}.{state.round}:{state.deadline_ms}"
    breakouts = segment.kind == "pairs" and state.ups.active
    if left <= 0:
        back: list[EventBody] = (
            [PairsEnded(round=state.ups.round, how="time")] if state.ups.active else [])
        if not segment.auto_advance:
            return [Due(f"pairs-end:{state.ups.round}:{tag}", back)] if back else []
        return [Due(f"auto:{tag}", [*back, *auto_advance(state, now_ms)])]
    warnings = [w for w in WARNINGS if w[0] != "1m" or breakouts]
    for name, before in reversed(warnings):  # the most urgent one due, only
        if (left <= before and name not in state.warned
                and part_ms(segment, state.round) > before):
            return [Due(f"warn-{name}:{tag}", [SegmentWarned(index=state.index, left=name,
                                                             round=state.round)])]
        if left <= before:
            return []
    return []


def auto_advance(state: SessionState, now_ms: int) -> list[EventBody]:
    """The events of a segment that ran out and moves on by itself: its next round of
    peer advice while a case consultation has one left, else the next segment."""
    segment = state.segment
    if segment is not None and state.round < round_count(segment):
        return [CaseRoundStarted(segment=state.index, round=state.round + 1,
                                 deadline_ms=now_ms + part_ms(segment, state.round + 1),
                                 how="auto")]
    following = state.index + 1
    if following >= len(state.agenda):
        return [SessionEnded()]
    return [SegmentChanged(index=following,
                           deadline_ms=now_ms + segment_ms(state.agenda[following]),
                           how="auto")]

