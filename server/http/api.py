"""The HTTP API under ``/api``: accounts, sessions and communities.

Tables of :class:`~server.http.endpoints.Endpoint` rows (:mod:`server.http.routes` and
the session and transcript tables) drive both the Starlette routes and the
generated OpenAPI document (``schemas/openapi.json``). Every call is decoded
with msgspec into its body type (``invalid`` on a bad field, changing
nothing); every state-changing call must carry ``X-CSRF-Token`` equal to the
``practica_csrf`` cookie (and to the session's token when signed in) and, if
the browser sent an ``Origin``, come from this server's own origin.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..actions.artefacts import Artefacts
from ..actions.communities import Communities
from ..actions.identity import ClientMeta, Identity
from ..actions.sessions import Sessions
from ..actions.transcripts import Transcripts
from ..authority import Principal
from ..cluster.lease import Liveness
from ..errors import (
    AuthFailed,
    CommandError,
    Conflict,
    CsrfFailed,
    ErrorCode,
    InvalidCommand,
    RateLimited,
    Unavailable,
)
from ..pipeline import refusal
from ..projections.search import Search
from ..settings import Settings
from ..store import AppliedCommand
from . import api_types as t
from . import idempotency
from .endpoints import (
    CSRF_COOKIE,
    CSRF_HEADER,
    MAX_BODY,
    SESSION_COOKIE,
    STATUS,
    Call,
    Download,
    Endpoint,
)
from .routes import build_endpoints
from .session_api import session_endpoints

log = logging.getLogger("practica.api")



def origin_allowed(origin: str | None, host: str, allowed: tuple[str, ...]) -> bool:
    """The one Origin rule, for HTTP calls and websocket upgrades alike.

    No ``Origin`` header: not a browser (browsers send it on every cross-site
    request and every websocket upgrade), so nothing to check here; such calls
    still need the session cookie, and state-changing ones the CSRF token. An
    ``Origin`` must be this server's own (http or https, the ``Host`` it was sent
    to) or listed in ``PRACTICA_ALLOWED_ORIGINS``; ``null`` never is."""
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host


_encoder = msgspec.json.Encoder()


class BodyTooLarge(InvalidCommand):
    """A request body over the limit: HTTP 413, and the rest is never read."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to be over ``limit``: from
    Content-Length before reading anything, else while streaming (chunked bodies),
    so an oversized body is never held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidCommand("Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_RETRY = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL})
"""Refusals not kept for an Idempotency-Key: nothing was applied and a retry is welcome."""


class Api:
    def __init__(self, identity: Identity, communities: Communities, settings: Settings,
                 search: Search | None = None, liveness: Liveness | None = None,
                 sessions: Sessions | None = None,
                 transcripts: Transcripts | None = None,
                 artefacts: Artefacts | None = None) -> None:
        self.identity, self.settings = identity, settings
        self.endpoints = build_endpoints(identity, communities, search)
        if sessions is not None:
            self.endpoints += session_endpoints(sessions)
        if transcripts is not None:
            from .transcript_api import transcript_endpoints  # it builds on this module
            self.endpoints += transcript_endpoints(transcripts)
        if artefacts is not None:
            from .artefact_api import artefact_endpoints
            self.endpoints += artefact_endpoints(artefacts)
        self.once = idempotency.HttpOnce(communities.store, liveness)
        self._decoders: dict[Any, msgspec.json.Decoder[Any]] = {
            e.body: msgspec.json.Decoder(e.body) for e in self.endpoints if e.body}

    def routes(self) -> list[Route]:
        return [Route(e.path, self._endpoint(e), methods=[e.method]) for e in self.endpoints]

    def _endpoint(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            call = Call(request=request, principal=None, body=None, meta=ClientMeta(
                address=request.client.host if request.client else "?",
                user_agent=request.headers.get("user-agent", "")))
            try:
                call.principal = await self.identity.principal(
                    request.cookies.get(SESSION_COOKIE), call.meta.address)
                if endpoint.method != "GET":
                    self._check_csrf(request, call.principal)
                if endpoint.auth in ("session", "account") and call.principal is None:
                    raise AuthFailed("sign in first")
                if endpoint.auth == "account" and call.who.account is None:
                    raise AuthFailed("guests cannot do this; sign in with an account")
                if endpoint.body is not None:
                    call.body = await self._decode(request, endpoint.body)
                elif endpoint.raw_body is not None:
                    call.body = await read_body(request, MAX_BODY)
                key = idempotency.key_of(request.headers.get(idempotency.HEADER))
                if key is not None and call.principal is not None and endpoint.method != "GET":
                    answer = await self.once.run(
                        call.principal.member, key,
                        idempotency.digest_of(endpoint.method, request.url.path,
                                              _encoder.encode(call.body)),
                        lambda: self._answer(endpoint, call),
                        lambda applied: self._replayed(endpoint, call, applied))
                else:
                    answer = await self._answer(endpoint, call, keep=False)
            except Exception as exc:  # the same mapping as the websocket's (pipeline)
                return self._error(refusal(exc, f"{endpoint.method} {endpoint.path}"))
            if answer.status == 204:
                response = Response(status_code=204)
            else:
                response = Response(answer.body, status_code=answer.status,
                                    media_type=answer.media_type)
            if answer.filename is not None:
                response.headers["content-disposition"] = (
                    f'attachment; filename="{answer.filename}"')
            response.headers["cache-control"] = "no-store"
            self._set_cookies(request, response, call.cookies)
            return response

        return serve

    async def _answer(self, endpoint: Endpoint, call: Call, *, keep: bool = True
                      ) -> idempotency.Answer:
        """Run the handler. With ``keep`` (an idempotent call), a refusal is an answer to
        keep like a success; one inviting a retry (nothing applied) is raised instead."""
        try:
            reply = await endpoint.handler(call)
        except CommandError as exc:
            if not keep or exc.code in _RETRY:
                raise
            refused = self._error(exc)
            return idempotency.Answer(refused.status_code, bytes(refused.body))
        if endpoint.reply is None:
            return idempotency.Answer(204, b"")
        if isinstance(reply, Download):
            return idempotency.Answer(endpoint.status, reply.content, reply.media_type,
                                      reply.filename)
        return idempotency.Answer(endpoint.status, _encoder.encode(reply))

    async def _replayed(self, endpoint: Endpoint, call: Call,
                        applied: AppliedCommand) -> idempotency.Answer:
        """The answer to a keyed call committed before by a process that died before
        answering: its success, rebuilt from what was committed."""
        if endpoint.reply is None:
            return idempotency.Answer(204, b"")
        if endpoint.replay is None:  # no endpoint with a reply appends without one
            raise Conflict("this call was applied, but its answer was lost; read the "
                           "current state")
        reply = await endpoint.replay(call, applied)
        return idempotency.Answer(endpoint.status, _encoder.encode(reply))

    async def _decode(self, request: Request, kind: type) -> Any:
        raw = await read_body(request, MAX_BODY)
        try:
            return self._decoders[kind].decode(raw or b"{}")
        except msgspec.ValidationError as exc:
            raise InvalidCommand(str(exc)) from None
        except msgspec.DecodeError as exc:
            raise InvalidCommand(f"not valid JSON: {exc}", code=ErrorCode.BAD_FRAME) from None

    def _check_csrf(self, request: Request, principal: Principal | None) -> None:
        origin = request.headers.get("origin")
        if not origin_allowed(origin, request.headers.get("host", ""),
                              self.settings.allowed_origins):
            raise CsrfFailed(f"requests from {origin} are not accepted")
        sent = request.headers.get(CSRF_HEADER, "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not sent or not hmac.compare_digest(sent.encode(), cookie.encode()):
            raise CsrfFailed("missing or wrong X-CSRF-Token header (GET /api/me gives one)")
        if principal is not None and not hmac.compare_digest(sent.encode(),
                                                             principal.csrf.encode()):
            raise CsrfFailed("the CSRF token does not belong to this session")

    def _set_cookies(self, request: Request, response: Response,
                     cookies: dict[str, str | None]) -> None:
        secure = self.settings.secure_cookies or request.url.scheme == "https"
        for name, value in cookies.items():
            http_only = name == SESSION_COOKIE
            if value is None:
                response.delete_cookie(name, path="/", secure=secure, httponly=http_only,
                                       samesite="lax")
            else:
                response.set_cookie(name, value, max_age=self.settings.session_days * 86400,
                                    path="/", secure=secure, httponly=http_only,
                                    samesite="lax")

    @staticmethod
    def _error(exc: CommandError) -> Response:
        status = 413 if isinstance(exc, BodyTooLarge) else STATUS.get(exc.code, 400)
        retry = exc.retry_after_ms if isinstance(exc, RateLimited | Unavailable) else None
        response = Response(_encoder.encode(t.ApiError(code=exc.code, message=exc.message,
                                                       retry_after_ms=retry)),
                            status_code=status, media_type="application/json")
        if retry is not None:
            response.headers["retry-after"] = str(max(1, -(-retry // 1000)))
        return response
