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
