"""What every event store offers, whatever holds the data.

A store appends events to named streams, assigning each stream's next seq,
chaining hashes and making the batch durable before anyone hears of it.
Listeners registered with :meth:`EventStore.on_commit` are called after
each commit with the committed events in seq order: that is where fan-out
starts, so nothing is published that is not durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from typing import Any, NamedTuple, Protocol

import msgspec

from ..domain.events import AnyEventBody, Event, EventBody, UnreadableEvent
from ..domain.names import name_fields, readable_name

log = logging.getLogger("practica.store")

CommitListener = Callable[[list[Event]], None]

_body_decoder = msgspec.json.Decoder(AnyEventBody)
_body_encoder = msgspec.json.Encoder()
_loose_decoder = msgspec.json.Decoder()
_BODY_TYPES: dict[str, type[EventBody]] = {
    str(cls.__struct_config__.tag): cls for cls in AnyEventBody.__args__}


def encode_body(body: EventBody) -> bytes:
    return _body_encoder.encode(body)


def decode_body(raw: bytes | None, where: str = "a stored event") -> AnyEventBody | None:
    """A stored body, read with today's types. It never refuses: history is immutable,
    so a body today's rules dislike is logged (one line) and read with placeholders (a
    refused name reads as "(unnamed)"), or as an :class:`UnreadableEvent`."""
    if raw is None:
        return None
    try:
        return _body_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        body = _tolerate(bytes(raw), exc)
        log.warning("%s does not read with today's rules (%s); read as %s",
                    where, exc, type(body).__struct_config__.tag)
        return body


def _tolerate(raw: bytes, exc: Exception) -> AnyEventBody:
    try:
        loose: Any = _loose_decoder.decode(raw)
    except msgspec.DecodeError:
        return UnreadableEvent(original_type="?", problem=str(exc))
    kind = loose.get("type") if isinstance(loose, dict) else None
    cls = _BODY_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None or cls is UnreadableEvent:
        return UnreadableEvent(original_type=str(kind)[:64], problem=str(exc))
    fields = cls.__struct_fields__
    required = fields[:len(fields) - len(cls.__struct_defaults__)]
    for field in name_fields(cls):
        if field in loose and (loose[field] is not None or field in required):
            loose[field] = readable_name(loose[field])
    try:
        return msgspec.convert(loose, cls)  # type: ignore[return-value]
    except msgspec.ValidationError as still:
        return UnreadableEvent(original_type=str(kind), problem=str(still))


class NewEvent(NamedTuple):
    stream: str
    actor: str | None
    body: EventBody


class CommandKey(NamedTuple):
    """Who sent a command and the ref they gave it: applied at most once."""

    member: str
    ref: str


class AppendResult(NamedTuple):
    stream: str
    seq: int
    """The seq of the last event appended (or recorded, for a duplicate)."""
    events: list[Event]
    """What this append added; empty for a duplicate."""
    duplicate: bool
    conflict: bool = False
    """A duplicate key whose recorded command digest differs: nothing was appended."""


class AppliedCommand(NamedTuple):
    stream: str
    seq: int
    digest: str
    """What the command was (see ``server.actions.rooms.command_digest``); '' if unknown."""


class StreamCheck(msgspec.Struct, kw_only=True):
    stream: str
    events: int
    erased: int
    ok: bool
    problem: str | None = None


class VerifyReport(msgspec.Struct, kw_only=True):
    integrity_check: str
    streams: list[StreamCheck]

    @property
    def ok(self) -> bool:
        return self.integrity_check == "ok" and all(s.ok for s in self.streams)

    @property
    def events(self) -> int:
        return sum(s.events for s in self.streams)


class EventStore(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...

    def on_commit(self, listener: CommitListener) -> None:
        """Call ``listener(events)`` after every commit, in commit order."""

    async def append(
        self, stream: str, actor: str | None, bodies: list[EventBody],
        command: CommandKey | None = None, digest: str = "", *, expected: int | None = None,
        also: list[tuple[str, tuple[Any, ...]]] | None = None,
    ) -> AppendResult:
        """Append ``bodies`` to ``stream`` durably; with ``command``, at most once per key
        (a repeated key with a different non-empty ``digest`` answers ``conflict``);
        with ``expected``, only if the stream's head is that seq when the append's
        transaction holds it (else :class:`~server.errors.StaleState`, nothing written)."""

    async def append_all(
        self, parts: list[tuple[str, list[EventBody], int | None]], actor: str | None,
        command: CommandKey | None = None, digest: str = "", *,
        also: list[tuple[str, tuple[Any, ...]]] | None = None,
    ) -> list[AppendResult]:
        """Append to several streams (``(stream, bodies, expected seq or None)``) in one
        transaction, all or nothing: any stale expected seq raises
        :class:`~server.errors.StaleState` and writes nothing. One result per part; a
        duplicate ``command`` answers a single result, the one recorded first. ``also``:
        plain statements (``?`` placeholders) in the same transaction, after the events,
        run only when the events are written (an erasure nulls bodies with its marker)."""

    async def read(self, stream: str, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events with seq > ``after``, in order, at most ``limit``."""

    async def head(self, stream: str) -> int:
        """The last committed seq of ``stream`` (0 if it has no events)."""

    async def read_type_before(
        self, stream: str, type_: str, before: int | None, limit: int
    ) -> list[Event]:
        """The latest events of one type with seq < ``before``, newest first."""

    async def read_about(self, stream: str, subjects: list[int]) -> list[Event]:
        """Events whose subject is one of ``subjects`` (edits, deletions), in seq order."""

    async def find_command(self, key: CommandKey) -> tuple[str, int] | None:
        """The (stream, seq) a command with this key produced, if it was applied."""

    async def applied_command(self, key: CommandKey) -> AppliedCommand | None:
        """The command applied with this key: its stream, last seq and digest."""

    async def record_command(self, key: CommandKey, stream: str, seq: int,
                             digest: str) -> None:
        """Keep a command key's answer for a command appended without it (seq 0: it
        changed nothing); the first answer kept stands."""

    async def streams(self, prefix: str) -> list[str]:
        """Every stream whose name starts with ``prefix`` and has events."""

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a plain query (``?`` placeholders) on the accounts tables."""

    async def execute(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run plain statements in one transaction through the writer; their row counts."""

    async def transact(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run statements in a transaction of their own, never batched with appends (a
        failing statement fails only this call); their row counts."""

    async def heads(self, prefix: str) -> dict[str, int]:
        """The last committed seq of every stream whose name starts with ``prefix``."""

    async def check_writable(self) -> None:
        """Raise StoreError unless a write would succeed now."""

    async def verify(self) -> VerifyReport:
        """Check the database's integrity and every stream's hash chain."""


def open_store(url: str, *, synchronous: str = "FULL") -> EventStore:
    """Pick the backend by URL: ``postgresql://…[?schema=name]``, else ``sqlite:///path``
    (or a bare path)."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore, split_schema

        dsn, schema = split_schema(url)
        return PostgresStore(dsn, schema=schema)
    from .sqlite import SqliteStore

    path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
    return SqliteStore(path, synchronous=synchronous)


def migrations(backend: str) -> list[tuple[int, str]]:
    """The numbered ``.sql`` files of a backend, in order."""
    folder = resources.files("server.store") / "migrations" / backend
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


async def read_stream(store: EventStore, stream: str, page: int = 1000) -> list[Event]:
    """Every event of ``stream``, in order, read ``page`` at a time."""
    events: list[Event] = []
    while True:
        more = await store.read(stream, events[-1].seq if events else 0, page)
        events += more
        if len(more) < page:
            return events
