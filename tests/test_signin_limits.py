"""Sign-in limits against a running server, on both backends: attempts are reserved
before the password is hashed, and counted per (login, address) under a per-login
ceiling, so a stranger elsewhere cannot lock the owner out."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from tests.people import PASSWORD, Person

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite", "postgres+redis"])]


def count_hashing(server) -> list[int]:
    """Count password verifications (each one an argon2 hash) from here on."""
    passwords = server.practica.passwords
    calls = [0]
    verify = passwords.verify

    async def counted(stored, password):
        calls[0] += 1
        return await verify(stored, password)

    passwords.verify = counted
    return calls


async def sign_in(base_url: str, login: str, password: str, address: str | None = None
                  ) -> httpx2.Response:
    headers = {"x-csrf-token": "tok", "cookie": "practica_csrf=tok"}
    if address:
        headers["x-forwarded-for"] = address
    async with httpx2.AsyncClient(base_url=base_url) as http:
        return await http.post("/api/signin", json={"login": login, "password": password},
                               headers=headers)


@pytest.mark.settings(signin_failures_per_login_address=5)
async def test_concurrent_wrong_guesses_are_refused_before_hashing(server, backend):
    await Person.sign_up(server.url, "Ann", login="ann")
    hashed = count_hashing(server)
    replies = await asyncio.gather(*(sign_in(server.url, "ann", f"guess {i}")
                                     for i in range(25)))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [401] * 5 + [429] * 20
    assert hashed[0] == 5  # the refused 20 never reached argon2
    assert all(r.json()["code"] == "rate_limited" for r in replies if r.status_code == 429)
    still = await sign_in(server.url, "ann", PASSWORD)  # the right password, same address
    assert still.status_code == 429 and hashed[0] == 5


@pytest.mark.settings(trusted_proxies=("127.0.0.1",), signin_failures_per_login_address=5,
                      signin_failures_per_account=12, signin_failures_per_address=1000)
async def test_a_stranger_elsewhere_cannot_lock_the_owner_out(server, backend):
    await Person.sign_up(server.url, "Ann", login="ann")
    for i in range(6):
        reply = await sign_in(server.url, "ann", f"guess {i}", "198.51.100.7")
        assert reply.status_code == (401 if i < 5 else 429)
    own = await sign_in(server.url, "ann", PASSWORD, "203.0.113.20")
    assert own.status_code == 200  # Ann's own address has its own allowance
    # Guessing from many addresses meets the per-login ceiling (12 failures in all).
    statuses = [(await sign_in(server.url, "ann", "x", f"198.51.100.{i}")).status_code
                for i in range(10, 20)]
    assert statuses.count(401) == 7 and statuses[-1] == 429  # 5 + 7 = the ceiling
    refused = await sign_in(server.url, "ann", PASSWORD, "203.0.113.20")
    assert refused.status_code == 429


@pytest.mark.settings(signin_failures_per_login_address=3)
async def test_a_successful_sign_in_does_not_count_as_a_failure(server, backend):
    await Person.sign_up(server.url, "Ann", login="ann")
    for _ in range(2):
        assert (await sign_in(server.url, "ann", "wrong")).status_code == 401
    for _ in range(4):  # successes give their reservation back and clear this pair
        assert (await sign_in(server.url, "ann", PASSWORD)).status_code == 200
    for _ in range(3):
        assert (await sign_in(server.url, "ann", "wrong")).status_code == 401
    assert (await sign_in(server.url, "ann", "wrong")).status_code == 429


@pytest.mark.settings(signups_per_hour_per_address=3)
async def test_concurrent_sign_ups_are_limited_per_address(server, backend):
    async def sign_up(i: int) -> int:
        async with httpx2.AsyncClient(base_url=server.url) as http:
            reply = await http.post("/api/signup", json={
                "login": f"user{i}", "password": PASSWORD, "name": "N"}, headers={
                "x-csrf-token": "tok", "cookie": "practica_csrf=tok"})
        return reply.status_code

    statuses = sorted(await asyncio.gather(*(sign_up(i) for i in range(10))))
    assert statuses == [201] * 3 + [429] * 7


@pytest.mark.settings(signin_failures_per_login_address=3)
async def test_a_rotated_forwarded_for_header_does_not_dodge_the_limit(server, backend):
    await Person.sign_up(server.url, "Ann", login="ann")  # no proxy is trusted by default
    statuses = [(await sign_in(server.url, "ann", "x", f"198.51.100.{i}")).status_code
                for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
