"""The scenario schema: assets, holdings, loans and the borrower, as frozen pydantic models.

Money is in the scenario's currency (one currency per scenario), time in trading days counted
from day 0 (the valuation date), rates and volatilities per year. Field descriptions carry the
units; `margincall schema` prints them as JSON Schema.

Field-level checks (types, signs, ranges) are pydantic's; checks that relate several fields
(asset ids, trigger order, a positive semi-definite correlation matrix, dates) are in
`scenario_problems`, which names the offending field by its path.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveMoney = Annotated[float, Field(gt=0.0)]
Day = int | dt.date


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Jumps(_Frozen):
    """Compound Poisson jumps in the log value: down rounds, collapses, gaps."""

    rate: float = Field(ge=0.0, description="Expected number of jumps per year.")
    mean: float = Field(description="Mean of the log jump size (e.g. -0.6 is about a 45% fall).")
    stdev: float = Field(default=0.0, ge=0.0, description="Standard deviation of the log jump size.")


class Marks(_Frozen):
    """When a private asset's fair value is observed (a funding round, a tender, a 409A)."""

    every_days: int | None = Field(
        default=None, ge=1, description="Scheduled valuation every this many trading days (none if omitted)."
    )
    rounds_per_year: float = Field(
        default=0.0, ge=0.0, description="Rate of unscheduled valuation events per year (Poisson)."
    )


class Listing(_Frozen):
    """A private asset becomes public (an IPO) on `day`; its holders may be locked up."""

    day: Day = Field(description="Listing day: a trading-day number, or a date when the scenario sets start_date.")
    adv: PositiveMoney = Field(description="Average daily traded value once listed, in currency per day.")
    lockup_days: int = Field(
        default=0, ge=0, description="Trading days after listing before the borrower or a lender may sell."
    )


class Asset(_Frozen):
    """The borrower's holding of one company's equity."""

    kind: Literal["public", "private"] = Field(
        description="public: priced every trading day; private: fair value observed only at valuation events."
    )
    value: PositiveMoney = Field(description="Currency value of the borrower's whole holding on day 0.")
    volatility: float = Field(
        ge=0.0,
        description=(
            "Annual volatility of the log value (0.3 = 30% a year). Ignored by the historical market model, "
            "which replays the returns of a prices file (price impact then uses their daily sd)."
        ),
    )
    drift: float = Field(
        default=0.0,
        description="Annual arithmetic drift mu (0.05 = 5% a year); default 0. Ignored by the historical market model.",
    )
    adv: PositiveMoney | None = Field(
        default=None, description="Average daily traded value of the asset, in currency per day (public assets)."
    )
    impact: float = Field(
        default=0.0,
        ge=0.0,
        description=(
            "Y in the square-root impact law: selling Q in a day moves the price by "
            "Y * daily volatility * sqrt(Q / adv). 0 turns impact off; 0.5-1 is typical."
        ),
    )
    impact_permanent: Fraction = Field(
        default=0.5, description="Share of a day's price impact that persists to the next day; default 0.5."
    )
    jumps: Jumps | None = Field(
        default=None, description="Jump process; none if omitted. Under the historical market model, added to the replayed returns."
    )
    marks: Marks | None = Field(
        default=None,
        description="Valuation events of a private asset; with neither marks nor jumps it keeps its day-0 mark.",
    )
    listing: Listing | None = Field(default=None, description="IPO of a private asset; none if omitted.")
    sale_delay_days: int = Field(
        default=126,
        ge=0,
        description="Trading days after a default before a lender can sell a private holding; default 126 (half a year).",
    )
    sale_discount: Fraction = Field(
        default=0.25,
        description="Block discount to fair value when a lender sells a private holding; default 0.25.",
    )


class IndexRate(_Frozen):
    """A floating rate: index + spread, both per year (held constant over the horizon)."""

    index: float = Field(description="Index rate per year, e.g. SOFR 0.0355.")
    spread: float = Field(description="Spread per year over the index, e.g. 0.0425 for 425 bp.")

    @property
    def annual(self) -> float:
        return self.index + self.spread


class Loan(_Frozen):
    """One loan: secured by a collateral pool when `collateral` is given, unsecured otherwise."""

    lender: str | None = Field(default=None, description="Lender (or syndicate) name; default: the loan's id.")
    principal: PositiveMoney = Field(description="Amount drawn on day 0, in currency.")
    rate: float | IndexRate = Field(description="Interest per year: a number, or {index, spread}.")
    term_days: int = Field(ge=1, description="Trading days from day 0 to maturity.")
    extension_days: int = Field(default=0, ge=0, description="Length of the one-time extension; 0: none.")
    extension_max_ltv: float | None = Field(
        default=None,
        gt=0.0,
        description=(
            "The extension is granted when LTV <= this at maturity; default: below margin_call_ltv "
            "(unsecured loans: always granted)."
        ),
    )
    collateral: dict[str, Fraction] | None = Field(
        default=None, description="Fraction of each holding pledged, by asset id; omit for an unsecured loan."
    )
    haircuts: dict[str, Annotated[float, Field(ge=0.0, lt=1.0)]] | None = Field(
        default=None,
        description=(
            "Haircut per asset the lender accepts as collateral (lending value = value * (1 - haircut)); "
            "default: 0 on the pledged assets and no other asset accepted."
        ),
    )
    margin_call_ltv: float | None = Field(default=None, gt=0.0, description="LTV at or above which a call opens.")
    cure_ltv: float | None = Field(default=None, gt=0.0, description="LTV a cure must restore.")
    cure_days: int | None = Field(default=None, ge=0, description="Trading days to cure a call (0: same day).")
    liquidation_ltv: float | None = Field(
        default=None, gt=0.0, description="LTV at or above which the loan defaults at once."
    )
    recourse: bool = Field(
        default=False, description="true: a shortfall after liquidation is claimed from the borrower's cash."
    )
    cross_default: bool = Field(
        default=False, description="true: a default here, or a borrower default, defaults the other cross-default loans."
    )
    interest_every_days: int = Field(
        default=63, ge=1, description="Accrued interest is paid from cash every this many trading days; default 63."
    )
    refinance_probability: Fraction = Field(
        default=0.0,
        description="Probability, drawn per path on the maturity day, that the loan is rolled over instead of repaid.",
    )
    refinance_days: int | None = Field(
        default=None, ge=1, description="Term of a refinancing, in trading days; default: term_days."
    )
    recovery_rate: Fraction = Field(
        default=0.0, description="Share of an unsecured loan recovered after a borrower default; default 0."
    )
    liquidation_participation: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.1, description="Largest share of a public asset's adv the lender sells per day in a liquidation."
    )

    @property
    def secured(self) -> bool:
        return self.collateral is not None

    @property
    def annual_rate(self) -> float:
        return self.rate.annual if isinstance(self.rate, IndexRate) else float(self.rate)

    @property
    def accepted_haircuts(self) -> dict[str, float]:
        """Haircut per accepted asset, with the default of 0 on each pledged asset."""
        if self.haircuts is not None:
            return dict(self.haircuts)
        return {asset_id: 0.0 for asset_id in (self.collateral or {})}


class CashFlow(_Frozen):
    """A scheduled cash flow of the borrower: negative out (a tranche due), positive in (a dividend)."""

    day: Day = Field(description="Trading-day number, or a date when the scenario sets start_date.")
    amount: float = Field(description="Currency amount: negative an outflow, positive an inflow.")
    label: str = Field(default="", description="What the flow is.")


class Borrower(_Frozen):
    name: str | None = Field(default=None, description="The borrower's name.")
    cash: float = Field(ge=0.0, description="Cash on day 0, in currency.")
    cash_reserve: float = Field(default=0.0, ge=0.0, description="Cash never spent on cures; default 0.")
    response: list[Literal["cash", "pledge", "sell"]] = Field(
        default_factory=lambda: ["cash", "pledge", "sell"],
        description="What the borrower does on a margin call, in order; default [cash, pledge, sell].",
    )
    max_participation: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.1, description="Largest share of a public asset's adv the borrower sells per day; default 0.1."
    )
    cash_flows: list[CashFlow] = Field(default_factory=list, description="Scheduled cash flows.")

    @model_validator(mode="after")
    def _unique_response(self) -> "Borrower":
        if len(set(self.response)) != len(self.response):
            raise ValueError("response lists an action twice; allowed: each of cash, pledge, sell at most once")
        return self


class Shock(_Frozen):
    """An instantaneous relative move of one asset's value, optionally spread over several days."""

    day: Day = Field(description="Trading-day number (0: before the first covenant test), or a date.")
    asset: str = Field(description="Asset id.")
    change: float = Field(ge=-1.0, description="Relative move: -0.4 is a 40% fall, -1 a fall to zero.")
    over_days: int = Field(default=1, ge=1, description="Spread the move evenly (in log terms) over this many days.")


class MarketModel(_Frozen):
    """How asset values move: `gbm` (correlated geometric Brownian motion with jumps, from each
    asset's drift, volatility and jumps and the scenario's correlation) or `historical` (a block
    bootstrap of the daily log returns in a prices file)."""

    model: Literal["gbm", "historical"] = Field(
        default="gbm",
        description=(
            "gbm: the assets' drift, volatility, jumps and correlation drive the values (default). "
            "historical: each path replays blocks of block_days consecutive days of real daily log returns "
            "from `prices`, all assets on the same dates (so their co-movement is the data's); every "
            "block_days trading days a path jumps to a uniformly random start date. drift, volatility and "
            "correlation are then ignored; jumps and shocks still apply on top. With antithetic pairs the "
            "second path of a pair replays its partner's returns with the opposite sign."
        ),
    )
    prices: str | None = Field(
        default=None,
        description=(
            "Path of a CSV of daily prices (or values): the first column holds dates (YYYY-MM-DD), each "
            "other column one series, one row per trading day. Relative to the scenario file's folder. "
            "Rows where a used column is empty are skipped. Needed by the historical model."
        ),
    )
    block_days: int = Field(
        default=20,
        ge=1,
        description="Length in trading days of each replayed block of consecutive returns; default 20 (about a month).",
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description="CSV column replayed for each asset, by asset id; default: the column named like the asset id.",
    )


class Scenario(_Frozen):
    """A borrower, its holdings, its loans and the market they live in."""

    name: str | None = Field(default=None, description="Scenario name; default: the file's stem.")
    description: str | None = Field(default=None, description="What the scenario is, in words.")
    currency: str = Field(default="USD", description="The one currency of every amount.")
    start_date: dt.date | None = Field(
        default=None, description="Calendar date of day 0; needed where days are given as dates."
    )
    horizon_days: int | None = Field(
        default=None, ge=1, description="Trading days simulated; default: the longest term with its extension."
    )
    days_per_year: int = Field(default=252, ge=1, description="Trading days per year.")
    assets: dict[str, Asset] = Field(min_length=1, description="Holdings by asset id.")
    correlation: list[tuple[str, str, Annotated[float, Field(ge=-1.0, le=1.0)]]] = Field(
        default_factory=list, description="Pairs [asset, asset, rho] of daily return correlation; pairs not listed are 0."
    )
    shocks: list[Shock] = Field(default_factory=list, description="Instantaneous moves.")
    market: MarketModel | None = Field(
        default=None, description="The market model: gbm (default) or historical (a block bootstrap of real returns)."
    )
    borrower: Borrower
    loans: dict[str, Loan] = Field(min_length=1, description="Loans by id.")

    # -- derived ----------------------------------------------------------------------------------

    def day_number(self, day: Day) -> int:
        """A trading-day number, from an int or from a date on the business-day calendar."""
        if isinstance(day, int):
            return day
        if self.start_date is None:
            raise ValueError("a date needs the scenario's start_date")
        return int(np.busday_count(self.start_date, day))

    @property
    def horizon(self) -> int:
        """Trading days simulated."""
        if self.horizon_days is not None:
            return self.horizon_days
        return max(loan.term_days + loan.extension_days for loan in self.loans.values())

    @property
    def asset_ids(self) -> list[str]:
        return list(self.assets)

    @property
    def historical(self) -> bool:
        """Whether the market replays real returns (market.model: historical)."""
        return self.market is not None and self.market.model == "historical"

    def history_columns(self) -> dict[str, str]:
        """The prices-file column replayed for each asset (historical model), in asset order."""
        mapping = (self.market.columns if self.market is not None else None) or {}
        return {asset_id: mapping.get(asset_id, asset_id) for asset_id in self.assets}

    def correlation_matrix(self) -> np.ndarray:
        """The full correlation matrix over assets in scenario order."""
        ids = self.asset_ids
        index = {a: i for i, a in enumerate(ids)}
        matrix = np.eye(len(ids))
        for a, b, rho in self.correlation:
            if a in index and b in index and a != b:
                matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
        return matrix


Loc = tuple[str | int, ...]


def scenario_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Checks that relate several fields. Returns (field path, message) pairs; empty when valid."""
    problems: list[tuple[Loc, str]] = []
    ids = scenario.asset_ids
    known = ", ".join(ids)

    def unknown(loc: Loc, asset_id: str) -> None:
        problems.append((loc, f"unknown asset '{asset_id}'; the scenario's assets are: {known}"))

    for asset_id, asset in scenario.assets.items():
        loc: Loc = ("assets", asset_id)
        if asset.kind == "public":
            if asset.adv is None:
                problems.append((loc + ("adv",), "a public asset needs adv, its average daily traded value (currency/day)"))
            for field in ("marks", "listing"):
                if getattr(asset, field) is not None:
                    problems.append((loc + (field,), f"only a private asset has {field}; remove it or set kind: private"))
        if asset.listing is not None:
            _check_day(scenario, loc + ("listing", "day"), asset.listing.day, problems)

    pledged_total: dict[str, float] = {a: 0.0 for a in ids}
    for loan_id, loan in scenario.loans.items():
        loc = ("loans", loan_id)
        for asset_id, fraction in (loan.collateral or {}).items():
            if asset_id not in scenario.assets:
                unknown(loc + ("collateral", asset_id), asset_id)
            else:
                pledged_total[asset_id] += fraction
        for asset_id in loan.haircuts or {}:
            if asset_id not in scenario.assets:
                unknown(loc + ("haircuts", asset_id), asset_id)
        if loan.haircuts is not None and loan.collateral is not None:
            for asset_id in loan.collateral:
                if asset_id not in loan.haircuts:
                    problems.append(
                        (loc + ("haircuts",), f"no haircut for the pledged asset '{asset_id}'; add one (0 for none)")
                    )
        covenants = ("margin_call_ltv", "cure_ltv", "cure_days", "liquidation_ltv")
        if loan.secured:
            if not loan.collateral:
                problems.append((loc + ("collateral",), "a secured loan pledges at least one asset"))
            for field in covenants:
                if getattr(loan, field) is None:
                    problems.append((loc + (field,), f"a secured loan needs {field}"))
            call, cure, liq = loan.margin_call_ltv, loan.cure_ltv, loan.liquidation_ltv
            if call is not None and cure is not None and not cure < call:
                problems.append(
                    (loc + ("cure_ltv",), f"must be below margin_call_ltv ({call}); got {cure}: order is cure < call < liquidation")
                )
            if call is not None and liq is not None and not call < liq:
                problems.append(
                    (loc + ("liquidation_ltv",), f"must be above margin_call_ltv ({call}); got {liq}: order is cure < call < liquidation")
                )
        else:
            for field in (*covenants, "haircuts", "extension_max_ltv"):
                if getattr(loan, field) is not None:
                    problems.append((loc + (field,), f"only a secured loan (one with collateral) has {field}"))
    for asset_id, total in pledged_total.items():
        if total > 1.0 + 1e-12:
            problems.append(
                (("assets", asset_id), f"loans pledge {total:.4g} of this holding in all; at most 1 (the whole holding)")
            )

    seen: set[frozenset[str]] = set()
    for i, (a, b, _rho) in enumerate(scenario.correlation):
        for j, asset_id in enumerate((a, b)):
            if asset_id not in scenario.assets:
                unknown(("correlation", i, j), asset_id)
        if a == b:
            problems.append((("correlation", i), f"pairs an asset with itself ('{a}'); list distinct assets"))
        pair = frozenset((a, b))
        if pair in seen:
            problems.append((("correlation", i), f"the pair {a}/{b} is listed twice"))
        seen.add(pair)
    if not any(loc[0] == "correlation" for loc, _ in problems):
        eigenvalues = np.linalg.eigvalsh(scenario.correlation_matrix())
        if eigenvalues.min() < -1e-10:
            problems.append(
                (
                    ("correlation",),
                    "the correlation matrix is not positive semi-definite (smallest eigenvalue "
                    f"{eigenvalues.min():.4g}); make the pairwise correlations consistent",
                )
            )

    market = scenario.market
    if market is not None:
        if market.model == "historical":
            if market.prices is None:
                problems.append(
                    (("market", "prices"), "the historical model replays a prices CSV; give its path (relative to the scenario file)")
                )
        else:
            for field in ("prices", "columns"):
                if getattr(market, field) is not None:
                    problems.append((("market", field), f"only the historical model reads {field}; set model: historical or remove it"))
        for asset_id in market.columns or {}:
            if asset_id not in scenario.assets:
                unknown(("market", "columns", asset_id), asset_id)

    horizon = scenario.horizon
    for i, shock in enumerate(scenario.shocks):
        if shock.asset not in scenario.assets:
            unknown(("shocks", i, "asset"), shock.asset)
        day = _check_day(scenario, ("shocks", i, "day"), shock.day, problems)
        if day is not None and day > horizon:
            problems.append((("shocks", i, "day"), f"day {day} is after the horizon ({horizon} trading days)"))
    for i, flow in enumerate(scenario.borrower.cash_flows):
        day = _check_day(scenario, ("borrower", "cash_flows", i, "day"), flow.day, problems)
        if day is not None and day == 0:
            problems.append((("borrower", "cash_flows", i, "day"), "cash flows fall on days 1 and later; put day-0 cash in borrower.cash"))
    return problems


def _check_day(scenario: Scenario, loc: Loc, day: Day, problems: list[tuple[Loc, str]]) -> int | None:
    if isinstance(day, dt.date) and scenario.start_date is None:
        problems.append((loc, "a date needs the scenario's start_date (the date of day 0); or give a trading-day number"))
        return None
    number = scenario.day_number(day)
    if number < 0:
        problems.append((loc, f"falls before day 0 ({day}); days count from start_date"))
        return None
    return number
