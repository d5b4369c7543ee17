r"""Losses on the RNN's outputs, each returned with its gradient ``dy``.

Every loss returns ``(loss, dy)``: the number the optimiser minimises and
:math:`\partial L/\partial y`, of the shape and dtype of ``y``, ready to be
passed to :func:`bptt.rnn.rnn_backward`. The local derivative is computed
right beside the forward value so that one can be checked against the other
at a glance (and against finite differences with :mod:`bptt.gradcheck`).

**Normalisation.** Both losses are a *mean* over the entries that carry a
loss: over the ``T*B`` (step, sequence) pairs for cross-entropy, over the
``T*B*O`` numbers for the squared error. The scale of the loss, and of its
gradient, then does not depend on the sequence length T or the batch size B,
so a learning rate tuned on short sequences or small batches still suits
long or large ones. A sum instead of the mean is just as valid but multiplies
the loss and every gradient by the number of entries N,
:math:`\nabla \sum_n \ell_n = N \, \nabla \tfrac1N \sum_n \ell_n`, a factor
the learning rate must then absorb.

**Putting the loss on some steps only.** Both losses take an optional
``mask`` of shape ``(T, B)``, bool or non-negative float weights: entry
``(t, b)`` weights the loss of sequence b at step ``t+1`` (index ``t``), and
the mean is taken over the weights,
``sum(mask * per_entry_loss) / sum(mask)``. An entry of weight 0 adds nothing
to the loss and gets a zero gradient, which is what ``rnn_backward`` expects
of "steps that carry no loss". A many-to-one task (one label per sequence,
predicted from the last output) is the mask :func:`last_step_mask`. The
targets of the masked steps are ignored but are still validated, so the
simplest choice is to repeat the label at every step::

    >>> import numpy as np
    >>> from bptt.losses import last_step_mask, softmax_cross_entropy
    >>> T, B, O = 4, 2, 3
    >>> y = np.zeros((T, B, O))                  # e.g. from rnn_forward
    >>> labels = np.array([2, 0])                # one class per sequence
    >>> targets = np.tile(labels, (T, 1))        # (T, B): only targets[-1] is used
    >>> loss, dy = softmax_cross_entropy(y, targets, mask=last_step_mask(T, B))
    >>> bool(np.isclose(loss, np.log(O)))        # uniform prediction over O classes
    True
    >>> bool(np.all(dy[:-1] == 0))               # no gradient enters at steps 1..T-1
    True
"""
from __future__ import annotations

import numpy as np

from .validate import check_array, check_positive_int

__all__ = ["softmax", "softmax_cross_entropy", "mse_loss", "last_step_mask"]


def _shift_and_logsumexp(logits: np.ndarray, axis: int):
    r"""Return ``shifted = logits - max`` and ``log(sum(exp(shifted)))`` along ``axis``.

    Subtracting the maximum :math:`m` first makes the largest exponential
    :math:`e^0 = 1`: no term overflows and the sum is at least 1, so its log is
    finite. :math:`\operatorname{logsumexp}(z) = m + \log \sum_j e^{z_j - m}`.
    """
    shifted = logits - logits.max(axis=axis, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted, lse


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""The softmax :math:`p_j = e^{z_j} / \sum_k e^{z_k}` along one axis, computed stably.

    Parameters
    ----------
    logits : ndarray, any shape, e.g. (T, B, O)
        Finite floating-point scores :math:`z`.
    axis : int
        The axis that holds the classes (default: the last one, ``O``).

    Returns
    -------
    p : ndarray, the shape and dtype of ``logits``
        Non-negative, summing to 1 along ``axis``.

    Notes
    -----
    Softmax is unchanged when a constant is added to every :math:`z_j`, so the
    maximum is subtracted first and no exponential can overflow (``1e4`` works).
    Its Jacobian is :math:`\partial p_i / \partial z_j = p_i(\delta_{ij} - p_j)`;
    followed by the cross-entropy it collapses to :math:`p - \text{onehot}`,
    which is why :func:`softmax_cross_entropy` computes both together.
    """
    if not isinstance(logits, np.ndarray):
        raise TypeError(f"logits must be a numpy array, got {type(logits).__name__}")
    # Any rank is allowed, so the axes get neutral names in check_array's messages.
    check_array("logits", logits, tuple(f"n{i}" for i in range(logits.ndim)))
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int, got {type(axis).__name__} {axis!r}")
    if not -logits.ndim <= axis < logits.ndim:
        raise ValueError(f"axis must be in [-{logits.ndim}, {logits.ndim}) for logits of "
                         f"shape {logits.shape}, got {axis}")
    shifted, lse = _shift_and_logsumexp(logits, int(axis))
    return np.exp(shifted - lse)


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None):
    r"""Mean cross-entropy of softmax(logits) against integer class targets, and its gradient.

    Parameters
    ----------
    logits : ndarray, shape (T, B, O)
        Unnormalised scores, e.g. the ``y`` of :func:`bptt.rnn.rnn_forward`.
    targets : ndarray of int, shape (T, B)
        The correct class at each step of each sequence, in ``[0, O)``.
    mask : ndarray of bool or of the dtype of ``logits``, shape (T, B), optional
        Weight of each (step, sequence) entry; finite, >= 0 and not all zero.
        ``None`` weights every entry equally. See the module docstring.

    Returns
    -------
    loss : float
        :math:`L = \sum_{t,b} w_{tb}\, \ell_{tb} / \sum_{t,b} w_{tb}`.
    dlogits : ndarray, shape (T, B, O), dtype of ``logits``
        :math:`\partial L / \partial z`, zero wherever the mask is zero.

    Notes
    -----
    With :math:`p = \operatorname{softmax}(z)` over the O classes and target k,

    .. math::

        \ell = -\log p_k = \operatorname{logsumexp}(z) - z_k, \qquad
        \frac{\partial \ell}{\partial z} = p - e_k,

    where :math:`e_k` is the one-hot vector of class k, so that
    :math:`\partial L / \partial z_{tb} = w_{tb} (p_{tb} - e_{k_{tb}}) / \sum w`.
    The log-sum-exp form never takes the log of an underflowed probability,
    so logits as large as ``1e4`` give a finite loss and gradient.
    """
    logits = check_array("logits", logits, ("T", "B", "O"))
    T, B, O = logits.shape
    targets = _check_targets(targets, T, B, O)
    w = _normalised_weights(mask, T, B, logits.dtype, "logits")   # (T, B), sums to 1
    t_idx, b_idx = np.indices((T, B))

    # Forward: ell = logsumexp(z) - z_k, both sides shifted by max(z).
    shifted, lse = _shift_and_logsumexp(logits, -1)
    ell = lse[..., 0] - shifted[t_idx, b_idx, targets]            # (T, B), >= 0
    loss = float(np.sum(w * ell))
    # Local derivative, beside it: d ell / dz = softmax(z) - onehot(k).
    dlogits = np.exp(shifted - lse)
    dlogits[t_idx, b_idx, targets] -= 1
    dlogits *= w[..., None]
    return loss, dlogits


def mse_loss(y: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None):
    r"""Mean squared error over all unmasked elements, and its gradient.

    Parameters
    ----------
    y : ndarray, shape (T, B, O)
        Predictions, e.g. the ``y`` of :func:`bptt.rnn.rnn_forward`.
    target : ndarray, shape (T, B, O), dtype of ``y``
        Desired outputs.
    mask : ndarray of bool or of the dtype of ``y``, shape (T, B), optional
        Weight of each (step, sequence) entry, shared by its O outputs; finite,
        >= 0 and not all zero. See the module docstring.

    Returns
    -------
    loss : float
        Without a mask, the mean of :math:`(y - \text{target})^2` over all
        ``T*B*O`` elements, as ``torch.nn.MSELoss(reduction='mean')``.
    dy : ndarray, shape (T, B, O), dtype of ``y``
        :math:`\partial L / \partial y`, zero wherever the mask is zero.

    Notes
    -----
    With weights :math:`w_{tb}` (all 1 without a mask) and the target
    :math:`y^\star` (``target``; the book writes targets with a star, never a
    hat, which the anchors use for predictions),

    .. math::

        L = \frac{\sum_{t,b,o} w_{tb} (y_{tbo} - y^\star_{tbo})^2}{O \sum_{t,b} w_{tb}},
        \qquad
        \frac{\partial L}{\partial y_{tbo}} = \frac{2\, w_{tb} (y_{tbo} - y^\star_{tbo})}
                                                 {O \sum_{t,b} w_{tb}}.
    """
    y = check_array("y", y, ("T", "B", "O"))
    T, B, O = y.shape
    target = check_array("target", target, ("T", "B", "O"), (T, B, O))
    if target.dtype != y.dtype:
        raise TypeError(f"target must have the dtype of y ({y.dtype}), got {target.dtype}")
    # (T, B, 1): each entry's weight shared by its O outputs, and the 1/O of the mean.
    w = _normalised_weights(mask, T, B, y.dtype, "y")[..., None] / O

    diff = y - target
    loss = float(np.sum(w * diff ** 2))
    dy = 2 * w * diff             # local derivative: d(diff^2)/dy = 2 diff
    return loss, dy


def last_step_mask(T: int, B: int) -> np.ndarray:
    r"""The ``(T, B)`` mask that puts the loss on the last step only (many-to-one tasks).

    Parameters
    ----------
    T, B : int
        Number of steps and batch size.

    Returns
    -------
    mask : ndarray of bool, shape (T, B)
        True at index ``T-1`` (the book's step T), False elsewhere. Pass it as
        ``mask`` to :func:`softmax_cross_entropy` or :func:`mse_loss`.
    """
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    mask = np.zeros((T, B), dtype=bool)
    mask[-1] = True
    return mask


def _check_targets(targets, T: int, B: int, O: int) -> np.ndarray:
    """Check integer class indices of shape ``(T, B)`` in ``[0, O)``."""
    if not isinstance(targets, np.ndarray):
        raise TypeError(f"targets must be a numpy array of integer class indices, shape "
                        f"(T, B) = ({T}, {B}), got {type(targets).__name__}")
    if not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(f"targets must have an integer dtype (class indices in [0, O) = "
                        f"[0, {O})), got {targets.dtype}")
    # check_array only accepts floats; a float copy of the indices (exact below
    # 2**53) gets the same shape check and the same message as every array.
    check_array("targets", targets.astype(np.float64), ("T", "B"), (T, B))
    bad = targets[(targets < 0) | (targets >= O)]
    if bad.size:
        raise ValueError(f"targets must be class indices in [0, O) = [0, {O}), got "
                         f"{bad.size} outside it (e.g. {bad[0]})")
    return targets


def _normalised_weights(mask, T: int, B: int, dtype: np.dtype, like: str) -> np.ndarray:
    """Return the mask as ``(T, B)`` weights of ``dtype`` that sum to 1.

    ``like`` names the array whose dtype a float mask must share.
    """
    if mask is None:
        return np.full((T, B), 1.0 / (T * B), dtype=dtype)
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask must be a numpy array of shape (T, B) = ({T}, {B}) and dtype "
                        f"bool or {dtype}, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        mask = mask.astype(dtype)
    elif mask.dtype != dtype:
        # Integer masks are refused: class indices passed by mistake would pass.
        raise TypeError(f"mask must have dtype bool or the dtype of {like} ({dtype}), "
                        f"got {mask.dtype}")
    check_array("mask", mask, ("T", "B"), (T, B))
    if np.any(mask < 0):
        raise ValueError(f"mask weights must be >= 0, got a minimum of {mask.min()}")
    largest = mask.max()
    if largest == 0:
        raise ValueError("mask must give some entry a weight > 0, got all zeros "
                         "(the mean over no entries is undefined)")
    # Scaling by the largest weight first keeps the sum finite (weights near 1e308).
    mask = mask / largest
    return mask / mask.sum()
