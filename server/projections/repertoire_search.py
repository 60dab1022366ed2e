"""Full-text search over the repertoire: two projections into one table, ``search_docs``.

- :class:`ArtefactSearch` (streams ``artefact:``): one row per artefact (seq 0) with
  its latest revision's title and markdown (and tags); a revision replaces them.
- :class:`TranscriptSearch` (streams ``session:``): one row per transcript line said
  (chat, notes, captions, questions as last worded, case prompts); an anonymous
  question's row names nobody.

An erased body is never indexed, and :meth:`reconcile` repairs rows whose text came
from a body erased after it was indexed: a line's row loses its text; an artefact's
row is indexed again from its stream (the latest revision whose body is still there).
A session's ``words_erased`` event drops the rows of the lines it names.
SQLite: FTS5 with the title as a column of its own (``bm25`` weights it 10 to 1);
PostgreSQL: a generated ``tsvector``, the title weighed A and the text D.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import artefact as artefact_fold
from ..domain.artefact import ArtefactState
from ..domain.artefact_events import ArtefactCreated, ArtefactRevised
from ..domain.events import Event
from ..domain.session_events import (
    CaptionAdded,
    CasePromptsSet,
    ChatSaid,
    NoteAdded,
    QuestionAsked,
    QuestionEdited,
    WordsErased,
)
from ..domain.transcript import ANONYMOUS
from ..store import EventStore, read_stream
from . import Statement
from .query import indexable

_UPSERT = (
    "INSERT INTO search_docs (stream, seq, kind, question, who, ts, version, deleted, title,"
    " text) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (stream, seq) DO UPDATE SET"
    " kind = excluded.kind, who = excluded.who, ts = excluded.ts,"
    " version = excluded.version, deleted = 0, title = excluded.title, text = excluded.text"
    " WHERE excluded.version > search_docs.version")
_INSERT_LINE = (
    "INSERT INTO search_docs (stream, seq, kind, question, who, ts, version, deleted, title,"
    " text) VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', ?) ON CONFLICT (stream, seq) DO NOTHING")
_DROP_LINE = "DELETE FROM search_docs WHERE stream = ? AND seq = ?"
_EDIT_QUESTION = (
    "UPDATE search_docs SET text = ?, version = ? WHERE stream = ? AND question = ?"
    " AND version < ? AND deleted = 0")


def artefact_text(body: str, tags: Sequence[str]) -> str:
    """What an artefact's text is indexed as: its markdown, then its tags."""
    return indexable(body + ("\n" + " ".join(tags) if tags else ""))


class ArtefactSearch:
    name = "artefact_search"
    prefix = "artefact:"

    def __init__(self) -> None:
        self._erased_seen: int | None = None

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        out: list[Statement] = []
        for event in events:
            body = event.body
            if isinstance(body, ArtefactCreated):
                out.append((_UPSERT, (
                    stream, 0, body.kind, None, body.author_name, event.ts, event.seq,
                    indexable(body.title), artefact_text(body.body, body.tags))))
            elif isinstance(body, ArtefactRevised):
                out.append((
                    "UPDATE search_docs SET kind = ?, ts = ?, version = ?, title = ?, text = ?"
                    " WHERE stream = ? AND seq = 0 AND version < ? AND deleted = 0",
                    (body.kind, event.ts, event.seq, indexable(body.title),
                     artefact_text(body.body, body.tags), stream, event.seq)))
        return out

    def reset(self) -> list[Statement]:
        self._erased_seen = None
        return [("DELETE FROM search_docs WHERE stream LIKE 'artefact:%'", ())]

    async def reconcile(self, store: EventStore) -> int:
        """Index again each artefact whose indexed revision was erased since."""
        erased = await _erased_count(store)
        if erased == self._erased_seen:
            return 0
        statements: list[Statement] = []
        for (stream,) in await store.fetch(
                "SELECT DISTINCT d.stream FROM search_docs d JOIN events e"
                " ON e.stream = d.stream AND e.seq = d.version"
                " WHERE e.body IS NULL AND d.stream LIKE 'artefact:%' AND d.deleted = 0"):
            state = ArtefactState(str(stream).partition(":")[2])
            events = await read_stream(store, str(stream))
            for event in events:
                artefact_fold.apply(state, event)
            if state.created:
                statements.append((
                    "UPDATE search_docs SET title = ?, text = ?, version = ? WHERE stream = ?"
                    " AND seq = 0", (indexable(state.current.title), artefact_text(
                        state.current.body, state.current.tags), state.current.seq,
                        str(stream))))
            else:
                statements.append(_emptied(str(stream), 0))
        if statements:
            await store.transact(statements)
        self._erased_seen = erased
        return len(statements)


class TranscriptSearch:
    name = "transcript_search"
    prefix = "session:"

    def __init__(self) -> None:
        self._erased_seen: int | None = None

    def statements(self, stream: str, events: Sequence[Event]) -> list[Statement]:
        out: list[Statement] = []
        for event in events:
            body = event.body
            line: tuple[str, int | None, str, str] | None = None
            if isinstance(body, ChatSaid):
                line = ("chat", None, body.name, body.text)
            elif isinstance(body, NoteAdded):
                line = ("note", None, body.name or "", body.text)
            elif isinstance(body, CaptionAdded):
                line = ("caption", None, body.speaker, body.text)
            elif isinstance(body, QuestionAsked):
                who = ANONYMOUS if body.anonymous else body.asker_name
                line = ("question", body.question, who, body.text)
            elif isinstance(body, CasePromptsSet):
                line = ("case", None, "", "\n".join((body.situation, body.tried,
                                                     body.question)))
            elif isinstance(body, QuestionEdited):
                out.append((_EDIT_QUESTION, (indexable(body.text), event.seq, stream,
                                             body.question, event.seq)))
            elif isinstance(body, WordsErased):  # as if never indexed (a rebuild's rows)
                out += [(_DROP_LINE, (stream, seq)) for seq in body.seqs]
            if line is not None:
                kind, question, who, text = line
                out.append((_INSERT_LINE, (stream, event.seq, kind, question,
                                           indexable(who), event.ts, event.seq,
                                           indexable(text))))
        return out

    def reset(self) -> list[Statement]:
        self._erased_seen = None
        return [("DELETE FROM search_docs WHERE stream LIKE 'session:%'", ())]

    async def reconcile(self, store: EventStore) -> int:
        """Empty every line whose said or edited text was erased since (an erased edit
        empties its question's line rather than bring back the words it replaced)."""
        erased = await _erased_count(store)
        if erased == self._erased_seen:
            return 0
        rows = await store.fetch(" UNION ".join(
            "SELECT d.stream, d.seq FROM search_docs d JOIN events e ON e.stream = d.stream"
            f" AND e.seq = d.{column} WHERE e.body IS NULL AND d.deleted = 0"
            " AND d.stream LIKE 'session:%'" for column in ("seq", "version")))
        statements = [_emptied(str(stream), int(seq)) for stream, seq in rows]
        if statements:
            await store.transact(statements)
        self._erased_seen = erased
        return len(statements)


def _emptied(stream: str, seq: int) -> Statement:
    return ("UPDATE search_docs SET title = '', text = '', deleted = 1 WHERE stream = ?"
            " AND seq = ?", (stream, seq))


async def _erased_count(store: EventStore) -> int:
    return int((await store.fetch("SELECT count(*) FROM events WHERE body IS NULL"))[0][0])


