"""Counter-keyed random streams: xoshiro256** seeded by splitmix64 from (seed, path, stream).

Every path owns its streams, so a path's numbers depend on the seed and its global index only,
never on the block it runs in, the number of threads or of Dask workers. Separate streams per
path for the diffusion, the jumps and the scenario's own events keep common random numbers
across scenario variants: changing a loan term does not shift the market's draws.

State is a uint64 array of 4 words; normals come from a 256-layer ziggurat.

The generators are compiled as functions of their own (not inlined by numba): LLVM
inlines them into their callers all the same, and numba's inlining of them at the level of its
own IR, at every call site, doubled the first compile (135 s -> 300 s) for no speed.
"""

from __future__ import annotations

import math

import numpy as np

from margincall._jit import kernel

STREAM_DIFFUSION = np.int64(0)
STREAM_JUMPS = np.int64(1)
STREAM_EVENTS = np.int64(2)
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


@kernel
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


@kernel
def _rotl(x: np.uint64, k: np.uint64) -> np.uint64:
    return (x << k) | (x >> (_U64 - k))


@kernel
def next_u64_words(s0: np.uint64, s1: np.uint64, s2: np.uint64, s3: np.uint64) -> tuple:
    """xoshiro256** on a state held in four words (registers, in a tight loop): the next 64
    random bits and the new state."""
    result = _rotl(s1 * _U5, _R7) * _U9
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _R45)
    return result, s0, s1, s2, s3


@kernel
def next_u64(s: np.ndarray) -> np.uint64:
    """xoshiro256**: the next 64 random bits."""
    result, s[0], s[1], s[2], s[3] = next_u64_words(s[0], s[1], s[2], s[3])
    return result


@kernel
def uniform(s: np.ndarray) -> float:
    """A uniform number in the open interval (0, 1)."""
    return (float(next_u64(s) >> _S11) + 0.5) * _TO_UNIT


def _ziggurat_tables(layers: int = 256, r: float = 3.6541528853610088, area: float = 0.00492867323399) -> tuple[np.ndarray, np.ndarray]:
    """Layer edges x[0..layers] of the 256-layer ziggurat for the standard normal (Marsaglia and
    Tsang 2000), and the ratios x[i+1] / x[i] that accept without evaluating the density."""
    x = np.zeros(layers + 1)
    x[0] = area / math.exp(-0.5 * r * r)
    x[1] = r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(area / x[i - 1] + math.exp(-0.5 * x[i - 1] ** 2)))
    x[layers] = 0.0
    return x, x[1:] / x[:-1]


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()
_ZIG_R = 3.6541528853610088
_LOW8 = np.uint64(0xFF)
_TO_SIGNED = 1.0 / 4503599627370496.0  # 2**-52


@kernel
def _ziggurat_accepts(bits: np.uint64) -> tuple:
    """The ziggurat's first test on one 64-bit draw: the layer (low 8 bits) and a signed uniform
    (top 53 bits); about 99% of draws accept at once. Returns (accepted, value)."""
    i = int(bits & _LOW8)
    u = float(bits >> _S11) * _TO_SIGNED - 1.0  # in [-1, 1)
    return abs(u) < _ZIG_RATIO[i], u * _ZIG_X[i]


@kernel
def _normal_rejected(s: np.ndarray, bits: np.uint64) -> float:
    """The rest of the ziggurat after the first draw `bits` failed the quick test: the tail or
    the wedge of its layer, then fresh draws until one is accepted. (A call, not inlined: it is
    rare, and keeping its exp and log out of hot loops leaves their registers alone.)"""
    while True:
        i = int(bits & _LOW8)
        u = float(bits >> _S11) * _TO_SIGNED - 1.0
        if abs(u) < _ZIG_RATIO[i]:
            return u * _ZIG_X[i]
        if i == 0:  # the tail beyond R, by Marsaglia's exponential method
            while True:
                xx = -math.log(uniform(s)) / _ZIG_R
                yy = -math.log(uniform(s))
                if yy + yy > xx * xx:
                    return _ZIG_R + xx if u > 0.0 else -(_ZIG_R + xx)
        xx = u * _ZIG_X[i]
        f_outer = math.exp(-0.5 * (_ZIG_X[i] * _ZIG_X[i] - xx * xx))
        f_inner = math.exp(-0.5 * (_ZIG_X[i + 1] * _ZIG_X[i + 1] - xx * xx))
        if f_inner + uniform(s) * (f_outer - f_inner) < 1.0:
            return xx
        bits = next_u64(s)


@kernel
def normal(s: np.ndarray) -> float:
    """A standard normal number by the 256-layer ziggurat (Marsaglia and Tsang 2000)."""
    bits = next_u64(s)
    accepted, value = _ziggurat_accepts(bits)
    if accepted:
        return value
    return _normal_rejected(s, bits)


@kernel
def normal_words(s0: np.uint64, s1: np.uint64, s2: np.uint64, s3: np.uint64, s: np.ndarray) -> tuple:
    """`normal` on a state held in four words; the same numbers. The rare rejected draw goes
    through the array `s`, which holds no state otherwise. Returns (value, s0, s1, s2, s3)."""
    bits, s0, s1, s2, s3 = next_u64_words(s0, s1, s2, s3)
    accepted, value = _ziggurat_accepts(bits)
    if accepted:
        return value, s0, s1, s2, s3
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    value = _normal_rejected(s, bits)
    return value, s[0], s[1], s[2], s[3]


@kernel
def poisson_small(s: np.ndarray, mean: float, p0: float) -> int:
    """A Poisson count for a small mean by inversion; p0 = exp(-mean) is passed in precomputed."""
    if mean <= 0.0:
        return 0
    return poisson_of_uniform(uniform(s), mean, p0)


@kernel
def poisson_of_uniform(u: float, mean: float, p0: float) -> int:
    """The Poisson count (small mean, p0 = exp(-mean)) that inversion gives for the uniform u."""
    k = 0
    p = p0
    cdf = p
    while u > cdf and k < 1000:
        k += 1
        p *= mean / k
        cdf += p
    return k
