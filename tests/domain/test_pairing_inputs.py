"""The matcher's inputs from projected rows: pure, no store."""

from __future__ import annotations

import random

from server.domain.matching import Meeting, Stage, match, pairing
from server.domain.pairing_inputs import (
    DAY_MS,
    Experience,
    PairingInputs,
    day_of,
    inputs_from,
    stage_of,
)

NOW = 400 * DAY_MS


def test_stage_counts_days_from_joining_else_first_seen_else_today():
    fresh = Experience(sessions_attended=1, times_presented=0, first_seen_ms=NOW - DAY_MS)
    assert stage_of(fresh, None, NOW) is Stage.NEWCOMER
    assert stage_of(fresh, NOW - 60 * DAY_MS, NOW) is Stage.MEMBER  # joined long ago
    seen_long_ago = fresh._replace(first_seen_ms=NOW - 45 * DAY_MS)
    assert stage_of(seen_long_ago, None, NOW) is Stage.MEMBER
    assert stage_of(None, None, NOW) is Stage.NEWCOMER
    assert stage_of(None, NOW - 90 * DAY_MS, NOW) is Stage.MEMBER
    assert stage_of(fresh._replace(times_presented=2), None, NOW) is Stage.EXPERIENCED
    assert stage_of(fresh._replace(sessions_attended=8), None, NOW) is Stage.EXPERIENCED
    assert stage_of(fresh, NOW + DAY_MS, NOW) is Stage.NEWCOMER  # a clock ahead: 0 days


def test_only_what_is_among_the_people_comes_in():
    inputs = inputs_from(
        ["a", "b", "c"],
        meetings=[("a", "b", NOW - DAY_MS), ("a", "z", NOW), ("c", "c", NOW),
                  ("b", "c", NOW - 30 * DAY_MS)],
        experience={"a": Experience(9, 0, 0), "z": Experience(1, 0, NOW)},
        joined={"b": NOW - 100 * DAY_MS},
        blocks=[("a", "c"), ("c", "a"), ("a", "z"), ("b", "b")], now_ms=NOW)
    assert inputs == PairingInputs(
        history=[Meeting("a", "b", day_of(NOW - DAY_MS)),
                 Meeting("b", "c", day_of(NOW - 30 * DAY_MS))],
        today=400.0,
        stages={"a": Stage.EXPERIENCED, "b": Stage.MEMBER, "c": Stage.NEWCOMER},
        blocks=[("a", "c"), ("c", "a")])


def test_the_matcher_takes_them_as_they_are():
    """Last week's pair is not repeated, the block holds, the newcomer gets the
    experienced member: the inputs mean what the matcher expects."""
    people = ["ann", "bob", "cy", "dee"]
    inputs = inputs_from(
        people, meetings=[("ann", "bob", NOW - 7 * DAY_MS)],
        experience={"cy": Experience(12, 3, 0), "dee": Experience(5, 1, 0),
                    "ann": Experience(4, 0, 0)},
        joined={"ann": 0, "cy": 0, "dee": 0, "bob": NOW - DAY_MS},
        blocks=[("cy", "dee")], now_ms=NOW)
    for seed in range(20):
        rng = random.Random(seed)
        p = pairing(people, history=inputs.history, today=inputs.today, stages=inputs.stages,
                    blocks=inputs.blocks, rng=rng)
        groups = set(match(p, rng).groups)
        assert ("ann", "bob") not in groups and ("cy", "dee") not in groups
        assert groups == {("ann", "dee"), ("bob", "cy")}, seed
