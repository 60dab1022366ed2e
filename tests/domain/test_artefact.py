"""Artefacts, pure: the fold keeps every revision, decisions refuse what they must (and
return nothing to append), excerpts quote exactly the transcript's lines of a range, and
a quoted line erased since reads "erased"."""

from __future__ import annotations

from typing import Any

import pytest

from server.domain.artefact import ArtefactState, apply, diff
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
from server.domain.artefact_quote import excerpt_of, quote
from server.domain.events import Event, EventBody
from server.domain.session_events import (
    ChatSaid,
    NoteAdded,
    QuestionAsked,
    Segment,
    SessionOpened,
    SessionStarted,
)
from server.errors import Conflict, Forbidden, InvalidCommand, NotFound

AUTHOR = ArtefactActor(id="m-1", name="Ann Author", curates=False)
OTHER = ArtefactActor(id="m-2", name="Bo Other", curates=False)
CONVENER = ArtefactActor(id="m-3", name="Cy Convener", curates=True)


def fold(state: ArtefactState, bodies: list[EventBody], actor: str = "m-1") -> None:
    for body in bodies:
        apply(state, Event(stream=f"artefact:{state.artefact}", seq=state.seq + 1,
                           ts=1000 + state.seq, actor=actor, body=body))  # type: ignore[arg-type]


def draft(**fields: Any) -> Draft:
    return Draft(**{"kind": "faq", "title": "Q", "body": "A", "tags": ["t"], **fields})


def made() -> ArtefactState:
    state = ArtefactState("a-1")
    fold(state, decide_create(state, "guild", AUTHOR, draft(), [], []))
    return state


def test_every_revision_is_kept_and_diffable() -> None:
    state = made()
    fold(state, decide_revise(state, AUTHOR, draft(body="A\nB"), None, "more", 1, []))
    fold(state, decide_revise(state, CONVENER, draft(title="Q2", body="B"), None, "", 2, []))
    assert [(r.revision, r.title, r.body) for r in state.revisions] == [
        (1, "Q", "A"), (2, "Q", "A\nB"), (3, "Q2", "B")]
    assert [p.member for p in state.contributors()] == ["m-3"]
    assert diff(state.revisions[1], state.revisions[2]).splitlines()[3:] == [
        "-# Q", "+# Q2", " tags: t", " ", "-A", " B"]


def test_refusals_return_nothing_to_append() -> None:
    state = made()
    with pytest.raises(Conflict):
        decide_create(state, "guild", AUTHOR, draft(), [], [])
    with pytest.raises(Forbidden):
        decide_revise(state, OTHER, draft(title="Mine"), None, "", None, [])
    with pytest.raises(Conflict):
        decide_revise(state, AUTHOR, draft(title="Late"), None, "", 0, [])
    with pytest.raises(InvalidCommand, match="changes nothing"):
        decide_revise(state, AUTHOR, draft(), None, "", None, [])
    with pytest.raises(InvalidCommand, match="title"):
        decide_revise(state, AUTHOR, draft(title="  "), None, "", None, [])
    with pytest.raises(InvalidCommand):
        decide_comment(state, OTHER, "   ")
    with pytest.raises(NotFound):
        decide_comment(ArtefactState("a-none"), OTHER, "hi")
    assert state.seq == 1


def test_endorsements_comments_and_suggestions() -> None:
    state = made()
    fold(state, decide_endorse(state, OTHER, True), "m-2")
    assert decide_endorse(state, OTHER, True) == []
    fold(state, decide_comment(state, OTHER, "helped"), "m-2")
    fold(state, decide_suggest(state, OTHER, draft(body="Better"), "clearer", ["src"],
                               False), "m-2")
    with pytest.raises(InvalidCommand):
        decide_suggest(state, OTHER, draft(), "same", [], True)
    with pytest.raises(Forbidden):
        decide_accept(state, OTHER, 1, "")
    fold(state, decide_accept(state, AUTHOR, 1, "ok"))
    assert (state.current.body, state.current.suggestion, state.current.credit) == (
        "Better", 1, None)
    assert state.contributors() == []  # the suggester chose not to be credited
    with pytest.raises(Conflict):
        decide_decline(state, AUTHOR, 1, "no")
    with pytest.raises(NotFound):
        decide_decline(state, AUTHOR, 7, "no")
    fold(state, decide_endorse(state, OTHER, False), "m-2")
    assert state.endorsements == {} and [c.text for c in state.comments] == ["helped"]


def session_events() -> list[Event]:
    bodies: list[EventBody] = [
        SessionOpened(session="s-1", room="r-1", title="Hour", community="guild",
                      agenda=[Segment(kind="open", title="Talk", minutes=10)]),
        SessionStarted(deadline_ms=10),
        ChatSaid(text="first", name="Ann Author"),
        QuestionAsked(question=1, text="why?", asker="m-2", asker_name="Bo Other"),
        NoteAdded(text="a note", name="Ann Author"),
        ChatSaid(text="last", name="Bo Other"),
    ]
    return [Event(stream="session:s-1", seq=i, ts=100 + i, actor="m-1", body=body)
            for i, body in enumerate(bodies, 1)]  # type: ignore[arg-type]


def test_an_excerpt_quotes_exactly_its_range_and_erased_lines_read_erased() -> None:
    events = session_events()
    excerpt = excerpt_of("session:s-1", events, 3, 5, {}, same_community=True)
    assert excerpt.seqs == [3, 4, 5]
    shown = quote(excerpt, events, {})
    assert [(line.seq, line.kind, line.who, line.text) for line in shown.lines] == [
        (3, "chat", "Ann Author", "first"), (4, "question", "Bo Other", "why?"),
        (5, "note", "Ann Author", "a note")]
    events[3].body = None  # the question erased for privacy
    assert [(line.text, line.erased) for line in quote(excerpt, events, {}).lines] == [
        ("first", False), ("erased", True), ("a note", False)]


@pytest.mark.parametrize(("first", "last", "same", "words"), [
    (3, 4, False, "own community"), (5, 3, True, "inverted"), (0, 3, True, "outside"),
    (3, 7, True, "outside"), (1, 1, True, "empty range")])
def test_ranges_that_cannot_be_quoted(first: int, last: int, same: bool, words: str) -> None:
    with pytest.raises(InvalidCommand, match=words):
        excerpt_of("session:s-1", session_events(), first, last, {}, same_community=same)
