"""A throwaway PostgreSQL schema per test, on the server the dev and CI machines run.

There is no skipping: if PostgreSQL is not there, these tests fail and say why.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

DSN = os.environ.get("PRACTICA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PRACTICA_TEST_REDIS", "redis://127.0.0.1:6379/15")


@contextlib.asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """Yield a ``postgresql://…?schema=…`` URL for a new schema; drop it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(DSN)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is needed at {DSN} for this test: {exc}")
    try:
        yield f"{DSN}?schema={schema}"
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


def redis_prefix() -> str:
    """A key prefix of one test's own, so tests sharing a Redis database never meet (and
    nobody needs FLUSHDB): ``settings.redis_prefix`` / ``PRACTICA_REDIS_PREFIX``."""
    return f"t-{uuid.uuid4().hex[:12]}"


async def drop_redis_prefix(prefix: str) -> None:
    """Delete a test's keys (a prefix no other test uses); fails loudly without Redis."""
    import redis.asyncio as aioredis

    redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    except OSError as exc:
        pytest.fail(f"Redis is needed at {REDIS_URL} for this test: {exc}")
    finally:
        await redis.aclose()
