"""Fixtures for the service: an app on a temporary SQLite store in this process (FastAPI's test
client, lifespan included). Helpers live in `service_support.py`, put on the import path here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from service_support import make_tokens  # noqa: E402


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    """(test client, tokens, db URL) of an app with one worker process and roomy limits."""
    from fastapi.testclient import TestClient

    from margincall.web import Settings, create_app

    db = f"sqlite:///{tmp_path_factory.mktemp('service') / 'runs.db'}"
    tokens = make_tokens(db)
    app = create_app(Settings(db=db, workers=1, max_active_jobs=20, max_paths=500_000, token_cache_s=0.0))
    with TestClient(app) as client:
        yield client, tokens, db
