"""Fan-out of committed events to the connections subscribed to their stream.

The hub is told about events only after they are durable (it listens to
the store's commits). Each event is encoded once and the same text is handed
to every subscriber, whose ``deliver`` never blocks: a subscriber that cannot
keep up is dropped by its own bounded queue, and the room never waits for it.
"""

from __future__ import annotations

from typing import Protocol

from .domain.events import Event
from .frames import encode
from .wire import text_frame


class Subscriber(Protocol):
    def deliver(self, stream: str, seq: int, frame: str, wire: bytes | None = None) -> None: ...


class LocalHub:
    """In-process fan-out (one server process)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, dict[Subscriber, None]] = {}
        self.frames_delivered = 0

    def subscribe(self, stream: str, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(stream, {})[subscriber] = None

    def unsubscribe(self, stream: str, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(stream)
        if subscribers is not None:
            subscribers.pop(subscriber, None)
            if not subscribers:
                del self._subscribers[stream]

    def subscribers(self, stream: str) -> int:
        return len(self._subscribers.get(stream, ()))

    def subscribed(self, stream: str) -> tuple[Subscriber, ...]:
        """This process's subscribers of ``stream`` now (the relay's recipients)."""
        return tuple(self._subscribers.get(stream, ()))

    def publish(self, events: list[Event]) -> None:
        """Store commit listener: hand each event's frame to its stream's subscribers."""
        for event in events:
            subscribers = self._subscribers.get(event.stream)
            if not subscribers:
                continue
            frame = encode(event)
            wire = text_frame(frame.encode())  # the websocket frame, built once for all
            for subscriber in tuple(subscribers):
                subscriber.deliver(event.stream, event.seq, frame, wire)
            self.frames_delivered += len(subscribers)
