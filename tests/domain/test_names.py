"""Names: one normalization and validation, the same on the way in and on the way out."""

from __future__ import annotations

import itertools
import random
import typing

import msgspec
import pytest

from server import protocol
from server.domain import events, session_events
from server.domain.names import (
    MAX_NAME_CHARS,
    PLACEHOLDER,
    DisplayName,
    InvalidName,
    is_valid_name,
    name_fields,
    normalize_name,
    readable_name,
)
from server.errors import ErrorCode
from server.http import api_types

INVISIBLE = [
    " ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u2000", "\u2003", "\u200a", "\u202f",
    "\u205f", "\u3000", "\u1680", "\u2028", "\u2029", "\u0085",  # whitespace of every kind
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e",  # zero-width
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
    "\u2069", "\u200e", "\u200f", "\u061c",  # bidi controls
    "\u2061", "\u2062", "\u2063", "\u2064", "\U000e0001", "\U000e0041",  # other format
    "\u3164", "\uffa0", "\u115f", "\u1160", "\u2800", "\u17b4",  # blank "letters"
    "\u0301", "\u0300", "\u034f", "\ufe0f", "\u20dd",  # combining marks on nothing
]


@pytest.mark.parametrize("char", INVISIBLE)
def test_a_name_of_one_invisible_character_is_refused(char):
    for name in (char, char * 3, f" {char} "):
        with pytest.raises(InvalidName) as refused:
            normalize_name(name)
        assert refused.value.code == ErrorCode.INVALID


def test_any_mix_of_invisible_characters_is_refused():
    rng = random.Random(9)
    mixes = ["", *("".join(pair) for pair in itertools.product(INVISIBLE[:20], repeat=2)),
             *("".join(rng.choices(INVISIBLE, k=rng.randint(1, 12))) for _ in range(500))]
    for name in mixes:
        with pytest.raises(InvalidName):
            normalize_name(name)
        assert not is_valid_name(name)
        assert readable_name(name) == PLACEHOLDER


@pytest.mark.parametrize(("raw", "canonical"), [
    ("Ann", "Ann"),
    ("  Ann   Lee \n", "Ann Lee"),
    ("Ann\tLee", "Ann Lee"),
    ("\u200bAnn\u200d", "Ann"),
    ("\u202eAnn\u202c", "Ann"),  # bidi controls are dropped: they could disguise a name
    ("A\u00adnn", "Ann"),
    ("\uff21\uff4e\uff4e", "Ann"),  # fullwidth letters: NFKC
    ("e\u0301", "\u00e9"),
    ("\u3164Ann\u3164", "Ann"),
    ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),  # the ZWJ of an emoji stays
    ("\u0645\u0631\u064a\u0645", "\u0645\u0631\u064a\u0645"),
    ("x" * MAX_NAME_CHARS, "x" * MAX_NAME_CHARS),
])
def test_names_are_normalized(raw, canonical):
    assert normalize_name(raw) == canonical
    assert normalize_name(canonical) == canonical  # idempotent
    assert is_valid_name(canonical)


@pytest.mark.parametrize("raw", ["x" * (MAX_NAME_CHARS + 1), "Ann\x00", "A\x07nn", "\ud800x"])
def test_too_long_or_controls_are_refused(raw):
    with pytest.raises(InvalidName):
        normalize_name(raw)


def test_reading_never_refuses():
    assert readable_name(" \u200b ") == PLACEHOLDER
    assert readable_name(None) == PLACEHOLDER
    assert readable_name(" Ann ") == "Ann"


def _structs(module: typing.Any, base: type) -> list[type]:
    return [value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, base) and value is not base]


NAMED_INPUTS = [(cls, field) for cls in (*_structs(api_types, api_types.Body),
                                         *_structs(protocol, protocol.ClientFrame),
                                         *_structs(events, events.EventBody),
                                         *_structs(session_events, events.EventBody))
                for field in name_fields(cls)]


def test_every_name_field_is_a_display_name():
    """A guard for later features: a field called ``name`` or ``*_name`` that people or
    the server fill in is a DisplayName, so it gets the one validation."""
    exempt = {(events.CommunityCreated, "owner_name"),  # "" for communities before accounts
              (session_events.QuestionAsked, "asker_name")}  # "" when anonymous
    for cls in (*_structs(api_types, api_types.Body), *_structs(protocol, protocol.ClientFrame),
                *_structs(events, events.EventBody), *_structs(session_events, events.EventBody)):
        for field in cls.__struct_fields__:
            if (field == "name" or field.endswith("_name")) and (cls, field) not in exempt:
                assert field in name_fields(cls), f"{cls.__name__}.{field} is not a DisplayName"
    assert len(NAMED_INPUTS) >= 12


def _valid_example(cls: type, field: str, name: object) -> dict[str, object]:
    """A JSON object of ``cls`` that is valid except, perhaps, for ``field``."""
    samples: dict[str, object] = {
        "login": "ann", "password": "a long enough password", "domain": "d", "purpose": "p",
        "community": "guild", "token": "t" * 20, "member": "m-1", "role": "member",
        "via": "open", "room": "clinic", "author": "m-1", "text": "hi", "owner": "m-1",
        "description": "", "join_policy": "open",
        "agenda": [{"kind": "open", "title": "t", "minutes": 5}], "on": True,
    }
    hints = typing.get_type_hints(cls, include_extras=True)
    body: dict[str, object] = {f: samples.get(f, "x") for f in cls.__struct_fields__
                               if f in samples or hints[f] == DisplayName}
    body[field] = name
    tag = cls.__struct_config__.tag  # type: ignore[attr-defined]
    if isinstance(tag, str):
        body["type"] = tag
    return body


@pytest.mark.parametrize(("cls", "field"), NAMED_INPUTS,
                         ids=[f"{c.__name__}.{f}" for c, f in NAMED_INPUTS])
def test_decoding_and_building_agree_on_every_name(cls, field):
    """What a writer may build is exactly what a reader accepts, and both normalize."""
    for name in ["Ann", "  Ann  Lee ", "\uff21nn", "", " ", "\u200b", "\u3164 \u2800",
                 "\u202e\u200f", "x" * 65]:
        raw = msgspec.json.encode(_valid_example(cls, field, name))
        try:
            decoded = msgspec.json.decode(raw, type=cls)
        except msgspec.ValidationError:
            decoded = None
        fields = {k: v for k, v in _valid_example(cls, field, name).items() if k != "type"}
        try:
            built = cls(**fields)
        except InvalidName:
            built = None
        try:
            expected: str | None = normalize_name(name)
        except InvalidName:
            expected = None
        assert (getattr(decoded, field, None), getattr(built, field, None)) == (
            expected, expected), (cls.__name__, field, name)


def test_building_an_event_with_a_blank_name_raises_the_typed_error():
    with pytest.raises(InvalidName) as refused:
        events.MemberJoined(member="m-1", name=" \u200b ")
    assert refused.value.code == ErrorCode.INVALID
    assert events.RoomCreated(room="r", name=" Clinic\u200b ").name == "Clinic"
