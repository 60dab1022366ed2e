"""Every role x every action against a running server, generated from the policy table.

For each role (and for someone from another community) every action is tried
for real, over HTTP or the websocket. What the policy allows must succeed;
what it refuses must come back as ``forbidden``, leave the community's and
the room's streams unchanged, and appear in the community's audit log (unless the
actor is not in the community: outsiders' refusals are rate limited, not audited).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.domain.events import audit_stream
from server.domain.policy import ON_GUESTS, Action, Actor, Resource, Role, allowed
from tests.people import Person
from tests.wsclient import Client

pytestmark = pytest.mark.anyio

GUILD = "guild"
OTHER = "other-guild"
_names = itertools.count(1)


@dataclass
class World:
    server: Any
    owner: Person
    room: str
    actor: Person
    role: Role | None
    socket: Client
    poster_message: int
    """A message in the room written by someone else (for moderation)."""
    own_messages: list[int] = field(default_factory=list)
    sockets: list[Client] = field(default_factory=list)

    async def close(self) -> None:
        for socket in [self.socket, *self.sockets]:
            await socket.close()

    @property
    def c(self) -> str:
        return f"/api/communities/{GUILD}"

    async def member(self, role: str = "member") -> Person:
        """A fresh person admitted to the guild (by invite) with ``role``."""
        person = await Person.sign_up(self.server.url, f"Target {next(_names)}")
        await admit(self.owner, person)
        if role != "member":
            reply = await self.owner.call("PUT", f"{self.c}/members/{person.id}/role",
                                          {"role": role})
            assert reply.status_code == 204, reply.text
        return person


async def admit(owner: Person, person: Person) -> None:
    reply = await owner.call("POST", f"/api/communities/{GUILD}/invites", {"max_uses": 1})
    assert reply.status_code == 201, reply.text
    accepted = await person.call("POST", f"/api/invites/{reply.json()['token']}/accept")
    assert accepted.json()["outcome"] == "joined", accepted.text


def outcome(reply: Any) -> str:
    """'ok' or the error code, for an HTTP response or a websocket reply."""
    if isinstance(reply, dict):
        return "ok" if reply["type"] in ("ack", "history", "ready") else reply["code"]
    return "ok" if reply.status_code < 300 else reply.json()["code"]


async def ws(world: World, type_: str, **fields: Any) -> str:
    return outcome(await world.socket.command(type_, **fields))


async def view_community(w: World) -> str:
    client = await w.actor.connect(w.server.ws_url)
    ready = await client.resume({f"community:{GUILD}": 0}, community=GUILD)
    await client.close()
    if ready["type"] == "error":
        return str(ready["code"])
    sync = next(s for s in ready["syncs"] if s["stream"] == f"community:{GUILD}")
    if sync["mode"] == "refused":
        assert "snapshot" not in sync and not sync.get("events"), sync
        return str(sync["error"])
    return "ok" if sync.get("snapshot") or sync["mode"] == "replay" else "no snapshot"


async def post(w: World) -> str:
    reply = await w.socket.command("post", room=w.room, text="a question")
    if reply["type"] == "ack":
        w.own_messages.append(reply["seq"])
    return outcome(reply)


async def own_message(w: World) -> int:
    """One of the actor's messages, or (when they cannot post) someone else's."""
    if not w.own_messages:
        await post(w)
    return w.own_messages.pop() if w.own_messages else w.poster_message


async def edit_own(w: World) -> str:
    return await ws(w, "edit", room=w.room, message=await own_message(w), text="reworded")


async def delete_own(w: World) -> str:
    return await ws(w, "delete", room=w.room, message=await own_message(w))


async def moderate(w: World) -> str:
    return await ws(w, "delete", room=w.room, message=w.poster_message)


async def approve_join(w: World) -> str:
    asker = await Person.sign_up(w.server.url, f"Asker {next(_names)}")
    asked = await asker.call("POST", f"{w.c}/join", {"note": "hello"})
    assert asked.json()["outcome"] == "requested", asked.text
    return outcome(await w.actor.call("POST", f"{w.c}/requests/{asker.id}/approve"))


async def targeted(w: World, method: str, suffix: str, body: Any = None) -> str:
    target = await w.member()
    return outcome(await w.actor.call(method, f"{w.c}/members/{target.id}/{suffix}", body))


async def guest_of(w: World) -> str:
    """A fresh guest of the guild's room (through the owner's guest link): their id."""
    link = await w.owner.call("POST", f"{w.c}/invites", {"kind": "guest", "room": w.room})
    guest = Person(w.server.url)
    await guest.refresh()
    entered = await guest.call("POST", "/api/guest", {"token": link.json()["token"],
                                                      "name": f"Guest {next(_names)}"})
    assert entered.status_code == 201, entered.text
    return str(entered.json()["guest"]["member"])


async def on_guest(w: World, suffix: str, body: Any) -> str:
    target = await guest_of(w)
    return outcome(await w.actor.call("POST", f"{w.c}/members/{target}/{suffix}", body))


async def lift_removal(w: World) -> str:
    target = await w.member()
    removed = await w.owner.call("POST", f"{w.c}/members/{target.id}/remove", {"reason": "x"})
    assert removed.status_code == 204, removed.text
    return outcome(await w.actor.call("POST", f"{w.c}/removed/{target.id}/lift"))


async def owner_session(w: World, *, asked: bool = False) -> str:
    """A fresh session the owner opened in the room (with a question of theirs)."""
    owner = await w.owner.connect(w.server.ws_url)
    w.sockets.append(owner)
    await owner.identify(community=GUILD)
    ack = await owner.command("session", op={"op": "open", "room": w.room, "title": "Hour"})
    session = str(ack["stream"]).partition(":")[2]
    if asked:
        reply = await owner.command("session", session=session,
                                    op={"op": "ask", "text": "What now?"})
        assert reply["type"] == "ack", reply
    return session


async def session_op(w: World, name: str, *, asked: bool = False, **fields: Any) -> str:
    session = await owner_session(w, asked=asked)
    return await ws(w, "session", session=session, op={"op": name, **fields})


async def owner_series(w: World) -> str:
    """A recurring room the owner scheduled in the room: its id."""
    made = await w.owner.call("POST", f"{w.c}/series", {
        "room": w.room, "title": "Weekly", "rule": "FREQ=WEEKLY", "start": "2030-01-08T18:00",
        "zone": "Europe/Berlin"})
    assert made.status_code == 201, made.text
    return str(made.json()["series"])


async def plan_sessions(w: World) -> str:
    series = await owner_series(w)
    return outcome(await w.actor.call("POST", f"/api/series/{series}/topics",
                                      {"title": "Bring a case"}))
async def curate(w: World) -> str:
    """Revise an artefact the owner made (the actor is not its author)."""
    made = await w.owner.call("POST", f"{w.c}/artefacts", {"kind": "faq", "title": "Theirs"})
    assert made.status_code == 201, made.text
    ident = made.json()["artefact"]["artefact"]
    return outcome(await w.actor.call("POST", f"/api/artefacts/{ident}/revisions", {
        "kind": "faq", "title": "Curated"}))


async def erase_words(w: World) -> str:
    """Erase the owner's question from the transcript (the actor's words are not)."""
    session = await owner_session(w, asked=True)
    state = w.server.practica.folds.session(session)
    return outcome(await w.actor.call("POST", f"/api/sessions/{session}/lines/"
                                      f"{state.seq}/erase"))


Attempt = Callable[[World], Awaitable[str]]
ATTEMPTS: dict[Action, Attempt] = {
    Action.VIEW_COMMUNITY: view_community,
    Action.JOIN_ROOM: lambda w: ws(w, "join", room=w.room),
    Action.READ_HISTORY: lambda w: ws(w, "history", room=w.room),
    Action.POST: post,
    Action.EDIT_OWN_MESSAGE: edit_own,
    Action.DELETE_OWN_MESSAGE: delete_own,
    Action.MODERATE_MESSAGES: moderate,
    Action.CREATE_GUEST_LINK: lambda w: _http(w, "POST", "/invites",
                                              {"kind": "guest", "room": w.room}),
    Action.CREATE_ROOM: lambda w: _http(w, "POST", "/rooms", {"name": "Side room"}),
    Action.INVITE_MEMBERS: lambda w: _http(w, "POST", "/invites", {"kind": "member"}),
    Action.APPROVE_JOIN: approve_join,
    Action.SET_ROLE: lambda w: targeted(w, "PUT", "role", {"role": "host"}),
    Action.REMOVE_MEMBER: lambda w: targeted(w, "POST", "remove", {"reason": "spam"}),
    Action.TIMEOUT_MEMBER: lambda w: targeted(w, "POST", "timeout", {"minutes": 5}),
    Action.REMOVE_GUEST: lambda w: on_guest(w, "remove", {"reason": "spam"}),
    Action.TIMEOUT_GUEST: lambda w: on_guest(w, "timeout", {"minutes": 5}),
    Action.LIFT_REMOVAL: lift_removal,
    Action.VIEW_AUDIT: lambda w: _http(w, "GET", "/audit"),
    Action.EDIT_COMMUNITY: lambda w: _http(w, "PATCH", "", {
        "name": "Guild", "domain": "Bridges", "purpose": "Build better",
        "join_policy": "approval"}),
    Action.ISSUE_PASSWORD_RESET: lambda w: targeted(w, "POST", "password-reset"),
    Action.RELAY_TYPING: lambda w: ws(w, "relay", stream=f"room:{w.room}", kind="typing"),
    Action.TAKE_PART: lambda w: session_op(w, "attend"),
    Action.SPEAK_IN_SESSION: lambda w: session_op(w, "ask", text="Why so?"),
    Action.OPEN_SESSION: lambda w: ws(w, "session", op={"op": "open", "room": w.room,
                                                        "title": "Mine"}),
    Action.RUN_SESSION: lambda w: session_op(w, "start"),
    Action.MODERATE_QUESTIONS: lambda w: session_op(w, "answer", asked=True, question=1),
    Action.SAVE_TEMPLATE: lambda w: _http(w, "POST", "/templates", {
        "name": "Short hour", "agenda": [{"kind": "qa", "title": "Q&A", "minutes": 20}]}),
    Action.KEEP_PAIR_BLOCKS: lambda w: _http(w, "PUT", f"/pair-blocks/{w.owner.id}"),
    Action.VIEW_PAIRINGS: lambda w: _http(w, "GET", "/pairings"),
    Action.PLAN_SESSIONS: plan_sessions,
    Action.SCHEDULE_SERIES: lambda w: _http(w, "POST", "/series", {
        "room": w.room, "title": "Mine", "rule": "FREQ=DAILY", "start": "2030-01-08T18:00",
        "zone": "Europe/Berlin"}),
    Action.READ_REPERTOIRE: lambda w: _http(w, "GET", "/artefacts"),
    Action.WRITE_ARTEFACT: lambda w: _http(w, "POST", "/artefacts", {
        "kind": "insight", "title": "Mine"}),
    Action.CURATE_REPERTOIRE: curate,
    Action.ERASE_WORDS: erase_words,
    Action.LEAVE_COMMUNITY: lambda w: _http(w, "POST", "/leave"),  # last: it ends the role
}


async def _http(w: World, method: str, suffix: str, body: Any = None) -> str:
    return outcome(await w.actor.call(method, w.c + suffix, body))


def test_every_action_has_an_attempt_and_leave_comes_last():
    assert set(ATTEMPTS) == set(Action)
    assert list(ATTEMPTS)[-1] is Action.LEAVE_COMMUNITY


async def build_world(server: Any, role: Role | None) -> World:
    owner = await Person.sign_up(server.url, "Owner")
    created = await owner.call("POST", "/api/communities", {
        "community": GUILD, "name": "Guild", "domain": "Bridges", "purpose": "Build",
        "join_policy": "approval"})
    assert created.status_code == 201, created.text
    page = await owner.call("POST", f"/api/communities/{GUILD}/rooms", {"name": "Workshop"})
    room = page.json()["rooms"][0]["room"]
    poster = await Person.sign_up(server.url, "Poster")
    await admit(owner, poster)
    poster_socket = await poster.connect(server.ws_url)
    await poster_socket.identify(community=GUILD)
    await poster_socket.command("join", room=room)
    message = (await poster_socket.command("post", room=room, text="their message"))["seq"]

    if role is Role.GUEST:
        link = await owner.call("POST", f"/api/communities/{GUILD}/invites",
                                {"kind": "guest", "room": room})
        actor = Person(server.url)
        await actor.refresh()
        entered = await actor.call("POST", "/api/guest", {"token": link.json()["token"],
                                                          "name": "Visiting Vera"})
        assert entered.status_code == 201, entered.text
        actor.me, actor.csrf = entered.json(), entered.json()["csrf"]
        socket = await actor.connect(server.ws_url)
        assert (await socket.identify())["type"] == "ready"
    else:
        actor = await Person.sign_up(server.url, f"Actor {role}")
        if role is None:  # someone from another community: owner there, nobody here
            made = await actor.call("POST", "/api/communities", {
                "community": OTHER, "name": "Other", "domain": "d", "purpose": "p"})
            assert made.status_code == 201, made.text
        else:
            await admit(owner, actor)
            if role is not Role.MEMBER:
                set_role = await owner.call("PUT", f"/api/communities/{GUILD}/members/"
                                            f"{actor.id}/role", {"role": role.label})
                assert set_role.status_code == 204, set_role.text
        socket = await actor.connect(server.ws_url)
        ready = await socket.identify(community=OTHER if role is None else GUILD)
        assert ready["type"] == "ready", ready
    if role is not None:
        await socket.command("join", room=room)  # refused or not, as its own row says
    return World(server=server, owner=owner, room=room, actor=actor, role=role,
                 socket=socket, poster_message=message, sockets=[poster_socket])


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.label if r else "outsider")
@pytest.mark.settings(refusals_per_minute=100, outsider_refusals_per_minute=120)  # one
# refusal per action (more actions than either default allows in a minute)
async def test_every_action_as_each_role_does_what_the_policy_says(server, role):
    world = await build_world(server, role)
    store = server.practica.store
    streams = [f"community:{GUILD}", f"room:{world.room}"]
    mismatches = []
    for action, attempt in ATTEMPTS.items():
        actor = Actor(id=world.actor.id, role=role,
                      guest_room=world.room if role is Role.GUEST else None)
        target = Role.GUEST if action in ON_GUESTS else Role.MEMBER
        expected = allowed(actor, action, Resource(
            community=GUILD, room=world.room, target_role=target, new_role=Role.HOST))
        audit_head = await store.head(audit_stream(GUILD))
        heads = [await store.head(s) for s in streams]
        if action in (Action.APPROVE_JOIN, Action.SET_ROLE, Action.REMOVE_MEMBER,
                      Action.TIMEOUT_MEMBER, Action.ISSUE_PASSWORD_RESET, Action.LIFT_REMOVAL,
                      *ON_GUESTS):
            heads = None  # their set-up (a new target or request) changes the stream first
        got = await attempt(world)
        if expected:
            if got != "ok":
                mismatches.append(f"{action}: allowed by policy, got {got}")
            continue
        if got != "forbidden":
            mismatches.append(f"{action}: refused by policy ({expected.reason}), got {got}")
            continue
        if heads is not None and [await store.head(s) for s in streams] != heads:
            mismatches.append(f"{action}: refused but a stream changed")
        audit = await store.read(audit_stream(GUILD), after=audit_head)
        # Someone who cannot post has no message of their own: deleting another's is
        # moderation, and is refused (and audited) as that.
        names = {action.value, *(["moderate_messages"] if action is Action.DELETE_OWN_MESSAGE
                                 else [])}
        refusals = [e for e in audit if e.actor == world.actor.id
                    and e.body.outcome == "refused" and e.body.action in names]
        if role is None and refusals:  # an outsider's refusals are limited, not audited
            mismatches.append(f"{action}: an outsider's refusal is in the audit log")
        if role is not None and not refusals:
            mismatches.append(f"{action}: refused but not in the audit log")
    await world.close()
    assert mismatches == []


async def test_refused_targeted_actions_change_nothing(server):
    """The rows above skip the stream check where set-up appends; check them here."""
    world = await build_world(server, Role.HOST)
    target = await world.member("convener")
    head = await server.practica.store.head(f"community:{GUILD}")
    for method, suffix, body in [("PUT", "role", {"role": "member"}),
                                 ("POST", "remove", {"reason": "x"}),
                                 ("POST", "timeout", {"minutes": 5}),
                                 ("POST", "password-reset", None)]:
        reply = await world.actor.call(method, f"{world.c}/members/{target.id}/{suffix}", body)
        assert (reply.status_code, reply.json()["code"]) == (403, "forbidden")
    assert await server.practica.store.head(f"community:{GUILD}") == head
    await world.close()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.label)
async def test_ready_lists_exactly_the_actions_the_policy_allows(server, role):
    """``ready.session.actions`` is what the client shows controls from: the actions the
    test above finds allowed (on someone ranked below, in the guest's own room)."""
    world = await build_world(server, role)
    again = await world.actor.connect(server.ws_url)
    world.sockets.append(again)
    ready = await again.identify(**({} if role is Role.GUEST else {"community": GUILD}))
    actor = Actor(id=world.actor.id, role=role,
                  guest_room=world.room if role is Role.GUEST else None)
    expected = [action.value for action in Action if allowed(actor, action, Resource(
        community=GUILD, room=world.room,
        target_role=Role.GUEST if action in ON_GUESTS else Role.MEMBER, new_role=Role.MEMBER))]
    assert ready["session"]["actions"] == expected
    grantable = {Role.CONVENER: ["member", "host"],
                 Role.OWNER: ["member", "host", "convener", "owner"]}.get(role, [])
    assert ready["session"].get("grantable_roles", []) == grantable
    await world.close()
