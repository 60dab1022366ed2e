"""The bodies of a repertoire artefact's events (stream ``artefact:<id>``).

An artefact is curated from what was said in sessions: a title, a kind, markdown,
tags, and the excerpts it cites (a session stream and a seq range of it). Every change
is an event of its own: nothing is overwritten, so its history is the stream.

An excerpt stores where it came from (the stream and seqs of the lines it quotes),
never the words themselves: they are read from the session's stream each time, so a
line erased there for privacy reads as erased in every artefact that quotes it, and
the artefact's own events never need erasing for it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from .event_base import EventBody, Id
from .names import DisplayName
from .patterns import whole

ArtefactKind = Literal["faq", "summary", "case_story", "failure_reflection", "insight",
                       "template"]
KINDS: tuple[ArtefactKind, ...] = ("faq", "summary", "case_story", "failure_reflection",
                                   "insight", "template")
ArtefactTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ArtefactBody = Annotated[str, msgspec.Meta(max_length=20_000)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=40,
                                  pattern=whole(r"[a-z0-9][a-z0-9-]*"))]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]
CommentText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Source = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
MAX_EXCERPTS = 20
MAX_EXCERPT_LINES = 200


class Excerpt(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A stretch of a session's transcript an artefact cites: ``stream`` (a
    ``session:<id>``) from ``from_seq`` to ``to_seq`` inclusive, and the seqs of the
    transcript lines in it (what the quote shows, read from the stream)."""

    stream: Annotated[str, msgspec.Meta(max_length=80)]
    from_seq: Annotated[int, msgspec.Meta(ge=1)]
    to_seq: Annotated[int, msgspec.Meta(ge=1)]
    seqs: Annotated[list[int], msgspec.Meta(max_length=MAX_EXCERPT_LINES)] = msgspec.field(
        default_factory=list)


Excerpts = Annotated[list[Excerpt], msgspec.Meta(max_length=MAX_EXCERPTS)]


class ArtefactCreated(EventBody, tag="artefact_created", kw_only=True):
    """The first event of an artefact's stream: revision 1."""

    artefact: Id
    community: Id
    kind: ArtefactKind
    title: ArtefactTitle
    body: ArtefactBody
    tags: Tags = msgspec.field(default_factory=list)
    excerpts: Excerpts = msgspec.field(default_factory=list)
    author: str
    author_name: DisplayName
    confirmed: list[str] = msgspec.field(default_factory=list)
    """What the confidential-details guard found and the author confirmed as fine."""


class ArtefactRevised(EventBody, tag="artefact_revised", kw_only=True):
    """A new revision (2, 3, ...): the whole artefact as it now reads."""

    revision: int
    kind: ArtefactKind
    title: ArtefactTitle
    body: ArtefactBody
    tags: Tags = msgspec.field(default_factory=list)
    excerpts: Excerpts = msgspec.field(default_factory=list)
    note: Reason = ""
    by: str
    by_name: DisplayName
    suggestion: int | None = None
    """The accepted suggestion this revision is, if any."""
    credit: str | None = None
    """Who is credited as its contributor by name (the suggester, if they chose so)."""
    confirmed: list[str] = msgspec.field(default_factory=list)


class ArtefactCommented(EventBody, tag="artefact_commented", kw_only=True):
    comment: int
    """Comments are numbered 1, 2, 3... in order."""
    text: CommentText
    member: str
    name: DisplayName


class ArtefactEndorsed(EventBody, tag="artefact_endorsed", kw_only=True):
    """"This helped me"."""

    member: str
    name: DisplayName


class ArtefactUnendorsed(EventBody, tag="artefact_unendorsed", kw_only=True):
    member: str


class RevisionSuggested(EventBody, tag="revision_suggested", kw_only=True):
    """Any member's proposed change, with a reason and sources; its authors or a
    convener accept or decline it."""

    suggestion: int
    title: ArtefactTitle
    body: ArtefactBody
    tags: Tags = msgspec.field(default_factory=list)
    reason: Reason
    sources: Annotated[list[Source], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    credit: bool = True
    """Whether the suggester is credited by name when it is accepted."""
    member: str
    name: DisplayName
    on_revision: int
    """The revision it was suggested against."""
    confirmed: list[str] = msgspec.field(default_factory=list)


class SuggestionAccepted(EventBody, tag="suggestion_accepted", kw_only=True):
    suggestion: int
    reason: Reason = ""
    by: str


class SuggestionDeclined(EventBody, tag="suggestion_declined", kw_only=True):
    suggestion: int
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    by: str


class RepertoireReviewSet(EventBody, tag="repertoire_review_set", kw_only=True):
    """A community setting (stream ``community:<id>``): whether what the
    confidential-details guard finds must each be redacted or confirmed before an
    artefact, a revision or a suggestion is published."""

    required: bool


class CollectionSaved(EventBody, tag="collection_saved", kw_only=True):
    """An ordered reading list of artefacts (stream ``community:<id>``), the classic one
    "Start here" for newcomers; saving it again replaces it, an empty list removes it."""

    collection: Id
    title: ArtefactTitle
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    artefacts: Annotated[list[Id], msgspec.Meta(max_length=200)] = msgspec.field(
        default_factory=list)


ArtefactEventBody = (
    ArtefactCreated | ArtefactRevised | ArtefactCommented | ArtefactEndorsed
    | ArtefactUnendorsed | RevisionSuggested | SuggestionAccepted | SuggestionDeclined
    | RepertoireReviewSet | CollectionSaved
)
