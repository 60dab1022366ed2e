"""HTTP routes of live sessions: a session's snapshot, a room's sessions, and the
community's saved run-of-show templates. Commands go over the websocket
(``session`` frames); these are for pages that load before the socket, and for
tools. Reading a session needs ``read_history`` on its room, as following its
stream does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ..domain.events import Id
from ..domain.names import DisplayName
from ..domain.policy import Action
from ..domain.session import Phase, SessionSnapshot
from ..domain.session_events import Agenda, Segment
from ..errors import Forbidden
from ..streams import SESSION
from .api_types import Body
from .endpoints import Call, Endpoint

if TYPE_CHECKING:
    from ..actions.sessions import Sessions


class SessionView(msgspec.Struct, kw_only=True):
    """A session as it is now: follow ``session:<id>`` from ``seq + 1`` for what follows."""

    snapshot: SessionSnapshot
    seq: int
    mine: list[int]
    """The questions you asked (anonymous ones too: only you see this list)."""
    server_time_ms: int
    """The server's clock now: count down from ``snapshot.deadline_ms`` with it."""


class SessionSummary(msgspec.Struct, kw_only=True):
    session: Id
    room: Id
    title: str
    phase: Phase
    index: int
    segments: int
    started_ms: int | None = None
    ended_ms: int | None = None


class Template(msgspec.Struct, kw_only=True):
    name: str
    agenda: list[Segment]


class SaveTemplate(Body):
    name: DisplayName
    agenda: Agenda


def session_endpoints(sessions: Sessions) -> list[Endpoint]:
    from ..authority import now_ms

    async def view(call: Call) -> SessionView:
        ident = call.param("session")
        found = sessions.authority.readable(call.who, SESSION.stream(ident))
        if not found.decision:
            raise Forbidden(found.decision.reason)
        state = sessions.folds.session(ident)
        return SessionView(snapshot=state.snapshot(), seq=state.seq,
                           mine=await sessions.mine(call.who, state),
                           server_time_ms=now_ms())

    async def of_room(call: Call) -> list[SessionSummary]:
        room = call.param("room")
        community = sessions.folds.community_of_room(room).community
        await sessions.authority.check(call.who, Action.READ_HISTORY, community, room=room)
        return [SessionSummary(session=s.session, room=s.room, title=s.title, phase=s.phase,
                               index=s.index, segments=len(s.agenda),
                               started_ms=s.started_ms, ended_ms=s.ended_ms)
                for s in sessions.folds.sessions_of_room(room)]

    async def templates(call: Call) -> list[Template]:
        saved = sessions.templates(call.who, call.param("community"))
        return [Template(name=name, agenda=agenda) for name, agenda in saved.items()]

    async def save(call: Call) -> Template:
        body: SaveTemplate = call.body
        await sessions.save_template(call.who, call.param("community"), body.name,
                                     list(body.agenda))
        return Template(name=body.name, agenda=list(body.agenda))

    c = "/api/communities/{community}"
    return [
        Endpoint("GET", "/api/sessions/{session}", "A live session now: its snapshot, its "
                 "seq, and which questions are yours", view, reply=SessionView,
                 refusals=(404,)),
        Endpoint("GET", "/api/rooms/{room}/sessions", "The live sessions of a room, "
                 "opened first first", of_room, reply=list[SessionSummary], refusals=(404,)),
        Endpoint("GET", c + "/templates", "Run-of-show templates for sessions (the default "
                 "\"community hour\" first)", templates, reply=list[Template]),
        Endpoint("POST", c + "/templates", "Save an agenda as a template (the same name "
                 "replaces it)", save, SaveTemplate, Template, 201),
    ]
