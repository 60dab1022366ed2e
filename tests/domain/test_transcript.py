"""The transcript fold and its exports: lines by segment, anonymous askers never named,
off-the-record stretches only as from-to-by, and files that read back."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest

from server.domain.captions import parse_webvtt
from server.domain.events import Event
from server.domain.session_erasure import erasure
from server.domain.session_events import (
    AttendeeArrived,
    CaptionAdded,
    CaseRoundStarted,
    ChatSaid,
    NoteAdded,
    OffRecordEnded,
    OffRecordStarted,
    QuestionAnswered,
    QuestionAsked,
    QuestionEdited,
    QuestionUnvoted,
    QuestionUpvoted,
    QuestionWithdrawn,
    ScribeNamed,
    Segment,
    SegmentChanged,
    SessionEnded,
    SessionOpened,
    SessionStarted,
    StageChanged,
)
from server.domain.session_pair_events import (
    PairGroup,
    PairsBroadcast,
    PairsEnded,
    PairsMade,
    TakeawayShared,
)
from server.domain.transcript import Transcript, transcript_of
from server.domain.transcript_export import to_json, to_markdown, to_webvtt, zone
from server.errors import InvalidCommand

T0 = 1_764_928_800_000  # 2025-12-05 10:00 UTC
HOST, ANN, BO = "m-host", "m-ann", "m-bo"
AGENDA = [Segment(kind="pairs", title="Pair-ups", minutes=10),
          Segment(kind="presentation", title="Wound <care>", minutes=50),
          Segment(kind="qa", title="Q&A", minutes=15)]


def events() -> list[Event]:
    bodies: list[tuple[int, str | None, object]] = [
        (0, HOST, SessionOpened(session="s-1", room="case-review", title="Community *hour*",
                                agenda=AGENDA)),
        (10, ANN, AttendeeArrived(member=ANN, name="Ann")),
        (20, ANN, ChatSaid(text="early hello", name="Ann")),
        (60_000, HOST, SessionStarted(deadline_ms=T0 + 660_000)),
        (61_000, HOST, ScribeNamed(member=BO, name="Bo")),
        (600_000, HOST, SegmentChanged(index=1, deadline_ms=T0 + 3_600_000, how="advance")),
        (601_000, HOST, StageChanged(member=ANN, name="Ann", on=True)),
        (602_000, BO, NoteAdded(text="Ann presents the *heel* case\nsecond line")),
        (603_000, HOST, CaptionAdded(text="Good morning <all>", start_ms=T0 + 603_000,
                                     end_ms=T0 + 606_000, speaker="Ann")),
        (700_000, ANN, QuestionAsked(question=1, text="Who pays?", anonymous=True,
                                     asker=None, asker_name="", owner_key="k1")),
        (701_000, BO, QuestionAsked(question=2, text="How long?", asker=BO, asker_name="Bo",
                                    owner_key="k2")),
        (702_000, BO, QuestionUpvoted(question=1, member=BO)),
        (703_000, HOST, QuestionUpvoted(question=1, member=HOST)),
        (704_000, HOST, QuestionUnvoted(question=1, member=HOST)),
        (705_000, BO, QuestionEdited(question=2, text="How long does it take?")),
        (800_000, HOST, OffRecordStarted()),
        (900_000, HOST, OffRecordEnded(started_ms=T0 + 800_000)),
        (3_600_000, HOST, SegmentChanged(index=2, deadline_ms=T0 + 4_500_000, how="auto")),
        (3_601_000, HOST, QuestionAnswered(question=1)),
        (3_602_000, BO, QuestionWithdrawn(question=2)),
        (4_500_000, HOST, SessionEnded()),
    ]
    return [Event(stream="session:s-1", seq=seq, ts=T0 + at, actor=actor,
                  body=body)  # type: ignore[arg-type]
            for seq, (at, actor, body) in enumerate(bodies, start=1)]


def test_lines_are_grouped_by_segment_in_order() -> None:
    transcript = transcript_of(events())
    assert transcript is not None
    assert transcript.started == T0 + 60_000 and transcript.ended == T0 + 4_500_000
    assert [(s.index, s.title) for s in transcript.segments] == [
        (None, "Before the start"), (0, "Pair-ups"), (1, "Wound <care>"), (2, "Q&A")]
    lobby, pairs, talk, qa = transcript.segments
    assert [(line.kind, line.who, line.text) for line in lobby.lines] == [
        ("chat", "Ann", "early hello")]
    assert lobby.lines[0].at_ms == 20 - 60_000
    assert [line.kind for line in pairs.lines] == ["segment", "session"]
    assert [line.kind for line in talk.lines] == [
        "segment", "stage", "note", "caption", "question", "question", "off_record"]
    note, caption = talk.lines[2], talk.lines[3]
    assert (note.who, note.text) == ("Bo", "Ann presents the *heel* case\nsecond line")
    assert (caption.at_ms, caption.end_ms, caption.who) == (543_000, 546_000, "Ann")
    assert [(line.kind, line.text) for line in qa.lines] == [
        ("segment", "Segment 3: moved on (time)"),
        ("answer", "Answered question 1: Who pays?"), ("session", "The session ended")]


def test_questions_carry_final_votes_text_and_state() -> None:
    transcript = transcript_of(events())
    assert transcript is not None
    asked = [line for s in transcript.segments for line in s.lines if line.kind == "question"]
    assert [(q.question, q.who, q.text, q.votes, q.status) for q in asked] == [
        (1, "Anonymous", "Who pays?", 1, "answered"),
        (2, "Bo", "How long does it take?", 0, "withdrawn")]


def test_an_anonymous_asker_is_never_named_anywhere() -> None:
    anonymous_only = [e for e in events() if not (
        isinstance(e.body, AttendeeArrived | ChatSaid | StageChanged))]
    transcript = transcript_of(anonymous_only, names={ANN: "Zed Secret"})
    assert transcript is not None
    for text in (to_json(transcript).decode(), to_markdown(transcript),
                 to_webvtt(transcript)):
        assert "Who pays?" in text
        assert "Zed" not in text and ANN not in text and "k1" not in text


def test_off_the_record_is_one_line_from_to_by() -> None:
    transcript = transcript_of(events(), names={HOST: "Hana"})
    assert transcript is not None
    stretch = [line for s in transcript.segments for line in s.lines
               if line.kind == "off_record"]
    assert [(line.who, line.ts, line.until) for line in stretch] == [
        ("Hana", T0 + 800_000, T0 + 900_000)]
    assert "- 10:13 _Off the record from 10:13 to 10:15 by_ **Hana**" in to_markdown(transcript)
    unfinished = transcript_of(events()[:16], names={HOST: "Hana"})
    assert unfinished is not None
    assert "from 10:13 to … by" in to_markdown(unfinished)


def test_markdown_escapes_user_text_and_shows_the_viewers_zone() -> None:
    transcript = transcript_of(events())
    assert transcript is not None
    text = to_markdown(transcript, zone("Asia/Tokyo"))
    assert text.startswith("# Community \\*hour\\*\n")
    assert "(times in JST)" in text
    assert "## 2. Wound \\<care\\> (19:10)" in text
    assert "_Note by_ **Bo**: Ann presents the \\*heel\\* case  \n  second line" in text
    assert "**Question 1** (**Anonymous**, 1 vote, answered): Who pays?" in text
    assert "**Question 2** (**Bo**, 0 votes, withdrawn): How long does it take?" in text
    with pytest.raises(InvalidCommand, match="unknown time zone"):
        zone("Mars/Olympus")


def test_webvtt_export_reads_back_as_webvtt() -> None:
    transcript = transcript_of(events(), names={HOST: "Hana"})
    assert transcript is not None
    exported = to_webvtt(transcript)
    cues = parse_webvtt(exported.encode())
    lines = [line for s in transcript.segments for line in s.lines]
    assert len(cues) == len(lines)
    assert [c.start_ms for c in cues] == sorted(c.start_ms for c in cues)
    assert cues[0].start_ms == 0  # the lobby's chat, before the start, at 0
    assert any(c.text == "Good morning <all>" and c.speaker == "Ann"
               and (c.start_ms, c.end_ms) == (543_000, 546_000) for c in cues)
    assert any(c.text == "Off the record (Hana)" and c.end_ms - c.start_ms == 100_000
               for c in cues)


def test_json_export_decodes_to_the_same_transcript() -> None:
    transcript = transcript_of(events())
    assert transcript is not None
    assert msgspec.json.decode(to_json(transcript), type=Transcript) == transcript
    assert json.loads(to_json(transcript))["segments"][0]["lines"][0]["who"] == "Ann"


def test_erased_lines_stay_without_words_and_events_before_opening_are_skipped() -> None:
    stream = events()
    assert transcript_of(stream[1:]) is None
    erased = [Event(stream=e.stream, seq=e.seq, ts=e.ts, actor=e.actor,
                    body=None if e.seq == 3 else e.body) for e in stream]
    transcript = transcript_of(erased)
    assert transcript is not None
    (line,) = transcript.segments[0].lines  # the lobby's chat line, erased: still a line
    assert (line.seq, line.kind, line.who, line.text) == (3, "erased", "", "")
    assert "early hello" not in to_json(transcript).decode()
    assert "early hello" not in to_markdown(transcript)
    assert "(erased)" in to_markdown(transcript) and "early" not in to_webvtt(transcript)
    assert dt.datetime.fromtimestamp(transcript.opened / 1000, dt.UTC).hour == 10


def test_captions_added_later_go_to_the_segment_of_their_time_in_order() -> None:
    late = [*events(), Event(stream="session:s-1", seq=99, ts=T0 + 9_000_000, actor=HOST,
                             body=CaptionAdded(text="pairs talk", start_ms=T0 + 65_000,
                                               end_ms=T0 + 66_000)),
            Event(stream="session:s-1", seq=100, ts=T0 + 9_000_001, actor=HOST,
                  body=CaptionAdded(text="late in the talk", start_ms=T0 + 760_000,
                                    end_ms=T0 + 761_000))]
    transcript = transcript_of(late)
    assert transcript is not None
    pairs, talk = transcript.segments[1], transcript.segments[2]
    assert [line.text for line in pairs.lines if line.kind == "caption"] == ["pairs talk"]
    assert [line.text for line in pairs.lines][-1] == "pairs talk"  # 5 s in: after the scribe
    assert [line.kind for line in talk.lines][-2:] == ["caption", "off_record"]
    assert talk.lines[-2].text == "late in the talk"


def test_case_rounds_are_lines_in_their_segment() -> None:
    case = [Segment(kind="case", title="A case", minutes=20, rounds=2, round_minutes=5)]
    bodies = [SessionOpened(session="s-1", room="case-review", title="Cases", agenda=case),
              SessionStarted(deadline_ms=T0 + 1_200_000),
              CaseRoundStarted(segment=0, round=1, deadline_ms=T0 + 300_000, how="next"),
              CaseRoundStarted(segment=0, round=0, deadline_ms=T0 + 1_200_000, how="back"),
              CaseRoundStarted(segment=0, round=1, deadline_ms=T0 + 300_000, how="auto")]
    transcript = transcript_of([Event(stream="session:s-1", seq=seq, ts=T0 + seq, actor=HOST,
                                      body=body) for seq, body in enumerate(bodies, start=1)],
                               names={HOST: "Hana"})
    assert transcript is not None
    (segment,) = [s for s in transcript.segments if s.index == 0]
    assert [(line.text, line.who) for line in segment.lines[1:]] == [
        ("Round 1: peer advice", "Hana"), ("Back to the case", "Hana"),
        ("Round 1: peer advice", "")]


def test_pair_ups_broadcasts_and_takeaways_are_lines_breakout_talk_never_is() -> None:
    bodies: list[tuple[int, str | None, object]] = [
        (0, HOST, SessionOpened(session="s-1", room="case-review", title="Hour",
                                agenda=AGENDA)),
        (1000, HOST, SessionStarted(deadline_ms=T0 + 601_000)),
        (2000, HOST, PairsMade(round=1, seed="x", groups=[
            PairGroup(group=1, members=[ANN, BO]), PairGroup(group=2, members=["a", "b", "c"])])),
        (3000, HOST, PairsBroadcast(round=1, text="Swap roles <now>", name="Hana")),
        (601_000, None, PairsEnded(round=1, how="time")),
        (602_000, ANN, TakeawayShared(round=1, text="Ask *first*", name="Ann")),
    ]
    stream = [Event(stream="session:s-1", seq=seq, ts=T0 + at, actor=actor,
                    body=body)  # type: ignore[arg-type]
              for seq, (at, actor, body) in enumerate(bodies, start=1)]
    transcript = transcript_of(stream, {HOST: "Hana"})
    assert transcript is not None
    lines = [(line.kind, line.who, line.text) for line in transcript.segments[0].lines]
    assert lines[1:] == [
        ("pairs", "Hana", "Pair-ups, round 1: 5 people in 2 breakout rooms"),
        ("broadcast", "Hana", "Swap roles <now>"),
        ("pairs", "", "Pair-ups, round 1: back in the main room (time)"),
        ("takeaway", "Ann", "Ask *first*")]
    markdown = to_markdown(transcript)
    assert "_Takeaway by_ **Ann**: Ask \\*first\\*" in markdown
    assert "_Broadcast to the breakout rooms by_ **Hana**: Swap roles \\<now\\>" in markdown
    cues = [c.text for c in parse_webvtt(to_webvtt(transcript).encode())]
    assert "Takeaway: Ask *first*" in cues and "Broadcast: Swap roles <now>" in cues


def erased_at(stream: list[Event], seq: int) -> list[Event]:
    """``stream`` after erasing the line at ``seq``: bodies null, then the marker."""
    marker = erasure(stream, seq)
    kept = [msgspec.structs.replace(e, body=None) if e.seq in marker.seqs else e
            for e in stream]
    return [*kept, Event(stream="session:s-1", seq=len(stream) + 1, ts=stream[-1].ts + 1,
                         actor=None, body=marker)]


def test_an_erased_question_is_one_erased_line_and_its_answer_says_nothing() -> None:
    stream = erased_at(erased_at(events(), 10), 11)  # both questions; 2 had an edit
    transcript = transcript_of(stream)
    assert transcript is not None
    lines = [line for s in transcript.segments for line in s.lines]
    assert [(line.seq, line.kind) for line in lines if line.kind == "erased"] == [
        (10, "erased"), (11, "erased")]  # the edit (15) was never a line; nor the markers
    assert not any(line.seq > len(events()) for line in lines)
    assert [line.kind for line in transcript.segments[-1].lines] == ["segment", "session"]
    text = to_json(transcript).decode() + to_markdown(transcript) + to_webvtt(transcript)
    for words in ("Who pays", "How long"):
        assert words not in text
