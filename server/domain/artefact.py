"""An artefact's live state: a fold over its stream (``artefact:<id>``).

Every revision is kept (revision 1 is ``artefact_created``), with its comments,
endorsements and suggested revisions. Pure: markdown is rendered at the edge
(:data:`ArtefactState.body_html`, set by the stream kind's edge step).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import msgspec

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
from .events import Event


class Person(msgspec.Struct, kw_only=True):
    member: str
    name: str


class Revision(msgspec.Struct, kw_only=True):
    """One version of the artefact as it read then."""

    revision: int
    seq: int
    ts: int
    by: Person
    kind: ArtefactKind
    title: str
    body: str
    tags: list[str]
    excerpts: list[Excerpt]
    note: str = ""
    suggestion: int | None = None
    credit: str | None = None


class Comment(msgspec.Struct, kw_only=True):
    comment: int
    seq: int
    ts: int
    by: Person
    text: str


class Suggestion(msgspec.Struct, kw_only=True):
    suggestion: int
    seq: int
    ts: int
    by: Person
    title: str
    body: str
    tags: list[str]
    reason: str
    sources: list[str]
    credit: bool
    on_revision: int
    status: str = "open"
    """open, accepted or declined."""
    decided_by: str | None = None
    decision: str = ""
    confirmed: list[str] = msgspec.field(default_factory=list)
    """Confidential-details findings the suggester confirmed."""


class ArtefactView(msgspec.Struct, kw_only=True):
    """An artefact as it reads now (its latest revision), with who made it and what
    members did with it. ``body_html`` is the markdown rendered and sanitized."""

    artefact: str
    community: str
    kind: ArtefactKind
    title: str
    body: str
    body_html: str
    tags: list[str]
    excerpts: list[Excerpt]
    revision: int
    authors: list[Person]
    contributors: list[Person]
    """Who revised it besides its authors, and suggesters who chose to be credited."""
    created_ms: int
    updated_ms: int
    endorsements: list[Person]
    comments: list[Comment]
    suggestions: list[Suggestion]
    seq: int


class ArtefactSnapshot(msgspec.Struct, tag="artefact", tag_field="kind", kw_only=True):
    """What a reader of ``artefact:<id>`` needs; events after ``view.seq`` follow."""

    view: ArtefactView


class ArtefactState:
    def __init__(self, artefact: str = "") -> None:
        self.artefact, self.community = artefact, ""
        self.seq = 0
        self.revisions: list[Revision] = []
        self.body_html = ""
        self.comments: list[Comment] = []
        self.endorsements: dict[str, Person] = {}
        self.suggestions: dict[int, Suggestion] = {}
        self.created_ms = self.updated_ms = 0
        self.author: Person | None = None
        self.credited: dict[str, Person] = {}
        """Contributors, in the order they came: who revised it besides its author, and
        suggesters credited by name (kept as it goes, so a snapshot carries it)."""
        self.confirmed: set[str] = set()
        """What the confidential-details guard found and an author confirmed, in any
        revision or accepted suggestion (not asked again)."""

    @property
    def created(self) -> bool:
        return bool(self.revisions)

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    @property
    def authors(self) -> list[Person]:
        return [self.author] if self.author is not None else []

    def contributors(self) -> list[Person]:
        return list(self.credited.values())

    def revision(self, number: int) -> Revision | None:
        """A revision by number (one folded from a snapshot knows only its latest)."""
        return next((r for r in self.revisions if r.revision == number), None)

    def view(self) -> ArtefactView:
        now = self.current
        return ArtefactView(
            artefact=self.artefact, community=self.community, kind=now.kind, title=now.title,
            body=now.body, body_html=self.body_html, tags=list(now.tags),
            excerpts=list(now.excerpts), revision=now.revision, authors=self.authors,
            contributors=self.contributors(), created_ms=self.created_ms,
            updated_ms=self.updated_ms, endorsements=list(self.endorsements.values()),
            comments=list(self.comments), suggestions=list(self.suggestions.values()),
            seq=self.seq)

    def snapshot(self) -> ArtefactSnapshot:
        return ArtefactSnapshot(view=self.view())


def apply(state: ArtefactState, event: Event) -> None:
    """Fold one committed event (an erased body changes nothing but the seq)."""
    state.seq = event.seq
    body = event.body
    if isinstance(body, ArtefactCreated):
        state.community = body.community
        state.author = Person(member=body.author, name=body.author_name)
        state.created_ms = state.updated_ms = event.ts
        state.revisions = [Revision(
            revision=1, seq=event.seq, ts=event.ts,
            by=Person(member=body.author, name=body.author_name), kind=body.kind,
            title=body.title, body=body.body, tags=list(body.tags),
            excerpts=list(body.excerpts))]
        state.confirmed = set(body.confirmed)
    elif not state.revisions:
        return  # nothing before the artefact was made
    elif isinstance(body, ArtefactRevised):
        state.updated_ms = event.ts
        credited: Person | None = Person(member=body.by, name=body.by_name)
        if body.suggestion is not None:
            found = state.suggestions.get(body.suggestion)
            credited = found.by if found is not None and found.credit else None
        if credited is not None and credited.member not in {
                p.member for p in state.authors}:
            state.credited.setdefault(credited.member, credited)
        state.revisions.append(Revision(
            revision=body.revision, seq=event.seq, ts=event.ts,
            by=Person(member=body.by, name=body.by_name), kind=body.kind, title=body.title,
            body=body.body, tags=list(body.tags), excerpts=list(body.excerpts),
            note=body.note, suggestion=body.suggestion, credit=body.credit))
        state.confirmed.update(body.confirmed)
    elif isinstance(body, ArtefactCommented):
        state.comments.append(Comment(comment=body.comment, seq=event.seq, ts=event.ts,
                                      by=Person(member=body.member, name=body.name),
                                      text=body.text))
    elif isinstance(body, ArtefactEndorsed):
        state.endorsements[body.member] = Person(member=body.member, name=body.name)
    elif isinstance(body, ArtefactUnendorsed):
        state.endorsements.pop(body.member, None)
    elif isinstance(body, RevisionSuggested):
        state.suggestions[body.suggestion] = Suggestion(
            suggestion=body.suggestion, seq=event.seq, ts=event.ts,
            by=Person(member=body.member, name=body.name), title=body.title, body=body.body,
            tags=list(body.tags), reason=body.reason, sources=list(body.sources),
            credit=body.credit, on_revision=body.on_revision,
            confirmed=list(body.confirmed))
    elif isinstance(body, SuggestionAccepted | SuggestionDeclined):
        found = state.suggestions.get(body.suggestion)
        if found is not None:
            found.status = "accepted" if isinstance(body, SuggestionAccepted) else "declined"
            found.decided_by, found.decision = body.by, body.reason


def from_snapshot(snapshot: ArtefactSnapshot, seq: int) -> ArtefactState:
    """A client's state from a snapshot at ``seq`` (it knows the latest revision only)."""
    view = snapshot.view
    state = ArtefactState(view.artefact)
    state.community, state.seq = view.community, seq
    state.author = view.authors[0] if view.authors else None
    state.credited = {p.member: p for p in view.contributors}
    state.revisions = [Revision(
        revision=view.revision, seq=0, ts=view.updated_ms, by=state.author or Person(
            member="", name=""), kind=view.kind, title=view.title, body=view.body,
        tags=list(view.tags), excerpts=list(view.excerpts))]
    state.comments = list(view.comments)
    state.endorsements = {p.member: p for p in view.endorsements}
    state.suggestions = {s.suggestion: s for s in view.suggestions}
    state.created_ms, state.updated_ms = view.created_ms, view.updated_ms
    return state


def fold(snapshot: ArtefactSnapshot, seq: int, events: Iterable[Event]) -> ArtefactState:
    """A client's fold: the snapshot at ``seq``, then the events after it (an event at or
    below the state's seq changes nothing)."""
    state = from_snapshot(snapshot, seq)
    for event in events:
        if event.seq > state.seq:
            apply(state, event)
    return state


def normal_form(state: ArtefactState) -> dict[str, Any]:
    """A plain, ordered form to compare with the browser's fold (web/folds/artefact.js):
    what a snapshot carries, body_html left out (rendered by the server)."""
    view = msgspec.to_builtins(state.view())
    del view["body_html"]
    view["endorsements"] = sorted(view["endorsements"], key=lambda p: p["member"])
    view["comments"] = [{k: c[k] for k in ("comment", "by", "text", "ts")}
                        for c in view["comments"]]
    view["suggestions"] = sorted(
        ({k: v for k, v in s.items() if k != "seq"} for s in view["suggestions"]),
        key=lambda s: s["suggestion"])
    return dict(view)


def diff(old: Revision, new: Revision) -> str:
    """A unified diff from one revision to another: the title line, the tags line, then
    the markdown, as ``difflib`` writes it."""

    def lines(revision: Revision) -> list[str]:
        return [f"# {revision.title}", f"tags: {', '.join(revision.tags)}", "",
                *revision.body.splitlines()]

    return "\n".join(difflib.unified_diff(
        lines(old), lines(new), f"revision {old.revision}", f"revision {new.revision}",
        lineterm=""))
