"""The append-only event store: one interface, embedded SQLite by default."""

from .base import AppendResult, CommandKey, EventStore, NewEvent, open_store

__all__ = ["AppendResult", "CommandKey", "EventStore", "NewEvent", "open_store"]
