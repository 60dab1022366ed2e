"""The OpenAPI 3.1 document for the HTTP API, built from the endpoint table and the
msgspec types of :mod:`server.api_types` (served at ``/api/openapi.json`` and
committed as ``schemas/openapi.json``)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from . import __version__
from . import api_types as t
from .api import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, STATUS, Endpoint
from .canonical import canonical

REF = "#/components/schemas/"


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(description, {"$ref": REF + "ApiError"})


def openapi_document(endpoints: list[Endpoint]) -> dict[str, Any]:
    kinds: list[Any] = [t.ApiError]
    for endpoint in endpoints:
        kinds += [k for k in (endpoint.body, endpoint.reply) if k is not None]
    schemas, components = msgspec.json.schema_components(kinds, ref_template=REF + "{name}")
    by_kind = dict(zip(kinds, schemas, strict=True))
    health = {"type": "object", "properties": {"ok": {"type": "boolean"},
              "connections": {"type": "integer"}, "error": {"type": "string"}},
              "required": ["ok"]}
    paths: dict[str, Any] = {
        "/healthz": {"get": {
            "summary": "Liveness and readiness: 200 when the store accepts writes",
            "operationId": "healthz", "security": [],
            "responses": {"200": _json("healthy", health),
                          "503": _json("the store is not writable", health)}}},
        "/ws": {"get": {
            "summary": "The websocket gateway (see asyncapi.json); needs the session cookie",
            "operationId": "gateway",
            "responses": {"101": {"description": "switching to websocket"},
                          "403": {"description": "no valid session, or Origin not allowed"}}}},
    }
    for endpoint in endpoints:
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": _operation_id(endpoint),
            "responses": {},
        }
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 128}}
                  for name in re.findall(r"{(\w+)}", endpoint.path)]
        params += [{"name": name, "in": "query", "required": False, "description": text,
                    "schema": {"type": "integer", "minimum": 1}}
                   for name, _, text in endpoint.query]
        if params:
            operation["parameters"] = params
        if endpoint.body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": by_kind[endpoint.body]}}}
        responses = operation["responses"]
        if endpoint.reply is None:
            responses["204"] = {"description": "done"}
        else:
            responses[str(endpoint.status)] = _json("done", by_kind[endpoint.reply])
        responses["400"] = _error("invalid input; nothing changed")
        if endpoint.method != "GET":
            responses["403"] = _error("forbidden, or csrf_failed; nothing changed")
        if endpoint.auth in ("session", "account"):
            responses["401"] = _error("not signed in")
            responses["403"] = _error("forbidden, or csrf_failed; nothing changed")
        if "{" in endpoint.path:
            responses["404"] = _error("no such thing")
        if endpoint.method != "GET":
            responses["409"] = _error("conflicts with what exists")
            responses["429"] = _error("rate limited: see Retry-After")
        operation["security"] = ([] if endpoint.auth in ("none", "optional")
                                 else [{"session": [], "csrf": []}]
                                 if endpoint.method != "GET" else [{"session": []}])
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return canonical({
        "openapi": "3.1.0",
        "info": {"title": "Practica HTTP API", "version": __version__, "description": (
            f"Sign in with POST /api/signin; the `{SESSION_COOKIE}` cookie (HttpOnly) is the "
            f"session. Every POST, PATCH, PUT and DELETE must send the `{CSRF_HEADER}` "
            f"header equal to the `{CSRF_COOKIE}` cookie (GET /api/me sets it and returns "
            "it). Errors are {code, message}; status by code: " + ", ".join(
                f"{code.value} {status}" for code, status in STATUS.items()) + ".")},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
        },
    })


def _operation_id(endpoint: Endpoint) -> str:
    """``get_communities`` for the list, ``get_communities_community`` for one: path
    parameters are part of the id, so every operation's id is unique."""
    words = re.sub(r"{(\w+)}", r"\1", endpoint.path.removeprefix("/api/")).replace("-", "_")
    parts = [p for p in words.split("/") if p]
    return endpoint.method.lower() + "_" + "_".join(parts or ["root"])
