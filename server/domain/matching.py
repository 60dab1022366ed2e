"""Pair-ups: who talks with whom in a round of 1:1 conversations. Pure.

Everything the decision needs comes in as plain data (who is present, who met whom
and when, each member's stage, "do not pair me with" blocks) with an ``rng``, so a
seed reproduces a round. The caller works out the stages (from sessions attended,
times presented, days in the community, or a fuller newcomer path later) and the
history; nothing here reads a stream.

Each possible pair gets a weight (:meth:`Pairing.weight`): a large penalty if the
two met within ``recent_days`` (last week's partner is avoided whenever any other
arrangement exists), a smaller one for every earlier meeting that halves every
``half_life_days`` (recency and frequency), a bonus for a newcomer with an
experienced member, and a little jitter so equal choices vary from round to round.
Blocked pairs get no edge at all. The round is a maximum-cardinality,
maximum-weight matching of that graph: networkx's exact blossom algorithm up to
:data:`EXACT_UP_TO` people, above that a greedy pass with a bounded repair
(:mod:`.matching_large`), since the exact one is O(n³). With an odd count the one
person left over joins the pair that suits them best, making exactly one trio; if
blocks or last week's meetings spoil every such trio, the trio is chosen first.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

from ..errors import Conflict, NotFound

TRIO_SEARCH_UP_TO = 12
"""Up to this many people, a trio that blocks force is searched among all trios."""
TRIO_TRIES = 3
"""Above it, how many trios are tried (each one more matching of the rest)."""

EXACT_UP_TO = 60
"""Largest count matched exactly; chosen by measuring (bench/pairs.py): networkx's
matching takes 23-62 ms for 40 people, 73-160 ms for 60, 650 ms for 100 and 2 s for
120 on this project's machine, while the greedy path takes 5-20 ms for 1,000."""


class Stage(enum.StrEnum):
    """How far along a member is; the caller decides (see :func:`stage_from`)."""

    NEWCOMER = "newcomer"
    MEMBER = "member"
    EXPERIENCED = "experienced"


def stage_from(sessions_attended: int, times_presented: int, days_in_community: float) -> Stage:
    """A default stage from what the streams show; a caller with a better measure of
    someone's path passes its own stage instead."""
    if sessions_attended <= 2 and times_presented == 0 and days_in_community < 30:
        return Stage.NEWCOMER
    if sessions_attended >= 8 or times_presented >= 2:
        return Stage.EXPERIENCED
    return Stage.MEMBER


@dataclass(frozen=True, slots=True)
class Meeting:
    """Two people were in the same group (a trio is three meetings); ``day`` is a day
    number in the same epoch as :func:`pairing`'s ``today``, fractions allowed."""

    a: str
    b: str
    day: float


class NotEnoughPeople(Conflict):
    """Fewer than two people to pair."""


class PairingImpossible(Conflict):
    """Blocks leave someone with nobody they may be paired with (or, with an even count,
    two people who may only be paired with each other and are blocked)."""

    def __init__(self, message: str, *, stranded: tuple[str, ...]) -> None:
        super().__init__(message)
        self.stranded = stranded


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Weights:
    """What a pair is worth; see the module's docstring."""

    recent_days: float = 8.0
    recent_penalty: float = 10_000_000.0
    """Above any sum of the other terms over a whole round (5,000 people, a dozen
    earlier meetings per pair), so one repeat of a recent pair is never traded for
    anything else."""
    met_penalty: float = 100.0
    half_life_days: float = 28.0
    mix_bonus: float = 30.0
    """Newcomer with experienced member; half of it for a newcomer with a member."""
    jitter: float = 1.0

    def stage_bonus(self, x: Stage, y: Stage) -> float:
        if Stage.NEWCOMER not in (x, y) or x == y:
            return 0.0
        if Stage.EXPERIENCED in (x, y):
            return self.mix_bonus
        return self.mix_bonus / 2

    def history_penalty(self, days_ago: Iterable[float]) -> float:
        penalty = 0.0
        for ago in days_ago:
            if ago < self.recent_days:
                penalty += self.recent_penalty
            penalty += self.met_penalty * 0.5 ** (max(ago, 0.0) / self.half_life_days)
        return penalty


@dataclass
class Pairing:
    """Everything one round's decision reads. Build it with :func:`pairing`."""

    people: list[str]
    stages: Mapping[str, Stage]
    met: dict[tuple[str, str], list[float]]
    """Days ago of each meeting, by pair."""
    blocked: set[tuple[str, str]]
    salt: bytes
    weights: Weights

    def stage(self, who: str) -> Stage:
        return self.stages.get(who, Stage.MEMBER)

    def allowed(self, a: str, b: str) -> bool:
        return a != b and pair_key(a, b) not in self.blocked

    def penalty(self, a: str, b: str) -> float:
        ago = self.met.get(pair_key(a, b))
        return self.weights.history_penalty(ago) if ago else 0.0

    def weight(self, a: str, b: str) -> float:
        x, y = pair_key(a, b)
        digest = hashlib.blake2b(f"{x}\0{y}".encode(), key=self.salt, digest_size=4).digest()
        jitter = int.from_bytes(digest, "big") / 2**32 * self.weights.jitter
        return (self.weights.stage_bonus(self.stage(a), self.stage(b)) + jitter
                - self.penalty(a, b))

    def group_weight(self, group: Sequence[str]) -> float:
        return sum(self.weight(group[i], group[j])
                   for i in range(len(group)) for j in range(i + 1, len(group)))


def pairing(present: Iterable[str], *, history: Iterable[Meeting] = (), today: float = 0.0,
            stages: Mapping[str, Stage] | None = None,
            blocks: Iterable[tuple[str, str]] = (), opted_out: Iterable[str] = (),
            host: str | None = None, host_takes_part: bool = True,
            rng: random.Random, weights: Weights | None = None) -> Pairing:
    """Who takes part (present, minus opt-outs, minus the host unless they take part),
    with the history, stages and blocks among them."""
    left_out = set(opted_out)
    if host is not None and not host_takes_part:
        left_out.add(host)
    people = sorted({p for p in present if p not in left_out})
    met: dict[tuple[str, str], list[float]] = {}
    for meeting in history:
        if meeting.a != meeting.b:
            met.setdefault(pair_key(meeting.a, meeting.b), []).append(today - meeting.day)
    return Pairing(people=people, stages=stages or {}, met=met,
                   blocked={pair_key(a, b) for a, b in blocks},
                   salt=rng.getrandbits(128).to_bytes(16, "big"),
                   weights=weights or Weights())


@dataclass(frozen=True)
class Round:
    groups: tuple[tuple[str, ...], ...]
    """Pairs, and one trio when the count is odd; each group sorted, groups sorted."""
    matching_weight: float
    """Total weight of the pairs the matching chose, without the odd one out's weight
    with their pair: what the exact path maximises. When :attr:`trio_first`, the
    weight of the pairs beside the trio."""
    exact: bool
    repeats: int = field(default=0)
    """Groups holding two people who met within ``recent_days``: 0 unless unavoidable
    (on the greedy path, unless its bounded repair found no way round)."""
    trio_first: bool = field(default=False)
    """Blocks kept the odd one out from every pair, or every pair they could join held
    someone they met last week, so the trio was chosen first."""


def match(p: Pairing, rng: random.Random, *, exact_up_to: int = EXACT_UP_TO) -> Round:
    """One round: pairs, and exactly one trio if the count is odd. Raises
    :class:`NotEnoughPeople` or :class:`PairingImpossible`; decides nothing else."""
    n = len(p.people)
    if n < 2:
        raise NotEnoughPeople(f"{n} present to pair; pair-ups need at least two")
    pairs = _pairs(p, rng, exact_up_to)
    matched = {who for pair in pairs for who in pair}
    left = [who for who in p.people if who not in matched]
    if len(left) > 1 or (len(left) == 1 and n % 2 == 0):
        # Name those blocked with everyone if there are any: they are the cause.
        alone = [w for w in left if not any(p.allowed(w, other) for other in p.people)]
        stranded = tuple(alone or left)
        raise PairingImpossible(
            f"blocks leave {', '.join(stranded)} with nobody they may be paired with",
            stranded=stranded)
    weight = sum(p.weight(a, b) for a, b in pairs)
    groups: list[tuple[str, ...]] = [tuple(sorted(pair)) for pair in pairs]
    trio_first = False
    if left:
        try:
            groups = add_third(p, groups, left[0])
        except PairingImpossible:
            groups, weight = _trio_first(p, rng, exact_up_to, around=left[0])
            trio_first = True
        else:
            if _repeats(p, groups):
                # The odd one out could only join a pair they met last week: a trio built
                # around them, or elsewhere, may avoid it.
                try:
                    other_groups, other_weight = _trio_first(p, rng, exact_up_to,
                                                             around=left[0])
                except PairingImpossible:
                    pass
                else:
                    if _repeats(p, other_groups) < _repeats(p, groups):
                        groups, weight, trio_first = other_groups, other_weight, True
    groups.sort()
    return Round(groups=tuple(groups), matching_weight=weight, exact=n <= exact_up_to,
                 repeats=_repeats(p, groups), trio_first=trio_first)


def _pairs(p: Pairing, rng: random.Random, exact_up_to: int) -> list[tuple[str, str]]:
    if len(p.people) <= exact_up_to:
        return exact_pairs(p)
    from .matching_large import greedy_pairs
    return greedy_pairs(p, rng)


def _repeats(p: Pairing, groups: Iterable[Sequence[str]]) -> int:
    return sum(1 for g in groups if any(
        p.penalty(a, b) >= p.weights.recent_penalty for a, b in itertools.combinations(g, 2)))


def _trio_first(p: Pairing, rng: random.Random, exact_up_to: int,
                around: str) -> tuple[list[tuple[str, ...]], float]:
    """Choose the trio first, then pair the rest; the best total weight wins. Up to
    TRIO_SEARCH_UP_TO people every allowed trio is tried; above, the best few trios
    with ``around`` (the odd one out), else with the people who may meet the most
    others, each costing one more matching."""
    people = p.people

    def fine(trio: Sequence[str]) -> bool:
        return all(p.allowed(a, b) and p.penalty(a, b) < p.weights.recent_penalty
                   for a, b in itertools.combinations(trio, 2))

    if len(people) <= TRIO_SEARCH_UP_TO:
        candidates = [t for t in itertools.combinations(people, 3)
                      if all(p.allowed(a, b) for a, b in itertools.combinations(t, 2))]
    else:
        mates = sorted((w for w in people if w != around and p.allowed(around, w)),
                       key=lambda w: -p.weight(around, w))[:12]
        candidates = [(around, a, b) for a, b in itertools.combinations(mates, 2)
                      if fine((around, a, b))]
        if not candidates:
            hubs = sorted(people, key=lambda w: -sum(p.allowed(w, o) for o in people))[:3]
            candidates = [t for hub in hubs for t in itertools.combinations(
                [hub, *(o for o in people if o != hub)][:14], 3) if hub in t and fine(t)]
        candidates.sort(key=lambda t: -p.group_weight(t))
        candidates = candidates[:TRIO_TRIES]
    best: tuple[float, list[tuple[str, ...]], float] | None = None
    for trio in candidates:
        rest = Pairing(people=[w for w in people if w not in trio], stages=p.stages,
                       met=p.met, blocked=p.blocked, salt=p.salt, weights=p.weights)
        pairs = _pairs(rest, rng, exact_up_to)
        if 2 * len(pairs) != len(rest.people):
            continue
        weight = sum(p.weight(a, b) for a, b in pairs)
        total = weight + p.group_weight(trio)
        if best is None or total > best[0]:
            best = (total, [*pairs, tuple(sorted(trio))], weight)
    if best is None:
        alone = tuple(w for w in people if not any(p.allowed(w, other) for other in people))
        raise PairingImpossible("blocks leave no way to make pairs and one trio",
                                stranded=alone or tuple(people))
    return best[1], best[2]


def exact_pairs(p: Pairing) -> list[tuple[str, str]]:
    graph = nx.Graph()
    graph.add_nodes_from(p.people)
    people = p.people
    for i, a in enumerate(people):
        for b in people[i + 1:]:
            if p.allowed(a, b):
                graph.add_edge(a, b, weight=p.weight(a, b))
    chosen = nx.max_weight_matching(graph, maxcardinality=True)
    return sorted(pair_key(a, b) for a, b in chosen)


def add_third(p: Pairing, groups: list[tuple[str, ...]], who: str) -> list[tuple[str, ...]]:
    """``who`` joins the pair (not a trio) it may join with the most weight gained."""
    best: tuple[float, int] | None = None
    for index, group in enumerate(groups):
        if len(group) != 2 or not all(p.allowed(who, other) for other in group):
            continue
        gain = sum(p.weight(who, other) for other in group)
        if best is None or gain > best[0]:
            best = (gain, index)
    if best is None:
        raise PairingImpossible(f"blocks leave {who} with no pair to join", stranded=(who,))
    joined = list(groups)
    joined[best[1]] = tuple(sorted((*groups[best[1]], who)))
    return joined


@dataclass(frozen=True)
class LatePlacement:
    groups: tuple[tuple[str, ...], ...]
    """Every group of the round after the arrivals were placed."""
    waiting: tuple[str, ...]
    """Arrivals with no group to join (every pair is blocked for them, or full)."""


def place_late(groups: Sequence[Sequence[str]], arrivals: Iterable[str], p: Pairing,
               rng: random.Random) -> LatePlacement:
    """People who arrive during a round: pairs among themselves (a trio if they are an
    odd number of three or more); a lone arrival joins the best pair as a third. ``p``
    holds the round's history, stages and blocks (its ``people`` are not read)."""
    current = [tuple(sorted(g)) for g in groups]
    placed = {who for g in current for who in g}
    newcomers = sorted({who for who in arrivals if who not in placed})
    waiting: list[str] = []
    if len(newcomers) >= 2:
        late = Pairing(people=newcomers, stages=p.stages, met=p.met, blocked=p.blocked,
                       salt=p.salt, weights=p.weights)
        try:
            current.extend(match(late, rng).groups)
            newcomers = []
        except PairingImpossible:
            pairs = exact_pairs(late)
            current.extend(pairs)
            newcomers = sorted(set(newcomers) - {who for pair in pairs for who in pair})
    for who in newcomers:
        try:
            current = add_third(p, current, who)
        except PairingImpossible:
            waiting.append(who)
    return LatePlacement(groups=tuple(sorted(current)), waiting=tuple(waiting))


class LeaveChoice(enum.StrEnum):
    """What someone whose partner left may do."""

    WAIT = "wait"
    """Stay in the breakout room for a late arrival."""
    JOIN_PAIR = "join_pair"
    """Join one of ``AfterLeave.joinable`` as a third."""
    MAIN_ROOM = "main_room"


@dataclass(frozen=True)
class AfterLeave:
    groups: tuple[tuple[str, ...], ...]
    """The round without the one who left; a partner left alone is in no group."""
    alone: str | None
    """The partner now alone, who has :attr:`choices`; None if the group goes on."""
    choices: tuple[LeaveChoice, ...]
    joinable: tuple[tuple[str, ...], ...]
    """Pairs the one alone may join (not trios, nobody they blocked)."""


def after_leave(groups: Sequence[Sequence[str]], who: str,
                blocked: Iterable[tuple[str, str]] = ()) -> AfterLeave:
    """``who`` left mid-round. A trio goes on as a pair; a partner left alone may wait,
    join a pair or go back to the main room. Raises :class:`NotFound` if ``who`` is in
    no group."""
    blocks = {pair_key(a, b) for a, b in blocked}
    current = [tuple(sorted(g)) for g in groups]
    mine = next((g for g in current if who in g), None)
    if mine is None:
        raise NotFound(f"{who} is in no group of this round")
    rest = tuple(x for x in mine if x != who)
    others = [g for g in current if g != mine]
    if len(rest) >= 2:
        return AfterLeave(groups=tuple(sorted([*others, rest])), alone=None, choices=(),
                          joinable=())
    if not rest:
        return AfterLeave(groups=tuple(sorted(others)), alone=None, choices=(), joinable=())
    alone = rest[0]
    joinable = tuple(sorted(g for g in others if len(g) == 2
                            and all(pair_key(alone, x) not in blocks for x in g)))
    choices = (LeaveChoice.WAIT, *((LeaveChoice.JOIN_PAIR,) if joinable else ()),
               LeaveChoice.MAIN_ROOM)
    return AfterLeave(groups=tuple(sorted(others)), alone=alone, choices=choices,
                      joinable=joinable)
