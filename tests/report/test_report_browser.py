"""The report in a real browser (Chromium through Playwright, offline): every chart has data, no
console error, no request leaves the page, no content-security-policy violation. A full-page
screenshot is saved under the test's tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from margincall.analysis.results import SimulationResult
from margincall.model.scenario import Scenario
from margincall.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
Run = tuple[Scenario, str, SimulationResult]  # the fixtures of conftest.py: scenario, its text, result
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-quic", "--disable-sync"]

# the run report's page is opened by `python -m pytest` (a browser test in the three-minute suite);
# the stress and sensitivity pages, which simulate first, by `python -m pytest -m slow`
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install -y chromium)")

CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
GRAPHS = """
Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => ({
    id: d.id,
    traces: Array.isArray(d.data) ? d.data.length : 0,
    svg: d.querySelectorAll('svg.main-svg').length,
}))
"""


def _open_offline(page_file: Path, tmp_path: Path) -> None:
    """Open a page in Chromium with every request but the file itself refused; check that each
    chart drew with data, that nothing failed and that the page is under 2 MB."""
    from playwright.sync_api import Route, sync_playwright

    assert page_file.stat().st_size < 2_000_000, f"{page_file.name}: {page_file.stat().st_size:,} bytes"
    expected_ids = re.findall(r'<div id="(fig-[^"]+)" class="plotly-graph-div"', page_file.read_text(encoding="utf-8"))
    requests: list[str] = []
    blocked: list[str] = []
    errors: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_local)
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.add_init_script(CSP_WATCH)
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_file.as_uri(), wait_until="load")
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {len(expected_ids)}",
                                   timeout=30_000)
            graphs = page.evaluate(GRAPHS)
            violations = page.evaluate("window.__cspViolations")
            screenshot = tmp_path / f"{page_file.stem}.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert errors == [], errors
    assert violations == [], violations
    assert blocked == [], f"the page tried to reach the network: {blocked}"
    assert {url for url in requests if not url.startswith(("data:", "blob:"))} == {page_file.as_uri()}
    assert [g["id"] for g in graphs] == expected_ids
    empty = [g["id"] for g in graphs if g["traces"] == 0 or g["svg"] == 0]
    assert empty == [], f"graphs without data: {empty}"
    assert screenshot.stat().st_size > 50_000


def test_report_renders_offline_in_chromium(two_loans: Run, tmp_path: Path) -> None:
    scenario, text, result = two_loans
    report = write_report(result, scenario, tmp_path / "report.html", scenario_text=text)
    assert len(re.findall(r'class="plotly-graph-div"', report.read_text(encoding="utf-8"))) >= 10
    _open_offline(report, tmp_path)


@pytest.mark.slow
def test_stress_and_sensitivity_pages_render_offline_in_chromium(two_loans: Run, tmp_path: Path) -> None:
    from margincall.analysis.sensitivities import sensitivities
    from margincall.analysis.stress import parse_stress, run_stresses
    from margincall.report import write_sensitivity_report, write_stress_report

    scenario, text, _ = two_loans
    crash = parse_stress("name: crash\nshocks:\n  - {asset: acme, change: -0.4, day: 0}\n")
    run = run_stresses(scenario, [crash], paths=1024, seed=1)
    _open_offline(write_stress_report(run, scenario, tmp_path / "stress.html", scenario_text=text), tmp_path)
    report = sensitivities(scenario, paths=1024, seed=1, kinds=["volatility"])
    _open_offline(write_sensitivity_report(report, scenario, tmp_path / "sensitivities.html"), tmp_path)
