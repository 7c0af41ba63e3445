"""Array conventions, stated once.

Axes are always (paths, ...) first, then assets or loans in scenario order. Money is in the
scenario's currency; time in trading days (day 0 is the valuation date); rates and volatilities
are per year. One "unit" of an asset is the borrower's whole day-0 holding, so a holding of
0.25 units is a quarter of it and a unit's price on day 0 is the asset's `value`.
"""

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
UIntArray: TypeAlias = npt.NDArray[np.uint64]
