"""Terminal rendering of results (rich tables)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from margincall.analysis.results import SimulationResult
from margincall.model.scenario import Scenario


def money(x: float | None, currency: str = "USD") -> str:
    """A currency amount in a compact form (1.23 bn, 456 m)."""
    if x is None or not math.isfinite(x):
        return "-"
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:,.2f} {unit}"
    return f"{x:,.2f}"


def prob(p: float, se: float | None = None) -> str:
    if se is None:
        return f"{p:.2%}"
    return f"{p:.2%} ± {se:.2%}"


def describe_scenario(scenario: Scenario) -> list[str]:
    """A few lines that say what the scenario is."""
    lines = [f"{scenario.name}: {scenario.description.strip()}" if scenario.description else f"{scenario.name}"]
    lines.append(
        f"{len(scenario.assets)} assets, {len(scenario.loans)} loans, horizon {scenario.horizon} trading days "
        f"({scenario.horizon / scenario.days_per_year:.2f} years), currency {scenario.currency}"
    )
    historical = scenario.market is not None and scenario.market.model == "historical"
    if historical:
        lines.append(f"  market: historical returns from {scenario.market.prices}, in blocks of {scenario.market.block_days} days")
    for asset_id, a in scenario.assets.items():
        moves = "returns replayed" if historical else f"volatility {a.volatility:.0%}/yr"
        worth = f"value {money(a.value)}" if a.value is not None else f"price {money(a.price)}"
        lines.append(f"  asset {asset_id}: {a.kind}, {worth}, {moves}")
    for loan_id, loan in scenario.loans.items():
        if loan.secured:
            pool = ", ".join(f"{f:.0%} of {a}" for a, f in (loan.collateral or {}).items())
            terms = f"call {loan.margin_call_ltv:.1%} / cure {loan.cure_ltv:.1%} in {loan.cure_days} d / liquidation {loan.liquidation_ltv:.1%}"
            lines.append(f"  loan {loan_id}: {money(loan.principal)} at {loan.annual_rate:.2%}, {loan.term_days} d, on {pool}; {terms}")
        else:
            lines.append(f"  loan {loan_id}: {money(loan.principal)} at {loan.annual_rate:.2%}, {loan.term_days} d, unsecured")
    for borrower_id, b in scenario.book().borrowers.items():
        who = "borrower" if scenario.shorthand else f"borrower {borrower_id}"
        lines.append(f"  {who}: cash {money(b.cash)} (reserve {money(b.cash_reserve)}), responds {' -> '.join(b.response) or 'nothing'}")
        for flow in b.cash_flows:
            lines.append(f"    cash flow {flow.label or ''} on {flow.day}: {money(flow.amount)}")
    return lines


def result_tables(result: SimulationResult) -> list[Table]:
    cur = result.currency
    loans = Table(title=f"Loans — {result.paths:,} paths, seed {result.seed}, horizon {result.horizon_days} days ({cur})")
    for column in ("loan", "P(call)", "first call (median day)", "P(default)", "P(loss)", "expected loss", "VaR 99%", "ES 99%"):
        loans.add_column(column, justify="right" if column != "loan" else "left")
    for loan_id, r in result.loans.items():
        median = r.first_call_day.get("p50")
        loans.add_row(
            loan_id,
            prob(r.p_margin_call, r.p_margin_call_se) if r.secured else "unsecured",
            "-" if median is None else f"{median:.0f}",
            prob(r.p_default, r.p_default_se),
            prob(r.p_loss, r.p_loss_se),
            f"{money(r.expected_loss)} ± {money(r.expected_loss_se)}",
            money(r.loss_var_99),
            money(r.loss_es_99),
        )
    b = result.borrower
    borrower = Table(title="Borrower")
    borrower.add_column("measure")
    borrower.add_column("value", justify="right")
    rows = [
        ("P(borrower default)", prob(b.p_default, b.p_default_se)),
        ("P(forced sale)", prob(b.p_forced_sale, b.p_forced_sale_se)),
        ("P(cascade: 2+ loans called)", prob(b.p_cascade, b.p_cascade_se)),
        ("liquidity at risk 50 / 95 / 99%", " / ".join(money(x) for x in (b.liquidity_at_risk_50, b.liquidity_at_risk_95, b.liquidity_at_risk_99))),
        ("expected value sold", f"{money(b.expected_sold_value)} ± {money(b.expected_sold_value_se)}"),
        ("expected impact cost / block discount", f"{money(b.expected_impact_cost)} / {money(b.expected_discount_cost)}"),
        ("equity day 0 → horizon p5 / p50 / p95", f"{money(b.equity_day0)} → " + " / ".join(money(b.equity_quantiles[k]) for k in ("p5", "p50", "p95"))),
        ("breakeven collateral growth (/yr)", "-" if b.breakeven_growth is None else f"{b.breakeven_growth:.2%}"),
    ]
    for name, value in rows:
        borrower.add_row(name, value)
    return [loans, borrower]


def print_result(console: Console, result: SimulationResult) -> None:
    for table in result_tables(result):
        console.print(table)


def reference_tables(part: str | None = None) -> list[Table]:
    """The scenario reference (`margincall schema`): one table per part of a file; `part` keeps
    the parts whose path starts with it (`loans`, `borrower.cash_flows`)."""
    from rich.markup import escape

    from margincall.model.reference import scenario_reference

    tables = []
    for section in scenario_reference():
        bare = section.path.replace("[]", "")
        if part and not (bare == part or bare.startswith(f"{part}.") or section.path.startswith(part)):
            continue
        title = f"{section.path or 'top level'} ({section.model})" + (f": {section.summary}" if section.summary else "")
        table = Table(title=escape(title), title_justify="left")
        table.add_column("field", no_wrap=True, style="bold")
        table.add_column("type")
        table.add_column("unit")
        table.add_column("default")
        table.add_column("meaning", ratio=1)
        for f in section.fields:
            table.add_row(*(escape(cell) for cell in (f.path, f.type, f.unit or "-", f.default, f.meaning or "-")))
        tables.append(table)
    return tables

