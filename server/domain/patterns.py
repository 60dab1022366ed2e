"""Whole-string patterns for msgspec ``Meta(pattern=...)``.

msgspec matches a pattern with ``re.search``, and Python's ``$`` also matches
before a trailing newline, so ``^[a-z]+$`` accepts ``"owner\\n"``. The
patterns also go into ``schemas/`` where clients read them as ECMAScript
regular expressions, which have no ``\\Z``; ``$(?!\\n)`` ends the string in both.
"""

from __future__ import annotations

import re

END = r"$(?!\n)"


def whole(body: str) -> str:
    """A pattern that matches ``body`` against the whole string and nothing more."""
    return rf"^(?:{body}){END}"


def is_whole(pattern: str) -> bool:
    """True for a pattern made by :func:`whole` (a test holds every pattern to it)."""
    return pattern.startswith("^(?:") and pattern.endswith(")" + END) and bool(re.compile(pattern))
