"""Counter-keyed random streams: xoshiro256** seeded by splitmix64 from (seed, path, stream).

Every path owns its streams, so a path's numbers depend on the seed and its global index only,
never on the block it runs in, the number of threads or of Dask workers. Separate streams per
path for the diffusion, the jumps and the scenario's own events keep common random numbers
across scenario variants: changing a loan term does not shift the market's draws.

State is a uint64 array of 4 words; normals use the Marsaglia polar method with the second
variate cached in a float64 array of 2 cells (value, has-value flag).
"""

from __future__ import annotations

import math

import numpy as np
from margincall._jit import inline_kernel, kernel

STREAM_DIFFUSION = 0
STREAM_JUMPS = 1
STREAM_EVENTS = 2
STREAMS = 3

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_PATH_KEY = np.uint64(0xD1B54A32D192ED03)
_STREAM_KEY = np.uint64(0x8CB92BA72F3D8DD7)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S17 = np.uint64(17)
_S45 = np.uint64(45)
_S11 = np.uint64(11)
_R7 = np.uint64(7)
_R45 = np.uint64(45)
_U5 = np.uint64(5)
_U9 = np.uint64(9)
_U64 = np.uint64(64)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@inline_kernel
def _mix64(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@kernel
def seed_stream(state: np.ndarray, seed: int, path: int, stream: int) -> None:
    """Fill `state` (uint64[4]) for the stream (seed, path, stream) by splitmix64."""
    key = np.uint64(seed) ^ (np.uint64(path) * _PATH_KEY) ^ (np.uint64(stream + 1) * _STREAM_KEY)
    x = _mix64(key)
    for i in range(4):
        x = x + _GOLDEN
        state[i] = _mix64(x)


@inline_kernel
def _rotl(x: np.uint64, k: np.uint64) -> np.uint64:
    return (x << k) | (x >> (_U64 - k))


@inline_kernel
def next_u64(s: np.ndarray) -> np.uint64:
    """xoshiro256**: the next 64 random bits."""
    result = _rotl(s[1] * _U5, _R7) * _U9
    t = s[1] << _S17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], _R45)
    return result


@inline_kernel
def uniform(s: np.ndarray) -> float:
    """A uniform number in the open interval (0, 1)."""
    return (float(next_u64(s) >> _S11) + 0.5) * _TO_UNIT


@inline_kernel
def normal(s: np.ndarray, spare: np.ndarray) -> float:
    """A standard normal number (Marsaglia polar method; the pair's second value is cached)."""
    if spare[1] != 0.0:
        spare[1] = 0.0
        return spare[0]
    while True:
        u = 2.0 * uniform(s) - 1.0
        v = 2.0 * uniform(s) - 1.0
        r = u * u + v * v
        if 0.0 < r < 1.0:
            f = math.sqrt(-2.0 * math.log(r) / r)
            spare[0] = v * f
            spare[1] = 1.0
            return u * f


@inline_kernel
def poisson_small(s: np.ndarray, mean: float, p0: float) -> int:
    """A Poisson count for a small mean by inversion; p0 = exp(-mean) is passed in precomputed."""
    if mean <= 0.0:
        return 0
    u = uniform(s)
    k = 0
    p = p0
    cdf = p
    while u > cdf and k < 1000:
        k += 1
        p *= mean / k
        cdf += p
    return k
