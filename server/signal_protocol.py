"""What one browser says to another to set up a peer-to-peer call in a breakout room
(WebRTC signalling): the ``signal`` of the session op ``signal`` (see
:mod:`server.session_protocol`), a tagged union on ``kind``.

Practica reads none of it beyond these types: it checks the sizes, checks that sender
and recipient are in the same breakout group, and relays it (``relayed`` kind
``signal``) to that one person; it is never stored.

A call between two members of a group: the member whose id sorts first offers. The
other says ``hello`` when their page arrives (or comes back), which asks for a fresh
offer. ``call`` names one peer connection (the offerer picks it), so an answer or a
candidate of a connection already replaced is recognised and dropped.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from .domain.patterns import whole

MAX_SDP_CHARS = 16_384
"""The largest session description accepted. Chromium's offer for audio + video with
its candidates is about 6 KB; the websocket's 64 KiB frame limit bounds it anyway."""
MAX_CANDIDATE_CHARS = 1_024

CallId = Annotated[str, msgspec.Meta(min_length=1, max_length=40,
                                     pattern=whole(r"[A-Za-z0-9_-]+"))]
Sdp = Annotated[str, msgspec.Meta(min_length=4, max_length=MAX_SDP_CHARS,
                                  pattern=whole(r"v=0\r?\n[\s\S]*"))]
"""A session description (RFC 8866): it starts with ``v=0``."""
Candidate = Annotated[str, msgspec.Meta(max_length=MAX_CANDIDATE_CHARS)]
"""An ICE candidate line (``candidate:...``); empty marks the end of candidates."""


class SignalBody(msgspec.Struct, tag_field="kind", kw_only=True, forbid_unknown_fields=True,
                 omit_defaults=True):
    """Base of every signal."""


class SignalHello(SignalBody, tag="hello"):
    """My page is (back) in the breakout room: start the call with me afresh (sent to
    the member who offers)."""


class SignalOffer(SignalBody, tag="offer"):
    """An SDP offer (RTCSessionDescription ``type: "offer"``) for peer connection ``call``."""

    call: CallId
    sdp: Sdp


class SignalAnswer(SignalBody, tag="answer"):
    """The SDP answer to the offer of ``call``."""

    call: CallId
    sdp: Sdp


class SignalCandidate(SignalBody, tag="candidate"):
    """One ICE candidate gathered after the description was sent (trickle ICE)."""

    call: CallId
    candidate: Candidate
    sdp_mid: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    sdp_mline_index: Annotated[int, msgspec.Meta(ge=0, le=64)] | None = None


class SignalMedia(SignalBody, tag="media"):
    """What I am sending now, so the partner's page can say "camera off" rather than
    show a frozen picture: ``low_bandwidth`` is audio only."""

    audio: bool
    video: bool
    low_bandwidth: bool = False


class SignalBye(SignalBody, tag="bye"):
    """I hung up (left the call); ``call`` when one connection only."""

    call: CallId | None = None


AnySignal = SignalHello | SignalOffer | SignalAnswer | SignalCandidate | SignalMedia | SignalBye
