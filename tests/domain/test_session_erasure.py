"""Erasing words from a session's stream, as the fold sees it: a live fold that applies
``words_erased`` equals folding the stream afresh with those bodies erased (and the
marker), and question numbers never move, nor come back, after an erasure."""

from __future__ import annotations

import random

import msgspec
import pytest

from server.domain import session_decide as sd
from server.domain.events import Event
from server.domain.session import SessionState, apply, fold, normal_form
from server.domain.session_erasure import WORDS, erasure, question_numbers
from server.domain.session_events import (
    CasePromptsSet,
    QuestionAsked,
    QuestionEdited,
    Segment,
    WordsErased,
)
from server.domain.session_pair_events import PairsBroadcast
from server.session_protocol import (
    AskOp,
    AttendOp,
    CasePromptsOp,
    EditQuestionOp,
    StageOp,
    UpvoteOp,
)
from tests.domain.test_session import ANN, BOB, HOST, Session, running
from tests.fold_sequences import session_sequence


def afresh(events: list[Event]) -> SessionState:
    state = SessionState("s-1")
    for event in events:
        apply(state, event)
    return state


def erase(events: list[Event], seq: int) -> tuple[list[Event], Event]:
    """What the store holds after erasing the line at ``seq``: those bodies null, then
    the marker (actor None)."""
    marker = erasure(events, seq)
    kept = [msgspec.structs.replace(e, body=None) if e.seq in marker.seqs else e
            for e in events]
    last = events[-1]
    event = Event(stream=last.stream, seq=last.seq + 1, ts=last.ts + 1, actor=None,
                  body=marker)
    return [*kept, event], event


def test_erasing_a_question_leaves_the_others_their_numbers():
    s = running()
    s.do(ANN, AskOp(text="Pangolins?"))
    s.do(BOB, AskOp(text="Tapirs?"))
    events, _ = erase(s.events, s.events[-2].seq)
    state = afresh(events)
    assert [(q.question, q.text) for q in state.questions.values()] == [(2, "Tapirs?")]
    decided = sd.decide(state, HOST, AskOp(text="Okapis?"), s.now, random.Random(7))
    assert decided.bodies[0].question == 3  # 2 is Bob's, 1 was Ann's: never given again
    vote = sd.decide(state, ANN, UpvoteOp(question=2), s.now, random.Random(7))
    assert vote.bodies[0].question == 2


def test_the_last_question_erased_keeps_its_number_from_coming_back():
    s = running()
    s.do(ANN, AskOp(text="Pangolins?"))
    events, marker = erase(s.events, s.events[-1].seq)
    assert marker.body == WordsErased(seqs=[s.events[-1].seq], questions=[1])
    state = afresh(events)
    assert state.questions == {} and state.asked == 1
    assert sd.decide(state, BOB, AskOp(text="Next?"), s.now,
                     random.Random(7)).bodies[0].question == 2
    # A snapshot taken now keeps that; one written before ``asked`` was kept reads the
    # highest number it holds.
    again = fold(state.snapshot(), state.seq, [])
    assert again.asked == 1
    old = msgspec.structs.replace(running().state.snapshot(), asked=0)
    assert fold(old, 9, []).asked == 0


def test_a_question_goes_with_its_edits_whichever_of_them_is_erased():
    s = running()
    s.do(ANN, AskOp(text="Pangolins?", anonymous=True))
    asked = s.events[-1].seq
    s.do(ANN, EditQuestionOp(question=1, text="Pangolins, shy?"))
    s.do(BOB, AskOp(text="Tapirs?"))
    s.do(ANN, EditQuestionOp(question=1, text="Pangolins, very shy?"))
    edits = [e.seq for e in s.events if isinstance(e.body, QuestionEdited)]
    assert erasure(s.events, asked) == WordsErased(seqs=[asked, *edits], questions=[1])
    assert erasure(s.events, edits[1]) == WordsErased(seqs=[edits[1], asked, edits[0]],
                                                      questions=[1])
    events, _ = erase(s.events, edits[0])
    assert list(afresh(events).questions) == [2]
    assert "Pangolins" not in msgspec.json.encode(events).decode()


def test_case_prompts_go_by_segment():
    s = Session([Segment(kind="case", title="A case", minutes=30)])
    for person in (HOST, ANN):
        s.do(person, AttendOp())
    s.do(HOST, StageOp(member="m-ann", on=True))
    s.do(ANN, CasePromptsOp(segment=0, situation="Stuck", tried="Rest", question="Next?"))
    s.do(ANN, CasePromptsOp(segment=0, situation="Still stuck", tried="More rest",
                            question="Now?"))
    sets = [e.seq for e in s.events if isinstance(e.body, CasePromptsSet)]
    assert erasure(s.events, sets[1]) == WordsErased(seqs=[sets[1], sets[0]],
                                                     case_segments=[0])
    events, _ = erase(s.events, sets[1])
    assert afresh(events).case_prompts == {}  # the earlier prompts do not come back


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 11, 2026])
def test_applying_the_marker_live_equals_folding_the_erased_stream_afresh(seed):
    rng = random.Random(seed)
    whole = session_sequence(seed, steps=300, legacy=False).events
    kinds = {type(e.body) for e in whole}
    assert {QuestionAsked, QuestionEdited, CasePromptsSet, PairsBroadcast} <= kinds
    held = {"questions": 0, "case_prompts": 0, "broadcasts": 0}
    for end in range(20, len(whole) + 1, 20):  # erasures at many points of the session
        events = whole[:end]
        live = afresh(events)
        if live.ups.active:  # a host's broadcast to the round running (rare by chance)
            last = events[-1]
            events.append(Event(stream=last.stream, seq=last.seq + 1, ts=last.ts + 1,
                                 actor="m-0", body=PairsBroadcast(
                                     round=live.ups.round, text="to all", name="Ann")))
            apply(live, events[-1])
        given = set(question_numbers(events).values())
        for _ in range(3):
            words = [e.seq for e in events if isinstance(e.body, WORDS)]
            shown = [b.seq for b in live.ups.broadcasts] + [  # what the fold holds, mostly
                e.seq for e in events if isinstance(e.body, QuestionAsked | CasePromptsSet)]
            if not words:
                break
            before = normal_form(live)
            events, marker = erase(events, rng.choice(shown if shown and rng.random() < .7
                                                      else words))
            apply(live, marker)
            assert normal_form(live) == normal_form(afresh(events))
            for field in held:  # count the erasures that changed what the fold held
                held[field] += before[field] != normal_form(live)[field]
            cut = rng.randrange(1, len(events))  # a client resuming from a snapshot
            resumed = fold(afresh(events[:cut]).snapshot(), cut, events[cut:])
            assert normal_form(resumed) == normal_form(live)
            assert live.asked + 1 > max(given, default=0)  # no number is given twice
    assert all(held.values()), held
