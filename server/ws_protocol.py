"""uvicorn's websockets-sansio protocol, made lighter per connection.

Thousands of idle sockets are mostly this object's: bench/join.py measured
(tracemalloc) that each connection kept an ``asyncio.Queue`` (three deques and
an ``Event`` with a fourth), an ``asyncio.Event`` for back-pressure (a fifth
deque; an empty deque costs ~600 bytes), the handshake's response with its
headers and the upgrade request's headers in the ASGI scope, for as long as
the socket lived. This subclass swaps the queue and the event for
single-reader equivalents that allocate only while someone waits, and drops
the handshake leftovers once the handshake is sent. Behaviour is uvicorn's:
only the containers change. uvicorn is pinned (.ci/constraints.txt); the
attributes replaced here are the ones its implementation uses.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Inbox:
    """``asyncio.Queue``'s ``put_nowait``/``get``/``empty`` for the one ASGI ``receive``."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class Gate:
    """``asyncio.Event``'s ``set``/``clear``/``is_set``/``wait``, with no deque while open.

    ``wait`` on an open gate returns without suspending, as ``Event.wait`` does: the
    eager send (server.connection) relies on that."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> bool:
        while not self._open:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol with lighter per-connection state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Gate()  # type: ignore[assignment]

    def start_keepalive(self) -> None:
        # Called once the handshake's response is written: what it was built from is
        # not needed again (the app read the upgrade's headers before accepting).
        self.response = None  # type: ignore[assignment]
        self.scope["headers"] = []
        super().start_keepalive()
