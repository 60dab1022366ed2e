"""Zulip's verify_action idea, over a real socket on both backends: the snapshot a
client started from plus the events it received equals the snapshot fetched fresh after
the commands, for the community stream and a room stream."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fold_sequences import client_fold
from tests.server_sequences import record

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def folded(sync: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The Python client fold of a sync's snapshot and ``events``, in normal form."""
    return client_fold({**sync, "kind": sync["snapshot"]["kind"], "events": events})


# The socket the role change closes must not lapse from the room while this runs.
@pytest.mark.settings(presence_grace_ms=600_000)
async def test_a_snapshot_and_the_events_after_it_equal_a_fresh_snapshot(server):
    recorded = await record(server)
    assert sorted(s.partition(":")[0] for s in recorded) == ["community", "room"]
    for stream, got in recorded.items():
        first, fresh = got["first"], got["fresh"]
        assert first["mode"] == fresh["mode"] == "snapshot"
        assert len(first["events"]) >= 5, stream
        assert folded(first, first["events"]) == folded(fresh, []), stream
        assert folded(first, first["events"])["seq"] == fresh["seq"]
