"""The demo community seeded on first run, so the first screen is not empty."""

from __future__ import annotations

import itertools
import secrets
import time

from .domain.events import (
    CommunityCreated,
    EventBody,
    MemberAdmitted,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    RoomCreated,
    community_stream,
    room_stream,
)
from .domain.session_events import (
    AttendeeArrived,
    SessionEnded,
    SessionOpened,
    SessionStarted,
    community_hour,
)
from .domain.session_pair_events import PairGroup, PairsEnded, PairsMade
from .passwords import Passwords
from .seed_repertoire import seed_repertoire
from .seed_series import Append, seed_series
from .settings import Settings
from .store import CommandKey, EventStore

ROOMS = [
    ("case-review", "Case review", "Weekly: 10 min pairs, a 50 min case, open Q&A"),
    ("journal-club", "Journal club", "A paper a fortnight, read before, argued during"),
    ("help-desk", "Help desk", "Bring a problem; someone answers within a day"),
]

PEOPLE = {
    "m-demo-amara": "Dr Amara Osei",
    "m-demo-jonas": "Jonas Berg, RN",
    "m-demo-li": "Li Wei (PT)",
}

HISTORY: dict[str, list[tuple[str, str]]] = {
    "case-review": [
        ("m-demo-amara", "Welcome back, everyone. Tuesday's case: a 58-year-old with "
                         "recurring syncope and a normal ECG."),
        ("m-demo-jonas", "I can present the nursing side: what we saw overnight on telemetry."),
        ("m-demo-li", "I'd like to hear how you decided against a tilt-table test."),
    ],
    "help-desk": [
        ("m-demo-li", "Does anyone have a handout template for post-op knee exercises?"),
        ("m-demo-jonas", "We use one from the ward; I'll post it after my shift."),
    ],
}


OWNER = "m-demo-owner"


async def seed_demo(store: EventStore, settings: Settings, passwords: Passwords) -> bool:
    """Seed the demo community and its owner account if its stream is empty; True if
    it did. The owner's password is random and printed once.

    Every append carries a fixed command key, so processes starting together
    against one database seed it once.
    """
    community = settings.community
    stream = community_stream(community)
    if await store.head(stream) > 0:
        return False
    password = secrets.token_urlsafe(12)
    (inserted,) = await store.execute([(
        "INSERT INTO accounts (id, login, password_hash, name, created) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (OWNER, settings.owner_login, await passwords.hash(password), "Community owner",
         int(time.time() * 1000)))])
    if inserted:
        print(f"Demo community owner: sign in as {settings.owner_login!r} with password "
              f"{password!r} (shown once; change it under Profile)", flush=True)
    steps = itertools.count()

    async def append(stream: str, actor: str | None, bodies: list[EventBody]) -> int:
        result = await store.append(stream, actor, bodies, CommandKey("seed", f"{next(steps)}"))
        return result.seq

    await append(stream, None, [CommunityCreated(
        community=community, name="Clinical Practice Circle",
        domain="Clinical reasoning in acute and community care",
        purpose="Get better at hard cases together: present them, question them, keep what "
                "we learn",
        description="Clinicians from three hospitals meet weekly to **review cases**, "
                    "read papers and help each other between sessions.\n\n"
                    "- Tuesdays: case review\n- Fortnightly: journal club",
        owner=OWNER, owner_name="Community owner", join_policy="open",
    )])
    for member, name in PEOPLE.items():
        await append(stream, None, [MemberAdmitted(member=member, name=name, role="member",
                                                   via="seed")])
    for room, name, topic in ROOMS:
        created = RoomCreated(room=room, name=name, topic=topic)
        await append(stream, None, [created])
        await append(room_stream(room), None, [created])
        speakers = HISTORY.get(room, [])
        for member in dict.fromkeys(m for m, _ in speakers):
            await append(room_stream(room), member,
                               [MemberJoined(member=member, name=PEOPLE[member])])
        for member, text in speakers:
            await append(room_stream(room), member, [
                MessagePosted(author=member, author_name=PEOPLE[member], text=text)])
        for member in dict.fromkeys(m for m, _ in speakers):
            await append(room_stream(room), member, [MemberLeft(member=member)])
    await append_past_session(append, community)
    await seed_series(append, community, OWNER, PEOPLE, int(time.time() * 1000))
    await seed_repertoire(append, store, community, PEOPLE)
    return True


PAST_SESSION = "demo-first-hour"




async def append_past_session(append: Append, community: str) -> None:
    """Last week's community hour in Case review, ended: its attendees and one round of
    pair-ups, so that pairing history (Manage) is not empty for a newcomer to the demo."""
    stream = f"session:{PAST_SESSION}"
    await append(stream, OWNER, [SessionOpened(
        session=PAST_SESSION, room="case-review", title="First community hour",
        agenda=community_hour(), community=community)])
    for member, name in [(OWNER, "Community owner"), *PEOPLE.items()]:
        await append(stream, member, [AttendeeArrived(member=member, name=name)])
    amara, jonas, li = PEOPLE
    await append(stream, OWNER, [
        SessionStarted(deadline_ms=int(time.time() * 1000) + 10 * 60_000),
        PairsMade(round=1, seed="demo", host_joins=True, groups=[
            PairGroup(group=1, members=sorted([amara, li])),
            PairGroup(group=2, members=sorted([jonas, OWNER]))]),
        PairsEnded(round=1, how="host"), SessionEnded()])
