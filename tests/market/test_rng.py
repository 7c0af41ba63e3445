"""The random streams against an independent plain-Python xoshiro256** and splitmix64."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from numba import njit

from margincall.market.rng import STREAM_DIFFUSION, next_u64, normal, normal_words, poisson_small, seed_stream, uniform

MASK = (1 << 64) - 1


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _reference_state(seed: int, path: int, stream: int) -> list[int]:
    key = seed ^ ((path * 0xD1B54A32D192ED03) & MASK) ^ (((stream + 1) * 0x8CB92BA72F3D8DD7) & MASK)
    x = _mix(key)
    state = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & MASK
        state.append(_mix(x))
    return state


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK


def _reference_next(s: list[int]) -> int:
    result = (_rotl((s[1] * 5) & MASK, 7) * 9) & MASK
    t = (s[1] << 17) & MASK
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


def test_stream_matches_reference_xoshiro256starstar():
    for seed, path, stream in [(0, 0, 0), (12345, 7, 1), (2**63 - 1, 10**9, 2)]:
        state = np.zeros(4, dtype=np.uint64)
        seed_stream(state, seed, path, stream)
        reference = _reference_state(seed, path, stream)
        assert [int(v) for v in state] == reference
        for _ in range(50):
            assert int(next_u64(state)) == _reference_next(reference)


def test_streams_differ_by_path_and_stream():
    draws = set()
    for path in range(4):
        for stream in range(3):
            state = np.zeros(4, dtype=np.uint64)
            seed_stream(state, 99, path, stream)
            draws.add(int(next_u64(state)))
    assert len(draws) == 12


def test_uniform_in_open_interval_and_normals_are_standard():
    state = np.zeros(4, dtype=np.uint64)
    seed_stream(state, 5, 0, STREAM_DIFFUSION)
    u = np.array([uniform(state) for _ in range(20000)])
    assert u.min() > 0.0 and u.max() < 1.0
    z = np.array([normal(state) for _ in range(200000)])
    # mean within 4 SE, variance within 4 SE of 1, and a KS test that would fail for a wrong law
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert abs(z.var() - 1.0) < 4 * math.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    # the ziggurat's tail beyond R = 3.654 has the right mass (2 * Phi(-R) = 2.58e-4)
    tail = np.mean(np.abs(z) > 3.6541528853610088)
    expected = 2 * stats.norm.sf(3.6541528853610088)
    assert abs(tail - expected) < 4 * math.sqrt(expected / z.size)
    assert np.sum(np.abs(z) > 4.0) > 0  # it reaches past R (about 13 draws expected)


def test_poisson_small_mean():
    state = np.zeros(4, dtype=np.uint64)
    seed_stream(state, 11, 3, 1)
    mean = 0.05
    k = np.array([poisson_small(state, mean, math.exp(-mean)) for _ in range(100000)])
    assert abs(k.mean() - mean) < 4 * math.sqrt(mean / k.size)


@njit
def _draw_by_words(state: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n)
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    for k in range(n):
        out[k], s0, s1, s2, s3 = normal_words(s0, s1, s2, s3, state)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return out


@njit
def _draw_by_array(state: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n)
    for k in range(n):
        out[k] = normal(state)
    return out


def test_normal_on_state_words_draws_the_same_numbers():
    by_words, by_array = np.zeros(4, dtype=np.uint64), np.zeros(4, dtype=np.uint64)
    seed_stream(by_words, 11, 3, STREAM_DIFFUSION)
    seed_stream(by_array, 11, 3, STREAM_DIFFUSION)
    n = 300_000  # about 1% of draws fail the quick test and take the slow path, tails included
    words = _draw_by_words(by_words, n)
    np.testing.assert_array_equal(words, _draw_by_array(by_array, n))
    np.testing.assert_array_equal(by_words, by_array)  # and both streams end in the same state
    assert np.sum(np.abs(words) > 3.6541528853610088) > 20
