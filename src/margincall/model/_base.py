"""Building blocks of the schema: the frozen, strict base model and the number types with their
physical bounds.

Every model is strict: a number must be a number in the file (`yes` is not 1, "252" is not 252),
floats must be finite, and each kind of number has bounds that keep the engine's arithmetic
meaningful (a volatility of 1e308 is a typo, not a scenario). The bounds are stated here once and
appear in `margincall schema` through the field constraints.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr

MAX_MONEY = 1e15  # a quadrillion in the scenario's currency
MIN_POSITIVE_MONEY = 1e-6
MAX_DAYS = 25_200  # 100 years of 252 trading days: the longest horizon, term or delay
MAX_VOLATILITY = 10.0  # per year (1000%)
MAX_ABS_DRIFT = 5.0  # per year
MAX_ABS_RATE = 1.0  # interest per year (100%)
MAX_EVENT_RATE = 252.0  # events per year: at most about one a trading day
MAX_ABS_LOG_JUMP = 20.0
MAX_LTV = 1e3  # a trigger beyond this never fires; larger values are typos
MAX_UNITS = 1e15


class Frozen(BaseModel):
    """An immutable, strictly typed schema object: unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, strict=True)


def _finite(**bounds: float) -> Field:  # type: ignore[valid-type]
    return Field(strict=True, allow_inf_nan=False, **bounds)


Fraction = Annotated[float, _finite(ge=0.0, le=1.0)]
OpenFraction = Annotated[float, _finite(gt=0.0, le=1.0)]  # a positive share, at most the whole
Money = Annotated[float, _finite(ge=0.0, le=MAX_MONEY)]
PositiveMoney = Annotated[float, _finite(ge=MIN_POSITIVE_MONEY, le=MAX_MONEY)]
SignedMoney = Annotated[float, _finite(ge=-MAX_MONEY, le=MAX_MONEY)]
Units = Annotated[float, _finite(ge=0.0, le=MAX_UNITS)]
Volatility = Annotated[float, _finite(ge=0.0, le=MAX_VOLATILITY)]
Drift = Annotated[float, _finite(ge=-MAX_ABS_DRIFT, le=MAX_ABS_DRIFT)]
Rate = Annotated[float, _finite(ge=-MAX_ABS_RATE, le=MAX_ABS_RATE)]
EventRate = Annotated[float, _finite(ge=0.0, le=MAX_EVENT_RATE)]
LogJump = Annotated[float, _finite(ge=-MAX_ABS_LOG_JUMP, le=MAX_ABS_LOG_JUMP)]
LogJumpStdev = Annotated[float, _finite(ge=0.0, le=MAX_ABS_LOG_JUMP)]
Ltv = Annotated[float, _finite(gt=0.0, le=MAX_LTV)]
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
PositiveDays = Annotated[int, Field(ge=1, le=MAX_DAYS)]
Correlation = Annotated[float, _finite(ge=-1.0, le=1.0)]
Day = Annotated[int, Field(ge=0, le=MAX_DAYS)] | dt.date
# A list in the file is a tuple here: the pair's ids are strict strings, rho a strict number.
CorrelationPair = Annotated[tuple[StrictStr, StrictStr, Correlation], Field(strict=False)]
