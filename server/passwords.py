"""Password hashing with argon2id (argon2-cffi), off the event loop; token hashing.

Hashing takes tens of milliseconds and ~19 MiB on purpose; it runs in a
thread so one sign-in does not stall every websocket of the process.
Tokens (sessions, links) are long and random, so SHA-256 of them is enough.
"""

from __future__ import annotations

import asyncio
import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def hash_token(token: str) -> bytes:
    """What is stored instead of a session or link token."""
    return hashlib.sha256(token.encode()).digest()


MIN_MEMORY_KIB = 19 * 1024
MIN_TIME_COST = 2


class Passwords:
    def __init__(self, *, memory_kib: int = MIN_MEMORY_KIB, time_cost: int = MIN_TIME_COST) -> None:
        if memory_kib < MIN_MEMORY_KIB or time_cost < MIN_TIME_COST:
            raise ValueError(f"argon2id needs at least {MIN_MEMORY_KIB} KiB and "
                             f"{MIN_TIME_COST} iterations")
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                      parallelism=1)
        # Verifying against this when the login is unknown takes as long as a real
        # check, so response times do not tell which logins exist.
        self._decoy = self._hasher.hash("not a password anyone has")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored or self._decoy, password) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)
