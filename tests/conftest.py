"""Shared fixtures: a real Practica server on a free loopback port, on a temp database."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from server.app import create_app
from server.cli import PracticaServer, uvicorn_config
from server.settings import Settings

# Hypothesis keeps its examples (failing ones are replayed first next time) and caches
# beside the tests, not in a .hypothesis folder at the top of the project.
set_hypothesis_home_dir(str(Path(__file__).parent / ".hypothesis"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SHUTDOWN_DEADLINE_S = 45


@dataclass
class RunningServer:
    url: str
    ws_url: str
    settings: Settings
    app: Any

    @property
    def practica(self) -> Any:
        return self.app.state.practica


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'practica.db'}",
        "port": free_port(),
        "heartbeat_interval_ms": 2000,
        "heartbeat_timeout_ms": 30_000,  # test clients stay silent; deadline tests set their own
        "presence_grace_ms": 300,
        # Protocol test clients may leave frames unread for long (websockets then stops
        # reading, pongs included); keepalive tests set their own.
        "keepalive_ms": 60_000,
        "log_format": "text",
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """Serve the real app with uvicorn (as `practica run` does) until the block ends."""
    app = create_app(settings)
    server = PracticaServer(uvicorn_config(app, settings, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            pytest.fail(f"the server did not start: {app.state.practica.startup_error}")
        await asyncio.sleep(0.01)
    try:
        yield RunningServer(f"http://127.0.0.1:{settings.port}",
                            f"ws://127.0.0.1:{settings.port}/ws", settings, app)
    finally:
        server.should_exit = True
        done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_DEADLINE_S)
        if not done:  # a hang must fail loudly and say where, not stall the suite
            stacks = "\n".join(f"{t.get_name()}: {t.get_stack(limit=3)}"
                               for t in asyncio.all_tasks() if not t.done())
            server.force_exit = True
            await asyncio.wait({task}, timeout=5)
            pytest.fail(f"server did not shut down in {SHUTDOWN_DEADLINE_S}s; tasks:\n{stacks}")
        task.result()


@pytest.fixture
def backend() -> str:
    """Which store and bus the ``server`` fixture uses; protocol test modules parametrize it."""
    return "sqlite"


@pytest.fixture
async def server(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> AsyncIterator[RunningServer]:
    """A fresh server for one test; ``@pytest.mark.settings(field=value)`` overrides settings."""
    marker = request.node.get_closest_marker("settings")
    overrides = dict(marker.kwargs) if marker else {}
    if backend == "sqlite":
        async with running_server(make_settings(tmp_path, **overrides)) as running:
            yield running
        return
    from tests.pg import REDIS_URL, drop_redis_prefix, postgres_schema, redis_prefix

    prefix = redis_prefix()  # this test's own keys: no FLUSHDB of a shared database
    await drop_redis_prefix(prefix)  # fails loudly if Redis is not there
    async with postgres_schema() as database_url:
        # Redis pub/sub channels are shared by every database number: a prefix of its
        # own keeps this server deaf to other test runs on the same Redis, and its keys
        # apart from theirs (no FLUSHDB of a shared database).
        overrides |= {"database_url": database_url, "redis_url": REDIS_URL,
                      "redis_prefix": prefix}
        try:
            async with running_server(make_settings(tmp_path, **overrides)) as running:
                yield running
        finally:
            await drop_redis_prefix(prefix)

