"""Fan-out frames built once and written straight to each socket's transport.

A server's websocket text frame is the same bytes for every receiver (no
mask, no compression: Practica turns per-message-deflate off), so the hub
builds it once per event (:func:`text_frame`) and a :class:`DirectWriter`
hands those bytes to the connection's transport: one ``write`` per
subscriber, where the ASGI path would create two coroutines, re-encode the
text and re-frame it for every one. The writer reaches the transport
through uvicorn's websockets-sansio protocol (the bound ``send`` method the
ASGI server gave the app, kept by :class:`KeepRawSend`); with any other
server it is not found and the connection sends through ASGI as before.
"""

from __future__ import annotations

from typing import Any

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.protocol import State

RAW_SEND = "practica.raw_send"
"""Scope key under which :class:`KeepRawSend` keeps the ASGI server's own ``send``."""


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented websocket text frame (RFC 6455 §5.2) carrying ``payload``."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


class DirectWriter:
    """Writes whole frames to one uvicorn websocket connection's transport, when it may."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    @classmethod
    def of(cls, scope: Scope) -> DirectWriter | None:
        """The writer for this websocket, if it is served by uvicorn's websockets-sansio."""
        protocol = getattr(scope.get(RAW_SEND), "__self__", None)
        needed = ("transport", "conn", "writable", "close_sent")
        if protocol is None or not all(hasattr(protocol, name) for name in needed):
            return None
        return cls(protocol)

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now; False (nothing written) when the socket is closing or its
        transport is paused (the caller queues the frame and sends it through ASGI)."""
        protocol = self._protocol
        if (protocol.close_sent or protocol.conn.state is not State.OPEN
                or not protocol.writable.is_set()):
            return False
        transport = protocol.transport
        if transport.is_closing():
            return False
        transport.write(frame)
        return True


class KeepRawSend:
    """Outermost middleware: remember the ASGI server's ``send`` of each websocket before
    Starlette wraps it, for :meth:`DirectWriter.of`; and hand the websocket at ``path``
    straight to ``gateway``.

    Starlette would pass it through five more layers (security headers, exception
    middleware and handler, router, route) that do nothing for this one endpoint but
    whose coroutine frames and closures stay alive as long as the socket: a few KB per
    idle connection (bench/join.py)."""

    def __init__(self, app: ASGIApp, gateway: ASGIApp | None = None,
                 path: str = "/ws") -> None:
        self.app, self.gateway, self.path = app, gateway, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
            if self.gateway is not None and get_route_path(scope) == self.path:
                await self.gateway(scope, receive, send)
                return
        await self.app(scope, receive, send)
