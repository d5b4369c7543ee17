r"""What the gated models share: the sigmoid, the stacked gate blocks and their checks.

The LSTM (:mod:`bptt.lstm`) and the GRU (:mod:`bptt.gru`) stack the weights of
their gates as blocks of ``H`` rows in one matrix, in ``torch.nn.LSTM``'s and
``torch.nn.GRU``'s order, so that one matrix product per step computes every
gate's pre-activation at once. A gate is either a *sigmoid* gate (values in
[0, 1]: how much to let through) or a *tanh* candidate (values in [-1, 1]).

**One tanh for every gate.** The logistic sigmoid is a shifted, scaled tanh,

.. math::

    \sigma(a) = \frac{1}{1 + e^{-a}} = \tfrac12\bigl(1 + \tanh(a/2)\bigr),
    \qquad \sigma'(a) = \sigma(a)\,(1 - \sigma(a)),

which is also the stable way to compute it: :math:`e^{-a}` overflows for
:math:`a < -709` in float64 (:math:`-88` in float32), ``tanh`` never does. So
the models halve the *rows* of their sigmoid gates in the weights once, before
the time loop (:func:`gate_scale`; multiplying by 0.5 is exact in binary
floating point), and each step applies a single ``np.tanh`` to all gates side
by side, then :func:`activate` shifts the sigmoid blocks,
:math:`\tfrac12(1 + \tanh)`, in place. The gates are bit for bit what
:func:`sigmoid` and ``np.tanh`` give on the unhalved pre-activations.
"""
from __future__ import annotations

import numpy as np

from .validate import check_array, check_keys

__all__ = ["sigmoid", "gate_scale", "activate", "check_gated_params", "check_gates",
           "check_gate_array"]


def sigmoid(a: np.ndarray) -> np.ndarray:
    r"""The logistic sigmoid :math:`\sigma(a) = \tfrac12(1 + \tanh(a/2))`, stable for any ``a``.

    Its derivative is :math:`\sigma(a)(1 - \sigma(a))`, a function of the output
    alone, which is how the backward passes use it. The dtype of ``a`` is kept.
    """
    s = np.tanh(a * 0.5)
    s += 1.0
    s *= 0.5
    return s


def _sigmoid_runs(kinds: str, H: int) -> list[slice]:
    """Column slices of the sigmoid blocks (``"s"`` in ``kinds``), neighbours merged."""
    runs, start = [], None
    for j, kind in enumerate(kinds + "t"):
        if kind == "s" and start is None:
            start = j
        elif kind != "s" and start is not None:
            runs.append(slice(start * H, j * H))
            start = None
    return runs


def gate_scale(kinds: str, H: int, dtype) -> np.ndarray:
    """The factor of each stacked row: 0.5 for a sigmoid block (``"s"``), 1 for a tanh one.

    ``kinds`` names the blocks in order, e.g. ``"ssts"`` for the LSTM's i, f, g, o.
    Multiply a weight matrix's rows (and the bias) by it once; then
    :func:`activate` turns the product into the gates.
    """
    scale = np.ones(len(kinds) * H, dtype=dtype)
    for run in _sigmoid_runs(kinds, H):
        scale[run] = 0.5
    return scale


def activate(a: np.ndarray, kinds: str) -> np.ndarray:
    """Turn pre-activations, sigmoid blocks already halved, into the gates, in place.

    ``a`` is ``(..., n*H)`` with the blocks of ``kinds`` side by side along its
    last axis. One ``np.tanh`` over all of it, then
    :math:`\\tfrac12(1 + \\tanh)` on the sigmoid blocks. Returns ``a``.
    """
    np.tanh(a, out=a)
    for run in _sigmoid_runs(kinds, a.shape[-1] // len(kinds)):
        block = a[..., run]
        block += 1.0
        block *= 0.5
    return a


def check_gated_params(params, keys: tuple, biases: tuple, gate_names: str,
                       name: str = "params") -> tuple[int, int, int]:
    """Check a gated model's parameter dict and return its sizes ``(D, H, O)``.

    ``params`` must hold exactly ``keys``: ``W_xh (nH, D)``, ``W_hh (nH, H)``,
    each bias in ``biases`` ``(nH,)``, ``W_hy (O, H)`` and ``b_y (O,)``, with
    ``n = len(gate_names)`` blocks of H rows, all finite and of the dtype of
    ``W_xh``. ``name`` is the argument's name in the messages.
    """
    check_keys(name, params, keys)
    n = len(gate_names)
    rows = f"{n}H"
    W_xh = check_array(f"{name}['W_xh']", params["W_xh"], (rows, "D"))
    if W_xh.shape[0] % n:
        raise ValueError(f"{name}['W_xh'] must have shape ({rows}, D), {n} blocks of H rows "
                         f"(the gates {', '.join(gate_names)}), got {W_xh.shape}")
    H, D = W_xh.shape[0] // n, W_xh.shape[1]
    dtype = W_xh.dtype
    check_array(f"{name}['W_hh']", params["W_hh"], (rows, "H"), (n * H, H), dtype)
    for key in biases:
        check_array(f"{name}[{key!r}]", params[key], (rows,), (n * H,), dtype)
    W_hy = check_array(f"{name}['W_hy']", params["W_hy"], ("O", "H"), (None, H), dtype)
    O = W_hy.shape[0]
    check_array(f"{name}['b_y']", params["b_y"], ("O",), (O,), dtype)
    return D, H, O


def check_gates(name: str, gates: np.ndarray, kinds: str, gate_names: str, source: str) -> None:
    """Refuse gates outside their range: the backward passes' slopes hold for activated gates only.

    ``gates`` is ``(..., n*H)``; a sigmoid block (``"s"``) must lie in [0, 1], a
    tanh block in [-1, 1]. ``source`` names the function that returns them.
    """
    n = len(kinds)
    blocks = gates.reshape(*gates.shape[:-1], n, gates.shape[-1] // n)
    for j, (kind, gate) in enumerate(zip(kinds, gate_names)):
        lo = 0.0 if kind == "s" else -1.0
        block = blocks[..., j, :]
        if block.min() < lo or block.max() > 1.0:
            ranges = ", ".join(f"{g} in [{0 if k == 's' else -1}, 1]"
                               for k, g in zip(kinds, gate_names))
            raise ValueError(f"{name} must hold the activated gates returned by {source} "
                             f"({ranges}); gate {gate} has values outside its range")


def check_gate_array(name: str, gates, letters, sizes, dtype, kinds: str, gate_names: str,
                     source: str) -> np.ndarray:
    """:func:`~bptt.validate.check_array` and :func:`check_gates` in three passes instead of ten.

    The sequence passes' ``state["gates"]`` is their largest array. Every gate
    lies in [-1, 1], so a finite overall minimum and maximum in that range prove
    the array finite (``min`` and ``max`` return NaN if any entry is NaN) and
    every tanh block in range; one more minimum over the sigmoid blocks checks
    them. Only when that fails are the two checks run in full, to raise their
    own messages. Returns ``gates``.
    """
    gates = check_array(name, gates, letters, sizes, dtype, finite=False)
    lo, hi = gates.min(), gates.max()
    if not (-1.0 <= lo and hi <= 1.0):                 # also false for NaN
        check_array(name, gates, letters, sizes, dtype)
        check_gates(name, gates, kinds, gate_names, source)
    H = gates.shape[-1] // len(kinds)
    blocks = gates.reshape(*gates.shape[:-1], len(kinds), H)
    for run in _sigmoid_runs(kinds, 1):
        if lo < 0.0 and blocks[..., run, :].min() < 0.0:
            check_gates(name, gates, kinds, gate_names, source)
    return gates
