"""Captions uploaded as WebVTT: a file in, caption cues out, or a typed error naming
the line and cue that is wrong (nothing is appended from a file that has one).

webvtt-py reads the cues, but it silently skips a block whose timing line it cannot
read; a file that says something we would then drop is refused instead, so this
module checks every block's timing line itself before handing the text to it.
Cue times are offsets from the start of the session (as a recording's would be).
"""

from __future__ import annotations

import html
import re

import msgspec
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from ..errors import InvalidCommand
from .names import InvalidName, normalize_name

MAX_CAPTION_FILE_BYTES = 64 * 1024
"""The largest WebVTT upload (the HTTP body limit, said again where it is checked)."""
MAX_CUES = 1000
"""Cues in one upload: each becomes an event, appended in one transaction."""
MAX_CUE_CHARS = 1000
MAX_CUE_MS = 48 * 3600 * 1000
"""No cue starts or ends more than two days into a session."""

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?")
_NON_CUE_BLOCKS = ("NOTE", "STYLE", "REGION")


class Cue(msgspec.Struct, frozen=True, kw_only=True):
    """One caption line of an upload: its text, its span, who spoke (or "")."""

    text: str
    start_ms: int
    end_ms: int
    speaker: str = ""


class CaptionFileError(InvalidCommand):
    """A WebVTT file that cannot be taken as it is (typed ``invalid``)."""


def _ms(groups: tuple[str | None, ...]) -> int:
    hours, minutes, seconds, millis = groups
    return (((int(hours or 0) * 60 + int(minutes or 0)) * 60 + int(seconds or 0)) * 1000
            + int(millis or 0))


def _timings(text: str) -> list[tuple[int, int, int]]:
    """(line number, start ms, end ms) of each cue, in order; refuses a block that is
    neither a cue nor a NOTE, STYLE or REGION block."""
    lines = text.split("\n")
    if not lines or not re.fullmatch(r"WEBVTT(?:[ \t].*)?", lines[0]):
        raise CaptionFileError("line 1: a WebVTT file starts with WEBVTT")
    found: list[tuple[int, int, int]] = []
    number, total = 1, len(lines)
    while number < total:  # skip the header block (its first blank line ends it)
        if not lines[number].strip():
            break
        number += 1
    while number < total:
        if not lines[number].strip():
            number += 1
            continue
        block_start = number
        block: list[str] = []
        while number < total and lines[number].strip():
            block.append(lines[number])
            number += 1
        if block[0].split(" ")[0].split("\t")[0] in _NON_CUE_BLOCKS:
            continue
        timing_at = 0 if "-->" in block[0] else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise CaptionFileError(
                f"line {block_start + 1}: expected a cue timing line "
                "(00:00:01.000 --> 00:00:04.000)")
        line_number = block_start + timing_at + 1
        cue_number = len(found) + 1
        match = _TIMING.fullmatch(block[timing_at].strip())
        if match is None:
            raise CaptionFileError(
                f"line {line_number} (cue {cue_number}): cannot read the timing "
                f"{block[timing_at].strip()[:60]!r}")
        start, end = _ms(match.groups()[:4]), _ms(match.groups()[4:])
        if end <= start:
            raise CaptionFileError(
                f"line {line_number} (cue {cue_number}): the cue ends before it starts")
        if end > MAX_CUE_MS:
            raise CaptionFileError(
                f"line {line_number} (cue {cue_number}): a cue more than 48 hours in")
        if len(block) <= timing_at + 1:
            raise CaptionFileError(f"line {line_number} (cue {cue_number}): the cue has no text")
        found.append((line_number, start, end))
        if len(found) > MAX_CUES:
            raise CaptionFileError(f"line {line_number}: more than {MAX_CUES} cues in one file")
    return found


def parse_webvtt(data: bytes) -> list[Cue]:
    """The cues of a WebVTT file, or :class:`CaptionFileError` saying where it is wrong."""
    if len(data) > MAX_CAPTION_FILE_BYTES:
        raise CaptionFileError(f"a caption file is at most {MAX_CAPTION_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CaptionFileError(f"line {line}: the file is not UTF-8") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in text:
        raise CaptionFileError(f"line {text[:text.index(chr(0))].count(chr(10)) + 1}: "
                               "a NUL character")
    timings = _timings(text)
    if not timings:
        raise CaptionFileError("the file has no cues")
    try:
        captions = webvtt.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise CaptionFileError(f"not a WebVTT file webvtt-py can read: {exc}") from None
    if len(captions) != len(timings):  # our reading and the library's must agree
        raise CaptionFileError(f"found {len(timings)} cues but could read {len(captions)}")
    cues: list[Cue] = []
    for number, (caption, (line, start, end)) in enumerate(zip(captions, timings, strict=True),
                                                           start=1):
        words = " ".join(html.unescape(caption.text).split())  # cue text escapes &, <, >
        if not words:
            raise CaptionFileError(f"line {line} (cue {number}): the cue has no text")
        if len(words) > MAX_CUE_CHARS:
            raise CaptionFileError(
                f"line {line} (cue {number}): a cue is at most {MAX_CUE_CHARS} characters")
        speaker = ""
        if caption.voice:
            try:
                speaker = normalize_name(html.unescape(caption.voice), what="a cue's speaker")
            except InvalidName as exc:
                raise CaptionFileError(f"line {line + 1} (cue {number}): {exc}") from None
        cues.append(Cue(text=words, start_ms=start, end_ms=end, speaker=speaker))
    return cues
