"""GET /health: whether the service is up (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter

from margincall._version import __version__
from margincall.web._deps import StateDep
from margincall.web._schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Whether the service is up (no token needed)")
def health(state: StateDep) -> Health:
    return Health(status="ok", version=__version__, executor=state.runner.pool.description)
