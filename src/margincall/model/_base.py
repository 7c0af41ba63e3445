"""Building blocks of the schema: the frozen, strict base model and the number types with their
physical bounds.

Every model is strict: a number must be a number in the file (`yes` is not 1, "252" is not 252),
floats must be finite, and each kind of number has bounds that keep the engine's arithmetic
meaningful (a volatility of 1e308 is a typo, not a scenario). The bounds are stated here once and
appear in `margincall schema` through the field constraints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from margincall.model.limits import bound

MAX_MONEY = bound("amount").default  # a quadrillion in the scenario's currency (MARGINCALL_MAX_AMOUNT raises it)
MIN_POSITIVE_MONEY = 1e-6
MAX_DAYS = int(bound("horizon_days").default)  # 100 years of 252 trading days: the longest horizon, term or delay
# (MARGINCALL_MAX_HORIZON_DAYS raises it)
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


@dataclass(frozen=True)
class Within:
    """The size bound of a number (`margincall.model.limits`: `horizon_days` or `amount`), read
    when a value is validated, so that its environment variable raises it. |value| above it is
    refused with the bound's message (naming the variable); the schema shows the default."""

    name: str
    signed: bool = False  # bounds |value| (from -bound to bound) rather than value (up to bound)

    @property
    def default(self) -> float:
        return bound(self.name).default

    def __call__(self, value: float) -> float:
        message = bound(self.name).problem(abs(value), bound(self.name).read(), "the size of the value")
        if message is not None:
            raise ValueError(message)
        return value

    def json_schema(self) -> dict[str, float]:
        return {"minimum": -self.default, "maximum": self.default} if self.signed else {"maximum": self.default}


_DAYS = Within("horizon_days")
_MONEY = Within("amount")
_SIGNED_MONEY = Within("amount", signed=True)


def _sized(limit: Within) -> tuple[Within, AfterValidator, Field]:  # type: ignore[valid-type]
    return limit, AfterValidator(limit), Field(json_schema_extra=limit.json_schema())


Fraction = Annotated[float, _finite(ge=0.0, le=1.0)]
OpenFraction = Annotated[float, _finite(gt=0.0, le=1.0)]  # a positive share, at most the whole
Money = Annotated[float, _finite(ge=0.0), *_sized(_MONEY)]
PositiveMoney = Annotated[float, _finite(ge=MIN_POSITIVE_MONEY), *_sized(_MONEY)]
SignedMoney = Annotated[float, _finite(), *_sized(_SIGNED_MONEY)]
Units = Annotated[float, _finite(ge=0.0, le=MAX_UNITS)]
Volatility = Annotated[float, _finite(ge=0.0, le=MAX_VOLATILITY)]
Drift = Annotated[float, _finite(ge=-MAX_ABS_DRIFT, le=MAX_ABS_DRIFT)]
Rate = Annotated[float, _finite(ge=-MAX_ABS_RATE, le=MAX_ABS_RATE)]
EventRate = Annotated[float, _finite(ge=0.0, le=MAX_EVENT_RATE)]
LogJump = Annotated[float, _finite(ge=-MAX_ABS_LOG_JUMP, le=MAX_ABS_LOG_JUMP)]
LogJumpStdev = Annotated[float, _finite(ge=0.0, le=MAX_ABS_LOG_JUMP)]
Ltv = Annotated[float, _finite(gt=0.0, le=MAX_LTV)]
Days = Annotated[int, Field(ge=0), *_sized(_DAYS)]
PositiveDays = Annotated[int, Field(ge=1), *_sized(_DAYS)]
Correlation = Annotated[float, _finite(ge=-1.0, le=1.0)]
Day = Annotated[int, Field(ge=0), *_sized(_DAYS)] | dt.date
# A list in the file is a tuple here: the pair's ids are strict strings, rho a strict number.
CorrelationPair = Annotated[tuple[StrictStr, StrictStr, Correlation], Field(strict=False)]
