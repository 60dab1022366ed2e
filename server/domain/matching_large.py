"""Pair-ups for crowds too large for the exact matching (O(n³)). Pure.

A greedy pass, then a bounded 2-opt repair. The greedy pass takes people in a
shuffled order, newcomers first, and gives each the first free person of the stage
they gain most from (a newcomer looks among experienced members first) whom they
have neither met nor blocked, looking at no more than :data:`SCAN` free people per
stage; if all of those have history, the best of them that is not blocked. Because
history and blocks are sparse (a member has met a few dozen people), the pass costs
about n·SCAN look-ups and never computes the n²/2 weights the exact path needs.

The repair then looks at every pair that still carries a history penalty, or is two
newcomers, and tries :data:`SWAP_TRIES` random other pairs: of ``(a, b), (c, d)``
it keeps whichever of ``(a, c), (b, d)`` and ``(a, d), (b, c)`` weighs most, if
that beats the original and no block is crossed. If a pair still repeats last
week's, a window of :data:`WINDOW` people around it is re-matched exactly. Before
that, anyone the pass left over (blocks only) is paired with another leftover or
swapped into a pair, or, failing that, re-matched exactly in a window with pairs
near them.
"""

from __future__ import annotations

import random

from .matching import Pairing, Stage, exact_pairs, pair_key

SCAN = 24
SWAP_TRIES = 24
REPAIR_PASSES = 3
WINDOW = 32
"""People re-matched exactly around pairs that still repeat last week's (25-50 ms)."""
WINDOWS = 3

PREFERENCE = {
    Stage.NEWCOMER: (Stage.EXPERIENCED, Stage.MEMBER, Stage.NEWCOMER),
    Stage.MEMBER: (Stage.NEWCOMER, Stage.MEMBER, Stage.EXPERIENCED),
    Stage.EXPERIENCED: (Stage.NEWCOMER, Stage.MEMBER, Stage.EXPERIENCED),
}
ORDER = {Stage.NEWCOMER: 0, Stage.MEMBER: 1, Stage.EXPERIENCED: 2}


def greedy_pairs(p: Pairing, rng: random.Random) -> list[tuple[str, str]]:
    order = list(p.people)
    rng.shuffle(order)
    order.sort(key=lambda who: ORDER[p.stage(who)])  # stable: shuffled within a stage
    pools: dict[Stage, list[str]] = {stage: [] for stage in Stage}
    for who in order:
        pools[p.stage(who)].append(who)
    heads = dict.fromkeys(Stage, 0)
    troubled: dict[str, set[str]] = {}
    for a, b in (*p.met, *p.blocked):
        troubled.setdefault(a, set()).add(b)
        troubled.setdefault(b, set()).add(a)

    partner: dict[str, str] = {}
    for who in order:
        if who in partner:
            continue
        avoid = troubled.get(who, set())
        choice: str | None = None
        fallback: tuple[float, str] | None = None
        for stage in PREFERENCE[p.stage(who)]:
            pool, i = pools[stage], heads[stage]
            while i < len(pool) and pool[i] in partner:
                i += 1
            heads[stage] = i
            seen = 0
            while i < len(pool) and seen < SCAN:
                candidate = pool[i]
                i += 1
                if candidate in partner or candidate == who:
                    continue
                seen += 1
                if candidate not in avoid:
                    choice = candidate
                    break
                if p.allowed(who, candidate):
                    weight = p.weight(who, candidate)
                    if fallback is None or weight > fallback[0]:
                        fallback = (weight, candidate)
            if choice is not None:
                break
        if choice is None and fallback is not None:
            choice = fallback[1]
        if choice is not None:
            partner[who], partner[choice] = choice, who

    pairs = sorted({pair_key(a, b) for a, b in partner.items()})
    _repair(p, pairs, rng)
    left = [who for who in p.people if who not in partner]
    _place_leftovers(p, pairs, left)
    _absorb_leftovers(p, pairs, left, rng)
    _resolve_windows(p, pairs, rng)
    return pairs


def _needs_repair(p: Pairing, a: str, b: str) -> bool:
    return (p.stage(a) == p.stage(b) == Stage.NEWCOMER) or p.penalty(a, b) > 0


def _repair(p: Pairing, pairs: list[tuple[str, str]], rng: random.Random) -> None:
    """Bounded 2-opt: at most REPAIR_PASSES passes of SWAP_TRIES tries per poor pair."""
    if len(pairs) < 2:
        return
    for _ in range(REPAIR_PASSES):
        improved = False
        for index in range(len(pairs)):
            a, b = pairs[index]
            if not _needs_repair(p, a, b):
                continue
            for _ in range(SWAP_TRIES):
                other = rng.randrange(len(pairs))
                if other == index:
                    continue
                c, d = pairs[other]
                now = p.weight(a, b) + p.weight(c, d)
                best: tuple[float, tuple[str, str], tuple[str, str]] | None = None
                for x, y in ((c, d), (d, c)):
                    if p.allowed(a, x) and p.allowed(b, y):
                        swapped = p.weight(a, x) + p.weight(b, y)
                        if swapped > now and (best is None or swapped > best[0]):
                            best = (swapped, pair_key(a, x), pair_key(b, y))
                if best is not None:
                    pairs[index], pairs[other] = best[1], best[2]
                    improved = True
                    a, b = pairs[index]
                    if not _needs_repair(p, a, b):
                        break
        if not improved:
            break


def _resolve_windows(p: Pairing, pairs: list[tuple[str, str]], rng: random.Random) -> None:
    """Where a pair still repeats last week's (swaps of two pairs were not enough, e.g.
    blocks need a rotation of three), re-match exactly the people of up to WINDOW / 4
    such pairs and of random other pairs, WINDOW people in all; at most WINDOWS times.
    The window's current pairs are one of its perfect matchings, so this never loses."""
    for _ in range(WINDOWS):
        poor = [i for i, (a, b) in enumerate(pairs)
                if p.penalty(a, b) >= p.weights.recent_penalty]
        if not poor:
            return
        chosen = poor[:WINDOW // 4]
        taken = set(chosen)
        others = [i for i in range(len(pairs)) if i not in taken]
        rng.shuffle(others)
        chosen = sorted(chosen + others[:WINDOW // 2 - len(chosen)])
        window = Pairing(people=sorted(w for i in chosen for w in pairs[i]), stages=p.stages,
                         met=p.met, blocked=p.blocked, salt=p.salt, weights=p.weights)
        better = exact_pairs(window)
        before = sum(p.weight(*pairs[i]) for i in chosen)
        if len(better) == len(chosen) and sum(p.weight(a, b) for a, b in better) > before:
            for i, pair in zip(chosen, better, strict=True):
                pairs[i] = pair


def _absorb_leftovers(p: Pairing, pairs: list[tuple[str, str]], left: list[str],
                      rng: random.Random) -> None:
    """Leftovers that single swaps could not place: re-match exactly a window of them
    and of pairs whose people they may meet, at most WINDOWS times."""
    for _ in range(WINDOWS):
        if len(left) < 2:
            return
        near = [i for i, (a, b) in enumerate(pairs)
                if any(p.allowed(x, a) or p.allowed(x, b) for x in left)]
        rng.shuffle(near)
        chosen = sorted(near[:max(0, (WINDOW - len(left)) // 2)])
        window = Pairing(people=sorted([*left, *(w for i in chosen for w in pairs[i])]),
                         stages=p.stages, met=p.met, blocked=p.blocked, salt=p.salt,
                         weights=p.weights)
        better = exact_pairs(window)
        if len(better) <= len(chosen):
            continue
        for i in reversed(chosen):
            del pairs[i]
        pairs.extend(better)
        placed = {w for pair in better for w in pair}
        left[:] = [w for w in window.people if w not in placed]


def _place_leftovers(p: Pairing, pairs: list[tuple[str, str]], left: list[str]) -> None:
    """Pair the people the pass could not place (blocks only), swapping into existing
    pairs where two leftovers may not meet; whoever still cannot be placed stays left
    (the caller makes the odd one a third, or reports who is stranded)."""
    while len(left) >= 2:
        x = left.pop()
        mate = next((y for y in left if p.allowed(x, y)), None)
        if mate is not None:
            left.remove(mate)
            pairs.append(pair_key(x, mate))
            continue
        for index, (a, b) in enumerate(pairs):
            y = next((y for y in left if (p.allowed(x, a) and p.allowed(y, b))
                      or (p.allowed(x, b) and p.allowed(y, a))), None)
            if y is None:
                continue
            left.remove(y)
            if p.allowed(x, a) and p.allowed(y, b):
                pairs[index] = pair_key(x, a)
                pairs.append(pair_key(y, b))
            else:
                pairs[index] = pair_key(x, b)
                pairs.append(pair_key(y, a))
            break
        else:
            left.insert(0, x)
            return
