"""What the application serves besides the API: pages, /metrics, redirects, forwarded headers."""

from __future__ import annotations

import asyncio
import logging

import httpx2
import pytest

from server.cli import metrics_listener
from tests.conftest import free_port
from tests.people import Person

pytestmark = pytest.mark.anyio


async def test_metrics_are_not_public_by_default(server):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        for headers in ({}, {"authorization": "Bearer"}, {"authorization": "Bearer x"}):
            reply = await http.get("/metrics", headers=headers)
            assert reply.status_code == 404
            assert "practica_" not in reply.text


@pytest.mark.settings(metrics_token="s3cret-token")
async def test_metrics_need_the_bearer_token_when_one_is_set(server):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        for wrong in ("", "s3cret-token", "Bearer s3cret", "Bearer s3cret-token2",
                      "Basic s3cret-token"):
            refused = await http.get("/metrics", headers={"authorization": wrong})
            assert refused.status_code == 404 and "practica_" not in refused.text
        served = await http.get("/metrics", headers={"authorization": "Bearer s3cret-token"})
    assert served.status_code == 200 and "practica_open_connections" in served.text


async def test_metrics_can_be_served_on_a_listener_of_their_own(server):
    settings = type(server.settings)(metrics_port=free_port())
    httpd = await asyncio.to_thread(metrics_listener, settings,
                                    server.practica.metrics.registry)
    try:
        async with httpx2.AsyncClient() as http:
            reply = await http.get(f"http://127.0.0.1:{settings.metrics_port}/metrics")
        assert reply.status_code == 200 and "practica_open_connections" in reply.text
    finally:
        await asyncio.to_thread(httpd.shutdown)
        httpd.server_close()
    assert metrics_listener(type(server.settings)(), server.practica.metrics.registry) is None


@pytest.mark.parametrize("path", ["/api/me/", "/api/communities/", "/static/", "/c/x/"])
async def test_a_trailing_slash_never_redirects_to_the_host_header(server, path):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        reply = await http.get(path, headers={"host": "evil.example"})
    assert reply.status_code == 404
    assert "location" not in reply.headers


async def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(server):
    person = await Person.sign_up(server.url, "Ann")
    person.csrf = (await person.refresh())["csrf"]
    reply = await person.call("GET", "/api/sessions", headers={
        "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"})
    assert [s["address"] for s in reply.json()] == ["127.0.0.1"]


@pytest.mark.settings(trusted_proxies=("127.0.0.1",))
async def test_forwarded_headers_are_believed_from_a_trusted_proxy(server):
    person = Person(server.url)
    await person.refresh()
    async with httpx2.AsyncClient(base_url=server.url) as http:
        reply = await http.post("/api/signup", json={
            "login": "ann", "password": "long enough password", "name": "Ann"}, headers={
            "x-csrf-token": person.csrf, "cookie": f"practica_csrf={person.csrf}",
            "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"})
    assert reply.status_code == 201
    assert "secure" in reply.headers["set-cookie"].lower()  # the proxy said https
    rows = await server.practica.store.fetch("SELECT address FROM sessions")
    assert rows == [("203.0.113.9",)]


async def test_tokens_in_paths_never_reach_the_access_log(server, caplog):
    caplog.set_level(logging.INFO, logger="uvicorn.access")  # the fixture quiets it
    secret = "tok3n-Sup3rSecret_value"
    async with httpx2.AsyncClient(base_url=server.url) as http:
        for path in (f"/guest/{secret}", f"/invite/{secret}", f"/reset/{secret}",
                     f"/api/invites/{secret}", f"/api/invites/{secret}/accept",
                     f"/api/password-resets/{secret}", f"/?token={secret}"):
            await http.get(path)
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access) >= 7
    text = "\n".join(r.getMessage() for r in caplog.records
                     if not r.name.startswith("httpx"))  # the client's own log has them
    assert secret not in text
    assert "/api/password-resets/[redacted]" in text

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
