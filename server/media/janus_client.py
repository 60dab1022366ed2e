"""A small client of Janus's websocket API (``janus-protocol``): one Janus session per
Practica process, kept alive, with handles on the VideoRoom plugin.

Janus answers a plugin's synchronous request (``create``, ``kick``, ``listparticipants``)
with ``success`` and an asynchronous one (``join``, ``publish``, ``start``) with ``ack``
and then an ``event`` carrying the same transaction; an ICE/SDP failure can come back as
``error`` in either place. Every failure is a :class:`JanusError` (Janus said no) or
:class:`JanusDown` (not reachable): callers turn those into Practica's typed errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

log = logging.getLogger("practica.media")

PLUGIN = "janus.plugin.videoroom"
KEEPALIVE_S = 20.0  # Janus drops a session after 60 s without a message
REPLY_TIMEOUT_S = 10.0


class JanusDown(Exception):
    """Janus cannot be reached (not running, refused, closed the socket, timed out)."""


class JanusError(Exception):
    """Janus (or the VideoRoom plugin) refused a request."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason} (Janus {code})")
        self.code = code
        self.reason = reason


class JanusClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self._socket: ClientConnection | None = None
        self._session: int | None = None
        self._pending: dict[str, tuple[asyncio.Future[dict[str, Any]], bool]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._opening = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._socket is not None and self._session is not None

    async def open(self) -> None:
        """Connect and create the Janus session, unless done already."""
        async with self._opening:
            if self.connected:
                return
            try:
                self._socket = await asyncio.wait_for(
                    connect(self.url, subprotocols=[_subprotocol()], open_timeout=3,
                            max_size=2**22), 5)
            except (OSError, WebSocketException, TimeoutError) as exc:
                self._socket = None
                raise JanusDown(f"Janus at {self.url} is not reachable: {exc}") from None
            self._tasks = [asyncio.create_task(self._read()),
                           asyncio.create_task(self._keepalive())]
            reply = await self._send({"janus": "create"})
            self._session = int(reply["data"]["id"])

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        self._drop("closed")

    async def attach(self) -> int:
        """A new handle on the VideoRoom plugin."""
        await self.open()
        reply = await self._send({"janus": "attach", "plugin": PLUGIN,
                                  "session_id": self._session})
        return int(reply["data"]["id"])

    async def detach(self, handle: int) -> None:
        """Hang up and drop a handle (gone already: nothing to do)."""
        with contextlib.suppress(JanusError, JanusDown):
            await self._send({"janus": "detach", "session_id": self._session,
                              "handle_id": handle})

    async def request(self, handle: int, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous plugin request: its ``plugindata.data``."""
        reply = await self._send({"janus": "message", "session_id": self._session,
                                  "handle_id": handle, "body": body})
        return _plugin_data(reply)

    async def message(self, handle: int, body: dict[str, Any],
                      jsep: dict[str, Any] | None = None) -> tuple[dict[str, Any],
                                                                 dict[str, Any] | None]:
        """An asynchronous plugin request: the event's data and its jsep (if any)."""
        frame: dict[str, Any] = {"janus": "message", "session_id": self._session,
                                 "handle_id": handle, "body": body}
        if jsep is not None:
            frame["jsep"] = jsep
        reply = await self._send(frame, event=True)
        return _plugin_data(reply), reply.get("jsep")

    # --- the socket --------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any], *, event: bool = False) -> dict[str, Any]:
        if self._socket is None:
            raise JanusDown("Janus is not connected")
        transaction = secrets.token_hex(8)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = (future, event)
        try:
            await self._socket.send(json.dumps({**frame, "transaction": transaction}))
            reply = await asyncio.wait_for(future, REPLY_TIMEOUT_S)
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise JanusDown(f"Janus did not answer: {exc!r}") from None
        finally:
            self._pending.pop(transaction, None)
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "error")))
        return reply

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for raw in self._socket:
                self._dispatch(json.loads(raw))
        except (OSError, WebSocketException, ValueError) as exc:
            log.warning("janus connection lost: %r", exc)
        self._drop("Janus closed the connection")

    def _dispatch(self, reply: dict[str, Any]) -> None:
        pending = self._pending.get(str(reply.get("transaction")))
        if pending is None:
            return  # webrtcup, media, hangup, slowlink: the browser sees those itself
        future, wants_event = pending
        if wants_event and reply.get("janus") == "ack":
            return
        if not future.done():
            future.set_result(reply)

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            if self._session is not None:
                with contextlib.suppress(JanusDown, JanusError):
                    await self._send({"janus": "keepalive", "session_id": self._session})

    def _drop(self, why: str) -> None:
        """The connection is gone: every waiter fails, the next call reconnects."""
        self._socket, self._session = None, None
        for future, _ in list(self._pending.values()):
            if not future.done():
                future.set_exception(JanusDown(why))
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self._tasks = []


def _subprotocol() -> Any:
    from websockets.typing import Subprotocol

    return Subprotocol("janus-protocol")


def _plugin_data(reply: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
    if "error_code" in data:
        raise JanusError(int(data["error_code"]), str(data.get("error", "refused")))
    return data
