"""How margincall compiles its kernels.

`kernel` compiles with numba, caches the machine code on disk (a second process does not
compile again), and turns off numba's reference counting: kernels never allocate, and the
counting of array references on every call and view costs more than the arithmetic of a day.
`inline_kernel` is the same for small helpers that numba copies into their caller.
Set NUMBA_DISABLE_JIT=1 to run every kernel as plain Python.
"""

from __future__ import annotations

from numba import njit

kernel = njit(cache=True, _nrt=False)
inline_kernel = njit(cache=True, _nrt=False, inline="always")
