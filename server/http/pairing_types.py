"""The HTTP bodies of pair-up history and blocks (``/api/communities/{c}/pairings…`` and
``…/pair-blocks…``), as msgspec Structs (in ``schemas/openapi.json``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from .api_types import Reply

PairingsLimit = Annotated[int, msgspec.Meta(ge=1, le=200)]
PairingsCursor = Annotated[str, msgspec.Meta(min_length=1, max_length=400)]
"""Where the previous page ended (its ``next``); opaque."""
MemberFilter = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class PairBlock(Reply):
    member: str
    name: str
    since_ms: int
    """When you put them on your list."""


class PairBlocks(Reply):
    """Your "do not pair me with" list in one community: only you see it, and the people
    on it are never told."""

    blocks: list[PairBlock]
    limit: int
    """How many people the list may hold."""


class Pairing(Reply):
    """Two people who shared a group in a round of pair-ups (a trio is three of these)."""

    session: str
    room: str
    title: str
    """The session's title (as opened)."""
    round: int
    a: str
    a_name: str
    b: str
    b_name: str
    ts: int
    """When they first shared the group in that round (ms since the epoch)."""


class PairingsPage(Reply):
    pairings: list[Pairing]
    """Newest first."""
    next: str | None
    """Pass as ``before`` for the page after this one; null on the last page."""


class MetIn(Reply):
    session: str
    room: str
    title: str
    round: int
    ts: int


class Met(Reply):
    """Someone you have met in pair-ups."""

    member: str
    name: str
    times: int
    """How many rounds you shared a group in."""
    last_ms: int
    sessions: list[MetIn]
    """Where you met, newest first."""


class MyPairings(Reply):
    met: list[Met]
    """The person met most recently first."""
