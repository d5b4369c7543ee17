r"""What an autograd library keeps when an RNN reads a stream chunk by chunk, in the book's arrays.

A stream is read in chunks, and the state is carried from one chunk to the
next. An automatic-differentiation library such as PyTorch records, for each
chunk, the arrays its backward pass needs (for the RNN: the inputs ``x`` and
the states ``h``, exactly what :func:`bptt.rnn.rnn_backward` takes) and
*frees them after the backward pass*, unless told to keep them
(``retain_graph=True``). The carried state is either

* **detached** (``h.detach()``): the next chunk starts from a constant, and
  its backward pass stops at its first state; or
* **not detached**: the next chunk's first state is still a function of the
  previous chunk, and its backward pass continues into that chunk's arrays.

:class:`ChunkTape` does the same with numpy, so that the two classic stream
bugs can be reproduced in a few lines: not detaching (the second backward
pass needs arrays that were freed: PyTorch's "Trying to backward through the
graph a second time") and detaching where full BPTT was meant (silently, the
gradient of ``truncate=k``).
"""
from __future__ import annotations

import numpy as np

from .rnn import PARAM_KEYS, check_rnn_params, rnn_backward, rnn_forward, rnn_step_backward
from .validate import check_flag

__all__ = ["ChunkTape", "FREED_MESSAGE"]

#: The start of PyTorch's message, which :meth:`ChunkTape.backward` repeats.
FREED_MESSAGE = "Trying to backward through the graph a second time"


class ChunkTape:
    r"""A stream read chunk by chunk, recording each chunk's ``x`` and ``h`` for backward passes.

    Parameters
    ----------
    params : dict
        RNN parameters (:func:`bptt.rnn.init_rnn`), held fixed.
    h0 : ndarray, shape (B, H)
        The state before the first chunk.
    detach : bool
        Detach the carried state at the start of every chunk.
    retain : bool
        Keep every chunk's arrays after a backward pass (PyTorch's
        ``retain_graph=True``); by default they are freed.

    Attributes
    ----------
    chunks : list of dict
        One record per chunk read: ``x (k, B, D)`` and ``h (k+1, B, H)``, both
        ``None`` once freed, and ``linked``: whether its first state is a
        function of the previous chunk (not detached).
    grads : dict
        The parameter gradients accumulated by every :meth:`backward` so far.
    steps_backward : int
        Step backward passes done so far: the cost of the backward passes.
    """

    def __init__(self, params: dict, h0: np.ndarray, *, detach: bool, retain: bool = False):
        check_rnn_params(params)
        self.params = params
        self.h = np.asarray(h0)
        self.detach = check_flag("detach", detach)
        self.retain = check_flag("retain", retain)
        self.chunks: list[dict] = []
        self.grads = {key: np.zeros_like(params[key]) for key in PARAM_KEYS}
        self.steps_backward = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Read one chunk ``x (k, B, D)`` from the carried state; return its ``y (k, B, O)``."""
        y, h = rnn_forward(self.params, x, self.h)
        self.chunks.append({"x": x, "h": h, "linked": bool(self.chunks) and not self.detach})
        self.h = h[-1]
        return y

    def backward(self, dy: np.ndarray) -> None:
        r"""The backward pass of the last chunk's loss, ``dy (k, B, O)``, added to :attr:`grads`.

        It runs :func:`bptt.rnn.rnn_backward` on the last chunk, then, while the
        chunk's first state is linked to the chunk before, carries
        :math:`\partial L / \partial h` on through that chunk's stored states.

        Raises
        ------
        RuntimeError
            When it must go through a chunk whose arrays were freed by an
            earlier backward pass: the numpy form of PyTorch's error.
        """
        last = self.chunks[-1]
        self._check_kept(len(self.chunks) - 1)
        g = rnn_backward(self.params, last["x"], last["h"], dy)
        for key in PARAM_KEYS:
            self.grads[key] += g[key]
        self.steps_backward += last["x"].shape[0]
        dh, i, used = g["h0"], len(self.chunks) - 1, [last]
        while self.chunks[i]["linked"]:          # the first state came from chunk i-1
            i -= 1
            self._check_kept(i)
            chunk = self.chunks[i]
            x, h = chunk["x"], chunk["h"]
            for t in range(x.shape[0], 0, -1):   # no loss of its own: only dh flows in
                s = rnn_step_backward(self.params, x[t - 1], h[t - 1], h[t], dh)
                for key in ("W_xh", "W_hh", "b_h"):
                    self.grads[key] += s[key]
                dh = s["h_prev"]
            self.steps_backward += x.shape[0]
            used.append(chunk)
        if not self.retain:                      # what autograd frees after backward
            for chunk in used:
                chunk["x"] = chunk["h"] = None

    def _check_kept(self, i: int) -> None:
        if self.chunks[i]["h"] is None:
            raise RuntimeError(
                f"{FREED_MESSAGE}: the backward pass needs chunk {i + 1}'s states h "
                f"(and inputs x), which were freed after an earlier backward pass. "
                f"Detach the carried state at the start of each chunk, or keep the "
                f"arrays (retain=True, PyTorch's retain_graph=True).")

    def bytes_kept(self) -> int:
        """Bytes of the chunks' ``x`` and ``h`` arrays that are still stored."""
        return sum(c["x"].nbytes + c["h"].nbytes for c in self.chunks if c["h"] is not None)
