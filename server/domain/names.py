"""Names, normalized and validated in one place.

Every display name (accounts, guests, communities, rooms, and whatever names
later features add) is typed :data:`DisplayName`. Every msgspec Struct that
carries one calls :func:`normalize_name_fields` from its ``__post_init__``, and
msgspec runs that both when the server builds a value and when it decodes one
(request bodies, frames, stored events): what is accepted on the way in is
exactly what is accepted on the way out.

A name is NFKC-normalized, its runs of whitespace collapse to one space, it is
trimmed, and invisible format characters (zero-width spaces, soft hyphens, bidi
controls...) are dropped; what is left must contain something that renders
(a letter, digit, symbol or punctuation) and be at most ``MAX_NAME_CHARS`` long.
"""

from __future__ import annotations

import functools
import typing
import unicodedata
from typing import Annotated, Any

import msgspec

from ..errors import InvalidCommand

MAX_NAME_CHARS = 64
PLACEHOLDER = "(unnamed)"
"""What a stored name that today's rules refuse reads as (the store keeps it as written)."""

DisplayName = Annotated[str, msgspec.Meta(
    min_length=1, max_length=MAX_NAME_CHARS,
    description="A name: NFKC, trimmed, with at least one visible character.")]

_KEPT_FORMAT = frozenset("\u200c\u200d")
"""Zero-width (non-)joiners: needed inside emoji sequences and some scripts."""
_BLANK_LETTERS = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
"""Characters of visible categories that still render as nothing (Hangul fillers,
Khmer inherent vowels, the blank Braille pattern)."""
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
"""Controls, format characters, unassigned, private use, surrogates, separators and
non-spacing marks: none of these shows anything on its own."""


class InvalidName(InvalidCommand, ValueError):
    """A name that cannot be accepted (typed ``invalid``). It is a ValueError too, so
    msgspec turns it into a ValidationError when raised while decoding."""


def _is_tag(char: str) -> bool:
    return "\U000e0020" <= char <= "\U000e007f"  # emoji flag tag sequences


def _visible(char: str) -> bool:
    return (unicodedata.category(char) not in _INVISIBLE_CATEGORIES
            and char not in _BLANK_LETTERS)


def normalize_name(raw: str, *, what: str = "a name") -> str:
    """The canonical form of a name, or :class:`InvalidName` saying why there is none."""
    what = what[:1].upper() + what[1:]
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf"
                   or c in _KEPT_FORMAT or _is_tag(c))
    text = " ".join(text.split())  # every kind of whitespace, tabs and newlines included
    text = text.strip("".join(_KEPT_FORMAT | _BLANK_LETTERS) + " ")
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise InvalidName(f"{what} cannot contain the control character U+{ord(bad):04X}")
    if not any(_visible(c) for c in text):
        raise InvalidName(f"{what} cannot be blank: it needs a visible character")
    if len(text) > MAX_NAME_CHARS:
        raise InvalidName(f"{what} is longer than {MAX_NAME_CHARS} characters")
    return text


def is_valid_name(value: object) -> bool:
    """True when ``value`` is a name in its canonical form."""
    if not isinstance(value, str):
        return False
    try:
        return normalize_name(value) == value
    except InvalidName:
        return False


def readable_name(value: object) -> str:
    """A stored name as it reads today: normalized, or :data:`PLACEHOLDER` when today's
    rules refuse it. For reading what was written before; never for accepting input."""
    if isinstance(value, str):
        try:
            return normalize_name(value)
        except InvalidName:
            pass
    return PLACEHOLDER


@functools.cache
def name_fields(cls: type) -> tuple[str, ...]:
    """The fields of a Struct typed :data:`DisplayName` (or ``DisplayName | None``)."""
    # msgspec resolves the annotations as its decoders do (extras kept).
    return tuple(f.name for f in msgspec.structs.fields(cls)
                 if f.type == DisplayName or DisplayName in typing.get_args(f.type))


def normalize_name_fields(struct: Any) -> None:
    """Normalize every name field of ``struct`` in place; InvalidName if one is refused.
    Call it from ``__post_init__``."""
    for field in name_fields(type(struct)):  # type: ignore[arg-type]
        value = getattr(struct, field)
        if value is not None:
            setattr(struct, field, normalize_name(value, what=field.replace("_", " ")))
