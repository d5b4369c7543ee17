"""What the checks of RNN functions share: sizes, the random problem, the hints.

:func:`draw_rnn` is the one random-problem generator of the checks: the
checks of the forward and backward passes (truncation and ``return_dh``
included) and of the homework's functions built on them (``gradient_check``,
``lag_norms``) draw their problems with it, from a :class:`Sizes` and a seed.
The clipping checks draw gradients of these sizes
(:func:`bptt.checks.clipping.draw_grads`). A new model's checks add their
own ``draw_*`` beside it and reuse :class:`Sizes`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..rnn import PARAM_KEYS
from ..rnn import rnn_forward as _ref_rnn_forward
from ._harness import Problem

__all__ = ["GRAD_KEYS", "LETTERS", "PATTERNS", "Sizes", "draw_rnn", "rnn_exception_hint",
           "backward_problem", "truncations"]

#: The keys of the dict returned by ``rnn_backward``: the parameters, then x and h0.
GRAD_KEYS = (*PARAM_KEYS, "x", "h0")

#: The axis letters of every array the RNN functions take or return.
LETTERS = {"W_xh": ("H", "D"), "W_hh": ("H", "H"), "b_h": ("H",), "W_hy": ("O", "H"),
           "b_y": ("O",), "x": ("T", "B", "D"), "h0": ("B", "H"), "h": ("T+1", "B", "H"),
           "y": ("T", "B", "O"), "dy": ("T", "B", "O"), "h_t": ("B", "H"),
           "x_t": ("B", "D"), "h_prev": ("B", "H")}


@dataclass(frozen=True)
class Sizes:
    """The sizes of one test problem, how its h0 is drawn, and its dtype."""

    T: int
    B: int
    D: int
    H: int
    O: int
    h0: str = "random"        # "random" (nonzero), "zero" (given as zeros) or "none" (not given)
    dtype: type = np.float64

    def dims(self) -> dict:
        return {"T": self.T, "T+1": self.T + 1, "B": self.B, "D": self.D, "H": self.H,
                "O": self.O}

    def shape(self, key: str) -> tuple:
        return tuple(self.dims()[letter] for letter in LETTERS[key])

    def label(self, letters: str = "TBDHO") -> str:
        dims = self.dims()
        text = (f"({', '.join(letters)}) = "
                f"({', '.join(str(dims[c]) for c in letters)})")
        text += {"random": ", nonzero h0", "zero": ", h0 = 0", "none": ", h0=None"}[self.h0]
        if np.dtype(self.dtype) != np.float64:
            text += f", {np.dtype(self.dtype).name}"
        return text


def draw_rnn(sz: Sizes, seed) -> dict:
    """Random parameters, inputs, h0, the forward pass and a random dy, all of ``sz.dtype``.

    The biases are nonzero and ``W_hh`` (not symmetric) has spectral radius a
    little above 1, so that tanh works in its nonlinear range and every term
    of the gradient matters: then each common mistake changes the numbers.
    Everything is drawn in float64 and then cast. Returns ``params``, ``x``,
    ``h0`` (zeros unless ``sz.h0`` is "random"), ``y`` and ``h`` (the
    package's forward pass) and ``dy``.
    """
    rng = np.random.default_rng(seed)
    T, B, D, H, O = sz.T, sz.B, sz.D, sz.H, sz.O
    params = {"W_xh": rng.standard_normal((H, D)) / np.sqrt(D),
              "W_hh": 1.2 * rng.standard_normal((H, H)) / np.sqrt(H),
              "b_h": 0.3 * rng.standard_normal(H),
              "W_hy": rng.standard_normal((O, H)) / np.sqrt(H),
              "b_y": 0.3 * rng.standard_normal(O)}
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H)) if sz.h0 == "random" else np.zeros((B, H))
    dy = rng.standard_normal((T, B, O))
    dtype = np.dtype(sz.dtype)
    params = {k: v.astype(dtype) for k, v in params.items()}
    x, h0, dy = x.astype(dtype), h0.astype(dtype), dy.astype(dtype)
    y, h = _ref_rnn_forward(params, x, h0)
    return {"params": params, "x": x, "h0": h0, "y": y, "h": h, "dy": dy}


_OUTER = ("np.outer flattens its arguments: for a batch, a (B, H) and b (B, D) give a "
          "(B*H, B*D) matrix, not the sum over the batch of the B outer products of their "
          "rows, which is the matrix product a.T @ b, of shape (H, D).")
_STAR = ("`*` multiplies entry by entry, broadcasting the shapes; it is not a matrix product, "
         "which is `@`. With one row per sequence, x_t (B, D) times the transpose of W_xh is "
         "x_t @ W_xh.T, and the same holds for W_hh and W_hy.")


def _outer_shapes(text: str) -> bool:
    """Does a broadcast error show a (B*m, B*n) array beside an (m, n) one, as np.outer gives?"""
    shapes = [tuple(int(n) for n in s.split(",") if n.strip())
              for s in re.findall(r"\(([\d, ]+)\)", text)]
    pairs = [(a, b) for a in shapes for b in shapes if len(a) == len(b) == 2 and a != b]
    return any(a[0] % b[0] == 0 and a[1] % b[1] == 0 and a[0] // b[0] == a[1] // b[1] > 1
               for a, b in pairs)


def rnn_exception_hint(exc: Exception, line: str = "") -> str:
    """A likely reason for an exception raised inside an RNN function, at code ``line``."""
    text = str(exc)
    if isinstance(exc, TypeError) and "truncate" in text:
        return ("your function has no truncate argument. To check an rnn_backward written "
                "before truncated BPTT, call check_rnn_backward(fn, truncation=False).")
    if isinstance(exc, TypeError) and "NoneType" in text:
        return "h0=None must mean an initial state of zeros, shape (B, H)."
    if isinstance(exc, IndexError):
        return ("an index is out of range. h has T+1 entries (h[0] = h0, h[t] = h_t) while x, "
                "y and dy have T (x[t-1] is x_t, the input of step t).")
    if isinstance(exc, KeyError):
        return f"params has the keys {list(PARAM_KEYS)}."
    if isinstance(exc, ValueError) and "broadcast" in text:
        if "outer(" in line or _outer_shapes(text):
            return _OUTER
        if re.search(r"(?<![*])\*(?![*])", line):
            return _STAR
    if isinstance(exc, ValueError) and any(
            s in text for s in ("matmul", "aligned", "broadcast", "shapes", "mismatch")):
        return ("two arrays of incompatible shapes were combined. Check each product against "
                "the shapes above: with one row per sequence, x_t is (B, D) and W_xh is (H, D), "
                "so x_t multiplies the transpose of W_xh; the same holds for W_hh and W_hy.")
    return ""


#: Which passing/failing pattern over the sizes points at which kind of bug.
PATTERNS = (
    (lambda s: s.T == 1, "It is right only when T = 1: the maths of a single step is right; look "
     "at what links the steps (what flows from one step to the next, the sums over time, the "
     "loop bounds)."),
    (lambda s: s.B == 1, "It is right only when B = 1: look for a sum or mean over the batch, "
     "an index [0], or a reshape or transpose that assumes a single sequence."),
    (lambda s: s.D == s.H, "It is right only when D == H: look for W_xh and W_hh (or x and h) "
     "used in each other's place, or a transpose that only works for square matrices."),
    (lambda s: s.h0 != "random", "It is right only when h0 = 0: h0 (h[0]) is missing "
     "somewhere, for example from the first step, or from the term of step 1 in a sum over "
     "time."),
)


def backward_problem(sz: Sizes, prob: dict, keys: tuple, reference, truncated: bool = False,
                     truncate=None) -> Problem:
    """A sequence backward pass's problem (the RNN's or the LSTM's).

    ``fn(*args)`` with ``args`` the entries ``keys`` of ``prob``, or when
    ``truncated`` ``fn(*args, truncate=truncate)``; ``reference(*args,
    truncate=)``, the package's backward pass, gives the gradients it must return.
    """
    args = {k: prob[k] for k in keys}
    want = reference(*args.values(), truncate=truncate)
    facts = {"sz": sz, "prob": prob, "want": want, "truncate": truncate}
    if not truncated:
        return Problem(sz.label(), args, case=sz, facts=facts)
    return Problem(f"{sz.label()}, truncate={truncate}", args, {"truncate": truncate},
                   case=(sz, truncate), facts=facts, context=sz.label())


def truncations(T: int) -> list:
    """The values of ``truncate`` a problem of length T is checked with (T >= 3)."""
    return list(dict.fromkeys([None, 1, 2, 3, T, T + 1]))
