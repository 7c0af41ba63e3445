"""Tables that summarise a job's result for people (the dashboard's run page, and the HTML report
of jobs other than a single run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SummaryTable:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


def _p(x: Any, se: Any = None) -> str:
    if not isinstance(x, int | float):
        return "-"
    return f"{x:.2%}" if not isinstance(se, int | float) else f"{x:.2%} ± {se:.2%}"


def _n(x: Any) -> str:
    if not isinstance(x, int | float):
        return "-"
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:,.2f} {unit}"
    return f"{x:,.4g}"


def _m(metric: str, x: Any) -> str:
    return _p(x) if metric.startswith("p_") else _n(x)


def loan_table(title: str, loans: dict[str, Any]) -> SummaryTable:
    rows = [[loan_id, _p(r.get("p_margin_call"), r.get("p_margin_call_se")) if r.get("secured") else "unsecured",
             _p(r.get("p_default"), r.get("p_default_se")), _n(r.get("expected_loss")), _n(r.get("loss_var_99"))]
            for loan_id, r in loans.items()]
    return SummaryTable(title, ["loan", "P(margin call)", "P(default)", "expected loss", "loss VaR 99%"], rows)


def borrower_tables(result: dict[str, Any]) -> list[SummaryTable]:
    """One table per borrower of a run's result (a book's `borrowers`, or an earlier file's one
    `borrower`)."""
    borrowers = result.get("borrowers") or ({"borrower": result["borrower"]} if isinstance(result.get("borrower"), dict) else {})
    tables = []
    for borrower_id, b in borrowers.items():
        if not isinstance(b, dict):
            continue
        title = "Borrower" if len(borrowers) == 1 else f"Borrower {b.get('name') or borrower_id}"
        tables.append(SummaryTable(title, ["measure", "value"], [
            ["P(borrower default)", _p(b.get("p_default"), b.get("p_default_se"))],
            ["P(forced sale)", _p(b.get("p_forced_sale"), b.get("p_forced_sale_se"))],
            ["P(cascade)", _p(b.get("p_cascade"), b.get("p_cascade_se"))],
            ["liquidity at risk 95%", _n(b.get("liquidity_at_risk_95"))],
        ]))
    return tables


def summarise(kind: str, result: dict[str, Any]) -> list[SummaryTable]:
    """The headline tables of a job's result."""
    if kind == "run":
        return [loan_table(f"Loans — {result.get('paths', 0):,} paths, seed {result.get('seed')}", result.get("loans", {})),
                *borrower_tables(result)]
    if kind == "stress":
        return [loan_table(name, r.get("loans", {})) for name, r in result.items()
                if isinstance(r, dict) and "loans" in r and name != "base_result"]
    if kind == "sweep":
        rows = result.get("rows", [])
        if not rows:
            return []
        names = list(rows[0]["values"])
        loans = list(rows[0]["loans"])
        header = [*names, *(f"{loan} {m}" for loan in loans for m in ("P(call)", "P(default)", "E[loss]"))]
        body = []
        for row in rows:
            cells = [_n(v) for v in row["values"].values()]
            for loan in loans:
                r = row["loans"][loan]
                cells += [_p(r.get("p_margin_call")) if r.get("secured") else "-", _p(r.get("p_default")), _n(r.get("expected_loss"))]
            body.append(cells)
        return [SummaryTable(f"Sweep — {result.get('paths', 0):,} paths a point, seed {result.get('seed')}", header, body)]
    if kind in ("reverse", "size"):
        if "shock" in result and "curve" not in result:  # a deterministic first call
            return [SummaryTable("First margin call", ["measure", "value"],
                                 [[k, f"{v:.4%}" if isinstance(v, float) else str(v)] for k, v in result.items()
                                  if isinstance(v, int | float | str)])]
        target = result.get("target", {})
        metric = target.get("metric", "") if isinstance(target, dict) else ""
        head = SummaryTable("Answer", ["measure", "value"], [
            ["field", str(result.get("field"))], ["target", str(target.get("text") if isinstance(target, dict) else target)],
            ["value found", _n(result.get("value"))], ["band (± 2 SE)", f"{_n(result.get('low'))} .. {_n(result.get('high'))}"],
            [f"{metric} there", _m(metric, result.get("metric"))], ["note", str(result.get("note") or "")],
        ])
        curve = SummaryTable("Steps of the search", ["value", metric, "meets"],
                             [[_n(p.get("x")), _m(metric, p.get("metric")), "yes" if p.get("met") else "no"]
                              for p in result.get("curve", [])])
        return [head, curve]
    if kind == "sensitivities":
        rows = [[r["bump"], r["metric"], _m(r["metric"].rsplit(".", 1)[-1], r["base"]),
                 f"{_m(r['metric'].rsplit('.', 1)[-1], r['change'])} ± {_m(r['metric'].rsplit('.', 1)[-1], r['se'])}"]
                for r in result.get("sensitivities", [])]
        return [SummaryTable("Sensitivities (change for the bump ± SE)", ["bump", "metric", "base", "change"], rows)]
    if kind == "explain":
        causes = SummaryTable(f"First causes of default — P(a borrower defaults) {_p(result.get('p_default'))} over "
                              f"{result.get('paths', 0):,} paths, seed {result.get('seed')}", ["cause", "share of defaulting paths"],
                              [[str(k).replace("_", " "), _p(v)] for k, v in (result.get("causes") or {}).items()])
        stories = [SummaryTable(f"{s.get('title')} (path {s.get('path')}): {s.get('why')}", ["day", "date", "what happened"],
                                [[str(line.get("day")), str(line.get("date") or "-"), str(line.get("text"))] for line in s.get("lines", [])])
                   for s in result.get("stories", []) if isinstance(s, dict)]
        return [causes, *stories]
    if kind == "monitor":
        rows = [[loan_id, _p(r.get("ltv")), _p(r.get("headroom_call")), _p(r.get("p_call_5d")), _p(r.get("p_default_5d"))]
                for loan_id, r in result.get("loans", {}).items()]
        return [SummaryTable(f"Monitoring as of {result.get('as_of')}", ["loan", "LTV", "headroom to call", "P(call 5d)",
                                                                           "P(default 5d)"], rows)]
    return []
