"""Recorded event sequences for comparing folds: built with the domain's own decisions
(joins, leaves, posts, edits, deletions, renames, role changes, timeouts, removals, room
creation...), each event stamped as the store would stamp it. Seeded, so a failure
names the seed that reproduces it.

A sequence is what a client meets: the snapshot of the stream at some seq (from the
server's fold) and the events after it, as JSON, the way the wire carries them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.domain import community as community_fold
from server.domain import room as room_fold
from server.domain import session as session_fold
from server.domain.community import CommunityState
from server.domain.events import (
    CommunityCreated,
    CommunityEdited,
    Event,
    EventBody,
    MemberRemoved,
    MemberRenamed,
    MemberTimedOut,
    RoleChanged,
    RoomCreated,
    UnreadableEvent,
)
from server.domain.room import Member, RoomState
from server.domain.session import SessionState
from server.domain.session_events import (
    AgendaEdited,
    AttendeeArrived,
    CaptionAdded,
    CasePromptsSet,
    CaseRoundStarted,
    ChatSaid,
    HandLowered,
    HandRaised,
    NoteAdded,
    OffRecordEnded,
    OffRecordStarted,
    QuestionAnswered,
    QuestionAsked,
    QuestionDismissed,
    QuestionEdited,
    QuestionPinned,
    QuestionUnvoted,
    QuestionUpvoted,
    QuestionWithdrawn,
    ScribeNamed,
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
    WordsErased,
    community_hour,
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
from server.errors import CommandError

NAMES = ["Ann", "Bob", "Chidi", "Dana", "Émile", "Fatima", "Gus", "Hana", "Ïsa", "Zoë"]
ROLES = ["member", "host", "convener", "owner"]
START_MS = 1_800_000_000_000


@dataclass
class Recorded:
    """A stream's events, and the server's fold of them at every point."""

    kind: str
    stream: str
    events: list[Event] = field(default_factory=list)

    def fold_until(self, seq: int) -> RoomState | CommunityState | SessionState:
        """The server's fold of the first ``seq`` events, from nothing."""
        ident = self.stream.partition(":")[2]
        if self.kind == "session":
            session = SessionState(ident)
            for event in self.events[:seq]:
                session_fold.apply(session, event)
            return session
        if self.kind == "room":
            room = RoomState(ident)
            for event in self.events[:seq]:
                room_fold.apply(room, event)
            return room
        community = CommunityState(ident)
        for event in self.events[:seq]:
            community_fold.apply(community, event)
        return community

    def case(self, at: int, extra: list[Event] | None = None) -> dict[str, Any]:
        """What a client meets: the snapshot at ``at`` and the events after it (plus
        ``extra``: duplicates, stale ones), as wire JSON."""
        state = self.fold_until(at)
        events = self.events[at:] + (extra or [])
        return {"kind": self.kind, "seq": at,
                "snapshot": msgspec.to_builtins(state.snapshot()),
                "events": [msgspec.to_builtins(e) for e in events]}


def client_fold(case: dict[str, Any]) -> dict[str, Any]:
    """The Python client fold of a case (decoded from its JSON), in normal form."""
    events = msgspec.convert(case["events"], list[Event])
    if case["kind"] == "session":
        shot = msgspec.convert(case["snapshot"], session_fold.SessionSnapshot)
        return session_fold.normal_form(session_fold.fold(shot, case["seq"], events))
    if case["kind"] == "room":
        snapshot = msgspec.convert(case["snapshot"], room_fold.RoomSnapshot)
        return room_fold.normal_form(room_fold.fold(snapshot, case["seq"], events))
    community = msgspec.convert(case["snapshot"], community_fold.CommunitySnapshot)
    return community_fold.normal_form(community_fold.fold(community, case["seq"], events))


def server_fold(recorded: Recorded) -> dict[str, Any]:
    """The server's fold of the whole stream, from nothing, in normal form."""
    state = recorded.fold_until(len(recorded.events))
    if isinstance(state, SessionState):
        return session_fold.normal_form(state)
    if isinstance(state, RoomState):
        return room_fold.normal_form(state)
    return community_fold.normal_form(state)


class Recorder:
    def __init__(self, recorded: Recorded, rng: random.Random) -> None:
        self.recorded, self.rng = recorded, rng
        self.now = START_MS

    def append(self, bodies: list[EventBody] | None, actor: str | None = None) -> None:
        """Stamp and append ``bodies``; ``None`` stands for one erased body."""
        for body in bodies if bodies is not None else [None]:
            self.now += self.rng.randint(1, 90_000)
            seq = len(self.recorded.events) + 1
            self.recorded.events.append(Event(stream=self.recorded.stream, seq=seq,
                                              ts=self.now, actor=actor, body=body))

    def odd_one(self) -> bool:
        """Now and then, an erased or an unreadable event (folds skip both)."""
        roll = self.rng.random()
        if roll < 0.03:
            self.append(None)
        elif roll < 0.06:
            self.append([UnreadableEvent(original_type="from_the_future",
                                         problem="unknown type")])
        else:
            return False
        return True


def room_sequence(seed: int, steps: int = 200, room: str = "case-review") -> Recorded:
    """A room's stream: joins, leaves, posts, edits, deletions (own and moderated) and
    renames, each decided against the fold so far."""
    rng = random.Random(seed)
    recorded = Recorded("room", f"room:{room}")
    rec = Recorder(recorded, rng)
    state = RoomState(room)
    people = [Member(id=f"m-{i}", name=name) for i, name in enumerate(NAMES)]
    rec.append([RoomCreated(room=room, name="Case review", topic="weekly")])
    for _ in range(steps):
        state = recorded.fold_until(len(recorded.events))
        assert isinstance(state, RoomState)
        if rec.odd_one():
            continue
        who = rng.choice(people)
        roll = rng.random()
        own = [m for m in state.recent.values() if m.author == who.id and not m.deleted]
        try:
            if roll < 0.2:
                renamed = Member(id=who.id, name=rng.choice(NAMES)) if rng.random() < .2 else who
                bodies = room_fold.decide_join(state, renamed)
            elif roll < 0.3:
                bodies = room_fold.decide_leave(state, who.id, disconnected=rng.random() < .5)
            elif roll < 0.7:
                bodies = room_fold.decide_post(state, who, f"note {rng.randint(0, 10**6)}")
            elif roll < 0.8 and own:
                target = rng.choice(own)
                bodies = room_fold.decide_change(state, who.id, target, f"edit {rng.random()}")
            elif roll < 0.9 and state.recent:
                target = rng.choice(list(state.recent.values()))
                bodies = room_fold.decide_change(state, who.id, target, None, moderator=True)
            elif roll < 0.93:
                bodies = [RoomCreated(room=room, name=f"Room {rng.randint(1, 99)}",
                                      topic=rng.choice(["", "weekly", "cases"]))]
            else:
                continue
        except CommandError:
            continue  # refused: nothing appended, as on the server
        rec.append(bodies, who.id)
    return recorded


def community_sequence(seed: int, steps: int = 200, community: str = "guild") -> Recorded:
    """A community's stream: admissions, leaving, role changes, timeouts, removals and
    their lifting, renames, new rooms and edits, each decided against the fold so far."""
    rng = random.Random(seed)
    recorded = Recorded("community", f"community:{community}")
    rec = Recorder(recorded, rng)
    people = [(f"m-{i}", name) for i, name in enumerate(NAMES)]
    rec.append([CommunityCreated(community=community, name="Guild", domain="Bridges",
                                 purpose="Build", owner="m-0", owner_name="Ann",
                                 join_policy="open")], "m-0")
    for _ in range(steps):
        state = recorded.fold_until(len(recorded.events))
        assert isinstance(state, CommunityState)
        if rec.odd_one():
            continue
        member, name = rng.choice(people)
        roll = rng.random()
        inside = member in state.members
        try:
            if roll < 0.25:
                bodies = community_fold.decide_admit(state, member, name, "open", rec.now)
            elif roll < 0.32:
                bodies = community_fold.decide_leave(state, member)
            elif roll < 0.45 and inside:
                bodies = [RoleChanged(member=member, role=rng.choice(ROLES))]  # type: ignore[arg-type]
            elif roll < 0.55:  # guests and non-members may be timed out too
                until = rec.now + rng.choice([60_000, 3_600_000, 10**10])
                bodies = [MemberTimedOut(member=member, until=until,
                                         reason=rng.choice(["", "spam", "heated"]))]
            elif roll < 0.63 and inside and state.owners() != [member]:
                bodies = [MemberRemoved(member=member, reason="rude")]
            elif roll < 0.7:
                bodies = community_fold.decide_lift(state, member)
            elif roll < 0.78 and inside:
                bodies = [MemberRenamed(member=member, name=rng.choice(NAMES))]
            elif roll < 0.88:
                room = f"room-{rng.randint(1, 8)}"
                bodies = [RoomCreated(room=room, name=f"Room {room}", topic=rng.choice(
                    ["", "weekly"]))]
            elif roll < 0.93:
                bodies = [CommunityEdited(name=rng.choice(["Guild", "The Guild"]),
                                          domain="Bridges", purpose=rng.choice(["Build", "Meet"]),
                                          description=f"*about* {rng.randint(0, 9)}",
                                          join_policy=rng.choice(["open", "approval", "invite"]))]
            else:
                continue
        except CommandError:
            continue
        rec.append(bodies, member)
    return recorded


def session_sequence(seed: int, steps: int = 200, session: str = "s-1", *,
                     legacy: bool = True) -> Recorded:
    """A live session's stream: the agenda run (start, advance, back, extend, pause,
    resume, warnings, case rounds, end), stage and hands, questions and their votes and moderation,
    off the record, the scribe, case prompts, arrivals and the transcript's chat, notes and
    captions, words erased. Mostly what the server would decide, with some events it would
    refuse (a vote twice, answering a withdrawn question): both folds must agree on those
    too. ``legacy``: some questions stamped with a number given already (as streams
    erased before numbers were kept could be)."""
    rng = random.Random(seed)
    recorded = Recorded("session", f"session:{session}")
    rec = Recorder(recorded, rng)
    people = [(f"m-{i}", name) for i, name in enumerate(NAMES)]
    agenda = [*community_hour(), Segment(kind="case", title="A hard case", minutes=20,
                                         rounds=2, round_minutes=5)]
    rec.append([SessionOpened(session=session, room="case-review", title="Community hour",
                              agenda=agenda, keep_transcript=seed % 2 == 0,
                              community="guild")], "m-0")
    for _ in range(steps):
        state = recorded.fold_until(len(recorded.events))
        assert isinstance(state, SessionState)
        if rec.odd_one():
            continue
        member, name = rng.choice(people)
        if state.stage and rng.random() < .3:  # someone on stage again, or taken off
            member = rng.choice(list(state.stage))
            name = dict(people)[member]
        deadline = rec.now + rng.randint(60_000, 3_000_000)
        asked = list(state.questions) or [1]
        question = rng.choice([*asked, state.asked + 1])
        stamps = [state.asked + 1, state.asked + 1,
                  max(1, state.asked) if legacy else state.asked + 1]
        bodies: list[EventBody] = rng.choice([
            [SessionStarted(deadline_ms=deadline)],
            [SegmentChanged(index=rng.randrange(len(state.agenda)), deadline_ms=deadline,
                            how=rng.choice(["advance", "back", "auto"]),
                            pairs=[[member, "m-1"]] if rng.random() < .3 else [])],
            [SegmentExtended(minutes=rng.choice([1, 5]), deadline_ms=deadline)],
            [SessionPaused(remaining_ms=rng.randint(1, 600_000))],
            [SessionResumed(deadline_ms=deadline)],
            [SegmentWarned(index=rng.choice([state.index, state.index + 1]),
                           left=rng.choice(["2m", "1m", "30s"]),
                           round=rng.choice([0, state.round, state.round + 1]))],
            [CaseRoundStarted(segment=rng.choice([state.index, state.index, state.index + 1]),
                              round=rng.randint(0, 3), deadline_ms=deadline,
                              how=rng.choice(["next", "back", "auto"]))],
            [CaseRoundStarted(segment=state.index, round=state.round + 1, deadline_ms=deadline,
                              how="next")],
            [StageChanged(member=member, name=name, on=rng.random() < .6)],
            [StageChanged(member=member, name=name, on=rng.random() < .6)],
            [StageChanged(member=member, name=name, on=rng.random() < .6)],
            [HandRaised(member=member, name=name)],
            [HandRaised(member=member, name=name)],
            [HandLowered(member=member)],
            *([QuestionAsked(question=stamp, text=f"why {rng.randint(0, 99)}?",
                             anonymous=rng.random() < .3, asker=member, asker_name=name,
                             owner_key=f"k{rng.randint(0, 10**6)}")] for stamp in stamps),
            [QuestionEdited(question=question, text=f"edited {rng.randint(0, 99)}")],
            [QuestionUpvoted(question=question, member=member)],
            [QuestionUpvoted(question=question, member=member)],
            [QuestionUpvoted(question=question, member=member)],
            [QuestionUpvoted(question=question, member=member)],
            [QuestionUnvoted(question=question, member=member)],
            [QuestionPinned(question=question, pinned=rng.random() < .7)],
            [rng.choice([QuestionWithdrawn, QuestionAnswered, QuestionDismissed])(
                question=question)],
            [OffRecordStarted()] if state.off_record is None
            else [OffRecordEnded(started_ms=state.off_record.since_ms)],
            [ScribeNamed(member=member, name=name)],
            [CasePromptsSet(segment=rng.randrange(len(state.agenda)), situation="stuck",
                            tried=f"tried {rng.randint(0, 9)}", question="what next?")],
            [AttendeeArrived(member=member, name=name, guest=rng.random() < .2)],
            [ChatSaid(text="hello", name=name)],
            [NoteAdded(text="a note", name=name)],
            [CaptionAdded(text="words", start_ms=rec.now, end_ms=rec.now + 900, speaker=name)],
            [AgendaEdited(agenda=agenda[:rng.randint(1, len(agenda))])],
            [WordsErased(seqs=rng.sample(range(1, len(recorded.events) + 1), 1),
                         questions=rng.sample([*asked, state.asked + 1], 1),
                         case_segments=rng.sample(range(len(agenda)), 1))],
            [SessionEnded()] if rng.random() < .15 else [ChatSaid(text="still here", name=name)],
            *_pair_events(state, rng, member, name, people),
        ])
        rec.append(bodies, member)
    return recorded


def _groups(rng: random.Random, people: list[tuple[str, str]]) -> list[PairGroup]:
    ids = [m for m, _ in people]
    rng.shuffle(ids)
    return [PairGroup(group=i + 1, members=sorted(ids[2 * i:2 * i + 2]))
            for i in range(rng.randint(0, len(ids) // 2))]


def _pair_events(state: SessionState, rng: random.Random, member: str, name: str,
                 people: list[tuple[str, str]]) -> list[list[EventBody]]:
    """Pair-up rounds: made, changed, ended, with help, visits, broadcasts, sit-outs and
    takeaways, for the round running and (refused by the fold) for another one."""
    ups = state.ups
    this = rng.choice([ups.round, ups.round, ups.round + 1, max(ups.round - 1, 0)])
    group = rng.choice([*ups.groups, 1, 9])
    others = [m for m, _ in people if m != member]
    return [
        [PairsMade(round=ups.round + 1, groups=_groups(rng, people), seed=f"s{rng.random()}",
                   sitting_out=rng.sample(others, rng.randint(0, 2)),
                   host_joins=rng.random() < .3, waiting=rng.sample(others, rng.randint(0, 1)))],
        [PairsMade(round=ups.round + 1, groups=_groups(rng, people), seed="again")],
        [PairsChanged(round=this, groups=_groups(rng, people),
                      why=rng.choice(["late", "left", "wait", "join_pair", "main_room",
                                      "leave"]), member=member,
                      waiting=rng.sample(others, rng.randint(0, 1)),
                      alone=rng.sample(others, rng.randint(0, 2)))],
        [PairsChanged(round=this, groups=_groups(rng, people), why="late", member=member)],
        [PairsEnded(round=this, how=rng.choice(["time", "host"]))],
        [PairsBroadcast(round=this, text=f"to all {rng.randint(0, 9)}", name=name)],
        [HelpCalled(round=this, group=group, member=member, name=name)],
        [HelpCalled(round=this, group=group, member=member, name=name)],
        [HelpCleared(round=this, group=group, how=rng.choice(["visit", "dismiss"]))],
        [HostVisited(round=this, group=group, member=member, name=name)],
        [HostVisited(round=this, group=group, member=member, name=name)],
        [HostLeft(round=this, group=group, member=member)],
        [SatOut(member=member, out=rng.random() < .6)],
        [SatOut(member=member, out=rng.random() < .6)],
        [TakeawayShared(round=this or 1, text="took away", name=name)],
    ]


def stale(recorded: Recorded, at: int, rng: random.Random) -> list[Event]:
    """Events a client may meet again: duplicates of ones it folded, some out of order."""
    pool = recorded.events[max(0, at - 10):]
    return [rng.choice(pool) for _ in range(min(5, len(pool)))]
