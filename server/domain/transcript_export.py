"""A transcript as a file: Markdown (to read and keep), WebVTT (captions and everything
said, timed from the session's start) and JSON (to process). Pure functions. An erased
line reads "(erased)" in Markdown, is left out of WebVTT, and is ``kind: "erased"`` with
no text in JSON: never its words.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from ..errors import InvalidCommand
from .transcript import Transcript, TranscriptLine

LINE_CUE_MS = 4000
"""How long a line that is not a caption shows in the WebVTT export."""

_json = msgspec.json.Encoder()
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def zone(name: str) -> dt.tzinfo:
    """A time zone by IANA name; ``invalid`` for one that is not."""
    try:
        return ZoneInfo(name) if name != "UTC" else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidCommand(f"unknown time zone {name[:64]!r}") from None


def to_json(transcript: Transcript) -> bytes:
    return _json.encode(transcript)


# --- Markdown ----------------------------------------------------------------------


def _escape(text: str) -> str:
    """User text as literal Markdown: no markup, no HTML, line breaks kept in the item."""
    lines = [_MARKDOWN_SPECIAL.sub(r"\\\1", line) for line in text.split("\n")]
    return "  \n  ".join(lines)


def _clock(ms: int, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%H:%M")


def _say(line: TranscriptLine, tz: dt.tzinfo) -> str:
    who = f"**{_escape(line.who)}**" if line.who else ""
    text = _escape(line.text)
    if line.kind == "chat":
        return f"{who}: {text}"
    if line.kind == "caption":
        return f"{who + ': ' if who else ''}{text} _(caption)_"
    if line.kind == "note":
        return f"_Note by_ {who}: {text}"
    if line.kind == "question":
        votes = f", {line.votes} vote{'s' if line.votes != 1 else ''}"
        return f"**Question {line.question}** ({who}{votes}, {line.status}): {text}"
    if line.kind == "off_record":
        until = _clock(line.until, tz) if line.until is not None else "…"
        return f"_Off the record from {_clock(line.ts, tz)} to {until} by_ {who}"
    if line.kind == "case":
        return f"_Case prompts by_ {who}:  \n  {text}"
    if line.kind == "takeaway":
        return f"_Takeaway by_ {who}: {text}"
    if line.kind == "broadcast":
        return f"_Broadcast to the breakout rooms by_ {who}: {text}"
    if line.kind == "erased":
        return "_(erased)_"
    return f"_{text}_" + (f" ({who})" if who else "")


def to_markdown(transcript: Transcript, tz: dt.tzinfo = dt.UTC) -> str:
    opened = dt.datetime.fromtimestamp(transcript.opened / 1000, tz)
    out = [f"# {_escape(transcript.title)}", "",
           f"Session `{transcript.session}` in room "
           f"{_escape(transcript.room_name or transcript.room)}, "
           f"{opened:%Y-%m-%d} (times in {opened:%Z}).", ""]
    if not transcript.keep_transcript:
        out += ["_The host chose not to keep this session's chat and notes._", ""]
    for segment in transcript.segments:
        heading = "Before the start" if segment.index is None else (
            f"{segment.index + 1}. {_escape(segment.title or segment.kind)}")
        since = f" ({_clock(segment.started, tz)})" if segment.started is not None else ""
        out += [f"## {heading}{since}", ""]
        out += [f"- {_clock(line.ts, tz)} {_say(line, tz)}" for line in segment.lines]
        out.append("")
    return "\n".join(out)


# --- WebVTT --------------------------------------------------------------------------


def _timestamp(ms: int) -> str:
    ms = max(ms, 0)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _cue_text(text: str) -> str:
    """Cue payload as text: no tags, no blank lines, no ``-->``."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\n".join(part for part in text.split("\n") if part.strip()) or "…"


def _voice(who: str) -> str:
    return who.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cue(line: TranscriptLine) -> tuple[int, int, str]:
    start = line.at_ms
    if line.kind == "caption" and line.end_ms is not None:
        end = line.end_ms
    elif line.kind == "off_record" and line.until is not None:
        end = start + (line.until - line.ts)
    else:
        end = start + LINE_CUE_MS
    text = line.text
    if line.kind == "question":
        text = f"Question {line.question}: {text}"
    elif line.kind == "note":
        text = f"Note: {text}"
    elif line.kind == "takeaway":
        text = f"Takeaway: {text}"
    elif line.kind == "broadcast":
        text = f"Broadcast: {text}"
    elif line.kind == "off_record":
        text = "Off the record"
    body = _cue_text(text)
    if line.who and line.kind in ("chat", "caption", "question", "note", "takeaway",
                                  "broadcast"):
        body = f"<v {_voice(line.who)}>{body}"
    elif line.who:
        body = f"{body} ({_cue_text(line.who)})"
    return max(start, 0), max(end, start + 1, 1), body


def to_webvtt(transcript: Transcript) -> str:
    """Every line as a cue, ordered by start, timed from the session's start (an erased
    line left out: a cue of nothing says nothing)."""
    cues = sorted((_cue(line) for segment in transcript.segments for line in segment.lines
                   if line.kind != "erased"), key=lambda cue: cue[0])
    out = [f"WEBVTT - {' '.join(transcript.title.split()).replace('-->', '->')}", ""]
    for number, (start, end, body) in enumerate(cues, start=1):
        out += [str(number), f"{_timestamp(start)} --> {_timestamp(end)}", body, ""]
    return "\n".join(out)
