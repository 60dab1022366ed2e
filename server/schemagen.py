"""Generate ``schemas/`` from the protocol's msgspec types, or check it has not drifted.

Written: ``json/client/<type>.json`` and ``json/server/<type>.json`` (one JSON
Schema per message), ``asyncapi.json`` (AsyncAPI 3 for ``/ws``),
``openapi.json`` (HTTP), ``codes.md`` (error and close codes) and
``permissions.md`` (who may do what).
"""

from __future__ import annotations

import ast
import enum
import inspect
import itertools
import json
import sys
from pathlib import Path
from typing import Any, cast

import msgspec

from . import __version__, errors
from .canonical import canonical
from .domain.events import Event
from .domain.policy import permission_matrix
from .errors import CloseCode, ErrorCode
from .protocol import PROTOCOL_VERSION, ClientMessage, ServerMessage
from .streams import reading_table

REF = "#/components/schemas/"
PAYLOAD_FORMAT = "application/schema+json;version=draft-07"
"""AsyncAPI's default schema format is a superset of JSON Schema draft-07; the payloads
are declared as draft-07 explicitly (AsyncAPI 3's multi-format schema object)."""


def draft07(node: Any) -> Any:
    """msgspec writes OpenAPI-style ``discriminator`` objects; draft-07 and AsyncAPI's
    schema format take the discriminating property's name (a string). Nothing else msgspec
    emits for these types is specific to 2020-12 (``$defs`` only at a schema's top)."""
    if isinstance(node, dict):
        return {k: (v["propertyName"] if k == "discriminator" and isinstance(v, dict)
                    else draft07(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [draft07(item) for item in node]
    return node


def _members(union: Any) -> list[type[msgspec.Struct]]:
    return list(union.__args__)


def _tag(cls: type[msgspec.Struct]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def enum_docs(cls: type[enum.Enum]) -> dict[str, str]:
    """The docstring under each enum member (``NAME = value`` then ``\"\"\"doc\"\"\"``)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (isinstance(node, ast.Assign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)):
            docs[node.targets[0].id] = " ".join(str(following.value.value).split())  # type: ignore[attr-defined]
    return docs


def message_schemas() -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for side, union in (("client", ClientMessage), ("server", ServerMessage)):
        for cls in _members(union):
            schema = msgspec.json.schema(cls)
            schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            schema["$id"] = f"practica/{side}/{_tag(cls)}.json"
            files[f"json/{side}/{_tag(cls)}.json"] = schema
    return files


def asyncapi() -> dict[str, Any]:
    client, server = _members(ClientMessage), _members(ServerMessage)
    (_, components) = msgspec.json.schema_components(client + server, ref_template=REF + "{name}")

    def message(cls: type[msgspec.Struct]) -> dict[str, Any]:
        return {"name": _tag(cls), "title": cls.__name__,
                "summary": (inspect.getdoc(cls) or "").split("\n\n")[0],
                "payload": {"schemaFormat": PAYLOAD_FORMAT,
                            "schema": {"$ref": REF + cls.__name__}}}

    messages = {f"{side}.{_tag(c)}": message(c)
                for side, group in (("client", client), ("server", server)) for c in group}
    close_docs = enum_docs(CloseCode)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Practica gateway", "version": __version__,
            "description": (
                f"Protocol version {PROTOCOL_VERSION}. One websocket per tab at /ws; every frame "
                "is a JSON object with a `type`. Lifecycle: server `hello` → client `identify` "
                "or `resume` → server `ready` → commands (each with a `ref`, answered by `ack`, "
                "`error` or `history`) and `event`s (each with `stream` and `seq`). Send "
                "`heartbeat` every `hello.heartbeat_interval_ms`. Frames are UTF-8 JSON; binary "
                "frames are read like text frames, a text frame that is not UTF-8 closes with "
                "1007, and every malformed frame gets an `error` and counts toward "
                "`hello.limits.max_invalid_frames` (then close 4007). No server frame exceeds "
                "`hello.limits.max_server_frame_bytes`: a longer replay follows `ready`/`ack` "
                "as ordinary `event` frames (the sync's `seq` is then where it starts), and "
                "snapshots and history pages keep their newest messages. Every close code is "
                "in `components.x-close-codes` and codes.md."),
        },
        "servers": {"local": {"host": "localhost:8000", "protocol": "ws",
                              "pathname": "/ws"}},
        "channels": {"gateway": {
            "address": "/ws",
            "messages": {k: {"$ref": f"#/components/messages/{k}"} for k in messages},
        }},
        "operations": {
            "clientSends": {
                "action": "receive", "channel": {"$ref": "#/channels/gateway"},
                "summary": "Frames a client sends to the server",
                "messages": [{"$ref": f"#/channels/gateway/messages/client.{_tag(c)}"}
                             for c in client],
            },
            "serverSends": {
                "action": "send", "channel": {"$ref": "#/channels/gateway"},
                "summary": "Frames the server sends to a client",
                "messages": [{"$ref": f"#/channels/gateway/messages/server.{_tag(c)}"}
                             for c in server],
            },
        },
        "components": {
            "schemas": draft07(components),
            "messages": messages,
            "x-close-codes": {
                str(int(c)): {"name": c.name, "description": close_docs.get(c.name, "")}
                for c in CloseCode
            },
        },
    }


def openapi() -> dict[str, Any]:
    from .http.artefact_api import artefact_endpoints
    from .http.ice_api import ice_endpoints
    from .http.media_api import media_endpoints
    from .http.openapi import openapi_document
    from .http.pairings_api import pairing_endpoints
    from .http.routes import build_endpoints
    from .http.series_api import series_endpoints
    from .http.session_api import session_endpoints
    from .http.transcript_api import transcript_endpoints
    from .settings import Settings

    return openapi_document(build_endpoints(cast(Any, None), cast(Any, None))
                            + session_endpoints(cast(Any, None))
                            + transcript_endpoints(cast(Any, None))
                            + pairing_endpoints(cast(Any, None), cast(Any, None))
                            + series_endpoints(cast(Any, None))
                            + artefact_endpoints(cast(Any, None))
                            + media_endpoints(cast(Any, None))
                            + ice_endpoints(Settings()))


def codes_markdown() -> str:
    lines = ["# Error and close codes", "",
             "Generated from `server/errors.py` by `practica schemas`; do not edit.", "",
             "## Error codes (`error.code`)", "",
             "A command answered with `error` changed nothing.", "",
             "| code | meaning |", "| --- | --- |"]
    lines += [f"| `{c.value}` | {d} |" for c, d in
              ((c, enum_docs(ErrorCode).get(c.name, "")) for c in ErrorCode)]
    lines += ["", "## Close codes", "", "| code | name | meaning |", "| --- | --- | --- |"]
    docs = enum_docs(CloseCode)
    lines += [f"| {int(c)} | {c.name} | {docs.get(c.name, '')} |" for c in CloseCode]
    lines += ["", "## Exceptions", "", "```", inspect.getdoc(errors) or "", "```", ""]
    return "\n".join(lines)


def generate() -> dict[str, str]:
    files: dict[str, Any] = {**message_schemas(), "asyncapi.json": asyncapi(),
                             "openapi.json": openapi()}
    files["json/event.json"] = {**msgspec.json.schema(Event), "$id": "practica/event.json",
                                "$schema": "https://json-schema.org/draft/2020-12/schema"}
    out = {name: json.dumps(canonical(doc), indent=2, sort_keys=True) + "\n"
           for name, doc in files.items()}
    out["codes.md"] = codes_markdown()
    out["permissions.md"] = "\n".join([
        permission_matrix().rstrip("\n"), "", "## Reading streams", "",
        "Reading a stream is an action too (`server/streams.py`); a name that is no",
        "stream answers `not_found`, one you may not read `forbidden`, never a snapshot.",
        "", *reading_table(), ""])
    return out


def write_or_check(folder: str, *, check: bool) -> int:
    root = Path(folder)
    wanted = generate()
    present = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    generated_kinds = (".json", "codes.md", "permissions.md")
    stale = sorted(p for p in present - set(wanted) if p.endswith(generated_kinds))
    drifted = sorted(n for n, text in wanted.items()
                     if not (root / n).exists() or (root / n).read_text() != text)
    if check:
        for name in drifted + stale:
            print(f"schemas drift: {name}", file=sys.stderr)
        if drifted or stale:
            print("run `practica schemas` and commit the result", file=sys.stderr)
            return 1
        print(f"schemas/ matches the code ({len(wanted)} files)")
        return 0
    for name in stale:
        (root / name).unlink()
    for name, text in wanted.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    print(f"wrote {len(wanted)} files to {root}/")
    return 0
