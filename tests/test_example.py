"""The worked example shared by chapters 2 and 3."""
import numpy as np
import pytest

import bptt
from bptt.example import tiny_example


def test_shapes_and_types():
    ex = tiny_example()
    assert bptt.rnn.check_rnn_params(ex["params"]) == (2, 2, 2)
    assert ex["x"].shape == (3, 1, 2) and ex["h0"].shape == (1, 2)
    assert ex["targets"].shape == (3, 1) and np.issubdtype(ex["targets"].dtype, np.integer)
    assert np.all((0 <= ex["targets"]) & (ex["targets"] < 2))


def test_fresh_arrays_on_every_call():
    a, b = tiny_example(), tiny_example()
    a["params"]["W_hh"][0, 0] = 99.0
    a["x"][0, 0, 0] = 99.0
    assert b["params"]["W_hh"][0, 0] == 0.6 and tiny_example()["x"][0, 0, 0] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype(dtype):
    ex = tiny_example(dtype)
    assert all(v.dtype == dtype for v in ex["params"].values())
    assert ex["x"].dtype == dtype and ex["h0"].dtype == dtype


def test_first_step_by_hand():
    """h_1 = tanh(W_xh x_1 + b_h) with h_0 = 0 and x_1 = (1, 0): first column of W_xh plus b_h."""
    ex = tiny_example()
    _, h = bptt.rnn_forward(ex["params"], ex["x"], ex["h0"])
    np.testing.assert_allclose(h[1, 0], np.tanh([0.5 + 0.1, 0.2 - 0.1]), rtol=0, atol=1e-15)
