"""A session stream full of pair-up rounds, for comparing the browser's fold with the
server's (tests/browser/test_folds.py): rounds made and reshuffled, late arrivals and
leavers, a partner's choice, broadcasts, calls for help, visits, sitting out, one-minute
warnings, rounds ended by time or by the host, takeaways; the session moving on (and
back) mid-round, old streams' ``pairs`` at a segment's start. Mostly what the server
would decide, with some it would refuse (an event for a stale round, a second call for
help from one group, a visit to no group): both folds must agree on those too."""

from __future__ import annotations

import random

from server.domain.session import SessionState
from server.domain.session_events import (
    AttendeeArrived,
    ChatSaid,
    Segment,
    SegmentChanged,
    SegmentExtended,
    SegmentWarned,
    SessionEnded,
    SessionOpened,
    SessionPaused,
    SessionResumed,
    SessionStarted,
    StageChanged,
)
from server.domain.session_pair_events import (
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
from tests.fold_sequences import NAMES, Recorded, Recorder

HOST = "m-0"


def groups_of(people: list[str], rng: random.Random) -> list[PairGroup]:
    """Pairs, and one trio when the count is odd (as the matcher gives them)."""
    people = people[:]
    rng.shuffle(people)
    groups = [people[i:i + 2] for i in range(0, len(people) - 1, 2)]
    if len(people) % 2 and groups:
        groups[-1].append(people[-1])
    return [PairGroup(group=i + 1, members=g) for i, g in enumerate(groups)]


def pairs_sequence(seed: int, steps: int = 200, session: str = "s-1") -> Recorded:
    rng = random.Random(seed)
    recorded = Recorded("session", f"session:{session}")
    rec = Recorder(recorded, rng)
    people = [(f"m-{i}", name) for i, name in enumerate(NAMES)]
    name_of = dict(people)
    agenda = [Segment(kind="pairs", title="Pair-ups", minutes=10),
              Segment(kind="presentation", title="Talk", minutes=30),
              Segment(kind="pairs", title="Pair-ups again", minutes=5, auto_advance=True)]
    rec.append([SessionOpened(session=session, room="case-review", title="Community hour",
                              agenda=agenda, keep_transcript=True, community="guild")], HOST)
    rec.append([AttendeeArrived(member=m, name=n) for m, n in people[:6]], HOST)
    rec.append([SessionStarted(deadline_ms=rec.now + 600_000)], HOST)
    for _ in range(steps):
        state = recorded.fold_until(len(recorded.events))
        assert isinstance(state, SessionState)
        if rec.odd_one():
            continue
        member, name = rng.choice(people)
        snap = state.snapshot()
        current = snap.pair_round
        stale = rng.choice([current, current, current, current + 1, max(0, current - 1)])
        grouped = [m for g in snap.groups for m in g.members]
        group_ids = [g.group for g in snap.groups] or [1]
        in_group = rng.choice(grouped) if grouped and rng.random() < .8 else member
        present = [m for m, _ in people if rng.random() < .7]
        deadline = rec.now + rng.randint(60_000, 900_000)
        changed_groups = groups_of([m for m in grouped if m != in_group], rng)
        bodies = rng.choice([
            [PairsMade(round=current + 1, groups=groups_of(present, rng), seed=f"s{seed}-{_}",
                       sitting_out=[m for m in snap.sitting_out if rng.random() < .8],
                       host_joins=rng.random() < .3,
                       waiting=[member] if rng.random() < .2 else [])],
            [PairsMade(round=current + 1, groups=groups_of(present, rng), seed="again")],
            [PairsChanged(round=stale, groups=changed_groups, member=in_group,
                          why=rng.choice(["left", "leave"]),
                          alone=[rng.choice(grouped)] if grouped and rng.random() < .5 else [])],
            [PairsChanged(round=stale, groups=[*snap.groups, PairGroup(
                group=max(group_ids) + 1, members=[member, rng.choice(people)[0]])],
                member=member,
                why=rng.choice(["late", "rejoin", "join_pair", "wait", "main_room"]),
                waiting=[m for m in snap.waiting if rng.random() < .5],
                alone=[m for m in snap.alone if rng.random() < .5])],
            [PairsEnded(round=stale, how=rng.choice(["time", "host"]))],
            [PairsBroadcast(round=stale, text=f"swap roles {rng.randint(0, 9)}", name="Ann")],
            [HelpCalled(round=stale, group=rng.choice(group_ids), member=in_group,
                        name=name_of.get(in_group, "?"))],
            [HelpCleared(round=stale, group=rng.choice(group_ids),
                         how=rng.choice(["visit", "dismiss"]))],
            [HostVisited(round=stale, group=rng.choice([*group_ids, 99]), member=HOST,
                         name="Ann"), HelpCleared(round=stale, group=rng.choice(group_ids),
                                                  how="visit")],
            [HostLeft(round=stale, group=rng.choice(group_ids), member=HOST)],
            [SatOut(member=member, out=rng.random() < .6)],
            [TakeawayShared(round=stale, text="listen first", name=name)],
            [SegmentWarned(index=state.index, left=rng.choice(["2m", "1m", "30s"]),
                           round=state.round)],
            [SegmentExtended(minutes=1, deadline_ms=deadline)],
            [SessionPaused(remaining_ms=rng.randint(1, 600_000))],
            [SessionResumed(deadline_ms=deadline)],
            [SegmentChanged(index=rng.randrange(len(state.agenda)), deadline_ms=deadline,
                            how=rng.choice(["advance", "back", "auto"]),
                            pairs=[[member, "m-1"]] if rng.random() < .2 else [])],
            [StageChanged(member=member, name=name, on=rng.random() < .5)],
            [AttendeeArrived(member=member, name=name)],
            [ChatSaid(text="hello", name=name)],
            [SessionEnded()] if rng.random() < .05 else [ChatSaid(text="still here", name=name)],
        ])
        rec.append(bodies, member)
    return recorded
