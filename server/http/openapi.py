"""The OpenAPI 3.1 document for the HTTP API, built from the endpoint table and the
msgspec types of :mod:`server.http.api_types` (served at ``/api/openapi.json`` and
committed as ``schemas/openapi.json``)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from .. import __version__
from ..canonical import canonical
from . import api_types as t
from .endpoints import CSRF_COOKIE, CSRF_HEADER, MAX_BODY, SESSION_COOKIE, STATUS, Endpoint

REF = "#/components/schemas/"


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(description, {"$ref": REF + "ApiError"})


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": (
        "Like a websocket command's `ref`: the same key with the same call (method, path, "
        "body) from the same person gets the first answer again and is applied once; the "
        "same key with another call is answered 409 `conflict` and changes nothing (so is "
        "a key whose first call is still being applied in another process). Refusals are "
        "kept as answers, except `rate_limited`, `unavailable` and `internal`, which "
        "applied nothing and may be retried with the same key. Ignored when signed out."),
    "schema": {"type": "string", "minLength": 1, "maxLength": 128}}


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
        "/metrics": {"get": {
            "summary": "Prometheus metrics: connections, appends, latency, queues, commands",
            "description": (
                "Off on the public listener unless `PRACTICA_METRICS_TOKEN` is set, and then "
                "only with `Authorization: Bearer <token>`; otherwise 404, as for any "
                "unknown path. `PRACTICA_METRICS_PORT` serves it on a listener of its own."),
            "operationId": "metrics", "security": [{"metricsToken": []}],
            "responses": {"200": {"description": "Prometheus text exposition format",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}},
                          "404": {"description": "metrics are off here, or the token is wrong",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/ws": {"get": {
            "summary": "The websocket gateway (see asyncapi.json); needs the session cookie",
            "description": (
                "A websocket upgrade. Refused before the upgrade with HTTP 403 (no body) when "
                "the session cookie is missing, unknown or expired, or when an `Origin` "
                "header names another site (a request without `Origin` is not a browser's "
                "and is judged by its cookie alone). A plain HTTP GET answers 426."),
            "operationId": "gateway", "security": [{"session": []}],
            "responses": {"101": {"description": "switching to websocket"},
                          "403": {"description": "no valid session, or Origin not allowed"},
                          "426": _error("not a websocket upgrade")}}},
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
                    "schema": msgspec.json.schema(kind)}
                   for name, kind, text in endpoint.query]
        if endpoint.method != "GET":
            params.append(IDEMPOTENCY_PARAMETER)
        if params:
            operation["parameters"] = params
        if endpoint.body is not None or endpoint.raw_body is not None:
            body_type = endpoint.raw_body or "application/json"
            operation["requestBody"] = {"required": True, "content": {body_type: {
                "schema": by_kind[endpoint.body] if endpoint.body else {"type": "string"}}}}
            operation["responses"]["413"] = _error(
                f"the body is over {MAX_BODY} bytes (invalid); it is not read further")
        responses = operation["responses"]
        if endpoint.reply is None:
            responses["204"] = {"description": "done"}
        elif endpoint.produces != "application/json":
            responses[str(endpoint.status)] = {"description": "a file (Content-Disposition: "
                                               "attachment)", "content": {endpoint.produces: {
                                                   "schema": {"type": "string"}}}}
        else:
            responses[str(endpoint.status)] = _json("done", by_kind[endpoint.reply])
        changes = endpoint.method != "GET"
        signed_in = endpoint.auth in ("session", "account")
        responses["400"] = _error("invalid input; nothing changed")
        if signed_in or 401 in endpoint.refusals:
            responses["401"] = _error("not signed in, or wrong login or password"
                                      if 401 in endpoint.refusals else "not signed in")
        if changes or signed_in:
            responses["403"] = _error("forbidden, or csrf_failed; nothing changed")
        if "{" in endpoint.path or 404 in endpoint.refusals:
            responses["404"] = _error("no such thing")
        if changes:
            responses["409"] = _error("conflicts with what exists")
            responses["429"] = {**_error("rate limited"), "headers": {"Retry-After": {
                "description": "seconds to wait", "schema": {"type": "integer"}}}}
        responses["503"] = _error("the store could not read or apply it; nothing changed, "
                                  "retry")
        csrf: dict[str, list[str]] = {"csrf": [], "csrfCookie": []} if changes else {}
        operation["security"] = ([{**csrf, "session": []}] if signed_in
                                 else [csrf] if changes else [])
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return canonical({
        "openapi": "3.1.0",
        "info": {"title": "Practica HTTP API", "version": __version__, "description": (
            f"Sign in with POST /api/signin; the `{SESSION_COOKIE}` cookie (HttpOnly) is the "
            f"session. Every POST, PATCH, PUT and DELETE must send the `{CSRF_HEADER}` "
            f"header equal to the `{CSRF_COOKIE}` cookie (GET /api/me sets it and returns "
            "it), and, when it carries an `Origin` header, come from this server's own "
            "origin or one listed in PRACTICA_ALLOWED_ORIGINS (403 `csrf_failed` otherwise). "
            "A client that sends no `Origin` (not a browser) is judged by the CSRF token and "
            "session cookie alone. Errors are {code, message}; status by code: " + ", ".join(
                f"{code.value} {status}" for code, status in STATUS.items()) + ".")},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
                         "description": "equal to the csrf cookie (and, when signed in, to "
                         "the session's token): GET /api/me returns it and sets the cookie"},
                "csrfCookie": {"type": "apiKey", "in": "cookie", "name": CSRF_COOKIE},
                "metricsToken": {"type": "http", "scheme": "bearer",
                                 "description": "the operator's PRACTICA_METRICS_TOKEN"},
            },
        },
    })


def _operation_id(endpoint: Endpoint) -> str:
    """``get_communities`` for the list, ``get_communities_community`` for one: path
    parameters are part of the id, so every operation's id is unique."""
    words = re.sub(r"{(\w+)}", r"\1", endpoint.path.removeprefix("/api/"))
    words = words.replace("-", "_").replace(".", "_")
    parts = [p for p in words.split("/") if p]
    return endpoint.method.lower() + "_" + "_".join(parts or ["root"])
