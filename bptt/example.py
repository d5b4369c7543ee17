"""The tiny worked example that chapter 2 runs forward and chapter 3 carries backward by hand.

Small enough to print in full (T=3 steps, one sequence, D=H=O=2) and written
with one-decimal numbers so that a reader can follow every product on paper.
Both chapters take it from here, so the forward numbers of one are exactly the
starting point of the other.
"""
from __future__ import annotations

import numpy as np

__all__ = ["tiny_example"]


def tiny_example(dtype=np.float64) -> dict:
    """Return the book's worked example: parameters, inputs, initial state and targets.

    Returns
    -------
    dict
        ``params``: the RNN parameters, ``W_xh (2, 2)``, ``W_hh (2, 2)``,
        ``b_h (2,)``, ``W_hy (2, 2)``, ``b_y (2,)``;
        ``x``: inputs, shape ``(T, B, D) = (3, 1, 2)``;
        ``h0``: initial hidden state, shape ``(B, H) = (1, 2)``, zeros;
        ``targets``: the class at each step for a cross-entropy loss, shape
        ``(T, B) = (3, 1)``, integer.
        Fresh arrays on every call, so a chapter may modify them freely.
    """
    params = {
        "W_xh": np.array([[0.5, -0.3], [0.2, 0.4]]),
        "W_hh": np.array([[0.6, -0.4], [0.3, 0.8]]),
        "b_h": np.array([0.1, -0.1]),
        "W_hy": np.array([[1.0, -0.5], [0.3, 0.7]]),
        "b_y": np.array([0.0, 0.1]),
    }
    x = np.array([[[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 1.0]]])
    return {
        "params": {k: v.astype(dtype) for k, v in params.items()},
        "x": x.astype(dtype),
        "h0": np.zeros((1, 2), dtype=dtype),
        "targets": np.array([[0], [1], [1]]),
    }
