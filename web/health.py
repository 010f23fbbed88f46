"""``GET /health`` for load balancers and ``GET /metrics`` for Prometheus.

Neither needs signing in (a load balancer or a scraper has no account), so neither says
anything sensitive: states, counts and ages, never names, addresses, hosts or error texts.

``/health`` answers 200 when this instance can serve: the database answers and, where this
instance runs the scheduler, the scheduler is alive; else 503 (take it out of rotation).
Projects whose due work raised are listed, when there are some (``degraded_projects``: ids
and times, no reasons), with a 200: the others' work goes on, so they are no reason to take the instance out.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from web.ports import Application

__all__ = ["router"]

HEALTH_TIMEOUT_SECONDS = 5.0  # an unanswered check is a failed one: the balancer must not hang

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store"}


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None


def _copilote(request: Request) -> Application:
    return request.app.state.copilote  # type: ignore[no-any-return]


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    c = _copilote(request)
    metrics = c.metrics
    try:
        database_ok, body = await asyncio.wait_for(
            asyncio.to_thread(metrics.health), HEALTH_TIMEOUT_SECONDS
        )
    except TimeoutError:
        database_ok = False
        body = {
            "database": "error",
            "outbox": {"backlog": None, "oldest_pending_age_seconds": None},
        }
    state = metrics.scheduler
    enabled = c.settings.scheduler
    alive = state.alive
    scheduler: dict[str, Any] = {
        "enabled": enabled,
        "interval_seconds": c.settings.sweep_interval_seconds,
        "last_tick_at": _iso(state.last_tick_at),
        "running_since": _iso(state.running_since),
        "alive": alive,
    }
    healthy = database_ok and (alive or not enabled)
    return JSONResponse(
        {
            "status": ("degraded" if body.get("degraded_projects") else "ok")
            if healthy
            else "error",
            **body,
            "scheduler": scheduler,
        },
        status_code=200 if healthy else 503,
        headers=_NO_STORE,
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format (the database figures are read now, in a worker thread)."""
    body, content_type = _copilote(request).metrics.exposition(request.headers.get("accept", ""))
    return Response(body, headers={**_NO_STORE, "Content-Type": content_type})
