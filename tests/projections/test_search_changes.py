"""What room events do to the search index, pure (no store)."""

from __future__ import annotations

from server.domain.events import (
    Event,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
)
from server.projections.query import START
from server.projections.search import Edit, Index, Remove, SearchProjection, changes


def event(seq, body):
    return Event(stream="room:r", seq=seq, ts=1000 + seq, actor="m", body=body)


def test_posts_edits_and_deletions_become_changes():
    events = [
        event(1, MemberJoined(member="m", name="Ann")),
        event(2, MessagePosted(author="m", author_name="Ann", text=f"hello{START}")),
        event(3, MessageEdited(message=2, text="hello again")),
        event(4, MessageDeleted(message=2)),
    ]
    assert changes(events) == [Index(2, "m", "Ann", 1002, "hello "),
                               Edit(2, 3, "hello again"), Remove(2, 4)]


def test_erased_bodies_change_nothing():
    assert changes([event(2, None), event(3, None)]) == []


def test_statements_keep_newer_versions():
    sql = SearchProjection().statements("room:r", [
        event(2, MessagePosted(author="m", author_name="Ann", text="hi")),
        event(3, MessageEdited(message=2, text="hey"))])
    assert "DO NOTHING" in sql[0][0]  # a post never overwrites a newer row
    assert "version < ?" in sql[1][0] and sql[1][1][-1] == 3
