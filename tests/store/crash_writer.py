"""Child process for the crash test: appends concurrently and prints every acked event.

Usage: python -m tests.store.crash_writer DB_PATH ROUND
Each acknowledged append prints ``stream seq text`` and flushes, so the parent
knows exactly what was acknowledged before it SIGKILLs this process.
"""

from __future__ import annotations

import asyncio
import sys

from server.domain.events import MessagePosted
from server.store import CommandKey
from server.store.sqlite import SqliteStore


async def main(path: str, round_: str) -> None:
    store = SqliteStore(path, synchronous="FULL")
    await store.open()
    print("open", flush=True)

    async def writer(n: int) -> None:
        stream = f"room:r{n % 3}"
        for i in range(100_000):
            text = f"{round_}-{n}-{i}"
            result = await store.append(
                stream, f"m{n}", [MessagePosted(author=f"m{n}", author_name="W", text=text)],
                CommandKey(f"m{n}", text))
            sys.stdout.write(f"{result.stream} {result.seq} {text}\n")
            sys.stdout.flush()

    await asyncio.gather(*(writer(n) for n in range(12)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
