"""Structured logs: one JSON object per line (or plain text for a terminal).

Secrets never reach a log line: paths that carry a token (guest, invite and reset
links; every route with ``{token}`` in it) and token-like query parameters are
redacted by :class:`RedactTokens`, on uvicorn's access log and on every handler
:func:`configure` installs.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable

import msgspec

_encoder = msgspec.json.Encoder()

REDACTED = "[redacted]"
_token_prefixes: set[str] = {"/guest/", "/invite/", "/reset/", "/api/invites/",
                             "/api/password-resets/"}
_QUERY = re.compile(r"([?&](?:token|key|code|secret|password)=)[^&\s\"']+", re.IGNORECASE)
_path_pattern: re.Pattern[str] | None = None


def register_token_routes(paths: Iterable[str]) -> None:
    """Redact the segment after the fixed part of every route whose path holds a token."""
    global _path_pattern
    for path in paths:
        head, found, _ = path.partition("{token}")
        if found:
            _token_prefixes.add(head)
    _path_pattern = None


def redact(text: str) -> str:
    """``text`` with every token in a URL path or query replaced by ``[redacted]``."""
    global _path_pattern
    if _path_pattern is None:
        alternatives = "|".join(re.escape(p) for p in sorted(_token_prefixes, key=len,
                                                             reverse=True))
        _path_pattern = re.compile(f"({alternatives})[^/?#\\s\"']+")
    return _QUERY.sub(rf"\g<1>{REDACTED}", _path_pattern.sub(rf"\g<1>{REDACTED}", text))


class RedactTokens(logging.Filter):
    """Rewrites a record's message and string arguments (keeping the arguments' shape,
    which uvicorn's access formatter relies on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


_redactor = RedactTokens()


def redact_access_log() -> None:
    """Filter uvicorn's access log at its logger, whoever handles it (idempotent)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if _redactor not in logger.filters:
            logger.addFilter(_redactor)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                  + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return _encoder.encode(entry).decode()


def configure(fmt: str = "json", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    redact_access_log()
