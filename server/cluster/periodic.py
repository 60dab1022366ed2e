"""Background jobs that run every few seconds until cancelled, surviving their own errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


def every(interval_s: float, job: Callable[[], Awaitable[None]], log: logging.Logger,
          name: str) -> asyncio.Task[None]:
    """Run ``job`` every ``interval_s``; a failure is logged and the next run goes ahead."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await job()
            except Exception:
                log.exception("%s failed; trying again in %.1fs", name, interval_s)

    return asyncio.get_running_loop().create_task(loop(), name=name)


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
