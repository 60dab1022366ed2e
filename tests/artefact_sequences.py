"""Recorded artefact streams for comparing the server's fold with the browser's: built
with the domain's own decisions (revisions by authors and conveners, comments,
endorsements, suggestions accepted and declined, with and without credit), with an
erased and an unreadable event now and then. Seeded, so a failure names its seed."""

from __future__ import annotations

import random
from typing import Any

import msgspec

from server.domain import artefact as artefact_fold
from server.domain.artefact import ArtefactState
from server.domain.artefact_decide import (
    ArtefactActor,
    Draft,
    decide_accept,
    decide_comment,
    decide_create,
    decide_decline,
    decide_endorse,
    decide_revise,
    decide_suggest,
)
from server.domain.artefact_events import KINDS, Excerpt
from server.domain.events import Event, EventBody, UnreadableEvent
from server.errors import CommandError

START_MS = 1_800_000_000_000
PEOPLE = [ArtefactActor(id=f"m-{i}", name=name, curates=i == 3)
          for i, name in enumerate(["Ann", "Bob", "Chidi", "Dana", "Émile"])]
WORDS = ["care", "plan", "review", "handover", "dose", "follow-up", "consent", "note"]


class ArtefactRecorded:
    kind = "artefact"

    def __init__(self, ident: str) -> None:
        self.stream = f"artefact:{ident}"
        self.events: list[Event] = []

    def fold_until(self, seq: int) -> ArtefactState:
        state = ArtefactState(self.stream.partition(":")[2])
        for event in self.events[:seq]:
            artefact_fold.apply(state, event)
        return state

    def case(self, at: int, extra: list[Event] | None = None) -> dict[str, Any]:
        state = self.fold_until(at)
        events = self.events[at:] + (extra or [])
        return {"kind": self.kind, "seq": at,
                "snapshot": msgspec.to_builtins(state.snapshot()),
                "events": [msgspec.to_builtins(e) for e in events]}


def client_fold(case: dict[str, Any]) -> dict[str, Any]:
    shot = msgspec.convert(case["snapshot"], artefact_fold.ArtefactSnapshot)
    events = msgspec.convert(case["events"], list[Event])
    return artefact_fold.normal_form(artefact_fold.fold(shot, case["seq"], events))


def server_fold(recorded: ArtefactRecorded) -> dict[str, Any]:
    return artefact_fold.normal_form(recorded.fold_until(len(recorded.events)))


def artefact_sequence(seed: int, steps: int = 120) -> ArtefactRecorded:
    rng = random.Random(seed)
    recorded = ArtefactRecorded(f"a-{seed}")
    state = ArtefactState(recorded.stream.partition(":")[2])
    now = START_MS

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    def draft() -> Draft:
        return Draft(kind=rng.choice(KINDS), title=text(3).capitalize(), body=text(12),
                     tags=rng.sample(WORDS, rng.randint(0, 3)))

    def append(bodies: list[EventBody | None], actor: str) -> None:
        nonlocal now
        for body in bodies:
            now += rng.randint(1, 5000)
            event = Event(stream=recorded.stream, seq=len(recorded.events) + 1, ts=now,
                          actor=actor, body=body)  # type: ignore[arg-type]
            recorded.events.append(event)
            artefact_fold.apply(state, event)

    excerpt = Excerpt(stream="session:s-1", from_seq=3, to_seq=5, seqs=[3, 5])
    append(list(decide_create(state, "guild", PEOPLE[0], draft(), [excerpt], [])), "m-0")
    for _ in range(steps):
        actor = rng.choice(PEOPLE)
        roll = rng.random()
        try:
            if roll < 0.2:
                bodies = decide_revise(state, rng.choice([PEOPLE[0], PEOPLE[3], actor]),
                                       draft(), rng.choice([None, []]), text(2), None, [])
            elif roll < 0.35:
                bodies = decide_comment(state, actor, text(5))
            elif roll < 0.5:
                bodies = decide_endorse(state, actor, rng.random() < 0.6)
            elif roll < 0.65:
                bodies = decide_suggest(state, actor, draft(), text(3), [text(1)],
                                        rng.random() < 0.5)
            elif roll < 0.85 and state.suggestions:
                number = rng.choice(list(state.suggestions))
                decider = rng.choice([PEOPLE[0], PEOPLE[3]])
                bodies = (decide_accept(state, decider, number, text(2))
                          if rng.random() < 0.5 else
                          decide_decline(state, decider, number, text(2)))
            elif roll < 0.92:
                bodies = [None]  # a body erased for privacy: seq only
            else:
                bodies = [UnreadableEvent(original_type="from_the_future", problem="new")]
        except CommandError:
            continue
        append(list(bodies), actor.id)
    return recorded
