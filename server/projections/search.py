"""Full-text search over room messages: a projection and the reader that asks it.

The indexed text of a message is its latest: an edit replaces it, a deletion empties it.
An erased body (the store's privacy erasure) is never indexed, and :meth:`reconcile`
empties any row whose text came from a body erased after it was indexed. SQLite uses
FTS5 (``search_fts``, external content); PostgreSQL a generated ``tsvector`` with a GIN
index and ``websearch_to_tsquery``. Both fold case, and neither stems, drops stop words or
accents, so the same words find the same messages on either backend.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import NamedTuple

from ..authority import Authority, Principal
from ..domain import room as room_fold
from ..domain.events import Event, MessageDeleted, MessageEdited, MessagePosted, room_stream
from ..domain.policy import Action, Resource, allowed
from ..folds import Folds
from ..http import api_types as t
from ..store import EventStore
from . import Projector, Statement
from .query import START, STOP, indexable, parse, snippet_parts, to_fts5, to_websearch

MAX_LIMIT = 50
SNIPPET_WORDS = 24
SETTLE_S = 2.0


class Index(NamedTuple):
    message: int
    author: str
    author_name: str
    ts: int
    text: str


class Edit(NamedTuple):
    message: int
    version: int
    text: str


class Remove(NamedTuple):
    message: int
    version: int


Change = Index | Edit | Remove


def changes(events: Sequence[Event]) -> list[Change]:
    """What a run of room events does to the index. Erased bodies (None) do nothing,
    as in the room's fold."""
    out: list[Change] = []
    for event in events:
        body = event.body
        if isinstance(body, MessagePosted):
            out.append(Index(event.seq, body.author, indexable(body.author_name), event.ts,
                             indexable(body.text)))
        elif isinstance(body, MessageEdited):
            out.append(Edit(body.message, event.seq, indexable(body.text)))
        elif isinstance(body, MessageDeleted):
            out.append(Remove(body.message, event.seq))
    return out


def _statement(stream: str, change: Change) -> Statement:
    if isinstance(change, Index):
        # A row already there is this message, as new or newer: keep it.
        return ("INSERT INTO search_messages (stream, seq, author, author_name, ts, version,"
                " deleted, text) VALUES (?, ?, ?, ?, ?, ?, 0, ?)"
                " ON CONFLICT (stream, seq) DO NOTHING",
                (stream, change.message, change.author, change.author_name, change.ts,
                 change.message, change.text))
    if isinstance(change, Edit):
        return ("UPDATE search_messages SET text = ?, version = ? WHERE stream = ? AND seq = ?"
                " AND version < ? AND deleted = 0",
                (change.text, change.version, stream, change.message, change.version))
    return ("UPDATE search_messages SET text = '', deleted = 1, version = ?"
            " WHERE stream = ? AND seq = ? AND version < ?",
            (change.version, stream, change.message, change.version))


class SearchProjection:
    name = "search"
    prefix = "room:"

    def __init__(self) -> None:
        self._erased_seen: int | None = None
        """How many erased events the last reconcile saw (None: it has not run)."""

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        return [_statement(stream, change) for change in changes(events)]

    def reset(self) -> list[Statement]:
        self._erased_seen = None
        return [("DELETE FROM search_messages", ())]

    async def reconcile(self, store: EventStore) -> int:
        """Re-read every indexed message whose post or indexed edit was erased since.
        Cheap when nothing was: erased events have an index of their own, counted first."""
        erased = (await store.fetch("SELECT count(*) FROM events WHERE body IS NULL"))[0][0]
        if erased == self._erased_seen:
            return 0
        # Start from the erased events; SQLite's CROSS JOIN keeps that order.
        join = "JOIN" if getattr(store, "numbered_parameters", False) else "CROSS JOIN"
        rows = await store.fetch(" UNION ".join(
            "SELECT s.stream, s.seq FROM (SELECT stream, seq FROM events WHERE body IS NULL) e"
            f" {join} search_messages s ON s.stream = e.stream AND s.{column} = e.seq"
            " WHERE s.deleted = 0" for column in ("seq", "version")))
        statements: list[Statement] = []
        for stream, seq in rows:
            statements.append(await self._reread(store, str(stream), int(seq)))
        if statements:
            await store.transact(statements)
        self._erased_seen = int(erased)
        return len(statements)

    @staticmethod
    async def _reread(store: EventStore, stream: str, seq: int) -> Statement:
        posted = await store.read(stream, after=seq - 1, limit=1)
        message = room_fold.message_from(posted[0]) if posted else None
        version = seq
        if message is not None:
            for event in await store.read_about(stream, [seq]):
                room_fold.apply_to_message(message, event)
                if event.body is not None:
                    version = event.seq
        if message is None or message.deleted:
            return ("UPDATE search_messages SET text = '', deleted = 1 WHERE stream = ?"
                    " AND seq = ?", (stream, seq))
        return ("UPDATE search_messages SET text = ?, version = ? WHERE stream = ? AND seq = ?",
                (indexable(message.text), version, stream, seq))


_SQLITE_SEARCH = (
    "SELECT m.stream, m.seq, m.author, m.author_name, m.ts,"
    f" snippet(search_fts, 0, char(1), char(2), '…', {SNIPPET_WORDS})"
    " FROM search_fts JOIN search_messages m ON m.id = search_fts.rowid"
    " WHERE search_fts MATCH ? AND m.deleted = 0 AND m.stream IN ({rooms})"
    " ORDER BY bm25(search_fts), m.seq DESC LIMIT ?")
_POSTGRES_SEARCH = (
    "SELECT m.stream, m.seq, m.author, m.author_name, m.ts,"
    " ts_headline('simple', m.text, q.q, ?)"
    " FROM search_messages m, (SELECT websearch_to_tsquery('simple', ?) AS q) q"
    " WHERE m.doc @@ q.q AND m.deleted = 0 AND m.stream = ANY(?::text[])"
    " ORDER BY ts_rank(m.doc, q.q) DESC, m.ts DESC LIMIT ?")
_HEADLINE = (f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords=8,"
             " ShortWord=0, FragmentDelimiter=\" … \", MaxFragments=2")


class Search:
    """Answers a person's search in one community, over the rooms they may read."""

    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 projector: Projector) -> None:
        self.store, self.folds, self.authority = store, folds, authority
        self.projector = projector
        self.postgres = bool(getattr(store, "numbered_parameters", False))

    async def readable_rooms(self, principal: Principal, community: str) -> list[str]:
        """Rooms of ``community`` whose history ``principal`` may read (the same check as
        history); ``forbidden`` (audited) for someone who may read none of its rooms."""
        state = self.folds.community(community)
        actor = self.authority.actor(principal, state)
        rooms = [room for room in state.rooms if allowed(
            actor, Action.READ_HISTORY, Resource(community=community, room=room))]
        if not rooms:
            await self.authority.check(principal, Action.READ_HISTORY, community)
        return rooms

    async def search(self, principal: Principal, community: str, query: str,
                     limit: int) -> t.SearchResults:
        terms = parse(query)
        rooms = await self.readable_rooms(principal, community)
        if not rooms:
            return t.SearchResults(query=query, hits=[])
        streams = [room_stream(room) for room in rooms]
        with contextlib.suppress(TimeoutError):  # a slow store: answer from what is there
            async with asyncio.timeout(SETTLE_S):
                await self.projector.settle()
        if self.postgres:
            rows = await self.store.fetch(_POSTGRES_SEARCH, (
                _HEADLINE, to_websearch(terms), streams, limit))
        else:
            marks = ", ".join("?" for _ in streams)
            rows = await self.store.fetch(_SQLITE_SEARCH.format(rooms=marks), (
                to_fts5(terms), *streams, limit))
        return t.SearchResults(query=query, hits=[t.SearchHit(
            room=str(stream).removeprefix("room:"), message=int(seq), author=str(author),
            author_name=str(name), ts=int(ts),
            snippet=[t.SnippetPart(text=text, hit=hit) for text, hit in snippet_parts(marked)])
            for stream, seq, author, name, ts, marked in rows])
