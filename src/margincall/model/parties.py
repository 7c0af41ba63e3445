"""The parties: borrowers (holding companies with holdings, cash and obligations) and lenders (with
their own way of liquidating collateral)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from margincall.model._base import Day, Days, Fraction, Frozen, Money, OpenFraction, SignedMoney, Units

Action = Literal["cash", "pledge", "release", "draw", "block", "sell"]
ACTIONS: tuple[str, ...] = ("cash", "pledge", "release", "draw", "block", "sell")

# S&P's long-term issuer scale (the notches that margincall's rating table maps to its rows).
RATINGS: tuple[str, ...] = (
    "AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
    "B+", "B", "B-", "CCC+", "CCC", "CCC-", "CC", "C",
)


class CashFlow(Frozen):
    """A scheduled cash flow of the borrower: negative out (a tranche due), positive in (a dividend)."""

    day: Day = Field(description="Trading-day number (1 or later), or a date when the scenario sets start_date.")
    amount: SignedMoney = Field(description="Currency amount: negative an outflow, positive an inflow.")
    label: str = Field(default="", max_length=200, description="What the flow is.")
    grace_days: Days = Field(
        default=5,
        description=(
            "Trading days after `day` within which an outflow may still be paid before it is a default; default 5 "
            "(ASSUMPTION: a week, about the cure period of a late capital contribution in fund agreements)."
        ),
    )


class Borrower(Frozen):
    """A holding company: its cash, holdings, obligations and how it answers calls and dues."""

    name: str | None = Field(default=None, max_length=200, description="The borrower's name.")
    cash: Money = Field(description="Cash on day 0, in currency.")
    cash_reserve: Money = Field(
        default=0.0,
        description=(
            "Cash kept back from curing margin calls; default 0. It is spent on interest, maturities, accelerated "
            "debt and scheduled outflows before the borrower defaults, and on a call's last day, after every other "
            "action, rather than let the call default."
        ),
    )
    holdings: dict[str, Units] | None = Field(
        default=None,
        description="Units (shares) held of each asset on day 0, by asset id (a book only; the shorthand's holdings are the assets' values).",
    )
    response: list[Action] = Field(
        default_factory=lambda: ["cash", "pledge", "sell"],
        description=(
            "How the borrower raises value, in order, both to cure a margin call and to pay what falls due; "
            "default [cash, pledge, sell]. cash: cash (above the reserve for a cure, until its last day; all of it for a payment); "
            "pledge: free holdings the called lender accepts (cures only); release: collateral above a lender's "
            "cure level is freed; draw: undrawn committed facilities (a loan's limit above its principal, while "
            "its LTV after the draw stays at or below its draw_max_ltv); block: one block of up to block_fraction "
            "of a free public holding a day, at block_discount below the day's price; sell: market sales of free "
            "public holdings at max_participation of daily volume."
        ),
    )
    max_participation: OpenFraction = Field(
        default=0.1, description="Largest share of a public asset's daily volume the borrower sells per day; default 0.1."
    )
    block_fraction: Fraction = Field(
        default=0.1,
        description=(
            "Largest share of a free public holding sold in one block (an accelerated bookbuild) a day; default 0.1 "
            "(ASSUMPTION)."
        ),
    )
    block_discount: Fraction = Field(
        default=0.05,
        description=(
            "Discount of a block to the day's price; default 0.05 (ASSUMPTION: accelerated bookbuilds of large "
            "secondary blocks price a few percent below the last close)."
        ),
    )
    cash_flows: list[CashFlow] = Field(default_factory=list, description="Scheduled cash flows.")
    recovery_rate: Fraction = Field(
        default=0.4,
        description=(
            "Share of an unsecured claim (an unsecured loan, a recourse lender's shortfall) recovered after the "
            "borrower defaults; default 0.40, the convention of CDS pricing for senior unsecured debt."
        ),
    )
    rating: str | None = Field(
        default=None, description="Issuer rating on S&P's scale (e.g. BB+), for the reality check of P(default)."
    )
    cds_bp: float | None = Field(
        default=None,
        gt=0.0,
        le=100_000.0,
        allow_inf_nan=False,
        description="5-year CDS spread in basis points, for the reality check (hazard = spread / (1 - cds_recovery)).",
    )
    cds_recovery: Fraction = Field(default=0.4, description="Recovery assumed in the CDS-implied default probability; default 0.40.")

    @model_validator(mode="after")
    def _check(self) -> "Borrower":
        if len(set(self.response)) != len(self.response):
            raise ValueError(f"response lists an action twice; allowed: each of {', '.join(ACTIONS)} at most once")
        if self.rating is not None and self.rating not in RATINGS:
            raise ValueError(f"rating '{self.rating}' is not on S&P's scale; use one of {', '.join(RATINGS)}")
        return self


class Lender(Frozen):
    """A lender (or a syndicate acting as one): its capital and how it liquidates a defaulted pool."""

    name: str | None = Field(default=None, max_length=200, description="The lender's name; default: its id.")
    capital: Money | None = Field(
        default=None, description="Capital in currency, for P(loss > x% of capital); none if omitted."
    )
    wait_days: Days = Field(
        default=0, description="Trading days after a default before the lender starts selling the pool; default 0."
    )
    method: Literal["market", "block"] = Field(
        default="market",
        description=(
            "market: sells public collateral at `participation` of daily volume a day; block: sells it in one block "
            "on its first selling day at block_discount below the day's price (the price then moves for every "
            "holder by the impact law). Private collateral is always sold in one block after the asset's sale delay."
        ),
    )
    block_discount: Fraction = Field(default=0.05, description="Discount of the lender's block to the day's price; default 0.05.")
    participation: OpenFraction = Field(
        default=0.1, description="Largest share of a public asset's daily volume the lender sells per day; default 0.1."
    )
