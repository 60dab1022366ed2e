"""The wire types of the repertoire's HTTP calls: request bodies and replies."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..domain.artefact import ArtefactView, Person, Revision
from ..domain.artefact_events import (
    MAX_EXCERPTS,
    ArtefactBody,
    ArtefactKind,
    ArtefactTitle,
    CommentText,
    Reason,
    Source,
    Tags,
)
from ..domain.artefact_quote import Quote
from ..domain.events import Id
from .api_types import Body

Seq = Annotated[int, msgspec.Meta(ge=0)]


class ExcerptRange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Lines ``from_seq``..``to_seq`` (inclusive) of a session's transcript: the seqs its
    lines carry (``TranscriptLine.seq``)."""

    session: Id
    from_seq: Seq
    to_seq: Seq


Ranges = Annotated[list[ExcerptRange], msgspec.Meta(max_length=MAX_EXCERPTS)]
Confirmations = Annotated[list[Annotated[str, msgspec.Meta(max_length=300)]],
                          msgspec.Meta(max_length=200)]


class NewArtefact(Body):
    kind: ArtefactKind
    title: ArtefactTitle
    body: ArtefactBody = ""
    tags: Tags = msgspec.field(default_factory=list)
    excerpts: Ranges = msgspec.field(default_factory=list)
    """The transcript lines it cites (the session must be this community's, and yours to
    read); each quotes exactly the transcript's lines in its range."""
    artefact: Id | None = None
    """Its id; chosen by the server when absent."""
    confirm: Confirmations = msgspec.field(default_factory=list)
    """Keys of confidential-details findings you confirm are fine to publish."""


class ReviseArtefact(Body):
    kind: ArtefactKind
    title: ArtefactTitle
    body: ArtefactBody = ""
    tags: Tags = msgspec.field(default_factory=list)
    excerpts: Ranges | None = None
    """None: keep the excerpts it has."""
    note: Reason = ""
    base_revision: int | None = None
    """The revision you edited; a newer one made meanwhile refuses this (``conflict``)."""
    confirm: Confirmations = msgspec.field(default_factory=list)


class NewComment(Body):
    text: CommentText


class SuggestRevision(Body, kw_only=True):
    title: ArtefactTitle
    body: ArtefactBody = ""
    tags: Tags = msgspec.field(default_factory=list)
    reason: Reason
    sources: Annotated[list[Source], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    credit: bool = True
    """Be credited by name as a contributor when it is accepted."""
    confirm: Confirmations = msgspec.field(default_factory=list)


class Decision(Body):
    reason: Reason = ""
    """Why (required to decline)."""
    confirm: Confirmations = msgspec.field(default_factory=list)
    """Accepting: confidential-details findings in the suggestion you confirm."""


class ReviewSetting(Body):
    required: bool
    """Each confidential-details finding must be redacted or confirmed before
    publishing."""


class ArtefactPage(msgspec.Struct, kw_only=True):
    """An artefact now, with each excerpt it cites as it reads now (an erased line reads
    ``erased``) and its link back to the transcript."""

    artefact: ArtefactView
    quotes: list[Quote]


class ArtefactSummary(msgspec.Struct, kw_only=True):
    artefact: str
    kind: ArtefactKind
    title: str
    tags: list[str]
    revision: int
    authors: list[Person]
    endorsements: int
    updated_ms: int


class History(msgspec.Struct, kw_only=True):
    """Every revision, first first: nothing is overwritten."""

    artefact: str
    revisions: list[Revision]


class RevisionDiff(msgspec.Struct, kw_only=True):
    artefact: str
    from_revision: int
    to_revision: int
    diff: str
    """A unified diff (title, tags, then the markdown)."""
