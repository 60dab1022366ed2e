"""The append-only event store: one interface, embedded SQLite by default."""

from .base import (
    AppendResult,
    AppliedCommand,
    CommandKey,
    EventStore,
    NewEvent,
    open_store,
    read_stream,
)

__all__ = ["AppendResult", "AppliedCommand", "CommandKey", "EventStore", "NewEvent",
           "open_store", "read_stream"]
