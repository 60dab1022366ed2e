"""Log redaction: tokens in paths and queries never reach a log line."""

from __future__ import annotations

import io
import logging

from server import logs


def test_token_paths_and_queries_are_redacted():
    assert logs.redact("GET /guest/abc123 HTTP/1.1") == "GET /guest/[redacted] HTTP/1.1"
    assert (logs.redact('"POST /api/invites/abc/accept"') ==
            '"POST /api/invites/[redacted]/accept"')
    assert logs.redact("/reset/x?next=1") == "/reset/[redacted]?next=1"
    assert logs.redact("/api/x?a=1&token=zzz&b=2") == "/api/x?a=1&token=[redacted]&b=2"
    assert logs.redact("/api/communities/guild/invites") == "/api/communities/guild/invites"


def test_routes_with_a_token_are_registered_for_redaction():
    logs.register_token_routes(["/api/new-links/{token}/use", "/api/other/{id}"])
    assert logs.redact("/api/new-links/s3cret/use") == "/api/new-links/[redacted]/use"
    assert logs.redact("/api/other/visible") == "/api/other/visible"


def test_configured_handler_redacts_practica_logs_too():
    logs.configure("json")
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    handler.setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger("practica.test").warning("used %s", "/api/password-resets/s3cret")
    assert "s3cret" not in stream.getvalue() and "[redacted]" in stream.getvalue()
    logging.getLogger().handlers[:] = []
