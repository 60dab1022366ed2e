"""The stage's audio/video through Janus, with Practica in the middle.

Browsers never talk to Janus's API: they send their SDP to Practica, which checks who
they are and forwards it. Only someone on the session's stage may publish; only the
session's attendees may subscribe, and only to a feed of someone on stage. Each session
gets its own VideoRoom room (made on first use, with a secret only Practica knows); when a
person leaves the stage (or the session ends) Practica kicks them from that room, which
stops their stream for every viewer. Media itself flows between browsers and Janus.

If Janus is not reachable, :meth:`StageMedia.view` says room-wide video is off and the
publish/subscribe calls answer ``unavailable``; nothing else in the session depends on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..authority import Principal
from ..domain.events import Event
from ..domain.session import SessionState
from ..domain.session_events import SessionEnded, StageChanged
from ..errors import Forbidden, InvalidCommand, NotFound, Unavailable
from ..streams import SESSION
from .janus_client import JanusClient, JanusDown, JanusError
from .media_types import Jsep, MediaView, Published, Publisher, Subscribed

if TYPE_CHECKING:
    from ..actions.sessions import Sessions

log = logging.getLogger("practica.media")

RETRY_AFTER_MS = 5_000
DOWN_FOR_S = 3.0  # after a failed connect, say "off" without trying again for this long
ROOM_EXISTS, NO_SUCH_FEED, NO_SUCH_ROOM = 427, 428, 426
MAX_PUBLISHERS = 16


@dataclass(slots=True)
class Subscription:
    session: str
    member: str
    feed: int
    handle: int
    video_mids: list[str]


def _number(text: str) -> int:
    """A stable id Janus and JavaScript both take (below 2**53), never 0."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big") | 1


def room_of(session: str) -> int:
    return _number(f"room:{session}")


def feed_of(session: str, member: str) -> int:
    return _number(f"feed:{session}:{member}")


class StageMedia:
    def __init__(self, sessions: Sessions, url: str) -> None:
        self.sessions = sessions
        self.url = url
        self.janus = JanusClient(url) if url else None
        self._down_until = 0.0
        self._rooms: set[int] = set()
        self._control: int | None = None
        self._publishers: dict[tuple[str, str], int] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.janus is not None:
            await self.janus.close()

    # --- who may do what ---------------------------------------------------------------

    def _session(self, principal: Principal, session: str) -> SessionState:
        """The session, if ``principal`` attends it (else forbidden / not found)."""
        found = self.sessions.authority.readable(principal, SESSION.stream(session))
        if not found.decision:
            raise Forbidden(found.decision.reason)
        state = self.sessions.folds.session(session)
        if not state.room:
            raise NotFound(f"no session {session!r}")
        if principal.member not in state.attendees:
            raise Forbidden("only the session's attendees receive its video: attend it first")
        return state

    # --- Janus -------------------------------------------------------------------------

    async def _client(self) -> JanusClient:
        if self.janus is None:
            raise Unavailable("room-wide video is off: no media server is configured",
                              retry_after_ms=RETRY_AFTER_MS)
        if time.monotonic() < self._down_until:
            raise Unavailable("room-wide video is off: the media server is not reachable",
                              retry_after_ms=RETRY_AFTER_MS)
        try:
            await self.janus.open()
        except JanusDown:
            self._down_until = time.monotonic() + DOWN_FOR_S
            self._rooms.clear()
            self._control = None
            raise Unavailable("room-wide video is off: the media server is not reachable",
                              retry_after_ms=RETRY_AFTER_MS) from None
        if self._control is None:
            self._control = await self.janus.attach()
        return self.janus

    async def _secret(self, session: str) -> str:
        key = await self.sessions.secret()
        return hmac.new(key, f"janus-room:{session}".encode(), hashlib.sha256).hexdigest()

    async def _room(self, janus: JanusClient, session: str) -> int:
        """The session's VideoRoom room, made now if Janus does not have it yet."""
        room = room_of(session)
        if room in self._rooms:
            return room
        assert self._control is not None
        try:
            await janus.request(self._control, {
                "request": "create", "room": room, "permanent": False, "is_private": True,
                "secret": await self._secret(session), "publishers": MAX_PUBLISHERS,
                "description": f"practica {session}"[:60], "audiocodec": "opus",
                "videocodec": "vp8", "bitrate": 512_000, "notify_joining": False})
        except JanusError as exc:
            if exc.code != ROOM_EXISTS:
                raise
        self._rooms.add(room)
        return room

    async def _guard(self, call: Any) -> Any:
        """Run a Janus exchange; Janus down → ``unavailable``, refused → ``invalid``."""
        try:
            return await call
        except JanusDown:
            self._rooms.clear()
            self._control = None
            raise Unavailable("room-wide video is off: the media server is not reachable",
                              retry_after_ms=RETRY_AFTER_MS) from None
        except JanusError as exc:
            raise InvalidCommand(f"the media server refused: {exc.reason}") from None

    # --- reading -----------------------------------------------------------------------

    async def view(self, principal: Principal, session: str) -> MediaView:
        state = self._session(principal, session)
        on_stage = principal.member in state.stage
        try:
            janus = await self._client()
            listed = await self._guard(self._participants(janus, session))
        except Unavailable as exc:
            return MediaView(available=False, reason=str(exc), may_publish=on_stage)
        by_feed = {feed_of(session, m): (m, n) for m, n in state.stage.items()}
        publishers = [Publisher(member=by_feed[p["id"]][0], name=by_feed[p["id"]][1],
                                feed=p["id"])
                      for p in listed if p.get("publisher") and p["id"] in by_feed]
        return MediaView(available=True, publishers=publishers, may_publish=on_stage)

    async def _participants(self, janus: JanusClient, session: str) -> list[dict[str, Any]]:
        room = await self._room(janus, session)
        assert self._control is not None
        data = await janus.request(self._control, {"request": "listparticipants",
                                                   "room": room})
        return list(data.get("participants", []))

    # --- publishing --------------------------------------------------------------------

    async def publish(self, principal: Principal, session: str, jsep: Jsep) -> Published:
        state = self._session(principal, session)
        if principal.member not in state.stage:
            raise Forbidden("only people on stage publish audio/video; ask a host to bring "
                            "you on stage")
        if jsep.type != "offer":
            raise InvalidCommand("publish with an offer")
        return await self._guard(self._publish(principal, state, jsep))  # type: ignore[no-any-return]

    async def _publish(self, principal: Principal, state: SessionState,
                       jsep: Jsep) -> Published:
        janus = await self._client()
        room = await self._room(janus, state.session)
        feed = feed_of(state.session, principal.member)
        key = (state.session, principal.member)
        old = self._publishers.pop(key, None)
        if old is not None:
            await janus.detach(old)
        await self._kick(janus, state.session, feed)  # a stale publisher from elsewhere
        handle = await janus.attach()
        try:
            await janus.message(handle, {"request": "join", "ptype": "publisher", "room": room,
                                         "id": feed, "display": state.stage[principal.member]})
            _, answer = await janus.message(handle, {"request": "publish"},
                                            {"type": "offer", "sdp": jsep.sdp})
        except BaseException:
            await janus.detach(handle)
            raise
        if answer is None:
            await janus.detach(handle)
            raise JanusError(0, "no answer to the offer")
        self._publishers[key] = handle
        return Published(feed=feed, jsep=Jsep(type="answer", sdp=answer["sdp"]))

    async def unpublish(self, principal: Principal, session: str) -> None:
        """Stop your own publishing (nothing published: nothing to do)."""
        self._session(principal, session)
        await self._stop(session, principal.member)

    async def _stop(self, session: str, member: str) -> None:
        """``member`` publishes no more in ``session`` (kicked in every process's view)."""
        handle = self._publishers.pop((session, member), None)
        try:
            janus = await self._client()
            if handle is not None:
                await janus.detach(handle)
            await self._kick(janus, session, feed_of(session, member))
        except (Unavailable, JanusDown):
            return

    async def _kick(self, janus: JanusClient, session: str, feed: int) -> None:
        assert self._control is not None
        try:
            await janus.request(self._control, {
                "request": "kick", "room": await self._room(janus, session), "id": feed,
                "secret": await self._secret(session)})
        except JanusError as exc:
            if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                raise

    # --- subscribing -------------------------------------------------------------------

    async def subscribe(self, principal: Principal, session: str, feed: int,
                        video: bool) -> Subscribed:
        state = self._session(principal, session)
        if feed not in {feed_of(session, m) for m in state.stage}:
            raise NotFound(f"feed {feed} is nobody on this session's stage")
        return await self._guard(self._subscribe(principal, state, feed, video))  # type: ignore[no-any-return]

    async def _subscribe(self, principal: Principal, state: SessionState, feed: int,
                         video: bool) -> Subscribed:
        janus = await self._client()
        room = await self._room(janus, state.session)
        handle = await janus.attach()
        try:
            data, offer = await janus.message(handle, {
                "request": "join", "ptype": "subscriber", "room": room,
                "streams": [{"feed": feed}]})
            if offer is None:
                raise JanusError(NO_SUCH_FEED, "that feed publishes nothing now")
            name = secrets.token_urlsafe(12)
            mids = [str(s["mid"]) for s in data.get("streams", []) if s.get("type") == "video"]
            sub = Subscription(state.session, principal.member, feed, handle, mids)
            if not video:
                await self._video(janus, sub, False)
            self._subscriptions[name] = sub
        except BaseException:
            await janus.detach(handle)
            raise
        return Subscribed(subscription=name, jsep=Jsep(type="offer", sdp=offer["sdp"]))

    def _mine(self, principal: Principal, session: str, name: str) -> Subscription:
        found = self._subscriptions.get(name)
        if found is None or found.member != principal.member or found.session != session:
            raise NotFound(f"no subscription {name!r} of yours in this session")
        return found

    async def start(self, principal: Principal, session: str, name: str, jsep: Jsep) -> None:
        self._session(principal, session)
        sub = self._mine(principal, session, name)
        if jsep.type != "answer":
            raise InvalidCommand("start a subscription with the answer to its offer")

        async def go() -> None:
            janus = await self._client()
            await janus.message(sub.handle, {"request": "start"},
                                {"type": "answer", "sdp": jsep.sdp})

        await self._guard(go())

    async def quality(self, principal: Principal, session: str, name: str,
                      video: bool) -> None:
        """Low-bandwidth mode on (``video`` False: audio only) or off."""
        self._session(principal, session)
        sub = self._mine(principal, session, name)

        async def go() -> None:
            janus = await self._client()
            await self._video(janus, sub, video)

        await self._guard(go())

    @staticmethod
    async def _video(janus: JanusClient, sub: Subscription, on: bool) -> None:
        """Janus sends this subscription's video streams (or stops: audio only)."""
        if sub.video_mids:
            await janus.message(sub.handle, {"request": "configure", "streams": [
                {"mid": mid, "send": on} for mid in sub.video_mids]})

    async def unsubscribe(self, principal: Principal, session: str, name: str) -> None:
        self._session(principal, session)
        sub = self._mine(principal, session, name)
        del self._subscriptions[name]
        if self.janus is not None:
            await self.janus.detach(sub.handle)

    # --- the session moved on ----------------------------------------------------------

    def session_changed(self, state: SessionState, event: Event) -> None:
        """A fold listener: off stage, or the session ended → stop their publishing; the
        session ended → its Janus room goes. Decided again when the task runs, on the
        fold as it is then, so a catch-up past "off, then on again" kicks nobody."""
        body = event.body
        if isinstance(body, StageChanged) and not body.on:
            self._later(self._off_stage(state.session, body.member))
        elif isinstance(body, SessionEnded):
            self._later(self._ended(state.session))

    async def _off_stage(self, session: str, member: str) -> None:
        state = self.sessions.folds.session(session)
        if member not in state.stage or state.phase == "ended":
            await self._stop(session, member)

    async def _ended(self, session: str) -> None:
        for key in [k for k in self._publishers if k[0] == session]:
            await self._stop(*key)
        for name, sub in list(self._subscriptions.items()):
            if sub.session == session:
                del self._subscriptions[name]
                if self.janus is not None:
                    await self.janus.detach(sub.handle)
        room = room_of(session)
        if self.janus is None or not self.janus.connected or self._control is None:
            return
        try:
            await self.janus.request(self._control, {
                "request": "destroy", "room": room, "secret": await self._secret(session)})
        except (JanusError, JanusDown):
            pass  # gone already (or Janus is: then so is the room)
        self._rooms.discard(room)

    def _later(self, work: Any) -> None:
        if self.janus is None:
            work.close()
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
