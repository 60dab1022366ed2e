"""Folding the store: an event a fold cannot take is passed over, never fatal."""

from __future__ import annotations

import logging

import pytest

from server.domain import community as community_fold
from server.domain.events import CommunityCreated, MemberAdmitted, community_stream
from server.folds import Folds
from server.store.sqlite import SqliteStore
from server.streams import COMMUNITY

pytestmark = pytest.mark.anyio


async def test_an_event_the_fold_cannot_take_is_logged_and_passed_over(
        tmp_path, monkeypatch, caplog):
    store = SqliteStore(str(tmp_path / "folds.db"))
    await store.open()
    try:
        await store.append(community_stream("guild"), None, [
            CommunityCreated(community="guild", name="Guild", domain="d", purpose="p"),
            MemberAdmitted(member="m-1", name="Ann", role="member", via="seed"),
            MemberAdmitted(member="m-2", name="Bo", role="member", via="seed"),
        ])
        real = community_fold.apply  # the fold the registry declares for communities

        def broken(state, event):
            if event.seq == 2:
                raise RuntimeError("a bug in a fold")
            return real(state, event)

        assert COMMUNITY.fold is real
        monkeypatch.setattr(COMMUNITY, "fold", broken)
        with caplog.at_level(logging.ERROR, "practica.folds"):
            state = await Folds(store).load_community("guild")
        assert state.seq == 3 and set(state.members) == {"m-2"}
        assert "community:guild seq 2" in caplog.text
    finally:
        await store.close()
