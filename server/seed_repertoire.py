"""The demo community's repertoire, seeded with it: a past case review whose transcript
is kept, a few artefacts of different kinds quoting it, and a "Start here" collection.
"""

from __future__ import annotations

from .domain.artefact_events import ArtefactCreated, ArtefactKind, CollectionSaved
from .domain.artefact_quote import excerpt_of
from .domain.events import EventBody, artefact_stream, community_stream, session_stream
from .domain.session_events import (
    ChatSaid,
    NoteAdded,
    QuestionAnswered,
    QuestionAsked,
    Segment,
    SegmentChanged,
    SessionEnded,
    SessionOpened,
    SessionStarted,
)
from .seed_series import Append
from .store import EventStore

SESSION = "s-demo-syncope"
ROOM = "case-review"
HOST = "m-demo-amara"

TRANSCRIPT: list[tuple[str, EventBody]] = [
    ("m-demo-amara", SessionStarted(deadline_ms=0)),
    ("m-demo-amara", ChatSaid(text="Today's case: recurring syncope, normal ECG, two "
                                   "admissions in a month.", name="Dr Amara Osei")),
    ("m-demo-jonas", ChatSaid(text="Overnight telemetry showed nothing, but the episodes "
                                   "all came after standing up from the bed.",
                              name="Jonas Berg, RN")),
    ("m-demo-li", QuestionAsked(question=1, text="Why no tilt-table test?",
                                asker="m-demo-li", asker_name="Li Wei (PT)")),
    ("m-demo-amara", QuestionAnswered(question=1)),
    ("m-demo-amara", ChatSaid(text="Orthostatic vitals at the bedside answered it first: a "
                                   "30 mmHg drop at three minutes.", name="Dr Amara Osei")),
    ("m-demo-jonas", NoteAdded(text="Lesson: take lying and standing blood pressure before "
                                    "ordering the expensive test.", name="Jonas Berg, RN")),
    ("m-demo-amara", SegmentChanged(index=1, deadline_ms=0, how="advance")),
    ("m-demo-li", ChatSaid(text="We missed it the first time because nobody wrote the "
                                "standing reading down.", name="Li Wei (PT)")),
    ("m-demo-amara", SessionEnded()),
]

# Each cites a range of the transcript's seqs (the opening is seq 1, then TRANSCRIPT).
ARTEFACTS: list[tuple[str, ArtefactKind, str, str, list[str], tuple[int, int] | None]] = [
    ("a-demo-orthostatic", "case_story", "Syncope with a normal ECG",
     "A patient admitted twice in a month with syncope and a normal ECG. Telemetry was "
     "quiet; the episodes followed standing up.\n\n**What settled it:** orthostatic "
     "vitals at the bedside, a 30 mmHg drop at three minutes.", ["syncope", "cardiology"],
     (3, 7)),
    ("a-demo-standing-bp", "faq", "When do we take orthostatic vitals?",
     "Before ordering a tilt-table test for syncope: lying, then standing at one and "
     "three minutes. Write every reading down.", ["syncope", "checklists"], (7, 8)),
    ("a-demo-missed-reading", "failure_reflection", "The reading nobody wrote down",
     "We missed the diagnosis the first time because the standing reading was taken and "
     "never recorded. Now it has its own line on the obs chart.", ["handover"], (10, 10)),
    ("a-demo-case-template", "template", "Presenting a case in 5 minutes",
     "1. The situation, in two sentences\n2. What was tried\n3. The question for the "
     "group\n4. What you will do with the answers", ["presenting"], None),
]


async def seed_repertoire(append: Append, store: EventStore, community: str,
                          names: dict[str, str]) -> None:
    stream = session_stream(SESSION)
    opened = SessionOpened(
        session=SESSION, room=ROOM, title="Case review: syncope", community=community,
        agenda=[Segment(kind="case", title="The case", minutes=50),
                Segment(kind="qa", title="Open Q&A", minutes=15)])
    await append(stream, HOST, [opened])
    for actor, said in TRANSCRIPT:
        await append(stream, actor, [said])
    events = await store.read(stream)
    for ident, kind, title, text, tags, cited in ARTEFACTS:
        excerpts = [] if cited is None else [excerpt_of(
            stream, events, cited[0], cited[1], names, same_community=True)]
        await append(artefact_stream(ident), HOST, [ArtefactCreated(
            artefact=ident, community=community, kind=kind, title=title, body=text,
            tags=tags, excerpts=excerpts, author=HOST, author_name=names[HOST])])
    await append(community_stream(community), None, [CollectionSaved(
        collection="start-here", title="Start here",
        description="New to the circle? Read these first.",
        artefacts=["a-demo-case-template", "a-demo-orthostatic", "a-demo-standing-bp",
                   "a-demo-missed-reading"])])
