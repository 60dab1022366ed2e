"""Search queries and snippets, pure: what a person types becomes a safe query for either
backend, and a backend's marked-up snippet becomes plain parts the client shows with
``textContent``.

A query is words (all must match), ``"quoted phrases"`` and ``-excluded`` words or
phrases. Nothing a person types reaches FTS5's or PostgreSQL's query syntax as syntax:
every word is reduced to letters and digits and quoted, so ``NEAR(``, ``*``, ``"`` or
``OR`` are words to find (or nothing), never operators and never a server error.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import InvalidCommand

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
START, STOP = "\x01", "\x02"
"""Highlight markers the backends put around matches; removed from indexed text, so a
message cannot forge them."""

_WORD = re.compile(r"[^\W_]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


class Term(NamedTuple):
    words: tuple[str, ...]
    """One word, or a phrase: words that must appear in this order, side by side."""
    excluded: bool = False


def parse(query: str) -> list[Term]:
    """The terms of a query; ``invalid`` when it is empty, too long, or has nothing to
    look for (only punctuation, only exclusions)."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidCommand(f"a search is at most {MAX_QUERY_CHARS} characters")
    terms: list[Term] = []
    for match in _TOKEN.finditer(query):
        minus = match.group(1) or match.group(3)
        chunk = match.group(2) if match.group(2) is not None else match.group(4)
        # Case is left to the backends, which fold query and text alike (Python's
        # casefold would turn "Straße" into "strasse", which neither indexes).
        words = tuple(_WORD.findall(chunk or ""))
        if words:
            terms.append(Term(words, excluded=bool(minus)))
    if not any(not t.excluded for t in terms):
        raise InvalidCommand("type at least one word to search for")
    if len(terms) > MAX_TERMS:
        raise InvalidCommand(f"a search has at most {MAX_TERMS} words or phrases")
    return terms


def _quoted(term: Term) -> str:
    return '"' + " ".join(term.words) + '"'  # words hold no quotes: see _WORD


def to_fts5(terms: list[Term]) -> str:
    """SQLite FTS5 MATCH syntax: every included term, then NOT each excluded one."""
    wanted = " AND ".join(_quoted(t) for t in terms if not t.excluded)
    return f"({wanted})" + "".join(f" NOT {_quoted(t)}" for t in terms if t.excluded)


def to_websearch(terms: list[Term]) -> str:
    """PostgreSQL ``websearch_to_tsquery`` syntax (which never fails on its input)."""
    return " ".join(("-" if t.excluded else "") + _quoted(t) for t in terms)


def indexable(text: str) -> str:
    """Message text as indexed: control characters (the highlight markers among them, and
    NUL, which PostgreSQL text refuses) become spaces."""
    return _CONTROL.sub(" ", text)


def snippet_parts(marked: str) -> list[tuple[str, bool]]:
    """Split a backend's snippet (matches between START and STOP) into plain parts."""
    parts: list[tuple[str, bool]] = []
    hit = False
    for piece in re.split(f"([{START}{STOP}])", marked):
        if piece == START:
            hit = True
        elif piece == STOP:
            hit = False
        elif piece:
            if parts and parts[-1][1] == hit:
                parts[-1] = (parts[-1][0] + piece, hit)
            else:
                parts.append((piece, hit))
    return parts
