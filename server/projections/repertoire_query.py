"""Searching the repertoire: artefacts and transcripts a person may read, in one
community, title matches first.

An artefact is searched if the reader may ``read_repertoire``; a session's transcript if
they may read its stream (``read_history`` on its room). A hit whose title matched ranks
above every hit whose text only did; then the backend's rank (FTS5 ``bm25`` with the
title weighed 10 to 1; PostgreSQL ``ts_rank`` with the title weighed A, the text D).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

import msgspec

from ..authority import Authority, Principal
from ..domain.artefact_quote import transcript_link
from ..domain.events import artefact_stream, session_stream
from ..domain.policy import Action, Resource, allowed
from ..folds import Folds
from ..http import api_types as t
from ..store import EventStore
from .projector import Projector
from .query import START, STOP, parse, snippet_parts, to_fts5, to_websearch

SNIPPET_WORDS = 24
SETTLE_S = 2.0


class RepertoireHit(msgspec.Struct, kw_only=True):
    what: Literal["artefact", "transcript"]
    stream: str
    """``artefact:<id>`` or ``session:<id>``."""
    seq: int
    """A transcript line's seq (0 for an artefact)."""
    kind: str
    """The artefact's kind (faq, case_story...) or the line's (chat, note, question...)."""
    title: str
    """The artefact's title ("" for a line)."""
    who: str
    """The artefact's author, or who said the line (``Anonymous`` for an anonymous
    question)."""
    ts: int
    title_hit: bool
    """The title matched (these come first)."""
    link: str
    """Where to read it: the transcript at that line, or the artefact's page ``/r/<id>``."""
    snippet: list[t.SnippetPart]


class RepertoireResults(msgspec.Struct, kw_only=True):
    query: str
    hits: list[RepertoireHit]
    """Title matches first, then best match first."""


_SQLITE = (
    "SELECT d.stream, d.seq, d.kind, d.who, d.ts, d.title,"
    " instr(highlight(search_docs_fts, 0, char(1), char(2)), char(1)) > 0 AS title_hit,"
    f" snippet(search_docs_fts, 1, char(1), char(2), '…', {SNIPPET_WORDS})"
    " FROM search_docs_fts JOIN search_docs d ON d.id = search_docs_fts.rowid"
    " WHERE search_docs_fts MATCH ? AND d.deleted = 0 AND d.stream IN ({streams})"
    " ORDER BY title_hit DESC, bm25(search_docs_fts, 10.0, 1.0), d.ts DESC LIMIT ?")
_POSTGRES = (
    "SELECT d.stream, d.seq, d.kind, d.who, d.ts, d.title,"
    " strpos(ts_headline('simple', d.title, q.q, ?), chr(1)) > 0 AS title_hit,"
    " ts_headline('simple', d.text, q.q, ?)"
    " FROM search_docs d, (SELECT websearch_to_tsquery('simple', ?) AS q) q"
    " WHERE d.doc @@ q.q AND d.deleted = 0 AND d.stream = ANY(?::text[])"
    " ORDER BY title_hit DESC, ts_rank(d.doc, q.q) DESC, d.ts DESC LIMIT ?")
_TITLE = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
_HEADLINE = (f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords=8,"
             " ShortWord=0, FragmentDelimiter=\" … \", MaxFragments=2")


class RepertoireSearch:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 projectors: list[Projector]) -> None:
        self.store, self.folds, self.authority = store, folds, authority
        self.projectors = projectors
        self.postgres = bool(getattr(store, "numbered_parameters", False))

    async def readable(self, principal: Principal, community: str) -> list[str]:
        """The artefact and session streams of ``community`` the principal may read;
        ``forbidden`` (audited) for someone who may read none of the repertoire."""
        state = self.folds.community(community)
        actor = self.authority.actor(principal, state)
        streams: list[str] = []
        if allowed(actor, Action.READ_REPERTOIRE, Resource(community=community)):
            streams += [artefact_stream(a) for a, s in self.folds.artefacts.items()
                        if s.created and s.community == community]
        else:
            await self.authority.check(principal, Action.READ_REPERTOIRE, community)
        streams += [session_stream(ident) for ident, s in self.folds.sessions.items()
                    if s.opened and s.community == community and allowed(
                        actor, Action.READ_HISTORY,
                        Resource(community=community, room=s.room, session=ident))]
        return streams

    async def search(self, principal: Principal, community: str, query: str,
                     limit: int) -> RepertoireResults:
        terms = parse(query)
        streams = await self.readable(principal, community)
        if not streams:
            return RepertoireResults(query=query, hits=[])
        with contextlib.suppress(TimeoutError):  # a slow store: answer from what is there
            async with asyncio.timeout(SETTLE_S):
                for projector in self.projectors:
                    await projector.settle()
        if self.postgres:
            rows = await self.store.fetch(_POSTGRES, (
                _TITLE, _HEADLINE, to_websearch(terms), streams, limit))
        else:
            marks = ", ".join("?" for _ in streams)
            rows = await self.store.fetch(_SQLITE.format(streams=marks), (
                to_fts5(terms), *streams, limit))
        hits = []
        for stream, seq, kind, who, ts, title, title_hit, marked in rows:
            name, _, ident = str(stream).partition(":")
            artefact = name == "artefact"
            hits.append(RepertoireHit(
                what="artefact" if artefact else "transcript", stream=str(stream),
                seq=int(seq), kind=str(kind), title=str(title), who=str(who), ts=int(ts),
                title_hit=bool(title_hit),
                link=f"/r/{ident}" if artefact else transcript_link(
                    ident, int(seq)),
                snippet=[t.SnippetPart(text=text, hit=hit)
                         for text, hit in snippet_parts(str(marked))]))
        return RepertoireResults(query=query, hits=hits)
