"""What the matcher reads about a community besides who is present: the history of who
met whom, each person's stage, and the "do not pair me with" blocks among them. Pure:
:func:`inputs_from` turns rows (as the ``pairings`` projection and the blocks table keep
them) into :class:`PairingInputs`; ``server/pairing_inputs.py`` reads the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from .matching import Meeting, Stage, stage_from

DAY_MS = 86_400_000
HISTORY_DAYS = 365
"""Meetings older than this are not read: an earlier meeting's penalty halves every 28
days (``Weights.half_life_days``), so after a year it is below the matcher's jitter."""


def day_of(ms: int) -> float:
    """A time (ms since the epoch) as the matcher's day number (fractions allowed)."""
    return ms / DAY_MS


class Experience(NamedTuple):
    """What the streams show of one person in one community."""

    sessions_attended: int
    times_presented: int
    first_seen_ms: int


@dataclass(frozen=True)
class PairingInputs:
    """Everything :func:`server.domain.matching.pairing` takes besides who is present and
    the rng: pass ``history``, ``today``, ``stages`` and ``blocks`` through as they are."""

    history: list[Meeting] = field(default_factory=list)
    today: float = 0.0
    stages: dict[str, Stage] = field(default_factory=dict)
    blocks: list[tuple[str, str]] = field(default_factory=list)


def stage_of(experience: Experience | None, joined_ms: int | None, now_ms: int) -> Stage:
    """A person's stage: :func:`stage_from` with days since they joined the community
    (else since first seen in one of its sessions; someone never seen is new today)."""
    since = joined_ms if joined_ms is not None else (
        experience.first_seen_ms if experience is not None else now_ms)
    days = max(0.0, day_of(now_ms - since))
    if experience is None:
        return stage_from(0, 0, days)
    return stage_from(experience.sessions_attended, experience.times_presented, days)


def inputs_from(people: Iterable[str], *, meetings: Iterable[tuple[str, str, int]],
                experience: Mapping[str, Experience], joined: Mapping[str, int],
                blocks: Iterable[tuple[str, str]], now_ms: int) -> PairingInputs:
    """The inputs for pairing ``people``: meetings (a, b, ts) between two of them, each
    one's stage, and the blocks (either side's) between two of them."""
    wanted = set(people)
    history = [Meeting(a, b, day_of(ts)) for a, b, ts in meetings
               if a in wanted and b in wanted and a != b]
    stages = {who: stage_of(experience.get(who), joined.get(who), now_ms)
              for who in sorted(wanted)}
    kept = sorted({(a, b) for a, b in blocks if a in wanted and b in wanted and a != b})
    return PairingInputs(history=history, today=day_of(now_ms), stages=stages, blocks=kept)
