"""What ``/healthz`` answers: whether this process can make a change durable, whether
Redis answers, and how far each projection lags."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Practica

HEALTH_STORE_TIMEOUT_S = 5.0


async def health_report(practica: Practica) -> tuple[dict[str, Any], int]:
    """``/healthz``: 503 when the store cannot make a change durable (this process
    refuses changes), 200 with ``"status": "degraded"`` when Redis is unreachable
    (it still serves, on its own limits and presence) or a projection keeps failing
    (search lags; appends go on), else 200 ``"ok"``. ``projections`` gives each one's
    lag (committed events not applied yet) and failing streams."""
    body: dict[str, Any] = {"ok": True, "status": "ok",
                            "connections": len(practica.gateway.connections)}
    if practica.redis_health is not None:
        body["redis"] = "down" if practica.redis_degraded() else "up"
        if body["redis"] == "down":
            body["status"] = "degraded"
    try:
        await asyncio.wait_for(practica.store.check_writable(), HEALTH_STORE_TIMEOUT_S)
    except Exception as exc:
        body |= {"ok": False, "status": "unavailable", "store": "down",
                 "error": str(exc) or type(exc).__name__}
        return body, 503
    body["store"] = "up"
    body["projections"] = projections = {
        p.name: {"lag": p.lag, "failing_streams": p.failing}
        for p in practica.projections.projectors.values()}
    if any(p["failing_streams"] for p in projections.values()) and body["status"] == "ok":
        body["status"] = "degraded"
    return body, 200
