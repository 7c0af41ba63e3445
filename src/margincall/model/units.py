"""The unit of every scenario field, in one place: the schema reference (`margincall schema`,
docs/scenario.md) and the report's inputs tables read it from here.

A field's unit is, in order: `json_schema_extra={"unit": ...}` on the field itself, the entry of
`UNITS` for its model and name, or a rule on its name (`*_days` are trading days, `*_ltv` an LTV).
`{cur}` stands for the scenario's currency. Text fields (names, labels) have no unit: "".
"""

from __future__ import annotations

from pydantic import BaseModel

LTV = "LTV (debt / lending value)"

# model name -> field name -> unit
UNITS: dict[str, dict[str, str]] = {
    "Scenario": {
        "currency": "ISO 4217 code", "start_date": "calendar date", "horizon_days": "trading days",
        "days_per_year": "trading days / year", "correlation": "correlation (−1 to 1)",
    },
    "Asset": {
        "kind": "public | private", "value": "{cur}", "price": "{cur} per unit", "volatility": "per year (0.3 = 30%)",
        "drift": "per year (0.05 = 5%)", "adv": "{cur} / day", "impact": "Y, dimensionless",
        "impact_law": "sqrt | power | exponential", "impact_exponent": "exponent, dimensionless",
        "impact_permanent": "fraction of a day's impact", "impact_floor": "fraction of the end-of-day impact",
        "sale_delay_days": "trading days", "sale_discount": "fraction of fair value",
    },
    "Jumps": {"rate": "jumps / year", "mean": "log jump size", "stdev": "log jump size"},
    "Marks": {"every_days": "trading days", "rounds_per_year": "events / year"},
    "Listing": {"day": "trading day (or date)", "adv": "{cur} / day", "lockup_days": "trading days"},
    "MarketAccess": {"asset": "asset id", "max_drawdown": "fraction below the running peak"},
    "IndexRate": {"index": "per year (0.0355 = 3.55%)", "spread": "per year (0.0425 = 425 bp)"},
    "CrossDefault": {"acceleration": "true / false", "threshold": "{cur}"},
    "Loan": {
        "borrower": "borrower id", "lender": "lender id (or a label)",
        "principal": "{cur}", "limit": "{cur}", "rate": "per year (0.06 = 6%)", "term_days": "trading days",
        "extension_days": "trading days", "extension_max_ltv": LTV,
        "collateral": "fraction of each holding", "haircuts": "fraction of value",
        "margin_call_ltv": LTV, "cure_ltv": LTV, "cure_days": "trading days", "liquidation_ltv": LTV,
        "recourse": "true / false", "cross_default": "true / false, or {acceleration, threshold}",
        "interest_every_days": "trading days", "refinance_probability": "probability", "refinance_days": "trading days",
        "recovery_rate": "fraction of principal", "liquidation_participation": "fraction of adv per day",
    },
    "Borrower": {
        "cash": "{cur}", "cash_reserve": "{cur}", "holdings": "units (shares) by asset id", "response": "actions, in order",
        "max_participation": "fraction of adv per day", "block_fraction": "fraction of a free holding per day",
        "block_discount": "fraction of the price", "recovery_rate": "fraction of the claim", "rating": "S&P scale",
        "cds_bp": "basis points per year", "cds_recovery": "fraction of the claim",
    },
    "Lender": {
        "capital": "{cur}", "method": "market | block", "block_discount": "fraction of the price",
        "participation": "fraction of adv per day",
    },
    "CashFlow": {"day": "trading day (or date)", "amount": "{cur}, negative = out"},
    "Shock": {
        "day": "trading day (or date)", "asset": "asset id", "change": "relative (−0.4 = −40%)",
        "over_days": "trading days",
    },
    "MarketModel": {
        "model": "gbm | historical", "prices": "CSV file path", "block_days": "trading days",
        "columns": "CSV column by asset id",
    },
}

# rules on a field's name, for fields that UNITS does not list: (suffix, unit); only suffixes
# whose unit is unambiguous
NAME_RULES: tuple[tuple[str, str], ...] = (
    ("_days", "trading days"),
    ("_ltv", LTV),
    ("_per_year", "per year"),
    ("_probability", "probability"),
    ("_bp", "basis points"),
)


def unit_of(model: type[BaseModel], name: str, currency: str = "{cur}") -> str:
    """The unit of field `name` of `model`, with `{cur}` replaced by `currency` ("" for none)."""
    info = model.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = extra.get("unit")
    if not isinstance(unit, str):
        unit = UNITS.get(model.__name__, {}).get(name)
    if unit is None:
        unit = next((u for suffix, u in NAME_RULES if name.endswith(suffix)), "")
    return unit.replace("{cur}", currency)
