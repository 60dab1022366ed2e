"""The append-only event store: one interface, embedded SQLite by default."""

from .base import AppendResult, AppliedCommand, CommandKey, EventStore, NewEvent, open_store

__all__ = ["AppendResult", "AppliedCommand", "CommandKey", "EventStore", "NewEvent",
           "open_store"]
