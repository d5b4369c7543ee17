"""Tests of bptt.truncation_cost: backward steps counted, memory measured."""
from __future__ import annotations

import numpy as np
import pytest

from bptt.lstm import LSTM
from bptt.rnn import RNN, init_rnn
from bptt.tbptt import tbptt_gradients
from bptt.truncation_cost import (backward_steps, counting_model, peak_bytes, states_kept,
                                  stream_peak_bytes)


@pytest.mark.parametrize("T,k1,k2", [(100, 5, 20), (13, 3, 3), (7, 2, 9), (1, 1, 1)])
@pytest.mark.parametrize("model", [RNN, LSTM])
def test_counted_steps_are_what_tbptt_does(T, k1, k2, model):
    counted, steps = counting_model(model)
    p = model.init(2, 3, 2, seed=0)
    rng = np.random.default_rng(0)
    grads = tbptt_gradients(p, rng.standard_normal((T, 1, 2)), rng.standard_normal((T, 1, 2)),
                            k1, k2, model=counted)
    assert sum(steps) == backward_steps(T, k1, k2)
    reference = tbptt_gradients(p, rng.standard_normal((T, 1, 2)) * 0, np.zeros((T, 1, 2)),
                                k1, k2, model=model)
    assert len(grads) == len(reference)


def test_steps_far_from_start_are_k2_per_k1():
    assert backward_steps(1200, 4, 12) == 12 * 300 - (12 - 4) - (12 - 8)   # first updates
    assert backward_steps(100, 10, 10) == 100


def test_states_kept():
    assert states_kept(50) == 51
    assert states_kept(50, 5, 20) == 21 and states_kept(10, 5, 20) == 11
    with pytest.raises(ValueError):
        states_kept(10, 5, 2)


def test_peak_bytes_sees_a_new_array():
    assert peak_bytes(lambda: np.ones(100_000)) >= 800_000


def test_stream_memory_grows_with_T_only_without_chunks():
    p = init_rnn(2, 16, 2, seed=0)
    rng = np.random.default_rng(0)
    peaks = {}
    for T in (50, 200):
        x, dy = rng.standard_normal((T, 8, 2)), rng.standard_normal((T, 8, 2))
        peaks[T] = stream_peak_bytes(p, x, dy), stream_peak_bytes(p, x, dy, 10)
    assert peaks[200][0] > 3 * peaks[50][0]
    assert peaks[200][1] < 1.2 * peaks[50][1]
    assert peaks[200][0] > (201 * 8 * 16 * 8)             # at least h itself


def test_counting_model_needs_a_model():
    with pytest.raises(TypeError):
        counting_model("rnn")
