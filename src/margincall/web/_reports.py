"""The HTML report of a job: a run's is `margincall.report`'s (charts and tables, plotly.js
inlined, offline); a stress job's is the base run's report with a section on the stresses; other
kinds get their summary tables."""

from __future__ import annotations

import json

from markupsafe import Markup, escape

from margincall.analysis.loading import parse_scenario
from margincall.store import JobRecord, RunStore, result_from_dict
from margincall.web._summaries import SummaryTable, summarise


def job_result(store: RunStore, job: JobRecord) -> dict | None:
    """The job's JSON result (a run job's comes from its run-store record)."""
    if job.run_id is not None:
        return store.get_run(job.run_id).result
    return job.result


def tables_html(tables: list[SummaryTable]) -> Markup:
    parts = []
    for t in tables:
        head = "".join(f"<th>{escape(h)}</th>" for h in t.header)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows)
        parts.append(f"<figure class=\"table\"><figcaption>{escape(t.title)}</figcaption><table><thead><tr>{head}</tr></thead>"
                     f"<tbody>{body}</tbody></table></figure>")
    return Markup("".join(parts))


def report_html(store: RunStore, job: JobRecord) -> str:
    from margincall.report import ReportSection, render_report  # plotly and the templates: loaded when a report is asked for

    result = job_result(store, job) or {}
    scenario = parse_scenario(job.scenario_text, default_name=job.scenario_name)
    if job.kind == "run":
        return render_report(result_from_dict(result), scenario, scenario_text=job.scenario_text)
    if job.kind == "stress" and "base_result" in result:
        section = ReportSection(title="Named stresses", html=str(tables_html(summarise("stress", result))))
        return render_report(result_from_dict(result["base_result"]), scenario, scenario_text=job.scenario_text,
                             extra_sections=[section])
    title = f"margincall {job.kind} — {job.scenario_name} (job {job.id})"
    options = json.dumps({k: v for k, v in job.options.items() if k != "marks_csv"}, indent=2)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>body{{font-family:system-ui,sans-serif;margin:24px;color:#1d2733}}"
        "table{border-collapse:collapse;font-size:.9rem}th,td{border-bottom:1px solid #d9dee5;padding:4px 10px;text-align:left}"
        "figcaption{font-weight:600;margin:14px 0 6px}pre{background:#f4f6f9;padding:10px}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{job.paths:,} paths, seed {job.seed}.</p>{tables_html(summarise(job.kind, result))}"
        f"<h2>Options</h2><pre>{escape(options)}</pre></body></html>"
    )
