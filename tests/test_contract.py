"""A client built from ``schemas/`` alone (no server code): every HTTP response and every
websocket frame, sent or received, in a scripted session is valid against the committed
JSON Schemas and OpenAPI document."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
import websockets

pytestmark = pytest.mark.anyio
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
COMMUNITY = "clinical-practice-circle"
ROOM = "case-review"


def _validators(side: str) -> dict[str, jsonschema.Draft202012Validator]:
    found = {}
    for path in sorted((SCHEMAS / "json" / side).glob("*.json")):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        found[path.stem] = jsonschema.Draft202012Validator(schema)
    return found


CLIENT, SERVER = _validators("client"), _validators("server")


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)

OPENAPI = json.loads((SCHEMAS / "openapi.json").read_text())


def check_response(method: str, template: str, reply: httpx2.Response) -> Any:
    """The reply's status is documented for this operation and its body fits its schema."""
    operation = OPENAPI["paths"][template][method.lower()]
    documented = operation["responses"].get(str(reply.status_code))
    assert documented is not None, (method, template, reply.status_code, reply.text)
    content = documented.get("content", {}).get("application/json")
    if content is None:
        assert not reply.content
        return None
    body = reply.json()
    # "#/components/..." refs resolve against the root, so carry the components along.
    jsonschema.Draft202012Validator({**content["schema"], "components": OPENAPI["components"]}
                                    ).validate(body)
    return body


class SchemaClient:
    """Speaks the protocol from the documents: validates each frame both ways."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        CLIENT[frame["type"]].validate(frame)
        await self.ws.send(json.dumps(frame))

    async def receive(self) -> dict[str, Any]:
        frame = json.loads(await self.ws.recv())
        assert frame["type"] in SERVER, frame
        SERVER[frame["type"]].validate(frame)
        self.received.append(frame)
        return frame

    async def until(self, kind: str, ref: str | None = None) -> dict[str, Any]:
        while True:
            frame = await self.receive()
            if frame["type"] == kind and (ref is None or frame.get("ref") == ref):
                return frame
            assert not (frame["type"] == "error" and frame.get("ref") == ref), frame

    async def command(self, kind: str, ref: str, reply: str = "ack", **fields: Any) -> Any:
        await self.send({"type": kind, "ref": ref, **fields})
        return await self.until(reply, ref)


async def test_a_scripted_session_stays_inside_the_contract(server):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        me = check_response("GET", "/api/me", await http.get("/api/me"))
        csrf = {"x-csrf-token": me["csrf"]}
        login = f"contract{secrets.token_hex(4)}"
        signup = await http.post("/api/signup", headers=csrf, json={
            "login": login, "password": "correct horse battery staple", "name": "Cora"})
        csrf = {"x-csrf-token": check_response("POST", "/api/signup", signup)["csrf"]}
        wrong = await http.post("/api/signin", headers=csrf, json={
            "login": login, "password": "not the password at all"})
        assert wrong.status_code == 401
        check_response("POST", "/api/signin", wrong)
        csrf = {"x-csrf-token": check_response("GET", "/api/me", await http.get("/api/me"))
                ["csrf"]}
        joined = await http.post(f"/api/communities/{COMMUNITY}/join", headers=csrf, json={})
        check_response("POST", "/api/communities/{community}/join", joined)
        page = await http.get(f"/api/communities/{COMMUNITY}/audit?limit=201")
        check_response("GET", "/api/communities/{community}/audit", page)
        cookie = f"practica_session={http.cookies['practica_session']}"

    ws = await websockets.connect(server.ws_url, additional_headers={"Cookie": cookie})
    client = SchemaClient(ws)
    hello = await client.until("hello")
    assert hello["limits"]["max_server_frame_bytes"] >= 64 * 1024
    await client.send({"type": "identify", "community": COMMUNITY})
    ready = await client.until("ready")
    assert ready["session"]["community"] == COMMUNITY
    joined = await client.command("join", "c1", room=ROOM)
    stream = joined["stream"]
    posted = await client.command("post", "c2", room=ROOM, text="contract")
    await client.command("edit", "c3", room=ROOM, message=posted["seq"], text="contract!")
    second = await client.command("post", "c4", room=ROOM, text="to delete")
    await client.command("delete", "c5", room=ROOM, message=second["seq"])
    page = await client.command("history", "c6", "history", room=ROOM, limit=5)
    ids = [m["id"] for m in page["messages"]]
    assert ids == sorted(ids) and posted["seq"] in ids  # oldest first
    await client.send({"type": "heartbeat"})
    await client.until("heartbeat_ack")
    refused = await client.command("post", "c7", "error", room=ROOM, text=" ")
    assert refused["code"] == "invalid"
    conflict = await client.command("post", "c2", "error", room=ROOM, text="other")
    assert conflict["code"] == "conflict"
    seen = max(f["seq"] for f in client.received if f["type"] == "event"
               and f["stream"] == stream)
    await ws.close()

    async with httpx2.AsyncClient(base_url=server.url) as http:
        other = await http.get("/api/me")
        csrf2 = {"x-csrf-token": check_response("GET", "/api/me", other)["csrf"]}
        await http.post("/api/signup", headers=csrf2, json={
            "login": f"{login}b", "password": "correct horse battery staple", "name": "Dev"})
        await http.post(f"/api/communities/{COMMUNITY}/join", headers={
            "x-csrf-token": (await http.get("/api/me")).json()["csrf"]}, json={})
        cookie2 = f"practica_session={http.cookies['practica_session']}"
    ws2 = await websockets.connect(server.ws_url, additional_headers={"Cookie": cookie2})
    writer = SchemaClient(ws2)
    await writer.until("hello")
    await writer.send({"type": "identify", "community": COMMUNITY})
    await writer.until("ready")
    await writer.command("join", "w1", room=ROOM)
    await writer.command("post", "w2", room=ROOM, text="while you were away")
    await ws2.close()

    ws = await websockets.connect(server.ws_url, additional_headers={"Cookie": cookie})
    client = SchemaClient(ws)
    await client.until("hello")
    await client.send({"type": "resume", "community": COMMUNITY, "streams": {stream: seen}})
    ready = await client.until("ready")
    sync = next(s for s in ready["syncs"] if s["stream"] == stream)
    assert sync["mode"] == "replay"
    texts = [e["body"].get("text") for e in sync.get("events", [])]
    while "while you were away" not in texts:
        frame = await client.receive()
        if frame["type"] == "event":
            texts.append(frame["body"].get("text"))
    await ws.close()
