"""Wire types of the stage media endpoints (``/api/sessions/{session}/media...``)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..domain.events import Id
from ..http.api_types import Body

Sdp = Annotated[str, msgspec.Meta(min_length=1, max_length=60_000)]
Feed = Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]


class Jsep(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A WebRTC session description, as ``RTCSessionDescription`` has it (complete: wait
    for ICE gathering to finish before sending it; there is no trickle)."""

    type: Literal["offer", "answer"]
    sdp: Sdp


class Publisher(msgspec.Struct, kw_only=True):
    member: Id
    name: str
    feed: int
    """What to subscribe to."""


class MediaView(msgspec.Struct, kw_only=True):
    """Room-wide video of a session: whether it is on, and who publishes now."""

    available: bool
    """False: room-wide video is off (no media server); everything else still works."""
    reason: str | None = None
    publishers: list[Publisher] = []
    may_publish: bool = False
    """You are on stage: you may publish."""


class Publish(Body):
    jsep: Jsep
    """Your offer (camera/microphone/screen tracks)."""


class Published(msgspec.Struct, kw_only=True):
    feed: int
    jsep: Jsep
    """Janus's answer: set it as the remote description."""


class Subscribe(Body):
    feed: Feed
    video: bool = True
    """False: low-bandwidth mode, audio only (Janus does not send the video)."""


class Subscribed(msgspec.Struct, kw_only=True):
    subscription: str
    """Name it to start, change or end this subscription."""
    jsep: Jsep
    """Janus's offer: answer it and send the answer to ``.../start``."""


class Start(Body):
    jsep: Jsep


class Quality(Body):
    video: bool
    """False: stop receiving video (low-bandwidth mode); True: receive it again."""
