"""Recurring rooms over a real server: a community, its owner scheduling, members planning."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.people import Person

BERLIN = "Europe/Berlin"


def local_day(days: int, time: str = "18:00", zone: str = BERLIN) -> str:
    """A wall-clock start ``days`` from today in ``zone``: ``YYYY-MM-DDTHH:MM``."""
    day = (datetime.now(ZoneInfo(zone)) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{time}"


async def community(server: Any, name: str = "guild") -> tuple[Person, str]:
    """An open community with one room, and its owner."""
    owner = await Person.sign_up(server.url, "Olga Owner")
    made = await owner.call("POST", "/api/communities", {
        "community": name, "name": "Guild", "domain": "Bridges", "purpose": "Build",
        "join_policy": "open"})
    assert made.status_code == 201, made.text
    reply = await owner.call("POST", f"/api/communities/{name}/rooms", {"name": "Clinic"})
    assert reply.status_code == 201, reply.text
    return owner, reply.json()["rooms"][0]["room"]


async def joined(server: Any, name: str, community: str = "guild") -> Person:
    person = await Person.sign_up(server.url, name)
    await person.join(community)
    return person


async def create(owner: Person, room: str, community: str = "guild",
                 **fields: Any) -> dict[str, Any]:
    body = {"room": room, "title": "Case clinic", "rule": "FREQ=WEEKLY",
            "start": local_day(1), "zone": BERLIN, **fields}
    reply = await owner.call("POST", f"/api/communities/{community}/series", body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def occurrences(person: Person, series: str, **window: int) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in window.items())
    reply = await person.call("GET", f"/api/series/{series}/occurrences?{query}")
    assert reply.status_code == 200, reply.text
    return list(reply.json())
