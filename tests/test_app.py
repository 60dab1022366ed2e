"""What the app serves besides the API and the socket: pages and their errors."""

from __future__ import annotations

import httpx2
import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("path", ["/nowhere", "/c/x/y", "/static/missing.js", "/invite/"])
async def test_an_unknown_path_answers_a_404_page_in_the_apps_style(server, path):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        reply = await http.get(path)
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("text/html")
    assert "Page not found" in reply.text and "/static/style.css" in reply.text
    assert "script-src 'self'" in reply.headers["content-security-policy"]


async def test_an_unknown_api_path_answers_a_typed_json_error(server):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        reply = await http.get("/api/no-such-thing")
    assert reply.status_code == 404
    assert reply.json()["code"] == "not_found"
