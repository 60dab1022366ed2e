"""The route table of accounts and communities: one :class:`Endpoint` row per call,
which :class:`server.http.api.Api` serves and :mod:`server.http.openapi` documents."""

from __future__ import annotations

import secrets
from typing import Any

from ..actions.communities import Communities
from ..actions.identity import Identity
from ..authority import Principal
from ..projections.search import MAX_LIMIT, Search
from . import api_types as t
from .endpoints import CSRF_COOKIE, SESSION_COOKIE, Call, Endpoint


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
                community=principal.guest_community, room=principal.guest_room,
                session=principal.guest_session))
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
                 t.EditCommunity, t.CommunityPage,
                 replay=lambda call, _: communities.page(call.who, call.param("community"))),
        Endpoint("POST", c + "/rooms", "Create a room",
                 lambda call: communities.create_room(call.who, call.param("community"),
                                                      call.body),
                 t.CreateRoom, t.RoomCreatedPage, 201,
                 replay=lambda call, applied: communities.created_room(
                     call.who, call.param("community"), applied)),
        Endpoint("POST", c + "/join", "Join (open), or ask to join (approval)",
                 lambda call: communities.join(call.who, call.param("community"), call.body),
                 t.JoinRequest, t.JoinOutcome, auth="account",
                 replay=lambda call, _: _sync(communities.joined(call.who,
                                                                 call.param("community")))),
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
                 reply=t.JoinOutcome, auth="account",
                 replay=lambda call, applied: _sync(communities.joined(
                     call.who, applied.stream.removeprefix("community:")))),
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
