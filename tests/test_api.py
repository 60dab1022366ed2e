"""The HTTP API's transport rules against a running server: body limits."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from server.http.api import MAX_BODY

pytestmark = pytest.mark.anyio

HEAD = ("POST /api/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Cookie: practica_csrf=tok\r\nX-CSRF-Token: tok\r\n")


async def _status_of_reply(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), 10)
    return int(line.split()[1])


async def test_a_chunked_body_over_the_limit_is_refused_before_it_ends(server):
    """The body never ends (no closing chunk is sent): the 413 can only come from a
    server that stopped reading at the limit instead of buffering the whole body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.port)
    writer.write((HEAD + "Transfer-Encoding: chunked\r\n\r\n").encode())
    chunk = b"x" * 8192
    for _ in range(MAX_BODY // len(chunk) + 2):
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    await writer.drain()
    try:
        assert await _status_of_reply(reader) == 413
        rest = await asyncio.wait_for(reader.read(4096), 10)
        assert b'"code":"invalid"' in rest and str(MAX_BODY).encode() in rest
    finally:
        writer.close()
    rows = await server.practica.store.fetch("SELECT count(*) FROM accounts")
    assert rows[0][0] == 1  # only the demo owner: nothing was created


async def test_a_declared_length_over_the_limit_is_refused_before_reading(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.port)
    writer.write((HEAD + f"Content-Length: {150 * 1024 * 1024}\r\n\r\n").encode() + b"{")
    await writer.drain()
    try:
        assert await _status_of_reply(reader) == 413
    finally:
        writer.close()


@pytest.mark.parametrize("size", [MAX_BODY - 200, MAX_BODY + 1])
async def test_the_limit_is_exact_for_bodies_sent_whole(server, size):
    body = b'{"login": "ann", "password": "long enough password", "name": "'
    body += b"x" * (size - len(body) - 2) + b'"}'
    async with httpx2.AsyncClient(base_url=server.url) as http:
        reply = await http.post("/api/signup", content=body, headers={
            "content-type": "application/json", "x-csrf-token": "tok",
            "cookie": "practica_csrf=tok"})
    if size > MAX_BODY:
        assert reply.status_code == 413
    else:  # under the limit: read and judged on its content (a too-long name)
        assert (reply.status_code, reply.json()["code"]) == (400, "invalid")
