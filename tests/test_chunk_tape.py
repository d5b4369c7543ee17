"""Tests of bptt.chunk_tape: the two stream bugs, in numpy."""
from __future__ import annotations

import numpy as np
import pytest

from bptt.chunk_tape import FREED_MESSAGE, ChunkTape
from bptt.losses import mse_loss
from bptt.rnn import init_rnn, rnn_backward, rnn_forward


def _problem(T=12, B=2):
    rng = np.random.default_rng(0)
    p = init_rnn(3, 4, 2, seed=0)
    return p, rng.standard_normal((T, B, 3)), rng.standard_normal((T, B, 2))


def test_not_detaching_fails_at_the_second_backward():
    p, x, target = _problem()
    tape = ChunkTape(p, np.zeros((2, 4)), detach=False)
    for j, start in enumerate(range(0, 12, 4)):
        y = tape.forward(x[start:start + 4])
        _, dy = mse_loss(y, target[start:start + 4])
        if j == 0:
            tape.backward(dy)
        else:
            with pytest.raises(RuntimeError, match=FREED_MESSAGE):
                tape.backward(dy)
            break


def test_retained_chunks_give_the_full_gradient_at_quadratic_cost():
    p, x, dy = _problem()
    tape = ChunkTape(p, np.zeros((2, 4)), detach=False, retain=True)
    for start in range(0, 12, 4):
        tape.forward(x[start:start + 4])
        tape.backward(dy[start:start + 4])
    _, h = rnn_forward(p, x)
    full = rnn_backward(p, x, h, dy)
    for key in tape.grads:
        np.testing.assert_allclose(tape.grads[key], full[key], rtol=1e-12, atol=1e-14)
    assert tape.steps_backward == 4 + 8 + 12
    assert tape.bytes_kept() == x.nbytes + 3 * 5 * 2 * 4 * 8


def test_detaching_gives_truncate_k_and_frees():
    p, x, dy = _problem()
    tape = ChunkTape(p, np.zeros((2, 4)), detach=True)
    for start in range(0, 12, 4):
        tape.forward(x[start:start + 4])
        tape.backward(dy[start:start + 4])
    assert tape.bytes_kept() == 0 and tape.steps_backward == 12
    _, h = rnn_forward(p, x)
    cut = rnn_backward(p, x, h, dy, truncate=4)
    for key in tape.grads:
        np.testing.assert_allclose(tape.grads[key], cut[key], rtol=1e-12, atol=1e-14)


def test_flags_are_bools():
    p, _, _ = _problem()
    with pytest.raises(TypeError):
        ChunkTape(p, np.zeros((2, 4)), detach="yes")
