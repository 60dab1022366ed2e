"""Who may do what: one table of grants per role and one check, :func:`allowed`.

Pure: the caller builds the :class:`Actor` (their role in the community the
resource belongs to, read from the community's fold at the moment of the
command) and the :class:`Resource`; nothing here touches a socket or a store.
Every command and HTTP call goes through :func:`allowed` each time it is
made, so a role revoked a moment ago no longer counts.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Role(enum.IntEnum):
    """Ranked: each role holds every grant of the roles below it."""

    GUEST = 1
    """Attends one room through a guest link, under a display name, without an account."""
    MEMBER = 2
    HOST = 3
    CONVENER = 4
    OWNER = 5

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Role:
        return _BY_LABEL[label]


_BY_LABEL = {role.name.lower(): role for role in Role}


class Action(enum.StrEnum):
    VIEW_COMMUNITY = "view_community"
    """See the community's rooms and members, and follow its stream."""
    JOIN_ROOM = "join_room"
    READ_HISTORY = "read_history"
    POST = "post"
    EDIT_OWN_MESSAGE = "edit_own_message"
    DELETE_OWN_MESSAGE = "delete_own_message"
    MODERATE_MESSAGES = "moderate_messages"
    """Delete anyone's message in the community's rooms."""
    CREATE_GUEST_LINK = "create_guest_link"
    CREATE_ROOM = "create_room"
    INVITE_MEMBERS = "invite_members"
    APPROVE_JOIN = "approve_join"
    SET_ROLE = "set_role"
    """Grant or revoke a role (only roles below your own; owners may make owners)."""
    REMOVE_MEMBER = "remove_member"
    """Remove a member: a ban, until a convener lifts it."""
    TIMEOUT_MEMBER = "timeout_member"
    REMOVE_GUEST = "remove_guest"
    """End a guest's session (a guest has no account to ban)."""
    TIMEOUT_GUEST = "timeout_guest"
    LIFT_REMOVAL = "lift_removal"
    """See who was removed, and let them come back."""
    VIEW_AUDIT = "view_audit"
    EDIT_COMMUNITY = "edit_community"
    ISSUE_PASSWORD_RESET = "issue_password_reset"
    LEAVE_COMMUNITY = "leave_community"
    RELAY_TYPING = "relay_typing"
    """Show the members present in a room that you are typing (relayed, never stored)."""
    TAKE_PART = "take_part"
    """In a room's live session: attend, raise and lower your hand, upvote, withdraw your
    own question (notes, captions and case prompts need the session's role for them)."""
    SPEAK_IN_SESSION = "speak_in_session"
    """In a room's live session: ask and edit your questions, chat."""
    OPEN_SESSION = "open_session"
    """Open a live session in a room."""
    RUN_SESSION = "run_session"
    """Run a live session: start, advance, extend, pause, end, edit the agenda, the
    stage and hands, off the record, name the scribe."""
    MODERATE_QUESTIONS = "moderate_questions"
    """Pin, answer and dismiss questions in a live session."""
    SAVE_TEMPLATE = "save_template"
    """Save an agenda as a run-of-show template of the community."""
    KEEP_PAIR_BLOCKS = "keep_pair_blocks"
    """Keep your own private "do not pair me with" list for pair-ups."""
    VIEW_PAIRINGS = "view_pairings"
    """See the community's pairing history: who met whom in pair-ups, and when."""
    PLAN_SESSIONS = "plan_sessions"
    """Recurring rooms: RSVP, propose and upvote topics, volunteer to present or back up."""
    SCHEDULE_SERIES = "schedule_series"
    """Recurring rooms: create and edit a series, cancel, move, title an occurrence, give
    it a host, end a series; see the gaps and the attendance."""
    READ_REPERTOIRE = "read_repertoire"
    """Read the community's repertoire: its artefacts, their history and quotes."""
    WRITE_ARTEFACT = "write_artefact"
    """Make an artefact (from transcript excerpts one may read), revise one's own, comment,
    endorse and suggest revisions."""
    CURATE_REPERTOIRE = "curate_repertoire"
    """Revise any artefact, accept or decline any suggested revision."""
    ERASE_WORDS = "erase_words"
    """Erase anyone's words from a session's transcript for privacy (a member may erase
    their own)."""


_GUEST = {Action.JOIN_ROOM, Action.READ_HISTORY, Action.POST, Action.EDIT_OWN_MESSAGE,
          Action.DELETE_OWN_MESSAGE, Action.RELAY_TYPING, Action.TAKE_PART,
          Action.SPEAK_IN_SESSION}
_MEMBER = _GUEST | {Action.VIEW_COMMUNITY, Action.LEAVE_COMMUNITY, Action.KEEP_PAIR_BLOCKS,
                    Action.PLAN_SESSIONS, Action.READ_REPERTOIRE, Action.WRITE_ARTEFACT}
_HOST = _MEMBER | {Action.MODERATE_MESSAGES, Action.CREATE_GUEST_LINK, Action.REMOVE_GUEST,
                   Action.TIMEOUT_GUEST, Action.OPEN_SESSION, Action.RUN_SESSION,
                   Action.MODERATE_QUESTIONS, Action.SAVE_TEMPLATE}
_CONVENER = _HOST | {Action.CREATE_ROOM, Action.INVITE_MEMBERS, Action.APPROVE_JOIN,
                     Action.SET_ROLE, Action.REMOVE_MEMBER, Action.TIMEOUT_MEMBER,
                     Action.LIFT_REMOVAL, Action.VIEW_AUDIT, Action.VIEW_PAIRINGS,
                     Action.SCHEDULE_SERIES, Action.CURATE_REPERTOIRE}
_OWNER = _CONVENER | {Action.EDIT_COMMUNITY, Action.ISSUE_PASSWORD_RESET,
                      Action.ERASE_WORDS}

GRANTS: dict[Role, frozenset[Action]] = {
    Role.GUEST: frozenset(_GUEST),
    Role.MEMBER: frozenset(_MEMBER),
    Role.HOST: frozenset(_HOST),
    Role.CONVENER: frozenset(_CONVENER),
    Role.OWNER: frozenset(_OWNER),
}
"""Each role's grants: the one table to read (and change) to know who may do what."""

ROOM_ACTIONS = frozenset({Action.JOIN_ROOM, Action.READ_HISTORY, Action.POST,
                          Action.EDIT_OWN_MESSAGE, Action.DELETE_OWN_MESSAGE,
                          Action.MODERATE_MESSAGES, Action.RELAY_TYPING, Action.TAKE_PART,
                          Action.SPEAK_IN_SESSION, Action.OPEN_SESSION, Action.RUN_SESSION,
                          Action.MODERATE_QUESTIONS})
"""Actions on a room: a guest may take them only in the room their link is for."""

ON_GUESTS = frozenset({Action.REMOVE_GUEST, Action.TIMEOUT_GUEST})
"""Actions on a guest only."""

TARGETED = frozenset({Action.SET_ROLE, Action.REMOVE_MEMBER, Action.TIMEOUT_MEMBER,
                      Action.ISSUE_PASSWORD_RESET}) | ON_GUESTS
"""Actions on another person: only on someone ranked below you."""

SPEAKING = frozenset({Action.POST, Action.EDIT_OWN_MESSAGE, Action.RELAY_TYPING,
                      Action.SPEAK_IN_SESSION})
"""What a timed-out member may not do until the timeout ends."""


class Actor(NamedTuple):
    id: str
    role: Role | None
    """Their role in the resource's community; None when they are not in it."""
    guest_room: str | None = None
    guest_session: str | None = None
    """A guest whose link admits to one live session: session-scoped actions apply to that
    session only."""
    muted_until_ms: int = 0
    now_ms: int = 0


class Resource(NamedTuple):
    community: str
    room: str | None = None
    target_role: Role | None = None
    """The current role of the person acted on (targeted actions)."""
    new_role: Role | None = None
    """The role being given (``set_role``)."""
    session: str | None = None
    """The live session acted in or read, if any (a session guest's one session)."""


class Decision(NamedTuple):
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def allowed(actor: Actor, action: Action, resource: Resource) -> Decision:
    """May ``actor`` take ``action`` on ``resource``? With the reason, either way."""
    role = actor.role
    if role is None:
        return Decision(False, f"not a member of {resource.community}")
    if action not in GRANTS[role]:
        return Decision(False, f"a {role.label} may not {action.value.replace('_', ' ')}")
    if role is Role.GUEST and (action not in ROOM_ACTIONS or resource.room != actor.guest_room):
        return Decision(False, "a guest link admits to its one room only")
    if role is Role.GUEST and actor.guest_session is not None and (
            resource.session != actor.guest_session
            and (resource.session is not None or action in SPEAKING)):
        return Decision(False, "a guest link admits to its one session only")
    if action in SPEAKING and actor.muted_until_ms > actor.now_ms:
        minutes = -(-(actor.muted_until_ms - actor.now_ms) // 60_000)
        return Decision(False, f"timed out: you may post again in {minutes} min")
    if action in TARGETED:
        target = resource.target_role
        if target is None:
            return Decision(False, "not a member of this community")
        if action in ON_GUESTS and target is not Role.GUEST:
            return Decision(False, f"{action.value.replace('_', ' ')}: that is not a guest")
        if target >= role:
            return Decision(False, f"a {role.label} may not act on a {target.label}")
        new = resource.new_role
        if action is Action.SET_ROLE and (new is None or new is Role.GUEST or new > role
                                          or (new == role and role is not Role.OWNER)):
            shown = new.label if new else "that role"
            return Decision(False, f"a {role.label} may not grant {shown}")
    return Decision(True, "allowed")


def session_actions(actor: Actor, community: str) -> list[Action]:
    """The actions ``actor`` may take in ``community`` now, in :class:`Action` order: what
    a session's ``ready`` carries so that a client shows controls without copying
    :data:`GRANTS`.

    Each is decided by :func:`allowed` on the most favourable resource: the guest's own
    room for a guest (whose room-scoped actions apply to that one room only, and who
    has no others), and someone ranked below the actor for actions on a person (on a
    guest for those on guests). A listed action may still be refused for a given
    target (ranked too high) or while the actor is timed out: the timeout is left out
    here because it ends by itself, and every command is checked again when it is made.
    """
    unmuted = actor._replace(muted_until_ms=0)
    resource = Resource(community, room=actor.guest_room, target_role=Role.GUEST,
                        new_role=Role.MEMBER)
    return [action for action in Action if allowed(unmuted, action, resource)]


def grantable_roles(role: Role | None) -> list[Role]:
    """The roles someone of ``role`` may give (``set_role``): those below their own, and
    owner too for an owner; none without ``set_role``."""
    if role is None or Action.SET_ROLE not in GRANTS[role]:
        return []
    return [new for new in Role if new is not Role.GUEST
            and (new < role or (new == role and role is Role.OWNER))]


def permission_matrix() -> str:
    """The grants table as markdown (committed as ``schemas/permissions.md``)."""
    roles = list(Role)
    lines = [
        "# Permissions",
        "",
        "Generated from `server/domain/policy.py` (`practica schemas`); do not edit.",
        "Every websocket command and HTTP call is checked with `allowed(actor, action,",
        "resource)` when it is made. A refusal is a `forbidden` error and changes nothing;",
        "a refusal of someone in the community is written to its audit log. Someone who",
        "is not in a community may do none of these there; their refusals are not audited",
        "but rate limited per client address.",
        "",
        "| action | " + " | ".join(r.label for r in roles) + " |",
        "| --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for action in Action:
        cells = []
        for role in roles:
            if action not in GRANTS[role]:
                cells.append("—")
            elif role is Role.GUEST:
                cells.append("own room")
            elif action in TARGETED:
                cells.append("below own rank")
            else:
                cells.append("yes")
        lines.append(f"| `{action.value}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "- *own room*: a guest link admits to one room only; a session's guest link to that",
        "  session only (reading and acting in it, and joining its room to be present, but",
        "  not the room's chat, typing or another session).",
        "- *below own rank*: only on someone whose role ranks below yours; an owner may",
        "  grant owner, a convener may grant host or member.",
        "- A timed-out member or guest may not `post`, `edit_own_message`, `relay_typing`",
        "  or `speak_in_session` until the timeout ends, whatever they do meanwhile (leaving and",
        "  coming back keeps it).",
        "- `remove_member` is a ban: the person may not join again (open join, invite or",
        "  request) until someone with `lift_removal` lifts it.",
        "- `remove_guest` and `timeout_guest` act on guests only.",
        "- Editing and deleting *own* messages also needs the message to be yours.",
        "",
    ]
    return "\n".join(lines)
