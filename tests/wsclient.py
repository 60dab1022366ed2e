"""A small protocol client for tests: speaks Practica's wire format over a real socket."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

_refs = itertools.count(1)


class Client:
    """Collects every frame; helpers wait for the reply to a ref or for an event."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.hello: dict[str, Any] = {}
        self.ready: dict[str, Any] = {}
        self._taken: set[int] = set()
        self._reader: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()
        self.closed_by: Exception | None = None
        self.person: Any = None
        """The tests.people.Person whose session cookie this socket carries."""

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> Client:
        client = cls(await websockets.connect(url, **kwargs))
        client.hello = await client.next_frame()
        assert client.hello["type"] == "hello"
        return client

    def keep_reading(self) -> None:
        """Read continuously in the background, as a live client does."""

        async def read() -> None:
            try:
                async for raw in self.ws:
                    self.frames.append(json.loads(raw))
                    self._arrived.set()
            except websockets.ConnectionClosed as exc:  # e.g. its server was killed
                self.closed_by = exc

        self._reader = asyncio.create_task(read())

    async def next_frame(self, timeout: float = 5) -> dict[str, Any]:
        if self._reader is not None:
            count = len(self.frames)
            async with asyncio.timeout(timeout):
                while len(self.frames) == count:
                    if self._reader.done():
                        self._reader.result()
                        raise EOFError("connection closed")
                    self._arrived.clear()
                    arrived = asyncio.ensure_future(self._arrived.wait())
                    try:
                        await asyncio.wait({self._reader, arrived},
                                           return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        arrived.cancel()
            return self.frames[count]
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def identify(self, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "identify", **fields})
        self.ready = await self.wait_for(lambda f: f["type"] in ("ready", "error"))
        return self.ready

    async def resume(self, streams: dict[str, int], **fields: Any) -> dict[str, Any]:
        await self.send({"type": "resume", "streams": streams, **fields})
        self.ready = await self.wait_for(lambda f: f["type"] in ("ready", "error"))
        return self.ready

    @property
    def member_id(self) -> str:
        return str(self.ready["session"]["member"]["id"])

    async def command(self, type_: str, ref: str | None = None, **fields: Any) -> dict[str, Any]:
        """Send a command and return its reply (ack, error or history)."""
        ref = ref or f"r{next(_refs)}"
        await self.send({"type": type_, "ref": ref, **fields})
        return await self.wait_for(lambda f: f.get("ref") == ref and f["type"] != "event")

    async def wait_for(self, match: Any, timeout: float = 5) -> dict[str, Any]:
        """The first matching frame not already returned by an earlier wait."""
        deadline = asyncio.get_running_loop().time() + timeout
        scanned = 0
        while True:
            for index in range(scanned, len(self.frames)):
                if index not in self._taken and match(self.frames[index]):
                    self._taken.add(index)
                    return self.frames[index]
            scanned = len(self.frames)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame; last frames: {self.frames[-5:]}")
            await self.next_frame(remaining)

    def events(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.frames
                if f["type"] == "event" and (stream is None or f["stream"] == stream)]

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
