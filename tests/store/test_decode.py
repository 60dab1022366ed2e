"""Reading a stored body never fails: what today's rules refuse reads with placeholders."""

from __future__ import annotations

import logging

import msgspec
import pytest

from server.domain.events import (
    CommunityCreated,
    MemberJoined,
    MessagePosted,
    RoomCreated,
    UnreadableEvent,
)
from server.domain.names import PLACEHOLDER
from server.store.base import decode_body, encode_body


def test_a_valid_body_reads_as_written(caplog):
    body = MessagePosted(author="m-1", author_name="Ann", text="hi")
    assert decode_body(encode_body(body)) == body
    assert not caplog.records


@pytest.mark.parametrize("name", ["", " ", "\t\n", "\u200b", "\u3164\u2800", "\u202e", 7, None])
def test_a_refused_name_reads_as_the_placeholder_and_is_logged(caplog, name):
    for raw, field in zip([
        {"type": "member_joined", "member": "m-1", "name": name},
        {"type": "message_posted", "author": "m-1", "author_name": name, "text": "hi"},
        {"type": "room_created", "room": "r-1", "name": name, "topic": ""},
        {"type": "community_created", "community": "c", "name": name, "domain": "d",
         "purpose": "p"},
    ], ["name", "author_name", "name", "name"], strict=True):
        caplog.clear()
        with caplog.at_level(logging.WARNING, "practica.store"):
            body = decode_body(msgspec.json.encode(raw), "room:r-1 seq 3")
        assert getattr(body, field) == PLACEHOLDER
        assert isinstance(body, MemberJoined | MessagePosted | RoomCreated | CommunityCreated)
        (record,) = caplog.records
        assert "room:r-1 seq 3" in record.getMessage()


@pytest.mark.parametrize("raw", [
    b"not json", b"[]", b'{"type": "from_the_future", "x": 1}', b'{"no": "type"}',
    b'{"type": "member_joined", "name": "Ann"}',  # a required field is missing
    b'{"type": "message_posted", "author": "m", "author_name": "A", "text": ""}',
])
def test_a_body_that_cannot_be_read_becomes_an_unreadable_event(caplog, raw):
    with caplog.at_level(logging.WARNING, "practica.store"):
        body = decode_body(raw, "room:r-1 seq 4")
    assert isinstance(body, UnreadableEvent) and body.problem
    assert len(caplog.records) == 1


def test_an_erased_body_stays_a_tombstone():
    assert decode_body(None) is None
