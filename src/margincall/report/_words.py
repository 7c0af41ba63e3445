"""The scenario in words: a few sentences built from the scenario objects."""

from __future__ import annotations

import math

from margincall.model.scenario import Asset, Borrower, Loan, Scenario
from margincall.report._format import money, percent

_ACTIONS = {"cash": "pays from cash", "pledge": "pledges more holdings", "sell": "sells public holdings",
            "release": "frees collateral above a lender's cure level", "draw": "draws on undrawn committed facilities",
            "block": "sells free public holdings in blocks"}


def describe(scenario: Scenario) -> list[str]:
    """Paragraphs describing the borrower, its holdings, its loans, shocks and horizon."""
    cur = scenario.currency
    paragraphs: list[str] = []
    if scenario.description:
        paragraphs.append(scenario.description.strip())
    paragraphs.append(_holdings(scenario))
    paragraphs.append(_borrower(scenario))
    total = sum(loan.principal for loan in scenario.loans.values())
    n = len(scenario.loans)
    loans = f"It owes {n} loan{'s' if n != 1 else ''}, {money(total, cur)} in all. "
    loans += " ".join(_loan(scenario, loan_id, loan) for loan_id, loan in scenario.loans.items())
    paragraphs.append(loans)
    if scenario.shocks:
        moves = "; ".join(
            f"{shock.asset} {_signed_pct(shock.change)} on day {scenario.day_number(shock.day)}"
            + (f" spread over {shock.over_days} days" if shock.over_days > 1 else "")
            for shock in scenario.shocks
        )
        paragraphs.append(f"Shocks applied on every path: {moves}.")
    years = scenario.horizon / scenario.days_per_year
    start = f", from {scenario.start_date.isoformat()}" if scenario.start_date else ""
    paragraphs.append(
        f"Simulated over {scenario.horizon} trading days ({years:.3g} year{'' if years == 1 else 's'} at "
        f"{scenario.days_per_year} "
        f"trading days a year){start}; covenants are tested at the end of days 1 to {scenario.horizon}."
    )
    return paragraphs


def _holdings(scenario: Scenario) -> str:
    cur = scenario.currency
    book = scenario.book()
    parts = [f"{asset_id} ({_asset(asset, cur)})" for asset_id, asset in scenario.assets.items()]
    text = ""
    for borrower_id, borrower in book.borrowers.items():
        who = borrower.name or ("The borrower" if scenario.shorthand else borrower_id)
        held = [a for a, units in book.holdings[borrower_id].items() if units > 0]
        total = sum(book.holding_value(borrower_id, a) for a in held)
        text += (f"{who} holds {len(held)} stake{'s' if len(held) != 1 else ''} worth {money(total, cur)} on day 0"
                 + (f" ({', '.join(held)}). " if not scenario.shorthand else ". "))
    text += "The assets: " + "; ".join(parts) + "."
    if scenario.correlation:
        pairs = ", ".join(f"{a}/{b} {rho:+.2f}" for a, b, rho in scenario.correlation)
        text += f" Daily return correlations: {pairs}; pairs not listed are uncorrelated."
    return text


def _asset(asset: Asset, cur: str) -> str:
    bits = [
        f"{asset.kind}, " + (money(asset.value, cur) if asset.value is not None else f"{money(asset.price, cur)} a unit"),
        f"volatility {percent(asset.volatility, 0)} a year",
    ]
    if asset.drift:
        bits.append(f"drift {percent(asset.drift, 1)} a year")
    if asset.adv is not None:
        bits.append(f"trades {money(asset.adv, cur)} a day")
    if asset.impact:
        bits.append(f"price impact Y = {asset.impact:g}")
    if asset.jumps is not None and asset.jumps.rate > 0:
        size = math.expm1(asset.jumps.mean)
        bits.append(f"jumps {asset.jumps.rate:g} a year of typical size {_signed_pct(size)}")
    if asset.kind == "private":
        marks = asset.marks
        seen = []
        if marks is not None and marks.every_days:
            seen.append(f"every {marks.every_days} trading days")
        if marks is not None and marks.rounds_per_year:
            seen.append(f"at {marks.rounds_per_year:g} unscheduled rounds a year")
        bits.append("marked " + (" and ".join(seen) if seen else "only at jumps"))
        bits.append(f"a lender sells it {asset.sale_delay_days} trading days after a default at a "
                    f"{percent(asset.sale_discount, 0)} discount")
        if asset.listing is not None:
            lock = f", locked up {asset.listing.lockup_days} days" if asset.listing.lockup_days else ""
            bits.append(f"lists on day {asset.listing.day}{lock}")
    return ", ".join(bits)


def _borrower(scenario: Scenario) -> str:
    book = scenario.book()
    return " ".join(_one_borrower(scenario, b, None if scenario.shorthand else book.borrower_name(b_id))
                    for b_id, b in book.borrowers.items())


def _one_borrower(scenario: Scenario, b: Borrower, name: str | None) -> str:
    cur = scenario.currency
    text = f"{name or 'It'} has {money(b.cash, cur)} of cash"
    if b.cash_reserve:
        text += f" and keeps {money(b.cash_reserve, cur)} of it in reserve"
    actions = ", then ".join(_ACTIONS.get(a, a) for a in b.response)
    text += f". On a margin call it {actions or 'does nothing'}"
    text += "; failing that, the loan defaults." if b.response else "."
    if "sell" in b.response:
        text += f" It sells at most {percent(b.max_participation, 0)} of an asset's daily traded value a day."
    if b.cash_flows:
        flows = "; ".join(
            f"{money(flow.amount, cur)} on day {scenario.day_number(flow.day)}"
            + (f" ({flow.label})" if flow.label else "")
            for flow in b.cash_flows
        )
        text += f" Scheduled cash flows (negative: out): {flows}."
    return text


def _loan(scenario: Scenario, loan_id: str, loan: Loan) -> str:
    cur = scenario.currency
    book = scenario.book()
    lender = book.lender_name(book.loan_lender[loan_id])
    borrower = book.borrowers[book.loan_borrower[loan_id]]
    text = (
        f"{loan_id} from {lender}: {money(loan.principal, cur)} at {percent(loan.annual_rate)} a year "
        f"for {loan.term_days} trading days"
    )
    if loan.extension_days:
        cond = f" if LTV ≤ {percent(loan.extension_max_ltv, 1)}" if loan.extension_max_ltv else ""
        text += f" (extendable by {loan.extension_days} days{cond})"
    if not loan.secured:
        recovery = loan.recovery_rate if loan.recovery_rate is not None else borrower.recovery_rate
        text += f", unsecured, recovering {percent(recovery, 0)} after a borrower default."
    else:
        haircuts = loan.accepted_haircuts
        pool = ", ".join(
            f"{percent(frac, 0)} of {asset_id} (haircut {percent(haircuts.get(asset_id, 0.0), 0)})"
            for asset_id, frac in (loan.collateral or {}).items()
        )
        ltv0 = day0_ltv(scenario, loan, loan_id)
        lender_terms = book.lenders[book.loan_lender[loan_id]]
        participation = loan.liquidation_participation if loan.liquidation_participation is not None else lender_terms.participation
        text += (
            f", secured by {pool}; LTV on day 0, before shocks: {percent(ltv0, 1)}. A call opens at LTV "
            f"{percent(loan.margin_call_ltv, 1)} and must be cured to {percent(loan.cure_ltv, 1)} within "
            f"{loan.cure_days} trading days; at {percent(loan.liquidation_ltv, 1)} the lender liquidates, "
            f"selling at most {percent(participation, 0)} of daily traded value a day."
        )
    text += " Recourse to the borrower." if loan.recourse else ""
    text += " Cross-default." if loan.cross_default else ""
    if loan.refinance_probability:
        text += f" Refinanced at maturity with probability {percent(loan.refinance_probability, 0)}."
    return text


def day0_ltv(scenario: Scenario, loan: Loan, loan_id: str) -> float | None:
    """Principal / lending value on day 0 (pledged value x (1 - haircut)), before any shock."""
    if not loan.secured:
        return None
    book = scenario.book()
    borrower = book.loan_borrower[loan_id]
    haircuts = loan.accepted_haircuts
    lending = sum(
        frac * book.holding_value(borrower, a) * (1.0 - haircuts.get(a, 0.0)) for a, frac in (loan.collateral or {}).items()
    )
    return loan.principal / lending if lending > 0 else None


def _signed_pct(x: float) -> str:
    return f"{'+' if x >= 0 else '−'}{abs(100.0 * x):.0f}%"
