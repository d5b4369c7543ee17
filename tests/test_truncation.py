"""Tests of bptt.truncation: the reach of truncated BPTT, measured with the backward pass."""
from __future__ import annotations

import numpy as np
import pytest

from bptt.model import Model
from bptt.rnn import RNN
from bptt.truncation import truncation_reach


def expected_reach(T, k):
    """BPTT(k; k): the loss at step t reaches back to the first step of its chunk."""
    reach = np.zeros((T, T), dtype=bool)
    for t in range(1, T + 1):
        first = 1 if k is None else k * ((t - 1) // k) + 1
        reach[t - 1, first - 1:t] = True
    return reach


@pytest.mark.parametrize("T", [1, 2, 7, 12])
@pytest.mark.parametrize("k", [None, 1, 2, 3, 5, 12, 20])
@pytest.mark.parametrize("seed", [0, 3])
def test_truncation_reach_is_bptt_k_k(T, k, seed):
    reach = truncation_reach(T, k, seed=seed)
    assert reach.dtype == bool and reach.shape == (T, T)
    np.testing.assert_array_equal(reach, expected_reach(T, k))
    # The depth of step t: ((t-1) mod k) + 1 steps, 1 at a chunk's start, k at its end.
    depth = reach.sum(axis=1)
    t = np.arange(1, T + 1)
    np.testing.assert_array_equal(depth, t if k is None else (t - 1) % k + 1)


def test_truncation_reach_measures_the_model_it_is_given():
    calls = []

    def backward(params, x, cache, dy, truncate=None):
        calls.append(truncate)
        return RNN.backward(params, x, cache, dy, truncate=truncate)

    spy = Model("spy", RNN.keys, RNN.init, RNN.forward, backward, RNN.check)
    np.testing.assert_array_equal(truncation_reach(6, 2, model=spy), expected_reach(6, 2))
    assert calls == [2] * 6                     # one backward pass per step's loss


@pytest.mark.parametrize("T, k", [(0, 2), (5, 0)])
def test_truncation_reach_refuses_a_count_below_one(T, k):
    with pytest.raises(ValueError, match="must be >= 1"):
        truncation_reach(T, k)
