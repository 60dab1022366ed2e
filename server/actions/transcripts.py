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
from ..domain.events import Event, EventBody, audit_stream, session_stream
from ..domain.policy import Action
from ..domain.session_erasure import WORDS, asks_by_number
from ..domain.session_events import (
    CaptionAdded,
    OffRecordEnded,
    OffRecordStarted,
    ScribeNamed,
    SessionOpened,
    SessionStarted,
)
from ..domain.session_rules import said_by
from ..domain.transcript import Transcript, transcript_of
from ..errors import Forbidden, NotFound
from ..folds import Folds
from ..http import api_types as t
from ..pipeline import decided
from ..store import EventStore, read_stream
from .erasure import KeyOf

UPLOAD_CAPTIONS = "upload_captions"
"""The audit log's name for a caption upload."""


class Transcripts:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 key_of: KeyOf) -> None:
        self.store, self.folds, self.authority, self.key_of = store, folds, authority, key_of

    async def _events(self, session: str) -> list[Event]:
        """Every event of the session's stream, in order (NotFound when there is none)."""
        events = await read_stream(self.store, session_stream(session))
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
        """The transcript as ``principal`` reads it: each line says whether they may
        erase it (:meth:`erasable`)."""
        events, _, community = await self._readable(principal, session)
        members = self.folds.community(community).members
        transcript = transcript_of(events, {m: info.name for m, info in members.items()})
        assert transcript is not None
        transcript.community = community
        room = self.folds.community(community).rooms.get(transcript.room)
        transcript.room_name = room.name if room else transcript.room
        await self.erasable(principal, transcript, events)
        return transcript

    async def erasable(self, principal: Principal, transcript: Transcript,
                       events: list[Event]) -> None:
        """Mark the lines ``principal`` may erase: words they said (an anonymous question
        recognised by its owner key, which names nobody to anyone else), or any words
        with ``erase_words``; an erased line never."""
        anyone = self.authority.may(principal, Action.ERASE_WORDS, transcript.community)
        key = await self.key_of(transcript.session, principal.member)
        by_seq, asks = {e.seq: e for e in events}, asks_by_number(events)
        for segment in transcript.segments:
            for line in segment.lines:
                event = by_seq.get(line.seq)
                line.erasable = (event is not None and isinstance(event.body, WORDS)
                                 and (anyone or said_by(event, principal.member, key, asks)))

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
            stretches = off_record_stretches(events)
            bodies = [CaptionAdded(text=c.text, start_ms=start + c.start_ms,
                                   end_ms=start + c.end_ms, speaker=c.speaker) for c in cues
                      if not any(start + c.start_ms < until and start + c.end_ms > since
                                 for since, until in stretches)]
            left_out = len(cues) - len(bodies)
            detail = f"{len(bodies)} caption cues from a WebVTT file" + (
                f", {left_out} off the record left out" if left_out else "")
            entry: list[EventBody] = [audit_entry(UPLOAD_CAPTIONS, target=session,
                                                  detail=detail)]
            audit: tuple[str, list[EventBody], int | None] = (
                audit_stream(community), entry, None)
            if not bodies:  # every cue was off the record: only the upload is recorded
                await self.store.append_all([audit], principal.member)
                return t.CaptionsAdded(session=session, cues=0, left_out=left_out,
                                       first_seq=None, last_seq=None)
            results = await self.store.append_all([
                (session_stream(session), list(bodies), events[-1].seq), audit,
            ], principal.member)
            last = results[0].seq
            return t.CaptionsAdded(
                session=session, cues=len(bodies), left_out=left_out,
                first_seq=last - len(bodies) + 1, last_seq=last)

        async def sync(stream: str) -> None:
            return None  # each attempt reads the stream afresh

        return await decided(attempt, sync)


def off_record_stretches(events: list[Event]) -> list[tuple[int, int]]:
    """(from, to) of each off-the-record stretch, in ms since the epoch; one still going
    lasts for ever. A caption file's cue in one is left out: it was not for the record."""
    stretches, since = [], None
    for event in events:
        if isinstance(event.body, OffRecordStarted):
            since = event.ts
        elif isinstance(event.body, OffRecordEnded):
            stretches.append((event.body.started_ms, event.ts))
            since = None
    if since is not None:
        stretches.append((since, 2**62))
    return stretches
