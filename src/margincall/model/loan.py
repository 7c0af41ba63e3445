"""Loans: principal and facility limit, interest, term, covenants, collateral, grace periods,
cross-default, refinancing and recourse."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from margincall.model._base import (
    Days,
    Fraction,
    Frozen,
    Ltv,
    Money,
    OpenFraction,
    PositiveDays,
    PositiveMoney,
    Rate,
)


class IndexRate(Frozen):
    """A floating rate: index + spread, both per year (held constant over the horizon)."""

    index: Rate = Field(description="Index rate per year, e.g. SOFR 0.0355.")
    spread: Rate = Field(description="Spread per year over the index, e.g. 0.0425 for 425 bp.")

    @property
    def annual(self) -> float:
        return self.index + self.spread


class CrossDefault(Frozen):
    """A cross-default or cross-acceleration clause, as in bond indentures and syndicated loans."""

    acceleration: bool = Field(
        default=False,
        description=(
            "false (cross-default): a default of another loan of the borrower's cross-default group is a default here. "
            "true (cross-acceleration): only once that loan's lender enforces (after its wait_days) — and a secured "
            "loan here is then accelerated (all due within principal_grace_days) rather than sold at once."
        ),
    )
    threshold: Money = Field(
        default=0.0,
        description="Only a defaulted debt of at least this amount (currency) triggers the clause; default 0.",
    )


class Loan(Frozen):
    """One loan: secured by a collateral pool when `collateral` is given, unsecured otherwise."""

    borrower: str | None = Field(default=None, description="Borrower id (a book); default: the only borrower.")
    lender: str | None = Field(
        default=None,
        description="Lender id (in `lenders:`), or in a file without `lenders:` a label naming the lender; default: the loan's id.",
    )
    principal: PositiveMoney = Field(description="Amount drawn on day 0, in currency.")
    limit: PositiveMoney | None = Field(
        default=None,
        description="Committed facility size (currency), at least principal; the undrawn rest can be drawn (response `draw`). Default: principal.",
    )
    draw_max_ltv: Ltv | None = Field(
        default=None,
        description="A draw is allowed while the loan's LTV after it stays at or below this; default: cure_ltv (secured loans only).",
    )
    rate: Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)] | IndexRate = Field(
        description="Interest per year: a number, or {index, spread}."
    )
    term_days: PositiveDays = Field(description="Trading days from day 0 to maturity.")
    extension_days: Days = Field(default=0, description="Length of the one-time extension; 0: none.")
    extension_max_ltv: Ltv | None = Field(
        default=None,
        description=(
            "The extension is granted when LTV <= this at maturity; default: below margin_call_ltv "
            "(unsecured loans: always granted)."
        ),
    )
    collateral: dict[str, Fraction] | None = Field(
        default=None, description="Fraction of the borrower's holding of each asset pledged, by asset id; omit for an unsecured loan."
    )
    haircuts: dict[str, Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)]] | None = Field(
        default=None,
        description=(
            "Haircut per asset the lender accepts as collateral (lending value = value * (1 - haircut)); "
            "default: 0 on the pledged assets and no other asset accepted."
        ),
    )
    margin_call_ltv: Ltv | None = Field(default=None, description="LTV at or above which a call opens.")
    cure_ltv: Ltv | None = Field(default=None, description="LTV a cure must restore.")
    cure_days: Days | None = Field(default=None, description="Trading days to cure a call (0: same day).")
    liquidation_ltv: Ltv | None = Field(default=None, description="LTV at or above which the loan defaults (after liquidation_cure_days).")
    liquidation_cure_days: Days = Field(
        default=0,
        description=(
            "Notice in trading days after the LTV gaps to liquidation_ltv within which a cure (to cure_ltv) stops the "
            "sale; default 0: the loan defaults at once. A private pool is sold only after its sale delay anyway."
        ),
    )
    recourse: bool = Field(
        default=False,
        description=(
            "true: the borrower guarantees the loan: a shortfall after liquidation is due from the borrower and, "
            "unpaid, ranks with its unsecured creditors (recovering the borrower's recovery_rate)."
        ),
    )
    cross_default: bool | CrossDefault = Field(
        default=False,
        description=(
            "true, or {acceleration, threshold}: the loan is in its borrower's cross-default group: a default of another "
            "loan of the group, or of the borrower, is a default here."
        ),
    )
    interest_every_days: PositiveDays = Field(
        default=63, description="Accrued interest is due every this many trading days; default 63."
    )
    interest_grace_days: Days = Field(
        default=21,
        description=(
            "Trading days after an interest date within which the interest may still be paid; default 21 (30 calendar "
            "days, the grace for interest in US bond indentures)."
        ),
    )
    principal_grace_days: Days = Field(
        default=3,
        description=(
            "Trading days after a maturity or an acceleration within which the debt may still be repaid (by the "
            "borrower's response, and for a secured loan by selling its pool); default 3 (the LMA facility "
            "agreement's three business days)."
        ),
    )
    refinance_probability: Fraction = Field(
        default=0.0,
        description=(
            "Probability that the lender rolls the loan over at maturity when the conditions hold (drawn per path): "
            "the borrower is not in default, the loan is not called and within refinance_max_ltv, and the refinancing "
            "market is open (market_access). Default 0: no refinancing."
        ),
    )
    refinance_days: PositiveDays | None = Field(
        default=None, description="Term of a refinancing, in trading days; default: term_days."
    )
    refinance_max_ltv: Ltv | None = Field(
        default=None,
        description=(
            "Refinancing needs LTV at or below this: the loan's LTV when secured (default: below margin_call_ltv), "
            "the borrower's LTV (all its debt over all its holdings at the lenders' prices) when unsecured (default: "
            "no condition)."
        ),
    )
    recovery_rate: Fraction | None = Field(
        default=None,
        description="Share of an unsecured loan recovered after the borrower defaults; default: the borrower's recovery_rate.",
    )
    liquidation_participation: OpenFraction | None = Field(
        default=None,
        description="Largest share of a public asset's daily volume sold per day when this loan's pool is liquidated; default: the lender's participation.",
    )

    @property
    def secured(self) -> bool:
        return self.collateral is not None

    @property
    def annual_rate(self) -> float:
        return self.rate.annual if isinstance(self.rate, IndexRate) else float(self.rate)

    @property
    def facility_limit(self) -> float:
        return self.principal if self.limit is None else self.limit

    @property
    def cross(self) -> CrossDefault | None:
        """The cross-default clause, or None when the loan is not in the cross-default group."""
        if self.cross_default is True:
            return CrossDefault()
        if self.cross_default is False:
            return None
        return self.cross_default

    @property
    def accepted_haircuts(self) -> dict[str, float]:
        """Haircut per accepted asset, with the default of 0 on each pledged asset."""
        if self.haircuts is not None:
            return dict(self.haircuts)
        return {asset_id: 0.0 for asset_id in (self.collateral or {})}

