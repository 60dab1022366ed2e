"""The HTTP API's request and response bodies (JSON), as msgspec Structs.

``schemas/openapi.json`` is generated from these and the route table in
:mod:`server.http.api`; decoders are built once per type, at import.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..domain.community import RoomInfo
from ..domain.events import Id, JoinPolicy, Markdown, RoleName, ShortText
from ..domain.names import DisplayName, normalize_name_fields
from ..domain.patterns import whole
from ..errors import ErrorCode

Login = Annotated[str, msgspec.Meta(min_length=3, max_length=64,
                                    pattern=whole(r"[A-Za-z0-9][A-Za-z0-9._@+-]*"))]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
AnyPassword = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
"""At sign-in: any length, so a policy change never locks anyone out."""
Timezone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Reason = Annotated[str, msgspec.Meta(max_length=300)]
AuditBefore = Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
"""A seq of the audit stream: entries below it."""
AuditLimit = Annotated[int, msgspec.Meta(ge=1, le=200)]
SearchLimit = Annotated[int, msgspec.Meta(ge=1, le=50)]
"""How many search hits (server/projections/search.py MAX_LIMIT)."""
SearchText = Annotated[str, msgspec.Meta(max_length=200)]
"""What to find; an empty or blank one is refused as ``invalid`` too."""


class Body(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every request body. Its names are normalized and validated as it is
    decoded (:mod:`server.domain.names`); a refused one answers ``invalid``."""

    def __post_init__(self) -> None:
        normalize_name_fields(self)


class SignUp(Body):
    login: Login
    password: Password
    name: DisplayName


class SignIn(Body):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: AnyPassword


class ProfileUpdate(Body):
    name: DisplayName | None = None
    pronouns: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    timezone: Timezone | None = None
    """An IANA time zone name, e.g. ``Europe/Oslo``."""
    practice: ShortText | None = None
    """A line on what they practise."""


class ConfirmPassword(Body):
    password: AnyPassword


class NewPassword(Body):
    password: Password


class EditCommunity(Body):
    name: DisplayName
    domain: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: Markdown = ""
    join_policy: JoinPolicy = "approval"


class CreateCommunity(EditCommunity, kw_only=True):
    community: Id
    """The community's id: lower-case letters, digits and dashes; its front page is /c/<id>."""


class CreateRoom(Body):
    name: DisplayName
    topic: ShortText = ""


class CreateInvite(Body):
    kind: Literal["member", "guest"] = "member"
    """member: joins the community; guest: attends ``room`` under a display name, no account."""
    room: Id | None = None
    session: Id | None = None
    """guest only: admit to this live session of ``room`` (the room may be left out) and
    nothing else there: watch, ask and upvote, take part in pairs."""
    max_uses: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    expires_in_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 24 * 7


class JoinRequest(Body):
    note: Reason = ""


class SetRole(Body):
    role: RoleName


class RemoveMember(Body):
    reason: Reason = ""


class TimeoutMember(Body):
    minutes: Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60)]
    """0 lifts a timeout early."""
    reason: Reason = ""


class GuestEntry(Body):
    token: Annotated[str, msgspec.Meta(min_length=16, max_length=128)]
    name: DisplayName


# --- responses --------------------------------------------------------------------


class Reply(msgspec.Struct, kw_only=True):
    """Base of every response body."""


class ApiError(Reply, omit_defaults=True):
    code: ErrorCode
    message: str
    retry_after_ms: int | None = None
    """With ``rate_limited`` and ``unavailable``: wait this long before retrying (the
    ``Retry-After`` header says the same in whole seconds)."""


class Profile(Reply):
    id: str
    login: str
    name: str
    pronouns: str
    timezone: str
    practice: str
    created: int


class Membership(Reply):
    community: str
    name: str
    role: RoleName


class Guest(Reply):
    member: str
    name: str
    community: str
    room: str
    session: str | None = None
    """The one live session the guest's link admits to, if it is a session's link."""


class Me(Reply):
    account: Profile | None
    guest: Guest | None
    csrf: str
    """Send this back as ``X-CSRF-Token`` on every POST, PATCH and DELETE."""
    memberships: list[Membership]


class SessionInfo(Reply):
    id: str
    current: bool
    created: int
    last_seen: int
    expires: int
    user_agent: str
    address: str


class CommunityCard(Reply):
    community: str
    name: str
    domain: str
    purpose: str
    join_policy: JoinPolicy
    member_count: int


class CommunityPage(Reply):
    """A community's front page: what anyone may see, and what you may do there."""

    community: str
    name: str
    domain: str
    purpose: str
    description_html: str
    join_policy: JoinPolicy
    member_count: int
    rooms: list[RoomInfo]
    your_role: RoleName | None
    request_pending: bool


class RoomCreatedPage(CommunityPage):
    """The community page after creating a room, and that room's id: two rooms may
    share a name, so the id is how a client knows which one it made."""

    room: str
    """The new room's id (as in ``rooms[].room`` and ``join``)."""


class JoinOutcome(Reply):
    outcome: Literal["joined", "requested", "already_member"]
    role: RoleName | None = None


class InviteCreated(Reply):
    id: str
    token: str
    """Shown once; only its hash is kept."""
    path: str
    """Open this path on the server (``/invite/<token>`` or ``/guest/<token>``)."""
    kind: Literal["member", "guest"]
    room: str | None
    session: str | None
    """A session's guest link: the one live session it admits to."""
    expires: int
    max_uses: int


class InviteInfo(Reply):
    id: str
    kind: Literal["member", "guest"]
    room: str | None
    session: str | None
    """A session's guest link: the one live session it admits to."""
    created_by: str
    created: int
    expires: int
    max_uses: int
    uses: int
    revoked: bool


class InvitePreview(Reply):
    community: str
    community_name: str
    domain: str
    purpose: str
    kind: Literal["member", "guest"]
    room: str | None
    session: str | None
    """A session's guest link: the one live session it admits to."""
    room_name: str | None
    expires: int


class PendingRequest(Reply):
    account: str
    name: str
    note: str
    created: int


class RemovedMember(Reply):
    """Someone removed from the community: they may not come back until it is lifted."""

    member: str
    name: str
    removed_at: int
    """When, in milliseconds since the epoch."""
    removed_by: str | None
    removed_by_name: str | None
    reason: str
    timed_out_until: int
    """A timeout outlives the removal: when it ends (0 when there is none)."""


class AuditEntry(Reply):
    seq: int
    ts: int
    actor: str | None
    actor_name: str | None
    action: str
    outcome: Literal["done", "refused"]
    target: str | None
    target_name: str | None
    detail: str


class AuditPage(Reply):
    entries: list[AuditEntry]
    """Newest first."""
    has_more: bool


class ResetLink(Reply):
    path: str
    """``/reset/<token>``: one use, for the account named; shown once."""
    expires: int


class ExportedMessage(Reply):
    room: str
    id: int
    ts: int
    text: str | None
    """None when the message was deleted."""


class Export(Reply):
    profile: Profile
    memberships: list[Membership]
    messages: list[ExportedMessage]


class SnippetPart(Reply):
    text: str
    hit: bool
    """True for a part that matched the search (show it highlighted, as plain text)."""


class SearchHit(Reply):
    room: str
    message: int
    """The message's id: the seq of its ``message_posted`` event in ``room:<room>``."""
    author: str
    author_name: str
    ts: int
    snippet: list[SnippetPart]
    """The matching passage of the message's latest text, in parts."""


class SearchResults(Reply):
    query: str
    hits: list[SearchHit]
    """Best match first."""


class CaptionsAdded(Reply):
    """A WebVTT file's cues, appended to the session as ``caption_added`` events."""

    session: str
    cues: int
    """How many cues were added."""
    left_out: int
    """Cues timed within an off-the-record stretch: not added (never for the record)."""
    first_seq: int | None
    last_seq: int | None
    """The seqs of the first and last ``caption_added`` (None when none was added)."""
