r"""A small training loop for any model: forward, loss, BPTT, clipping, update.

One step of :func:`train` is the whole recipe of the book, here for the
vanilla RNN (the default ``model``, :data:`bptt.rnn.RNN`)::

    y, h = rnn_forward(params, x)                   # chapter "The forward pass"
    loss, dy = loss_fn(y, target)                   # bptt.losses
    grads = rnn_backward(params, x, h, dy, truncate)  # chapter "Deriving BPTT"
    grads = clip_grad_value(grads, c_v)             # optional, bptt.clip
    grads, norm = clip_grad_norm(grads, c_n)        # optional, bptt.clip
    optimizer.step(params, grads)                   # bptt.optim

Another model runs the same loop with its own forward and backward, given as
a :class:`bptt.model.Model` (``model=``): nothing here names a parameter.

and it records the loss and the gradient norm at every step, which is what
one looks at to see gradients explode. A run whose loss or gradient stops
being finite (or exceeds ``max_loss``) is stopped, and the history says so,
instead of raising in the middle of an experiment.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .clip import clip_grad_norm, clip_grad_value, grad_norm
from .model import Model
from .rnn import RNN
from .validate import check_positive_float, check_positive_int

__all__ = ["train"]


def train(params: dict, batches: Iterable, loss_fn: Callable, optimizer, *, n_steps: int,
          clip_norm: float | None = None, clip_value: float | None = None,
          truncate: int | None = None, max_loss: float | None = None, model: Model = RNN):
    r"""Train a model for ``n_steps`` updates and record the loss and gradient norm of each.

    Parameters
    ----------
    params : dict
        Initial parameters of ``model``, e.g. the RNN's ``W_xh (H, D)``,
        ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)`` (see
        :func:`bptt.rnn.init_rnn`). Not modified: training works on a copy.
    batches : iterable of (x, target)
        One pair per step: ``x (T, B, D)`` and whatever ``loss_fn`` takes as
        its target. At least ``n_steps`` pairs; for a fixed batch pass
        ``itertools.repeat((x, target))``. The initial state is zero.
    loss_fn : callable
        ``loss_fn(y, target) -> (loss, dy)`` with ``y`` and ``dy`` of shape
        ``(T, B, O)``, e.g. :func:`bptt.losses.mse_loss` or a wrapper that puts
        a mask on it.
    optimizer : object with a ``step(params, grads)`` method
        E.g. :class:`bptt.optim.SGD`; it updates ``params`` in place.
    n_steps : int
        Number of updates, keyword-only.
    clip_norm : float, optional
        Rescale the gradients to this global norm when it is exceeded
        (:func:`bptt.clip.clip_grad_norm`).
    clip_value : float, optional
        Clamp every gradient entry to ``[-clip_value, clip_value]``
        (:func:`bptt.clip.clip_grad_value`). If both are given, values are
        clamped first, then the norm is capped.
    truncate : int, optional
        Truncated BPTT, passed to the model's backward pass.
    max_loss : float, optional
        Stop when the loss exceeds it (an explosion), as when it is not finite.
    model : bptt.model.Model, keyword-only
        Whose ``check``, ``forward`` and ``backward`` to use; the vanilla RNN
        (:data:`bptt.rnn.RNN`) by default.

    Returns
    -------
    params : dict
        The trained parameters (new arrays). When the run is stopped, the last
        parameters that were finite: an update that overflowed is undone.
    history : dict
        ``loss (n,)``: the loss before each update;
        ``grad_norm (n,)``: the global norm of the parameter gradients, before
        clipping (:func:`bptt.clip.grad_norm`);
        ``update_norm (n,)``: the global norm of the gradients actually used,
        after clipping; ``n`` is ``n_steps`` unless the run was stopped, and then
        counts the steps taken, the one that failed included (its loss or norm
        may be ``inf`` or ``nan``);
        ``stopped`` (str or None): why the run was stopped, or None.

    Notes
    -----
    Clipping by norm multiplies every entry by one positive factor
    :math:`\min(1, c/\|g\|)` and keeps the direction of the gradient; clipping
    by value does not (chapter "Vanishing and exploding gradients").
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.model.Model, got {type(model).__name__}")
    model.check(params)
    n_steps = check_positive_int("n_steps", n_steps)
    if clip_norm is not None:
        clip_norm = check_positive_float("clip_norm", clip_norm)
    if clip_value is not None:
        clip_value = check_positive_float("clip_value", clip_value)
    if max_loss is not None:
        max_loss = check_positive_float("max_loss", max_loss)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(y, target) -> (loss, dy), "
                        f"got {type(loss_fn).__name__}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, "
                        f"got {type(optimizer).__name__}")
    try:
        batch_iter = iter(batches)
    except TypeError:
        raise TypeError(f"batches must be an iterable of (x, target) pairs, "
                        f"got {type(batches).__name__}") from None

    params = {k: params[k].copy() for k in model.keys}
    losses, norms, used = [], [], []
    stopped = None
    for step in range(n_steps):
        try:
            x, target = next(batch_iter)
        except StopIteration:
            raise ValueError(f"batches ran out after {step} pairs; n_steps = {n_steps} "
                             "needs one pair per step") from None
        y, cache = model.forward(params, x)
        loss, dy = loss_fn(y, target)
        loss = float(loss)
        losses.append(loss)
        if not np.isfinite(loss) or (max_loss is not None and loss > max_loss):
            norms.append(np.nan)
            used.append(np.nan)
            stopped = f"loss {loss:.3g} at step {step}"
            break
        grads = model.backward(params, x, cache, dy, truncate)
        if not all(np.all(np.isfinite(grads[k])) for k in model.keys):
            norms.append(np.inf)
            used.append(np.nan)
            stopped = f"non-finite gradient at step {step}"
            break
        norms.append(grad_norm(grads))
        if clip_value is not None:
            grads = clip_grad_value(grads, clip_value)
        if clip_norm is not None:
            grads, _ = clip_grad_norm(grads, clip_norm)
        used.append(grad_norm(grads))
        backup = {k: v.copy() for k, v in params.items()}
        optimizer.step(params, grads)
        if not all(np.all(np.isfinite(params[k])) for k in model.keys):
            params = backup   # keep the last finite parameters
            stopped = f"parameters overflowed at step {step}"
            break
    history = {"loss": np.array(losses), "grad_norm": np.array(norms),
               "update_norm": np.array(used), "stopped": stopped}
    return params, history
