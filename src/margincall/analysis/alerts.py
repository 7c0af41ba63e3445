"""Alert rules on a loan's monitoring metrics: `headroom<10%`, `p_call_5d>0.05`,
`acme-loan.ltv>=0.55` (a rule may name one loan; otherwise it applies to every loan)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from margincall.errors import MarginCallError

METRICS: dict[str, str] = {
    "ltv": "loan-to-value today (a fraction)",
    "headroom": "fall in pool value that reaches the call level (a fraction; 10% = 0.1)",
    "headroom_liquidation": "fall in pool value that reaches the liquidation level (a fraction)",
    "headroom_sigma": "distance to the call level in daily standard deviations of the pool",
    "headroom_liquidation_sigma": "distance to the liquidation level in daily standard deviations",
    "p_call_1d": "probability of a margin call within 1 trading day",
    "p_call_5d": "probability of a margin call within 5 trading days",
    "p_call_20d": "probability of a margin call within 20 trading days",
    "p_default_1d": "probability of a default within 1 trading day",
    "p_default_5d": "probability of a default within 5 trading days",
    "p_default_20d": "probability of a default within 20 trading days",
    "mark_age_days": "calendar days since the oldest mark of the pool's assets",
}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}
_RULE = re.compile(r"^\s*(?:(?P<loan>[^<>=\s]+)\.)?(?P<metric>[a-z_0-9]+)\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+0-9.eE]+)\s*(?P<pct>%)?\s*$")


class AlertRuleError(MarginCallError, ValueError):
    """An alert rule that cannot be read."""


@dataclass(frozen=True)
class AlertRule:
    text: str
    metric: str
    op: str
    threshold: float
    loan: str | None = None

    def applies_to(self, loan: str) -> bool:
        return self.loan is None or self.loan == loan

    def crossed(self, value: float | None) -> bool:
        """Whether `value` meets the rule's condition (never for a missing or NaN value)."""
        return value is not None and not math.isnan(value) and _OPS[self.op](value, self.threshold)


def parse_rule(text: str) -> AlertRule:
    """`[LOAN.]METRIC OP NUMBER[%]`; a percent is divided by 100."""
    match = _RULE.match(text)
    if match is None:
        raise AlertRuleError(f"alert '{text}': write METRIC<VALUE, e.g. 'headroom<10%' or 'p_call_5d>0.05' "
                             f"(operators < <= > >=; metrics: {', '.join(METRICS)})")
    metric = match["metric"]
    if metric not in METRICS:
        import difflib

        close = difflib.get_close_matches(metric, METRICS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise AlertRuleError(f"alert '{text}': unknown metric '{metric}'; {hint}metrics: {', '.join(METRICS)}")
    try:
        value = float(match["value"])
    except ValueError:
        raise AlertRuleError(f"alert '{text}': '{match['value']}' is not a number") from None
    if match["pct"]:
        value /= 100.0
    return AlertRule(text=text.strip(), metric=metric, op=match["op"], threshold=value, loan=match["loan"])


def check_rule_loans(rules: list[AlertRule], loans: list[str]) -> None:
    """`AlertRuleError` for a rule that names a loan the scenario does not have."""
    for rule in rules:
        if rule.loan is not None and rule.loan not in loans:
            raise AlertRuleError(f"alert '{rule.text}': unknown loan '{rule.loan}'; loans: {', '.join(loans)}")


def crossings(rules: list[AlertRule], metrics_by_loan: Mapping[str, Mapping[str, float | None]]) -> list[tuple[str, AlertRule, float]]:
    """(loan, rule, value) for every loan whose metric crosses a rule's threshold."""
    hits = []
    for loan, metrics in metrics_by_loan.items():
        for rule in rules:
            value = metrics.get(rule.metric)
            if rule.applies_to(loan) and rule.crossed(value):
                hits.append((loan, rule, float(value)))  # type: ignore[arg-type]
    return hits
