"""Signed-in people for tests: an HTTP client with its session cookie and CSRF token,
able to open websockets as itself."""

from __future__ import annotations

import itertools
import os
from typing import Any

import httpx2

from tests.wsclient import Client

DEMO = "clinical-practice-circle"
PASSWORD = "correct horse battery staple"
_logins = itertools.count(1)


def http_of(ws_url: str) -> str:
    """The server's base URL, from its websocket URL."""
    return ws_url.replace("ws://", "http://", 1).removesuffix("/ws")


class Person:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.me: dict[str, Any] = {}

    @classmethod
    async def sign_up(cls, base_url: str, name: str = "Tester", *, login: str | None = None,
                      password: str = PASSWORD) -> Person:
        person = cls(base_url)
        await person.refresh()
        login = login or f"user{os.getpid()}-{next(_logins)}"
        reply = await person.call("POST", "/api/signup",
                                  {"login": login, "password": password, "name": name})
        assert reply.status_code == 201, reply.text
        person.me = reply.json()
        person.csrf = person.me["csrf"]
        return person

    @classmethod
    async def sign_in(cls, base_url: str, login: str, password: str = PASSWORD) -> Person:
        person = cls(base_url)
        await person.refresh()
        reply = await person.call("POST", "/api/signin", {"login": login, "password": password})
        assert reply.status_code == 200, reply.text
        person.me = reply.json()
        person.csrf = person.me["csrf"]
        return person

    async def refresh(self) -> dict[str, Any]:
        reply = await self.call("GET", "/api/me")
        assert reply.status_code == 200, reply.text
        self.me = reply.json()
        self.csrf = self.me["csrf"]
        return self.me

    @property
    def id(self) -> str:
        account = self.me.get("account")
        return str(account["id"] if account else self.me["guest"]["member"])

    @property
    def session_cookie(self) -> str:
        return self.cookies.get("practica_session", "")

    async def call(self, method: str, path: str, json: Any = None, *,
                   headers: dict[str, str] | None = None) -> httpx2.Response:
        """One request with this person's cookies (and CSRF header, unless ``headers``)."""
        if headers is None:
            headers = {"x-csrf-token": self.csrf} if method != "GET" else {}
        async with httpx2.AsyncClient(base_url=self.base_url, cookies=self.cookies) as http:
            reply = await http.request(method, path, json=json, headers=headers)
            self.cookies = {cookie.name: cookie.value or "" for cookie in http.cookies.jar}
        return reply

    async def join(self, community: str = DEMO) -> None:
        reply = await self.call("POST", f"/api/communities/{community}/join", {})
        outcome = reply.json().get("outcome")
        assert reply.status_code == 200 and outcome in ("joined", "already_member"), reply.text

    async def connect(self, ws_url: str, **kwargs: Any) -> Client:
        headers = {"Cookie": f"practica_session={self.session_cookie}"}
        client = await Client.connect(ws_url, additional_headers=headers, **kwargs)
        client.person = self
        return client


async def signed_in(server: Any, name: str = "Tester", *, community: str = DEMO,
                    identify: bool = True, **kwargs: Any) -> Client:
    """A new account that joined the (open) demo community, connected and identified."""
    person = await Person.sign_up(server.url, name)
    await person.join(community)
    client = await person.connect(server.ws_url, **kwargs)
    if identify:
        ready = await client.identify(community=community)
        assert ready["type"] == "ready", ready
    return client
