"""Fixtures for the store tests: a real engine result, and a fresh store URL per back end.

The PostgreSQL parameter runs when MARGINCALL_TEST_POSTGRES_URL names a server on which the user
may create databases (`bash .ci/postgres.sh start` prints one); each test gets its own database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import margincall
from margincall.analysis.results import SimulationResult

DATA = Path(__file__).parent / "data"
PG_ENV = "MARGINCALL_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def scenario_text() -> str:
    return (DATA / "single.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def engine_result(scenario_text: str) -> SimulationResult:
    """The real engine on a tiny scenario (2,048 paths; the first call compiles the kernels)."""
    return margincall.simulate(margincall.parse_scenario(scenario_text, default_name="single"), paths=2048, seed=1)


@pytest.fixture(scope="session")
def engine_result_other_seed(scenario_text: str) -> SimulationResult:
    return margincall.simulate(margincall.parse_scenario(scenario_text, default_name="single"), paths=2048, seed=2)


def _postgres_database() -> Iterator[str]:
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL to test against (bash .ci/postgres.sh start prints one)")
    admin = make_url(admin_url)
    if admin.drivername in ("postgresql", "postgres"):
        admin = admin.set(drivername="postgresql+psycopg")
    name = f"margincall_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
    else:
        yield from _postgres_database()
