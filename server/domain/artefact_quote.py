"""Excerpts: the lines of a session's transcript an artefact quotes, and the checks on
a range before it is quoted.

Pure: the caller reads the session's events (through the store) and says which
community the session and the artefact belong to. The lines are the transcript's
(:mod:`server.domain.transcript`), so a quote reads exactly as the transcript does; a
line whose event was erased for privacy reads ``erased``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import msgspec

from ..errors import InvalidCommand
from .artefact_events import MAX_EXCERPT_LINES, Excerpt
from .events import Event
from .transcript import TranscriptLine, transcript_of

ERASED = "erased"


class QuotedLine(msgspec.Struct, kw_only=True):
    seq: int
    kind: str
    """The transcript line's kind (chat, question, note, caption...), or ``erased``."""
    who: str
    text: str
    erased: bool = False


class Quote(msgspec.Struct, kw_only=True):
    """An excerpt as it reads now, with the link back to that moment of the transcript."""

    stream: str
    session: str
    from_seq: int
    to_seq: int
    link: str
    lines: list[QuotedLine]
    head: int | None = None
    """The session stream's head this quote was read at, when you may read that session:
    ``follow`` ``session:<id>`` from here to hear of an erasure. None: you may not."""


def transcript_link(session: str, seq: int) -> str:
    """The transcript page at one line (``#seq-N``: the line said at seq N)."""
    return f"/s/{session}/transcript#seq-{seq}"


def _lines(events: Iterable[Event], names: Mapping[str, str]) -> dict[int, TranscriptLine]:
    transcript = transcript_of(events, names)
    if transcript is None:
        return {}
    return {line.seq: line for segment in transcript.segments for line in segment.lines}


def check_range(from_seq: int, to_seq: int, head: int, *, same_community: bool) -> None:
    """Refuse a range that cannot be quoted: from another community, inverted, or
    outside the stream (``head`` is its last seq)."""
    if not same_community:
        raise InvalidCommand("an artefact quotes sessions of its own community only")
    if from_seq > to_seq:
        raise InvalidCommand(f"the range {from_seq}..{to_seq} is inverted (from after to)")
    if from_seq < 1 or to_seq > head:
        raise InvalidCommand(
            f"the range {from_seq}..{to_seq} is outside the session (seqs 1..{head})")


def excerpt_of(stream: str, events: Sequence[Event], from_seq: int, to_seq: int,
               names: Mapping[str, str], *, same_community: bool) -> Excerpt:
    """The excerpt of ``stream`` (all its ``events``) from ``from_seq`` to ``to_seq``:
    the seqs of the transcript lines in that range. An empty one (no line said there)
    is refused."""
    head = events[-1].seq if events else 0
    check_range(from_seq, to_seq, head, same_community=same_community)
    seqs = sorted(seq for seq, line in _lines(events, names).items()
                  if from_seq <= seq <= to_seq and line.kind != "erased")
    if not seqs:
        raise InvalidCommand(f"nothing was said in {from_seq}..{to_seq}: an empty range")
    if len(seqs) > MAX_EXCERPT_LINES:
        raise InvalidCommand(f"an excerpt quotes at most {MAX_EXCERPT_LINES} lines")
    return Excerpt(stream=stream, from_seq=from_seq, to_seq=to_seq, seqs=seqs)


def quote(excerpt: Excerpt, events: Sequence[Event], names: Mapping[str, str]) -> Quote:
    """The excerpt's lines as they read now. A line whose event was erased (or that the
    transcript no longer shows) reads ``erased``, never its old words."""
    lines = _lines(events, names)
    erased = {e.seq for e in events if e.body is None}
    session = excerpt.stream.partition(":")[2]
    shown: list[QuotedLine] = []
    for seq in excerpt.seqs:
        line = lines.get(seq)
        if line is None or seq in erased:
            shown.append(QuotedLine(seq=seq, kind=ERASED, who="", text=ERASED, erased=True))
        else:
            shown.append(QuotedLine(seq=seq, kind=line.kind, who=line.who, text=line.text))
    return Quote(stream=excerpt.stream, session=session, from_seq=excerpt.from_seq,
                 to_seq=excerpt.to_seq, link=transcript_link(session, excerpt.from_seq),
                 lines=shown)
