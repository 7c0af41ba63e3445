"""schemathesis against the OpenAPI document of a running service, with a valid token: whatever
the generated requests, the service never answers with a server error (5xx)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from service_support import live_service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    # small limits keep the jobs the fuzzer submits tiny; many may be queued at once
    env = {"MARGINCALL_MAX_PATHS": "300", "MARGINCALL_MAX_ACTIVE_JOBS": "100000", "MARGINCALL_MAX_SWEEP_POINTS": "3",
           "MARGINCALL_MAX_UPLOAD_BYTES": "65536"}
    with live_service(tmp_path_factory.mktemp("fuzz"), env=env) as service:
        yield service


def _document() -> dict:
    """The app's OpenAPI document (built without starting the app), the same that GET /openapi.json serves."""
    from margincall.web import Settings, create_app

    return create_app(Settings(db="sqlite://")).openapi()


schema = schemathesis.openapi.from_dict(_document())


def test_the_served_document_is_the_one_fuzzed(live):
    import httpx

    assert httpx.get(f"{live.url}/openapi.json", headers=live.tokens.header(), timeout=30).json() == schema.raw_schema


@schema.parametrize()
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, live):
    case.call_and_validate(base_url=live.url, headers=live.tokens.header(), checks=[not_a_server_error], timeout=60)
