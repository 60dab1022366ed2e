"""The pipeline's decide-and-append loop and its one error mapping, without sockets."""

from __future__ import annotations

import pytest

from server.errors import (
    CommandError,
    Conflict,
    ErrorCode,
    Forbidden,
    IntegrityError,
    StaleState,
    StoreError,
)
from server.pipeline import ATTEMPTS, decided, refusal

pytestmark = pytest.mark.anyio


async def test_a_stale_decision_is_caught_up_and_decided_again():
    synced: list[str] = []
    tries = iter([StaleState("room:a", 1, 2), StaleState("community:c", 3, 4), "done"])

    async def attempt() -> str:
        outcome = next(tries)
        if isinstance(outcome, StaleState):
            raise outcome
        return outcome

    async def sync(stream: str) -> None:
        synced.append(stream)

    assert await decided(attempt, sync) == "done"
    assert synced == ["room:a", "community:c"]


async def test_a_state_that_keeps_moving_answers_conflict_after_bounded_attempts():
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise StaleState("room:a", calls, calls + 1)

    async def sync(stream: str) -> None:
        return None

    with pytest.raises(Conflict):
        await decided(attempt, sync)
    assert calls == ATTEMPTS


async def test_a_refusal_on_the_new_state_is_the_answer():
    async def attempt() -> None:
        raise Forbidden("not any more")

    async def sync(stream: str) -> None:
        raise AssertionError("a refusal is not retried")

    with pytest.raises(Forbidden):
        await decided(attempt, sync)


def test_one_mapping_from_exceptions_to_typed_errors():
    refused = Forbidden("no")
    assert refusal(refused) is refused
    assert refusal(StoreError("disk full")).code is ErrorCode.UNAVAILABLE
    assert refusal(IntegrityError("chain")).code is ErrorCode.UNAVAILABLE
    assert refusal(StaleState("room:a", 1, 2)).code is ErrorCode.CONFLICT
    bug = refusal(ZeroDivisionError("oops"))
    assert isinstance(bug, CommandError) and bug.code is ErrorCode.INTERNAL
    assert "oops" not in bug.message
