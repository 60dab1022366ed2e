"""The base of every event body and the id type, apart from :mod:`.events` so that
modules of event bodies (:mod:`.session_events`) and the union of them all can import
them without a cycle."""

from __future__ import annotations

from typing import Annotated

import msgspec

from .names import normalize_name_fields
from .patterns import whole

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64,
                                 pattern=whole(r"[a-z0-9][a-z0-9-]*"))]


class EventBody(msgspec.Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True):
    """Base of every event body. Its names are checked when it is built and when it is
    read back, by the same function (:mod:`server.domain.names`)."""

    def __post_init__(self) -> None:
        normalize_name_fields(self)
