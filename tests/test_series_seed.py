"""The seeded demo community has a recurring room a newcomer sees at once: past
occurrences with their attendance, upcoming ones with RSVPs, a presenter and a backup
(and one with a gap), and topics."""

from __future__ import annotations

import time

import pytest

from server.authority import Principal
from server.seed import OWNER
from tests.people import DEMO, Person

pytestmark = pytest.mark.anyio
DAY = 86_400_000


async def test_the_demo_has_a_recurring_room_with_history_and_plans(server):
    newcomer = await Person.sign_up(server.url, "New Comer")
    await newcomer.join(DEMO)
    (series,) = (await newcomer.call("GET", f"/api/communities/{DEMO}/series")).json()
    assert (series["series"], series["room"], series["zone"]) == (
        "case-clinic", "case-review", "Europe/Berlin")
    now = int(time.time() * 1000)
    listed = (await newcomer.call(
        "GET", f"/api/series/case-clinic/occurrences?from_ms={now - 30 * DAY}"
        f"&to_ms={now + 30 * DAY}")).json()
    past = [o for o in listed if o["end_ms"] <= now]
    upcoming = [o for o in listed if o["start_ms"] > now]
    assert len(past) >= 3 and len(upcoming) >= 2
    first, second = upcoming[:2]
    assert set(first["rsvps"].values()) == {"yes", "maybe"}
    assert first["presenter"] and first["backup"] and first["presenter_name"]
    assert second["presenter"] and second["backup"] is None  # a gap conveners see
    topics = (await newcomer.call("GET", "/api/series/case-clinic/topics")).json()
    assert len(topics) == 2 and topics[0]["votes"] == 2
    owner = Principal(session="seed-test", member=OWNER, name="Owner", account=OWNER,
                      csrf="")
    for occurrence in past[-3:]:
        table = await server.practica.series.attendance(owner, "case-clinic",
                                                        occurrence["occurrence"])
        assert len(table.rows) >= 2
        assert all(0 < row.duration_s <= 75 * 60 for row in table.rows)
    gaps = await server.practica.series.gaps(owner, DEMO)
    assert second["occurrence"] in [g.occurrence for g in gaps]
