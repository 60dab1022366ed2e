"""Reading a session's transcript, and adding captions from a WebVTT file.

The session's stream is its transcript: reading one needs what reading the stream
needs (``read_history`` on the session's room; a guest only the session their link is
for). An upload is parsed whole before anything is written, then appended as
``caption_added`` events in one ``append_all`` with its audit entry, at the head it
was decided on (a moved head is decided again, :func:`server.pipeline.decided`).
"""

from __future__ import annotations

from ..authority import Authority, Principal, audit_entry
from ..domain.captions import parse_webvtt
from ..domain.events import Event, audit_stream, session_stream
from ..domain.policy import Action
from ..domain.session_events import CaptionAdded, ScribeNamed, SessionOpened, SessionStarted
from ..domain.transcript import Transcript, transcript_of
from ..errors import Forbidden, NotFound
from ..folds import Folds
from ..http import api_types as t
from ..pipeline import decided
from ..store import EventStore

PAGE = 1000
UPLOAD_CAPTIONS = "upload_captions"
"""The audit log's name for a caption upload."""


class Transcripts:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority) -> None:
        self.store, self.folds, self.authority = store, folds, authority

    async def _events(self, session: str) -> list[Event]:
        """Every event of the session's stream, in order (NotFound when there is none)."""
        stream, events = session_stream(session), list[Event]()
        while True:
            page = await self.store.read(stream, events[-1].seq if events else 0, PAGE)
            events += page
            if len(page) < PAGE:
                break
        if not events or not isinstance(events[0].body, SessionOpened):
            raise NotFound(f"no session {session!r}")
        return events

    async def _readable(self, principal: Principal, session: str
                        ) -> tuple[list[Event], SessionOpened, str]:
        """The session's events, its opening and community, if ``principal`` may read its
        stream (the same decision as following it: :meth:`Authority.check_read`)."""
        found = await self.authority.check_read(principal, session_stream(session))
        events = await self._events(session)
        opened = events[0].body
        assert isinstance(opened, SessionOpened)
        return events, opened, found.community.community

    async def transcript(self, principal: Principal, session: str) -> Transcript:
        events, _, community = await self._readable(principal, session)
        members = self.folds.community(community).members
        transcript = transcript_of(events, {m: info.name for m, info in members.items()})
        assert transcript is not None
        transcript.community = community
        room = self.folds.community(community).rooms.get(transcript.room)
        transcript.room_name = room.name if room else transcript.room
        return transcript

    async def upload_captions(self, principal: Principal, session: str, data: bytes
                              ) -> t.CaptionsAdded:
        """Add a WebVTT file's cues as captions (the session's hosts and its scribe)."""

        async def attempt() -> t.CaptionsAdded:
            events, opened, community = await self._readable(principal, session)
            scribe = next((e.body.member for e in reversed(events)
                           if isinstance(e.body, ScribeNamed)), None)
            if principal.member != scribe:
                await self.authority.check(principal, Action.RUN_SESSION, community,
                                           room=opened.room, session=session)
            elif principal.is_guest:
                raise Forbidden("a guest may not upload captions")
            cues = parse_webvtt(data)
            start = next((e.ts for e in events if isinstance(e.body, SessionStarted)),
                         events[0].ts)  # a file's cue times count from the session's start
            bodies = [CaptionAdded(text=c.text, start_ms=start + c.start_ms,
                                   end_ms=start + c.end_ms, speaker=c.speaker) for c in cues]
            detail = f"{len(bodies)} caption cues from a WebVTT file"
            results = await self.store.append_all([
                (session_stream(session), list(bodies), events[-1].seq),
                (audit_stream(community), [audit_entry(UPLOAD_CAPTIONS, target=session,
                                                       detail=detail)], None),
            ], principal.member)
            last = results[0].seq
            return t.CaptionsAdded(session=session, cues=len(bodies),
                                   first_seq=last - len(bodies) + 1, last_seq=last)

        async def sync(stream: str) -> None:
            return None  # each attempt reads the stream afresh

        return await decided(attempt, sync)
