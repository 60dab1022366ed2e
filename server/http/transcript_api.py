"""HTTP for a session's transcript: its exports (Markdown, WebVTT, JSON) and caption
uploads (WebVTT). Rows of the one endpoint table (:mod:`server.http.api`)."""

from __future__ import annotations

from ..actions.transcripts import Transcripts
from ..domain.captions import MAX_CAPTION_FILE_BYTES, MAX_CUES
from ..domain.transcript import Transcript
from ..domain.transcript_export import to_json, to_markdown, to_webvtt, zone
from . import api_types as t
from .endpoints import Call, Download, Endpoint

MARKDOWN = "text/markdown; charset=utf-8"
WEBVTT = "text/vtt; charset=utf-8"


def transcript_endpoints(transcripts: Transcripts) -> list[Endpoint]:
    async def markdown(call: Call) -> Download:
        session = call.param("session")
        tz = zone(call.query("tz", t.Timezone, "UTC"))
        text = to_markdown(await transcripts.transcript(call.who, session), tz)
        return Download(text.encode(), MARKDOWN, f"{session}-transcript.md")

    async def webvtt(call: Call) -> Download:
        session = call.param("session")
        text = to_webvtt(await transcripts.transcript(call.who, session))
        return Download(text.encode(), WEBVTT, f"{session}-transcript.vtt")

    async def as_json(call: Call) -> Download:
        session = call.param("session")
        data = to_json(await transcripts.transcript(call.who, session))
        return Download(data, "application/json", f"{session}-transcript.json")

    async def captions(call: Call) -> t.CaptionsAdded:
        return await transcripts.upload_captions(call.who, call.param("session"), call.body)

    s = "/api/sessions/{session}"
    reading = ("Reading needs what following the session's stream needs (`read_history` "
               "on its room; a guest, the session of their link)")
    return [
        Endpoint("GET", s + "/transcript.md", "The session's transcript as Markdown, by "
                 "segment. " + reading, markdown, reply=str, produces=MARKDOWN,
                 query=(("tz", t.Timezone, "IANA time zone of the times shown "
                         "(default UTC)"),)),
        Endpoint("GET", s + "/transcript.vtt", "The session's transcript as WebVTT, timed "
                 "from the session's start: captions as they were, every other line for "
                 "4 s. " + reading, webvtt, reply=str, produces=WEBVTT),
        Endpoint("GET", s + "/transcript.json", "The session's transcript as JSON, by "
                 "segment. " + reading, as_json, reply=Transcript),
        Endpoint("POST", s + "/captions", "Add captions from a WebVTT file (its cue times "
                 "count from the session's start). The session's hosts and scribe only; "
                 f"at most {MAX_CUES} cues and {MAX_CAPTION_FILE_BYTES} bytes. A file with "
                 "a mistake is refused naming its line and cue, and adds nothing",
                 captions, reply=t.CaptionsAdded, status=201, raw_body=WEBVTT),
    ]
