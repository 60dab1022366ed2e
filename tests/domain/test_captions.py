"""WebVTT uploads: good files become cues; a bad one is refused naming where."""

from __future__ import annotations

import pytest

from server.domain.captions import (
    MAX_CAPTION_FILE_BYTES,
    MAX_CUES,
    CaptionFileError,
    Cue,
    parse_webvtt,
)
from server.errors import ErrorCode

GOOD = b"""\xef\xbb\xbfWEBVTT - community hour

NOTE recorded in the main room
more of the note

STYLE
::cue { color: white }

intro
00:00:01.250 --> 00:00:04.000 align:start
<v Ann Lee>Welcome, everyone.

00:01.000 --> 00:05.500
Two lines
of text <b>bold</b>

01:00:00.000 --> 01:00:02.000
<v.loud Bo>Last words
"""


def test_a_good_file_gives_its_cues_in_order() -> None:
    assert parse_webvtt(GOOD) == [
        Cue(text="Welcome, everyone.", start_ms=1250, end_ms=4000, speaker="Ann Lee"),
        Cue(text="Two lines of text bold", start_ms=1000, end_ms=5500),
        Cue(text="Last words", start_ms=3_600_000, end_ms=3_602_000, speaker="Bo"),
    ]


def test_windows_line_endings_read_the_same() -> None:
    assert parse_webvtt(GOOD.replace(b"\n", b"\r\n")) == parse_webvtt(GOOD)


@pytest.mark.parametrize(("data", "says"), [
    (b"", "line 1: a WebVTT file starts with WEBVTT"),
    (b"1\n00:00:01.000 --> 00:00:02.000\nhi\n", "line 1: a WebVTT file starts with WEBVTT"),
    (b"WEBVTT\n", "the file has no cues"),
    (b"WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nhi\n", "line 3: expected a cue timing line"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:0x.000 --> 00:00:04.000\nhi\n",
     "line 6 (cue 2): cannot read the timing"),
    (b"WEBVTT\n\nc1\n00:00:03.000 --> 00:00:02.000\nhi\n", "line 4 (cue 1): the cue ends before"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n", "line 3 (cue 1): the cue has no text"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<b></b>\n", "line 3 (cue 1): the cue has no text"),
    (b"WEBVTT\n\n49:00:01.000 --> 49:00:02.000\nlate\n", "more than 48 hours"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xff\xfe\n", "line 4: the file is not UTF-8"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v \xe2\x80\x8b>hi\n",
     "line 4 (cue 1): A cue's speaker cannot be blank"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + b"x" * 1001 + b"\n",
     "line 3 (cue 1): a cue is at most 1000 characters"),
])
def test_a_bad_file_is_refused_naming_the_line(data: bytes, says: str) -> None:
    with pytest.raises(CaptionFileError) as raised:
        parse_webvtt(data)
    assert says in str(raised.value)
    assert raised.value.code is ErrorCode.INVALID


def test_too_many_cues_and_too_many_bytes_are_refused() -> None:
    cue = b"00:00:01.000 --> 00:00:02.000\nx\n\n"
    with pytest.raises(CaptionFileError, match=f"more than {MAX_CUES} cues"):
        parse_webvtt(b"WEBVTT\n\n" + cue * (MAX_CUES + 1))
    assert len(parse_webvtt(b"WEBVTT\n\n" + cue * MAX_CUES)) == MAX_CUES
    with pytest.raises(CaptionFileError, match="at most"):
        parse_webvtt(b"WEBVTT\n\n" + b"x" * MAX_CAPTION_FILE_BYTES)
