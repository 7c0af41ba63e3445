"""Markets: assets (the equity of one company each), how their values move, and how selling moves
their prices.

An asset is a market: a price per unit, a volatility, jumps, marks (private), a daily traded
value and a price-impact law. What a borrower owns of it is a holding (`parties.Borrower.holdings`);
in the one-borrower shorthand an asset's `value` is the borrower's whole holding (one unit).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from margincall.model._base import (
    Day,
    Days,
    Drift,
    EventRate,
    Fraction,
    Frozen,
    LogJump,
    LogJumpStdev,
    OpenFraction,
    PositiveDays,
    PositiveMoney,
    Volatility,
)


class Jumps(Frozen):
    """Compound Poisson jumps in the log value: down rounds, collapses, gaps."""

    rate: EventRate = Field(description="Expected number of jumps per year.")
    mean: LogJump = Field(description="Mean of the log jump size (e.g. -0.6 is about a 45% fall).")
    stdev: LogJumpStdev = Field(default=0.0, description="Standard deviation of the log jump size.")


class Marks(Frozen):
    """When a private asset's fair value is observed (a funding round, a tender, a 409A)."""

    every_days: PositiveDays | None = Field(
        default=None, description="Scheduled valuation every this many trading days (none if omitted)."
    )
    rounds_per_year: EventRate = Field(
        default=0.0, description="Rate of unscheduled valuation events per year (Poisson)."
    )


class Listing(Frozen):
    """A private asset becomes public (an IPO) on `day`; its holders may be locked up."""

    day: Day = Field(description="Listing day: a trading-day number, or a date when the scenario sets start_date.")
    adv: PositiveMoney = Field(description="Average daily traded value once listed, in currency per day (at the day-0 price).")
    lockup_days: Days = Field(default=0, description="Trading days after listing before a holder or a lender may sell.")


ImpactLaw = Literal["sqrt", "power", "exponential"]


class Asset(Frozen):
    """One company's equity as a market; in the one-borrower shorthand also the borrower's holding."""

    kind: Literal["public", "private"] = Field(
        description="public: priced every trading day; private: fair value observed only at valuation events."
    )
    value: PositiveMoney | None = Field(
        default=None,
        description=(
            "One-borrower shorthand: currency value of the borrower's whole holding on day 0 (one unit). "
            "A book (`borrowers:`) gives `price` instead and holdings in units."
        ),
    )
    price: PositiveMoney | None = Field(
        default=None,
        description=(
            "Price of one unit (a share) on day 0, in currency. Required in a book; optional in the shorthand, "
            "where it only names the unit that marks are quoted in (units held = value / price)."
        ),
    )
    volatility: Volatility = Field(
        description=(
            "Annual volatility of the log value (0.3 = 30% a year). Ignored by the historical market model, "
            "which replays the returns of a prices file (price impact then uses their daily sd)."
        ),
    )
    drift: Drift = Field(
        default=0.0,
        description="Annual arithmetic drift mu (0.05 = 5% a year); default 0. Ignored by the historical market model.",
    )
    adv: PositiveMoney | None = Field(
        default=None,
        description=(
            "Average daily traded value of the asset in currency per day at the day-0 price (public assets). "
            "Participation limits and the impact law count shares: adv / day-0 price a day."
        ),
    )
    impact: float = Field(
        default=0.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        description=(
            "Y, the size of the price-impact law; 0 turns impact off. sqrt (default law): selling q shares in a day "
            "moves the price by Y * daily volatility * sqrt(q / daily volume), Y about 0.5-1 (Toth et al. 2011). "
            "power: Y * daily volatility * (q / daily volume)^impact_exponent. exponential: 1 - exp(-Y * q / daily "
            "volume) (Cifuentes, Ferrucci and Shin 2005; Cont and Schaanning 2017 with Y = daily volatility / c)."
        ),
    )
    impact_law: ImpactLaw = Field(default="sqrt", description="The price-impact law: sqrt (default), power or exponential.")
    impact_exponent: float = Field(
        default=0.6,
        gt=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Exponent of the power law; default 0.6 (Almgren, Thum, Hauptmann and Li 2005: 3/5).",
    )
    impact_permanent: Fraction = Field(
        default=2.0 / 3.0,
        description=(
            "Share of a day's peak price impact still in the price at the day's end; default 2/3 (Bucci, Benzaquen, "
            "Lillo and Bouchaud 2019: metaorder impact relaxes to about 2/3 of its peak by the end of the day)."
        ),
    )
    impact_floor: Fraction = Field(
        default=0.5,
        description=(
            "Share of the end-of-day impact that never decays; default 1/2 (Bucci et al. 2019: impact converges to "
            "about 1/2 of its end-of-day value after about 50 days)."
        ),
    )
    impact_half_life_days: PositiveDays | None = Field(
        default=10,
        description=(
            "Half-life in trading days of the rest of the end-of-day impact (none: it never decays); default 10, "
            "so that the decay is essentially over after about 50 days (Bucci et al. 2019)."
        ),
    )
    jumps: Jumps | None = Field(
        default=None, description="Jump process; none if omitted. Under the historical market model, added to the replayed returns."
    )
    marks: Marks | None = Field(
        default=None,
        description="Valuation events of a private asset; with neither marks nor jumps it keeps its day-0 mark.",
    )
    listing: Listing | None = Field(default=None, description="IPO of a private asset; none if omitted.")
    sale_delay_days: Days = Field(
        default=126,
        description="Trading days after a default before a lender can sell a private holding; default 126 (half a year).",
    )
    sale_discount: Fraction = Field(
        default=0.25,
        description="Block discount to fair value when a lender sells a private holding; default 0.25.",
    )


class Shock(Frozen):
    """An instantaneous relative move of one asset's value, optionally spread over several days."""

    day: Day = Field(description="Trading-day number (0: before the first covenant test), or a date.")
    asset: str = Field(description="Asset id.")
    change: float = Field(ge=-1.0, le=100.0, allow_inf_nan=False, description="Relative move: -0.4 is a 40% fall, -1 a fall to zero.")
    over_days: PositiveDays = Field(default=1, description="Spread the move evenly (in log terms) over this many days.")


class MarketModel(Frozen):
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
    block_days: PositiveDays = Field(
        default=20,
        description="Length in trading days of each replayed block of consecutive returns; default 20 (about a month).",
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description="CSV column replayed for each asset, by asset id; default: the column named like the asset id.",
    )


class MarketAccess(Frozen):
    """Whether borrowers can refinance: one state per path, shared by every loan, tied to a market.

    The refinancing market is closed on days when the gauge asset's market price stands more than
    `max_drawdown` below its running peak since day 0 (as in 2008 or March 2020, when new issuance
    stopped while equity markets were in a deep drawdown); open otherwise."""

    asset: str = Field(description="Asset id of the gauge (an index or a bellwether stock; it need not be held).")
    max_drawdown: OpenFraction = Field(
        description="The market is closed while the gauge is more than this fraction below its running peak (0.3 = 30%)."
    )
