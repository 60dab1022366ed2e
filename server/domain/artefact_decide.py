"""Pure decisions on an artefact: each takes the fold and the actor, and returns the
events to append or raises a typed error (nothing appended).

Who may do what beyond ``allowed()``: revising and deciding on a suggestion needs being
one of the artefact's authors, or curating the community's repertoire (a convener).
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from ..errors import Conflict, Forbidden, InvalidCommand, NotFound
from .artefact import ArtefactState
from .artefact_events import (
    ArtefactCommented,
    ArtefactCreated,
    ArtefactEndorsed,
    ArtefactKind,
    ArtefactRevised,
    ArtefactUnendorsed,
    Excerpt,
    RevisionSuggested,
    SuggestionAccepted,
    SuggestionDeclined,
)
from .events import EventBody


class ArtefactActor(NamedTuple):
    id: str
    name: str
    curates: bool
    """May revise any artefact and decide any suggestion (``curate_repertoire``)."""


class Draft(msgspec.Struct, kw_only=True):
    """What an artefact reads as: its kind, title, markdown and tags."""

    kind: ArtefactKind
    title: str
    body: str
    tags: list[str]


def clean(draft: Draft) -> Draft:
    """Trimmed title (never blank), tags once each in the order given."""
    title = " ".join(draft.title.split())
    if not title:
        raise InvalidCommand("an artefact needs a title")
    return Draft(kind=draft.kind, title=title, body=draft.body.strip(),
                 tags=list(dict.fromkeys(draft.tags)))


def _created(state: ArtefactState) -> None:
    if not state.created:
        raise NotFound(f"no artefact {state.artefact!r}")


def _may_edit(state: ArtefactState, actor: ArtefactActor, what: str) -> None:
    if not actor.curates and actor.id not in {p.member for p in state.authors}:
        raise Forbidden(f"only the artefact's authors or a convener may {what}")


def decide_create(state: ArtefactState, community: str, actor: ArtefactActor, draft: Draft,
                  excerpts: list[Excerpt], confirmed: list[str]) -> list[EventBody]:
    if state.created:
        raise Conflict(f"there is an artefact {state.artefact!r} already")
    draft = clean(draft)
    return [ArtefactCreated(
        artefact=state.artefact, community=community, kind=draft.kind, title=draft.title,
        body=draft.body, tags=draft.tags, excerpts=excerpts, author=actor.id,
        author_name=actor.name, confirmed=confirmed)]


def decide_revise(state: ArtefactState, actor: ArtefactActor, draft: Draft,
                  excerpts: list[Excerpt] | None, note: str, base: int | None,
                  confirmed: list[str]) -> list[EventBody]:
    """A new revision. ``base``: the revision the editor started from; if another was
    made since, ``conflict`` (read it, then edit again). ``excerpts`` None keeps them."""
    _created(state)
    _may_edit(state, actor, "revise it")
    now = state.current
    if base is not None and base != now.revision:
        raise Conflict(f"revision {now.revision} was made since revision {base}: "
                       "nothing was saved; read it and edit again")
    draft = clean(draft)
    kept = list(now.excerpts) if excerpts is None else excerpts
    if (draft.kind, draft.title, draft.body, draft.tags, kept) == (
            now.kind, now.title, now.body, now.tags, now.excerpts):
        raise InvalidCommand("this revision changes nothing")
    return [ArtefactRevised(
        revision=now.revision + 1, kind=draft.kind, title=draft.title, body=draft.body,
        tags=draft.tags, excerpts=kept, note=note.strip(), by=actor.id, by_name=actor.name,
        confirmed=confirmed)]


def decide_comment(state: ArtefactState, actor: ArtefactActor, text: str
                   ) -> list[EventBody]:
    _created(state)
    text = text.strip()
    if not text:
        raise InvalidCommand("a comment needs some text")
    return [ArtefactCommented(comment=len(state.comments) + 1, text=text, member=actor.id,
                              name=actor.name)]


def decide_endorse(state: ArtefactState, actor: ArtefactActor, on: bool) -> list[EventBody]:
    """Endorse ("this helped me") or take it back; doing what is done already does
    nothing."""
    _created(state)
    if on == (actor.id in state.endorsements):
        return []
    if on:
        return [ArtefactEndorsed(member=actor.id, name=actor.name)]
    return [ArtefactUnendorsed(member=actor.id)]


def decide_suggest(state: ArtefactState, actor: ArtefactActor, draft: Draft, reason: str,
                   sources: list[str], credit: bool, confirmed: list[str] | None = None
                   ) -> list[EventBody]:
    _created(state)
    draft = clean(draft)
    now = state.current
    if (draft.title, draft.body, draft.tags) == (now.title, now.body, now.tags):
        raise InvalidCommand("this suggestion changes nothing")
    if not reason.strip():
        raise InvalidCommand("say why you suggest this change")
    return [RevisionSuggested(
        suggestion=max(state.suggestions, default=0) + 1, title=draft.title, body=draft.body,
        tags=draft.tags, reason=reason.strip(), sources=sources, credit=credit,
        member=actor.id, name=actor.name, on_revision=now.revision,
        confirmed=confirmed or [])]


def _open_suggestion(state: ArtefactState, actor: ArtefactActor, number: int, what: str
                     ) -> None:
    _created(state)
    _may_edit(state, actor, what)
    found = state.suggestions.get(number)
    if found is None:
        raise NotFound(f"no suggestion {number} on this artefact")
    if found.status != "open":
        raise Conflict(f"suggestion {number} was {found.status} already")


def decide_accept(state: ArtefactState, actor: ArtefactActor, number: int, reason: str,
                  confirmed: list[str] | None = None) -> list[EventBody]:
    """Accept a suggestion: it becomes the next revision (crediting the suggester by
    name if they chose so)."""
    _open_suggestion(state, actor, number, "accept a suggestion")
    found = state.suggestions[number]
    now = state.current
    return [
        SuggestionAccepted(suggestion=number, reason=reason.strip(), by=actor.id),
        ArtefactRevised(
            revision=now.revision + 1, kind=now.kind, title=found.title, body=found.body,
            tags=found.tags, excerpts=list(now.excerpts),
            note=f"suggestion {number}: {found.reason}"[:2000], by=actor.id,
            by_name=actor.name, suggestion=number,
            credit=found.by.name if found.credit else None, confirmed=confirmed or []),
    ]


def decide_decline(state: ArtefactState, actor: ArtefactActor, number: int, reason: str
                   ) -> list[EventBody]:
    _open_suggestion(state, actor, number, "decline a suggestion")
    if not reason.strip():
        raise InvalidCommand("say why the suggestion is declined")
    return [SuggestionDeclined(suggestion=number, reason=reason.strip(), by=actor.id)]
