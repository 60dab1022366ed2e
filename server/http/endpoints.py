"""What an HTTP endpoint is: the :class:`Endpoint` row a route table is made of, the
:class:`Call` its handler gets, a :class:`Download` reply, and the names and statuses
every endpoint shares (cookies, the CSRF header, the body limit, error code → status).

The rows are served by :class:`server.http.api.Api` and described by
:mod:`server.http.openapi`; the tables are :mod:`server.http.routes` (accounts and
communities), :mod:`server.http.session_api` and :mod:`server.http.transcript_api`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from starlette.requests import Request

from ..actions.identity import ClientMeta
from ..authority import Principal
from ..errors import ErrorCode, InvalidCommand
from ..store import AppliedCommand

SESSION_COOKIE = "practica_session"
CSRF_COOKIE = "practica_csrf"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 64 * 1024

STATUS = {
    ErrorCode.BAD_FRAME: 400, ErrorCode.INVALID: 400, ErrorCode.UNKNOWN_TYPE: 400,
    ErrorCode.AUTH_FAILED: 401, ErrorCode.NOT_IDENTIFIED: 401,
    ErrorCode.FORBIDDEN: 403, ErrorCode.CSRF_FAILED: 403,
    ErrorCode.NOT_FOUND: 404, ErrorCode.CONFLICT: 409, ErrorCode.NOT_JOINED: 409,
    ErrorCode.OUT_OF_ORDER: 409,
    ErrorCode.ALREADY_IDENTIFIED: 409, ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503, ErrorCode.INTERNAL: 500,
}

Auth = Literal["none", "optional", "session", "account"]


@dataclass(slots=True)
class Call:
    """One HTTP call as a handler sees it."""

    request: Request
    principal: Principal | None
    body: Any
    meta: ClientMeta
    cookies: dict[str, str | None] = field(default_factory=dict)
    """Cookies to set on the response (None clears one)."""

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, kind: Any, default: Any) -> Any:
        """A query parameter converted to ``kind`` (bounds included), or ``invalid``."""
        if name not in self.request.query_params:
            return default
        try:
            return msgspec.convert(self.request.query_params[name], kind, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidCommand(f"query parameter {name}: {exc}") from None

    @property
    def who(self) -> Principal:
        assert self.principal is not None
        return self.principal


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    summary: str
    handler: Handler
    body: type | None = None
    reply: Any = None
    """The response body type; None for 204 No Content."""
    status: int = 200
    auth: Auth = "session"
    query: tuple[tuple[str, Any, str], ...] = ()
    """(name, type, description) of query parameters; the type carries the bounds."""
    refusals: tuple[int, ...] = ()
    """HTTP statuses this endpoint answers besides those its method, auth and path
    imply (for the OpenAPI document): 401 for a wrong password, 404 for a bad link..."""
    replay: Callable[[Call, AppliedCommand], Awaitable[Any]] | None = None
    """The reply to a call sent with an Idempotency-Key whose change was committed by a
    process that died before answering (204 endpoints need none)."""
    raw_body: str | None = None
    """The media type of a body taken as it is (the handler gets bytes), not JSON."""
    produces: str = "application/json"
    """The media type of the reply; a handler of any other returns a :class:`Download`."""


@dataclass(frozen=True, slots=True)
class Download:
    """A reply that is a file: its bytes, media type and the name to save it under."""

    content: bytes
    media_type: str
    filename: str
