"""Search queries and snippets, pure: what people type never reaches a backend as syntax."""

from __future__ import annotations

import re

import pytest

from server.errors import ErrorCode, InvalidCommand
from server.projections.query import (
    MAX_QUERY_CHARS,
    START,
    STOP,
    Term,
    indexable,
    parse,
    snippet_parts,
    to_fts5,
    to_websearch,
)


def test_words_phrases_and_exclusions():
    terms = parse('Syncope "tilt table" -ECG')
    assert terms == [Term(("Syncope",)), Term(("tilt", "table")), Term(("ECG",), True)]
    assert to_fts5(terms) == '("Syncope" AND "tilt table") NOT "ECG"'
    assert to_websearch(terms) == '"Syncope" "tilt table" -"ECG"'


@pytest.mark.parametrize("typed", [
    'NEAR(a b)', "NEAR(", 'a*', '"unclosed', 'a OR b', 'col:val', "^start", "a AND", "x'); DROP",
    '""a""', "{a b}", "a + b", "naïve café", "post-op",
])
def test_syntax_characters_are_only_words(typed):
    terms = parse(typed)
    for term in terms:
        assert all(word.isalnum() for word in term.words)
    outside_quotes = re.sub(r'"[^"]*"', " ", to_fts5(terms)).split()
    assert set(outside_quotes) <= {"(", ")", "AND", "NOT"}
    assert set(re.sub(r'"[^"]*"', " ", to_websearch(terms)).split()) <= {"-"}


def test_hyphenated_words_are_a_phrase():
    assert parse("post-op") == [Term(("post", "op"))]


@pytest.mark.parametrize("typed", ["", "   ", '"', "*", "-", "-foo", '-"a b"',
                                   "()", "x" * (MAX_QUERY_CHARS + 1), "(*) -"])
def test_nothing_to_find_is_invalid(typed):
    with pytest.raises(InvalidCommand) as caught:
        parse(typed)
    assert caught.value.code is ErrorCode.INVALID


def test_too_many_terms_is_invalid():
    with pytest.raises(InvalidCommand):
        parse(" ".join(f"w{i}" for i in range(17)))


def test_markers_cannot_be_forged_by_a_message():
    assert indexable(f"a{START}b{STOP}c") == "a b c"
    assert indexable("nul\x00and\x7fdel\tkept\nlines") == "nul and del\tkept\nlines"


def test_snippet_parts_split_on_markers():
    marked = f"…the {START}quick{STOP} brown {START}fox{STOP}"
    assert snippet_parts(marked) == [("…the ", False), ("quick", True), (" brown ", False),
                                     ("fox", True)]
    assert snippet_parts("") == []
    assert snippet_parts(f"{START}a{STOP}{START}b{STOP}") == [("ab", True)]
