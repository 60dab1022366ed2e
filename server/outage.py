"""Which failures mean "a dependency is down", so they are answered ``unavailable``.

A store that cannot make a change durable (PostgreSQL unreachable or shut
down, SQLite unable to write: read-only, disk full, I/O error, locked) is
not a bug: the command is answered ``unavailable`` with a retry hint and
changed nothing (a write whose fate is unknown is safe to retry: commands
carry a ref and are applied once). Anything else unexpected stays
``internal``. Websocket commands and HTTP calls both map errors through here.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from redis.exceptions import RedisError
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from .errors import StoreError, Unavailable

RETRY_AFTER_MS = 1000
"""How long a client should wait before retrying a command answered ``unavailable``."""

_OUTAGES: tuple[type[BaseException], ...] = (
    StoreError,
    OSError,  # refused, reset, unreachable, disk full
    TimeoutError,
    sqlite3.OperationalError,  # readonly database, disk I/O error, database is locked, full
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # the connection was closed under the query
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # disk full, out of memory
    asyncpg.exceptions.ReadOnlySQLTransactionError,  # a replica after failover
    RedisError,  # a Redis failure that slipped past its local fallback
)


def as_unavailable(exc: BaseException) -> Unavailable | None:
    """The ``unavailable`` answer for an outage, or None if ``exc`` is something else."""
    if isinstance(exc, Unavailable):
        return exc
    if not isinstance(exc, _OUTAGES):
        return None
    reason = str(exc) or type(exc).__name__
    return Unavailable(f"not applied: {reason}; retry", retry_after_ms=RETRY_AFTER_MS)


async def refuse_websocket(websocket: WebSocket, unavailable: Unavailable) -> None:
    """Answer a websocket handshake the store could not serve (the session could not be
    read) with HTTP 503 and ``Retry-After``: the client reconnects later, as after a drop."""
    response = JSONResponse({"code": unavailable.code.value, "message": unavailable.message,
                             "retry_after_ms": unavailable.retry_after_ms}, status_code=503,
                            headers={"retry-after": str(-(-unavailable.retry_after_ms // 1000))})
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:  # the ASGI server cannot send a response: refuse the handshake (HTTP 403)
        await websocket.close(1013)
