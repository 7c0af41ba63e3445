"""The dashboard in a real browser (Debian's chromium through Playwright) against `margincall
serve` on a free 127.0.0.1 port: log in with a token; submit a run from the scenario editor, watch
it finish and open its page; post marks and see an alert appear. No request leaves 127.0.0.1 and
no page logs an error."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from service_support import SCENARIO_TEXT, live_service

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-quic", "--disable-sync"]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install -y chromium)"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_service(tmp_path_factory.mktemp("dashboard")) as service:
        uploaded = httpx.post(f"{service.url}/scenarios", json={"yaml": SCENARIO_TEXT, "name": "single"},
                              headers=service.tokens.header(), timeout=30).json()
        service.scenario_id = uploaded["id"]  # type: ignore[attr-defined]
        yield service


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith(live.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert outside == [], f"the dashboard tried to reach beyond the service: {outside}"
    assert errors == [], errors


def _login(page, live, token: str | None = None) -> None:
    page.goto(f"{live.url}/ui/")
    assert "/ui/login" in page.url
    page.fill("#token", token or live.tokens.writer)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("load")


def test_log_in_with_a_token(page, live):
    _login(page, live, "mc_wrong")
    page.locator("#login-error").wait_for()
    assert page.locator("#login-error").inner_text().startswith("That token is not valid")
    page.fill("#token", live.tokens.writer)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live.url}/ui/")
    assert page.locator("h1").inner_text() == "Overview"
    assert "alice" in page.locator(".who").inner_text()


def test_run_from_the_editor(page, live, tmp_path):
    _login(page, live)
    page.wait_for_url(f"{live.url}/ui/")
    page.goto(f"{live.url}/ui/editor?scenario=id:{live.scenario_id}")
    cure = page.locator('.field[data-key="loans.acme-loan.cure_ltv"]')
    cure.locator("input").fill("0.7")  # above the call level (0.625): invalid
    page.click("#validate-button")
    error = cure.locator(".field-error")
    error.wait_for(state="visible")
    assert "below margin_call_ltv" in error.inner_text()
    volatility = page.locator('.field[data-key="assets.acme.volatility"] input')
    volatility.fill("abc")
    page.click("#validate-button")
    page.locator('.field[data-key="assets.acme.volatility"] .field-error').wait_for(state="visible")
    assert "not a number" in page.locator('.field[data-key="assets.acme.volatility"] .field-error').inner_text()
    assert error.is_visible() and "below margin_call_ltv" in error.inner_text()  # every bad value at once
    volatility.fill("0.35")
    cure.locator("input").fill("0.5")
    page.fill("#editor-paths", "20000")
    page.click("#run-button")
    page.locator("#editor-progress").wait_for(state="visible", timeout=30_000)
    page.locator("#editor-done").wait_for(state="visible", timeout=180_000)
    assert "Open the run's page" in page.locator("#editor-run-link").inner_text()
    page.click("#editor-run-link")
    page.wait_for_url("**/ui/runs/*")
    assert page.locator("#job-status").inner_text() == "complete"
    job_id = int(page.url.rsplit("/", 1)[1])
    frame = page.frame_locator("#report")
    frame.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert frame.locator(".js-plotly-plot").count() >= 5
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    job = httpx.get(f"{live.url}/runs/{job_id}", headers=live.tokens.header(), timeout=30).json()
    assert job["paths"] == 20000 and job["scenario_name"] == "single (edited)"
    scenario = httpx.get(f"{live.url}/runs/{job_id}/result", headers=live.tokens.header(), timeout=30).json()
    assert scenario["scenario"] == "single (edited)"


def test_post_marks_and_see_an_alert(page, live, tmp_path):
    _login(page, live)
    page.wait_for_url(f"{live.url}/ui/")
    page.select_option("#marks-scenario", f"id:{live.scenario_id}")
    page.fill("#marks-csv", "date,asset,value\n2026-11-27,acme,70\n2026-11-30,acme,66\n2026-09-30,co,50\n")
    page.fill("#marks-alerts", "headroom<10%\nltv>0.95")
    page.fill("#marks-paths", "2000")
    page.click("#marks-submit")
    page.locator("#alerts li.alert").first.wait_for(timeout=120_000)
    alerts = page.locator("#alerts li.alert").all_inner_texts()
    assert len(alerts) == 1 and "acme-loan" in alerts[0] and "headroom<10%" in alerts[0]
    assert page.locator('#loans tr[data-loan="acme-loan"]').count() == 1
    assert "2026-11-30" in page.locator("#monitor-facts").inner_text()
    page.locator("#ltv-chart .js-plotly-plot, #ltv-chart.js-plotly-plot").first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)


def test_read_only_token_sees_no_write_controls(page, live):
    _login(page, live, live.tokens.reader)
    page.wait_for_url(f"{live.url}/ui/")
    assert page.locator("#marks-form").count() == 0
    page.goto(f"{live.url}/ui/editor?scenario=id:{live.scenario_id}")
    assert page.locator("#run-button").count() == 0
