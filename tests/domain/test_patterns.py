"""Whole-string patterns: ``$`` must not let a trailing newline through."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server import frames
from server.domain.patterns import is_whole, whole
from server.errors import ErrorCode, InvalidCommand
from server.http import api_types

SCHEMAS = Path(__file__).parents[2] / "schemas"


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


@pytest.mark.parametrize("text", ["abc", "a-b-1"])
def test_whole_matches_the_whole_string_only(text):
    pattern = re.compile(whole(r"[a-z0-9][a-z0-9-]*"))
    assert pattern.search(text)
    for bad in (f"{text}\n", f"\n{text}", f"{text}\r\n", f"{text} ", f"{text}\n\n", ""):
        assert not pattern.search(bad), bad


def test_every_pattern_in_the_wire_contract_is_whole():
    patterns = {p for path in SCHEMAS.rglob("*.json")
                for p in _patterns(json.loads(path.read_text()))}
    assert patterns, "the schemas carry patterns"
    for pattern in patterns:
        assert is_whole(pattern), pattern


@pytest.mark.parametrize("login", ["owner\n", "owner\r\n", "\nowner", "own er", "owner\n\n"])
def test_a_login_with_a_newline_is_refused(login):
    body = {"login": login, "password": "a long enough password", "name": "Ann"}
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(body, api_types.SignUp)
    assert msgspec.convert({**body, "login": "owner"}, api_types.SignUp).login == "owner"


@pytest.mark.parametrize("ident", ["guild\n", "guild\r\n", "\nguild", "guild\n\n"])
def test_ids_with_a_newline_are_refused(ident):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"community": ident, "name": "Guild", "domain": "d", "purpose": "p"},
                        api_types.CreateCommunity)
    frame = json.dumps({"type": "join", "ref": "r1", "room": ident})
    with pytest.raises(InvalidCommand) as refused:
        frames.decode(frame)
    assert refused.value.code == ErrorCode.INVALID
