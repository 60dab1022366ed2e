"""The HTTP API under ``/api``: accounts, sessions and communities.

One table of :class:`Endpoint` rows drives both the Starlette routes and the
generated OpenAPI document (``schemas/openapi.json``). Every call is decoded
with msgspec into its body type (``invalid`` on a bad field, changing
nothing); every state-changing call must carry ``X-CSRF-Token`` equal to the
``practica_csrf`` cookie (and to the session's token when signed in) and, if
the browser sent an ``Origin``, come from this server's own origin.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..actions.communities import Communities
from ..actions.identity import ClientMeta, Identity
from ..actions.sessions import Sessions
from ..authority import Principal
from ..errors import (
    AuthFailed,
    CommandError,
    CsrfFailed,
    ErrorCode,
    InvalidCommand,
    RateLimited,
    Unavailable,
)
from ..pipeline import refusal
from ..projections.search import MAX_LIMIT, Search
from ..settings import Settings
from . import api_types as t
from . import idempotency
from .session_api import session_endpoints

log = logging.getLogger("practica.api")

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


def build_endpoints(identity: Identity, communities: Communities,
                    search: Search | None = None) -> list[Endpoint]:
    async def me(call: Call) -> t.Me:
        principal = call.principal
        csrf = principal.csrf if principal else call.request.cookies.get(CSRF_COOKIE)
        if not csrf or len(csrf) > 64:
            csrf = secrets.token_urlsafe(24)
        call.cookies[CSRF_COOKIE] = csrf
        if principal is None:
            return t.Me(account=None, guest=None, csrf=csrf, memberships=[])
        if principal.account is None:
            assert principal.guest_community and principal.guest_room
            return t.Me(account=None, csrf=csrf, memberships=[], guest=t.Guest(
                member=principal.member, name=principal.name,
                community=principal.guest_community, room=principal.guest_room))
        return t.Me(account=await identity.profile(principal.account), guest=None, csrf=csrf,
                    memberships=identity.memberships(principal.account))

    async def signed_in(call: Call, token: str, principal: Principal) -> t.Me:
        call.cookies[SESSION_COOKIE] = token
        call.principal = principal
        return await me(call)

    async def sign_up(call: Call) -> t.Me:
        return await signed_in(call, *await identity.sign_up(call.body, call.meta))

    async def sign_in(call: Call) -> t.Me:
        return await signed_in(call, *await identity.sign_in(call.body, call.meta))

    async def guest(call: Call) -> t.Me:
        return await signed_in(call, *await communities.links.enter_as_guest(
            call.body.token, call.body.name, call.meta))

    async def sign_out(call: Call) -> None:
        await identity.sign_out(call.who)
        call.cookies[SESSION_COOKIE] = None

    async def delete_account(call: Call) -> None:
        await identity.delete_account(call.who, call.body.password)
        call.cookies[SESSION_COOKIE] = None

    async def audit(call: Call) -> t.AuditPage:
        before = call.query("before", t.AuditBefore, None)
        limit = call.query("limit", t.AuditLimit, 50)
        return await communities.audit(call.who, call.param("community"), before, limit)

    async def find(call: Call) -> t.SearchResults:
        assert search is not None
        text = call.query("q", t.SearchText, "")
        limit = call.query("limit", t.SearchLimit, 20)
        return await search.search(call.who, call.param("community"), text, limit)

    c = "/api/communities/{community}"
    member = c + "/members/{member}"
    return [
        Endpoint("GET", "/api/me", "Who is signed in (or not), and the CSRF token to send",
                 me, reply=t.Me, auth="optional"),
        Endpoint("POST", "/api/signup", "Create an account and sign in", sign_up,
                 t.SignUp, t.Me, 201, auth="none"),
        Endpoint("POST", "/api/signin", "Sign in (rate limited per login and per address)",
                 sign_in, t.SignIn, t.Me, auth="none", refusals=(401,)),
        Endpoint("POST", "/api/signout", "End this session; its sockets close with 4008",
                 sign_out),
        Endpoint("GET", "/api/sessions", "Your signed-in sessions",
                 lambda call: identity.sessions(call.who), reply=list[t.SessionInfo],
                 auth="account"),
        Endpoint("DELETE", "/api/sessions/{session}", "Sign one of your sessions out",
                 lambda call: identity.revoke_session(call.who, call.param("session")),
                 auth="account"),
        Endpoint("PATCH", "/api/profile", "Change your display name, pronouns, time zone or "
                 "practice", lambda call: identity.update_profile(call.who, call.body),
                 t.ProfileUpdate, t.Profile, auth="account"),
        Endpoint("GET", "/api/export", "Everything you wrote, and your profile",
                 lambda call: identity.export(call.who), reply=t.Export, auth="account"),
        Endpoint("POST", "/api/account/delete", "Delete your account (needs your password)",
                 delete_account, t.ConfirmPassword, auth="account"),
        Endpoint("POST", "/api/password-resets/{token}", "Set a new password with a "
                 "one-time reset link", lambda call: identity.resets.redeem(
                     call.param("token"), call.body.password), t.NewPassword, auth="none"),
        Endpoint("POST", "/api/guest", "Enter one room as a guest through a guest link",
                 guest, t.GuestEntry, t.Me, 201, auth="none", refusals=(404,)),
        Endpoint("GET", "/api/communities", "Every community on this server",
                 lambda call: _sync(communities.directory()),
                 reply=list[t.CommunityCard], auth="optional"),
        Endpoint("POST", "/api/communities", "Create a community; you are its owner",
                 lambda call: communities.create(call.who, call.body), t.CreateCommunity,
                 t.CommunityPage, 201, auth="account"),
        Endpoint("GET", c, "A community's front page",
                 lambda call: communities.page(call.principal, call.param("community")),
                 reply=t.CommunityPage, auth="optional"),
        Endpoint("PATCH", c, "Edit the domain, purpose, description or join policy",
                 lambda call: communities.edit(call.who, call.param("community"), call.body),
                 t.EditCommunity, t.CommunityPage),
        Endpoint("POST", c + "/rooms", "Create a room",
                 lambda call: communities.create_room(call.who, call.param("community"),
                                                      call.body),
                 t.CreateRoom, t.RoomCreatedPage, 201),
        Endpoint("POST", c + "/join", "Join (open), or ask to join (approval)",
                 lambda call: communities.join(call.who, call.param("community"), call.body),
                 t.JoinRequest, t.JoinOutcome, auth="account"),
        Endpoint("POST", c + "/leave", "Leave the community",
                 lambda call: communities.leave(call.who, call.param("community"))),
        Endpoint("GET", c + "/requests", "Pending requests to join",
                 lambda call: communities.requests(call.who, call.param("community")),
                 reply=list[t.PendingRequest]),
        Endpoint("POST", c + "/requests/{account}/approve", "Admit who asked",
                 lambda call: communities.decide_request(
                     call.who, call.param("community"), call.param("account"), True)),
        Endpoint("POST", c + "/requests/{account}/decline", "Decline a request",
                 lambda call: communities.decide_request(
                     call.who, call.param("community"), call.param("account"), False)),
        Endpoint("GET", c + "/invites", "Invite and guest links",
                 lambda call: communities.links.listed(call.who, call.param("community")),
                 reply=list[t.InviteInfo]),
        Endpoint("POST", c + "/invites", "Create an invite link (or a guest link to a room)",
                 lambda call: communities.links.create(call.who, call.param("community"),
                                                        call.body),
                 t.CreateInvite, t.InviteCreated, 201),
        Endpoint("DELETE", c + "/invites/{invite}", "Revoke a link",
                 lambda call: communities.links.revoke(call.who, call.param("community"),
                                                        call.param("invite"))),
        Endpoint("GET", "/api/invites/{token}", "What an invite or guest link is for",
                 lambda call: communities.links.preview(call.param("token")),
                 reply=t.InvitePreview, auth="none"),
        Endpoint("POST", "/api/invites/{token}/accept", "Join through an invite link",
                 lambda call: communities.links.accept(call.who, call.param("token")),
                 reply=t.JoinOutcome, auth="account"),
        Endpoint("PUT", member + "/role", "Grant or revoke a role (their sockets reconnect)",
                 lambda call: communities.set_role(call.who, call.param("community"),
                                                   call.param("member"), call.body.role),
                 t.SetRole),
        Endpoint("POST", member + "/remove", "Remove a member, saying why: they may not "
                 "come back until the removal is lifted. For a guest (hosts may): their "
                 "session ends", lambda call: communities.moderation.remove(
                     call.who, call.param("community"), call.param("member"),
                     call.body.reason), t.RemoveMember),
        Endpoint("POST", member + "/timeout", "Stop a member or guest posting for some "
                 "minutes (leaving and coming back keeps it)",
                 lambda call: communities.moderation.timeout(
                     call.who, call.param("community"), call.param("member"), call.body),
                 t.TimeoutMember),
        Endpoint("GET", c + "/removed", "Who was removed, when, by whom and why",
                 lambda call: communities.moderation.removed(call.who, call.param("community")),
                 reply=list[t.RemovedMember]),
        Endpoint("POST", c + "/removed/{member}/lift", "Lift a removal: they may join again",
                 lambda call: communities.moderation.lift(
                     call.who, call.param("community"), call.param("member"))),
        Endpoint("POST", member + "/password-reset", "Issue a one-time password-reset link",
                 lambda call: communities.issue_reset(call.who, call.param("community"),
                                                      call.param("member")),
                 reply=t.ResetLink, status=201),
        Endpoint("GET", c + "/audit", "The audit log, newest first", audit,
                 reply=t.AuditPage, query=(
                     ("before", t.AuditBefore, "Entries with seq below this"),
                     ("limit", t.AuditLimit, "How many entries (default 50)"))),
        Endpoint("GET", c + "/search", "Search the messages of the rooms you may read, best "
                 "match first. Words must all match; \"quoted phrases\" and -excluded words "
                 "work; anything else is a word to find, never syntax", find,
                 reply=t.SearchResults, query=(
                     ("q", t.SearchText, "What to find (1 to 200 characters)"),
                     ("limit", t.SearchLimit, f"1 to {MAX_LIMIT} (default 20)"))),
    ]


async def _sync(value: Any) -> Any:
    return value


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
                 search: Search | None = None, sessions: Sessions | None = None) -> None:
        self.identity, self.settings = identity, settings
        self.endpoints = build_endpoints(identity, communities, search)
        if sessions is not None:
            self.endpoints += session_endpoints(sessions)
        self.once = idempotency.HttpOnce(communities.store)
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
                key = idempotency.key_of(request.headers.get(idempotency.HEADER))
                if key is not None and call.principal is not None and endpoint.method != "GET":
                    answer = await self.once.run(
                        call.principal.member, key,
                        idempotency.digest_of(endpoint.method, request.url.path,
                                              _encoder.encode(call.body)),
                        lambda: self._answer(endpoint, call))
                else:
                    answer = await self._answer(endpoint, call, keep=False)
            except Exception as exc:  # the same mapping as the websocket's (pipeline)
                return self._error(refusal(exc, f"{endpoint.method} {endpoint.path}"))
            if answer.status == 204:
                response = Response(status_code=204)
            else:
                response = Response(answer.body, status_code=answer.status,
                                    media_type="application/json")
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
