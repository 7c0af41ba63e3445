"""The registry of result metrics: name, scope, standard-error field, unit, label and format.

One place feeds `result.json`'s documentation, the CLI tables, the report, DataFrames, search
targets (`p_default>=0.05`), sweep and stress columns, the store's headline figures and
`compare`. A metric is added here and in the result dataclass that carries it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Scope = Literal["loan", "borrower", "lender", "system"]
Unit = Literal["probability", "money", "days", "ltv", "count", "rate"]


@dataclass(frozen=True)
class Metric:
    name: str  # the field in result.json
    scope: Scope
    unit: Unit
    label: str  # a short heading
    description: str
    se: str | None = None  # the field holding its standard error, if it has one
    headline: bool = False  # shown in the run list and the first table
    higher_is_worse: bool = True


METRICS: tuple[Metric, ...] = (
    # per loan
    Metric("p_margin_call", "loan", "probability", "P(call)", "Probability of at least one margin call within the horizon.", "p_margin_call_se", True),
    Metric("p_default", "loan", "probability", "P(default)", "Probability that the loan defaults within the horizon (any cause).", "p_default_se", True),
    Metric("p_loss", "loan", "probability", "P(loss)", "Probability that the lender loses money on the loan.", "p_loss_se"),
    Metric("expected_loss", "loan", "money", "EL", "Expected loss of the lender on the loan.", "expected_loss_se", True),
    Metric("loss_var_95", "loan", "money", "VaR 95%", "95% quantile of the loss."),
    Metric("loss_es_95", "loan", "money", "ES 95%", "Mean loss in the worst 5% of paths."),
    Metric("loss_var_99", "loan", "money", "VaR 99%", "99% quantile of the loss."),
    Metric("loss_es_99", "loan", "money", "ES 99%", "Mean loss in the worst 1% of paths."),
    Metric("expected_cure_paid", "loan", "money", "cure paid", "Expected amount the borrower paid to cure calls on the loan."),
    Metric("expected_drawn", "loan", "money", "drawn", "Expected amount drawn on the facility within the horizon."),
    # per borrower
    Metric("p_default", "borrower", "probability", "P(default)", "Probability that the borrower defaults within the horizon.", "p_default_se", True),
    Metric("p_forced_sale", "borrower", "probability", "P(forced sale)", "Probability that the borrower or a lender sells the borrower's holdings.", "p_forced_sale_se"),
    Metric("p_cascade", "borrower", "probability", "P(cascade)", "Probability that two or more of the borrower's loans are called.", "p_cascade_se"),
    Metric("liquidity_at_risk_50", "borrower", "money", "LaR 50%", "Median cash paid to cure margin calls."),
    Metric("liquidity_at_risk_95", "borrower", "money", "LaR 95%", "95% quantile of the cash paid to cure margin calls.", headline=True),
    Metric("liquidity_at_risk_99", "borrower", "money", "LaR 99%", "99% quantile of the cash paid to cure margin calls."),
    Metric("expected_sold_value", "borrower", "money", "sold", "Expected value of the borrower's holdings sold (by it or its lenders).", "expected_sold_value_se"),
    Metric("expected_impact_cost", "borrower", "money", "impact cost", "Expected cost of price impact on those sales."),
    Metric("expected_discount_cost", "borrower", "money", "discount cost", "Expected cost of block and private-sale discounts."),
    Metric("expected_equity", "borrower", "money", "equity", "Expected equity at the horizon.", "expected_equity_se", higher_is_worse=False),
    # per lender
    Metric("p_loss", "lender", "probability", "P(loss)", "Probability that the lender loses money on its loans.", "p_loss_se"),
    Metric("expected_loss", "lender", "money", "EL", "Expected loss of the lender over all its loans.", "expected_loss_se", True),
    Metric("loss_var_99", "lender", "money", "VaR 99%", "99% quantile of the lender's loss."),
    Metric("loss_es_99", "lender", "money", "ES 99%", "Mean of the lender's worst 1% of losses."),
    # the system
    Metric("p_any_default", "system", "probability", "P(any default)", "Probability that at least one borrower defaults.", "p_any_default_se", True),
    Metric("expected_defaults", "system", "count", "E[defaults]", "Expected number of borrowers in default at the horizon.", "expected_defaults_se"),
    Metric("expected_forced_sales", "system", "money", "forced sales", "Expected value sold by borrowers and lenders in the book.", "expected_forced_sales_se"),
)

SCOPES: tuple[Scope, ...] = ("loan", "borrower", "lender", "system")


def metrics_of(scope: Scope) -> tuple[Metric, ...]:
    return tuple(m for m in METRICS if m.scope == scope)


def find(scope: Scope, name: str) -> Metric | None:
    for m in METRICS:
        if m.scope == scope and m.name == name:
            return m
    return None


def money(value: float | None, currency: str = "USD") -> str:
    """One money format throughout: USD 1.23 bn, USD 350 m, USD 12.5 k, USD 950."""
    if value is None or not math.isfinite(value):
        return "–"
    sign = "-" if value < 0 else ""
    x = abs(value)
    for scale, word in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if x >= scale:
            return f"{sign}{currency} {x / scale:.3g} {word}"
    return f"{sign}{currency} {x:.3g}"


def percent(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100.0 * value:.{digits}f}%"


def formatted(metric: Metric, value: float | None, se: float | None = None, currency: str = "USD") -> str:
    """A metric's value (± its standard error when it has one) in the metric's unit."""
    if metric.unit == "probability":
        text = percent(value)
        return f"{text} ± {percent(se)}" if se is not None and value is not None else text
    if metric.unit == "money":
        text = money(value, currency)
        return f"{text} ± {money(se, currency)}" if se is not None and value is not None else text
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value:.3g}"
    return f"{text} ± {se:.2g}" if se is not None else text
