r"""What truncated BPTT costs on a stream: backward steps counted, memory measured.

* :func:`backward_steps`: the step backward passes BPTT(k2; k1) does over T
  steps, from its windows (:func:`bptt.tbptt.update_windows`);
  :func:`counting_model` measures the same number by wrapping a model's
  backward pass, so that the count can be checked against what
  :func:`bptt.tbptt_gradients` actually does.
* :func:`states_kept`: the states a learner on a stream must store.
* :func:`peak_bytes`: the peak of memory allocated while a function runs
  (``tracemalloc``, which numpy reports its arrays to), and
  :func:`stream_peak_bytes`, that peak for full BPTT or chunks of k steps.
"""
from __future__ import annotations

import tracemalloc
from dataclasses import replace

import numpy as np

from .chunk_tape import ChunkTape
from .model import Model
from .rnn import rnn_backward, rnn_forward
from .tbptt import check_k1_k2, update_windows
from .validate import check_positive_int

__all__ = ["backward_steps", "counting_model", "states_kept", "peak_bytes",
           "stream_peak_bytes"]


def backward_steps(T: int, k1: int, k2: int) -> int:
    r"""Step backward passes of BPTT(k2; k1) over T steps: :math:`\sum_j (t_j - w_j)`.

    Each update at :math:`t_j` goes back to :math:`w_j = \max(0, t_j - k_2)`.
    Far from the start every update costs :math:`k_2` steps, one every
    :math:`k_1` steps: about :math:`T k_2 / k_1` in all, against T for full
    BPTT and for BPTT(k; k).
    """
    return int(sum(t - w for w, _, t in update_windows(T, k1, k2)))


def counting_model(model: Model) -> tuple[Model, list]:
    """A copy of ``model`` whose backward pass records how many steps it was given.

    Returns
    -------
    counted : Model
        ``model`` with its ``backward`` wrapped.
    steps : list of int
        Appended to at every call: ``x.shape[0]``, the steps that call goes back through.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.model.Model, got {type(model).__name__}")
    steps: list[int] = []

    def backward(params, x, cache, dy, *args, **kwargs):
        steps.append(int(np.shape(x)[0]))
        return model.backward(params, x, cache, dy, *args, **kwargs)

    return replace(model, backward=backward), steps


def states_kept(T: int, k1: int | None = None, k2: int | None = None) -> int:
    r"""States :math:`h_t` a learner must store to make the next update on a stream.

    Full BPTT keeps :math:`h_0, \dots, h_T` (T+1 states); BPTT(k2; k1) only the
    last :math:`\min(k_2, T) + 1`, whatever T: BPTT(k; k) keeps k+1.
    """
    T = check_positive_int("T", T)
    if k1 is None and k2 is None:
        return T + 1
    _, k2 = check_k1_k2(k1, k2)
    return min(k2, T) + 1


def peak_bytes(fn, *args, **kwargs) -> int:
    """The peak of memory allocated (``tracemalloc``) while ``fn(*args, **kwargs)`` runs, in bytes.

    Only what is allocated during the call counts, not what its arguments
    already hold. ``tracemalloc`` must not be tracing already.
    """
    if tracemalloc.is_tracing():
        raise RuntimeError("tracemalloc is already tracing: peak_bytes would disturb it")
    tracemalloc.start()
    try:
        fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return int(peak)


def _full(params, x, dy):
    _, h = rnn_forward(params, x)
    rnn_backward(params, x, h, dy)


def _chunked(params, x, dy, k):
    tape = ChunkTape(params, np.zeros((x.shape[1], params["W_hh"].shape[0]), x.dtype),
                     detach=True)
    for start in range(0, x.shape[0], k):
        tape.forward(x[start:start + k])
        tape.backward(dy[start:start + k])     # frees the chunk's x and h


def stream_peak_bytes(params: dict, x: np.ndarray, dy: np.ndarray, k: int | None = None) -> int:
    r"""Peak memory of the RNN's forward and backward passes over ``x``, full or in chunks.

    Parameters
    ----------
    params : dict
        RNN parameters.
    x : ndarray, shape (T, B, D)
    dy : ndarray, shape (T, B, O)
        A gradient at the outputs (fixed, so that only BPTT's own arrays count).
    k : int, optional
        ``None``: one forward pass over all T steps, then :func:`bptt.rnn.rnn_backward`.
        ``k``: chunks of k steps read by a :class:`~bptt.chunk_tape.ChunkTape`
        that detaches the carried state, each chunk's backward pass right after
        its forward pass, its arrays freed after it (BPTT(k; k) on a stream).

    Returns
    -------
    int
        Bytes, measured by :func:`peak_bytes`: :math:`O(TBH)` for full BPTT,
        :math:`O(kBH)` in chunks, whatever T.
    """
    if k is None:
        return peak_bytes(_full, params, x, dy)
    return peak_bytes(_chunked, params, x, dy, check_positive_int("k", k))
