"""Terminal rendering of results (rich tables)."""

from __future__ import annotations


from rich.console import Console
from rich.table import Table

from rich.markup import escape

from margincall.analysis.metrics import money as _money
from margincall.analysis.results import CAUSE_NAMES, SimulationResult
from margincall.model.scenario import Scenario


def money(x: float | None, currency: str = "USD") -> str:
    """A currency amount in the one format of the project (USD 1.23 bn)."""
    return _money(x, currency)


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
    """The summary of a run: loans, why they defaulted, borrowers (with the reality check of
    their P(default)), lenders, and the system when the book has several borrowers."""
    cur = result.currency
    tables = [_loans_table(result), _causes_table(result)]
    for borrower_id in result.borrowers:
        tables.append(_borrower_table(result, borrower_id))
        check = result.borrowers[borrower_id].reality_check
        if check is not None:
            tables.append(_reality_table(result, borrower_id, check))
    if len(result.lenders) > 1 or any(lender.capital for lender in result.lenders.values()):
        tables.append(_lenders_table(result))
    if len(result.borrowers) > 1:
        tables.append(_system_table(result))
    del cur
    return [t for t in tables if t is not None]


def _loans_table(result: SimulationResult) -> Table:
    cur = result.currency
    table = Table(title=f"Loans — {result.paths:,} paths, seed {result.seed}, horizon {result.horizon_days} trading days ({cur})")
    for column in ("loan", "lender", "P(call)", "first call (median day)", "P(default)", "P(loss)", "expected loss", "VaR 99%", "ES 99%"):
        table.add_column(column, justify="left" if column in ("loan", "lender") else "right")
    for loan_id, r in result.loans.items():
        median = r.first_call_day.get("p50")
        table.add_row(
            escape(loan_id),
            escape(result.lenders[r.lender].name),
            prob(r.p_margin_call, r.p_margin_call_se) if r.secured else "unsecured",
            "-" if median is None else f"{median:.0f}",
            prob(r.p_default, r.p_default_se),
            prob(r.p_loss, r.p_loss_se),
            f"{money(r.expected_loss, cur)} ± {money(r.expected_loss_se, cur)}",
            money(r.loss_var_99, cur),
            money(r.loss_es_99, cur),
        )
    return table


def _causes_table(result: SimulationResult) -> Table | None:
    """P(default) by first cause, for every loan and borrower that defaults at all."""
    rows = [(escape(loan_id), r.p_default, r.p_default_by_cause, r.p_default_by_cause_se) for loan_id, r in result.loans.items()]
    rows += [
        (escape(f"borrower {b.name}" if len(result.borrowers) > 1 else f"borrower ({b.name})"), b.p_default, b.p_default_by_cause, b.p_default_by_cause_se)
        for b in result.borrowers.values()
    ]
    causes = [name for name in CAUSE_NAMES.values() if any(row[2].get(name, 0.0) > 0.0 for row in rows)]
    if not causes:
        return None
    table = Table(title="Why defaults happen: P(default) by first cause ± SE (each path counts once, by its first cause)")
    table.add_column("loan / borrower")
    table.add_column("P(default)", justify="right")
    for cause in causes:
        table.add_column(cause.replace("_", " "), justify="right")
    for who, p, by_cause, se in rows:
        if p <= 0.0:
            continue
        table.add_row(who, f"{p:.2%}", *(prob(by_cause[c], se[c]) if by_cause[c] > 0.0 else "-" for c in causes))
    return table


def _borrower_table(result: SimulationResult, borrower_id: str) -> Table:
    cur = result.currency
    b = result.borrowers[borrower_id]
    table = Table(title=f"Borrower {escape(b.name)}" if len(result.borrowers) > 1 or b.name != borrower_id else "Borrower")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("P(borrower default)", prob(b.p_default, b.p_default_se)),
        ("P(forced sale)", prob(b.p_forced_sale, b.p_forced_sale_se)),
        ("P(cascade: 2+ loans called)", prob(b.p_cascade, b.p_cascade_se)),
        ("liquidity at risk 50 / 95 / 99%", " / ".join(money(x, cur) for x in (b.liquidity_at_risk_50, b.liquidity_at_risk_95, b.liquidity_at_risk_99))),
        ("expected value sold", f"{money(b.expected_sold_value, cur)} ± {money(b.expected_sold_value_se, cur)}"),
        ("expected impact cost / discount cost", f"{money(b.expected_impact_cost, cur)} / {money(b.expected_discount_cost, cur)}"),
        ("expected drawn on facilities", money(b.expected_drawn, cur)),
        ("equity day 0 → horizon p5 / p50 / p95", f"{money(b.equity_day0, cur)} → " + " / ".join(money(b.equity_quantiles[k], cur) for k in ("p5", "p50", "p95"))),
        ("breakeven collateral growth (/yr)", "-" if b.breakeven_growth is None else f"{b.breakeven_growth:.2%}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _reality_table(result: SimulationResult, borrower_id: str, check: dict) -> Table:
    """The model's P(default) beside the rating's historical default rate and the CDS-implied one."""
    name = result.borrowers[borrower_id].name
    table = Table(title=f"Reality check of {escape(name)}'s P(default): the model beside its rating and its CDS")
    table.add_column("cumulative P(default) within")
    for years in check["years"]:
        table.add_column(f"{years} year{'s' if years > 1 else ''}", justify="right")
    table.add_row(
        "model (this run)",
        *(("beyond the horizon" if p is None else prob(p, se)) for p, se in zip(check["model"], check["model_se"])),
    )
    if check["historical"] is not None:
        table.add_row(f"S&P {check['rating']} ({check['rating_category']} row), 1981-2020 average", *(f"{p:.2%}" for p in check["historical"]))
    elif check["rating"] is not None:
        table.add_row(f"S&P {check['rating']}", *("no table row" for _ in check["years"]))
    if check["cds_implied"] is not None:
        table.add_row(
            f"CDS {check['cds_bp']:.0f} bp, recovery {check['cds_recovery']:.0%} (risk-neutral)",
            *(f"{p:.2%}" for p in check["cds_implied"]),
        )
    return table


def _lenders_table(result: SimulationResult) -> Table:
    cur = result.currency
    table = Table(title=f"Lenders — loss over all their loans ({cur})")
    for column in ("lender", "loans", "P(loss)", "expected loss", "VaR 99%", "ES 99%", "P(loss > 10% of capital)"):
        table.add_column(column, justify="left" if column in ("lender", "loans") else "right")
    for lender in sorted(result.lenders.values(), key=lambda x: -x.expected_loss):
        over = lender.p_loss_over_capital
        table.add_row(
            escape(lender.name), escape(", ".join(lender.loans)), prob(lender.p_loss, lender.p_loss_se),
            f"{money(lender.expected_loss, cur)} ± {money(lender.expected_loss_se, cur)}", money(lender.loss_var_99, cur),
            money(lender.loss_es_99, cur),
            "-" if not over else prob(over["0.1"], lender.p_loss_over_capital_se["0.1"]),  # type: ignore[index]
        )
    return table


def _system_table(result: SimulationResult) -> Table:
    cur = result.currency
    s = result.system
    table = Table(title="The system")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("P(at least one borrower defaults)", prob(s.p_any_default, s.p_any_default_se))
    table.add_row("expected borrowers in default", f"{s.expected_defaults:.3f} ± {s.expected_defaults_se:.3f}")
    table.add_row(
        "P(k borrowers in default), k = 0, 1, 2, ...",
        ", ".join(f"{float(p):.1%}" for k, p in s.borrowers_in_default.items() if float(p) > 0.0 or k == "0"),
    )
    table.add_row("expected forced sales", f"{money(s.expected_forced_sales, cur)} ± {money(s.expected_forced_sales_se, cur)}")
    for asset_id, value in s.sold_value_by_asset.items():
        if value > 0.0:
            table.add_row(f"  of which {escape(asset_id)}", money(value, cur))
    return table


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

