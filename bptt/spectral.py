r"""Spectral radius and spectral norm of the recurrent matrix, and rescaling to a given radius.

The size of :math:`W_{hh}` decides how an RNN's hidden state behaves when the
inputs stop: with no input and :math:`b_h = 0`, :math:`h = 0` is a fixed point
of :math:`h_t = \tanh(W_{hh} h_{t-1})`, and near it the map is
:math:`h_t \approx W_{hh} h_{t-1}` (since :math:`\tanh'(0) = 1`), so small
states shrink by about the spectral radius :math:`\rho(W_{hh})` per step. The
chapter "The forward pass" plots the hidden states for several radii; the
chapter "Vanishing and exploding gradients" uses the same quantities for the
gradients flowing back in time.

* :func:`spectral_radius`: :math:`\rho(W) = \max_i |\lambda_i(W)|`.
* :func:`spectral_norm`: :math:`\|W\|_2 = \sigma_{\max}(W)`, the largest singular value.
* :func:`scale_to_spectral_radius`: :math:`W \rho / \rho(W)`, which has radius :math:`\rho`.
* :func:`with_spectral_radius`: a copy of an RNN's parameters with ``W_hh`` rescaled.

Eigenvalues and singular values are computed in float64 whatever the dtype of
``W`` (float32 matrices then give a radius accurate to float64 rounding), and
each function returns or preserves the dtype as documented.
"""
from __future__ import annotations

import numpy as np

from .rnn import check_rnn_params
from .validate import check_positive_float, check_square

__all__ = ["spectral_radius", "spectral_norm", "scale_to_spectral_radius", "with_spectral_radius"]


def spectral_radius(W: np.ndarray) -> float:
    r"""The spectral radius :math:`\rho(W) = \max_i |\lambda_i(W)|` of a square matrix.

    Parameters
    ----------
    W : ndarray, shape (H, H)
        A finite floating-point square matrix, e.g. ``params["W_hh"]``.

    Returns
    -------
    rho : float
        The largest modulus of the (possibly complex) eigenvalues of ``W``, >= 0.

    Notes
    -----
    :math:`\rho(W)` is the factor by which :math:`\|W^k v\|` grows or shrinks per
    step for large :math:`k` and a generic :math:`v`: Gelfand's formula
    :math:`\rho(W) = \lim_{k\to\infty} \|W^k\|^{1/k}` holds for any matrix norm.
    It never exceeds the spectral norm, :math:`\rho(W) \le \|W\|_2`, with
    equality for symmetric (more generally normal) matrices; for a
    non-normal matrix :math:`\|W^k v\|` can first grow even when
    :math:`\rho(W) < 1`.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0.5, 3.0], [0.0, -2.0]])   # triangular: eigenvalues 0.5 and -2
    >>> spectral_radius(W)
    2.0
    >>> spectral_norm(W) > spectral_radius(W)       # non-normal: norm above radius
    True
    """
    W = check_square("W", W)
    return float(np.max(np.abs(np.linalg.eigvals(W.astype(np.float64)))))


def spectral_norm(W: np.ndarray) -> float:
    r"""The spectral norm :math:`\|W\|_2`, the largest singular value of a square matrix.

    Parameters
    ----------
    W : ndarray, shape (H, H)
        A finite floating-point square matrix, e.g. ``params["W_hh"]``.

    Returns
    -------
    sigma_max : float
        :math:`\max_{\|v\|_2 = 1} \|W v\|_2 \ge 0`.

    Notes
    -----
    :math:`\|W v\|_2 \le \|W\|_2 \|v\|_2` for every :math:`v`: the worst-case
    stretch in one step, where :math:`\rho(W) \le \|W\|_2` is the average
    stretch per step over many steps. Because :math:`|\tanh(a)| \le |a|`
    element-wise, :math:`\|\tanh(W h)\|_2 \le \|W\|_2 \|h\|_2`, so an RNN with
    no input and no bias whose ``W_hh`` has :math:`\|W_{hh}\|_2 < 1` shrinks
    every hidden state towards 0 at least geometrically.
    """
    W = check_square("W", W)
    return float(np.linalg.norm(W.astype(np.float64), 2))


def scale_to_spectral_radius(W: np.ndarray, rho: float) -> np.ndarray:
    r"""Rescale a square matrix so that its spectral radius is ``rho``.

    Parameters
    ----------
    W : ndarray, shape (H, H)
        A finite floating-point square matrix whose spectral radius is > 0.
    rho : float
        The spectral radius wanted, a finite number > 0.

    Returns
    -------
    W_scaled : ndarray, shape (H, H), dtype of ``W``
        :math:`W \rho / \rho(W)`: a new array (``W`` is not modified) with the
        same eigenvectors as ``W`` and eigenvalues :math:`\lambda_i \rho/\rho(W)`.

    Raises
    ------
    ValueError
        If ``W`` has spectral radius 0 (all its eigenvalues are 0, e.g. the
        zero matrix or a strictly triangular one: no multiple of it has
        radius ``rho``), or if its eigenvalues are so sensitive to rounding
        that the result's radius differs from ``rho`` by more than a relative
        ``10 * sqrt(eps)`` of the dtype (a nearly defective matrix).

    Notes
    -----
    Eigenvalues scale with the matrix, :math:`\lambda_i(cW) = c\,\lambda_i(W)`,
    so :math:`\rho(cW) = |c|\,\rho(W)` and :math:`c = \rho/\rho(W)` gives radius
    :math:`\rho`. Only the size of :math:`W` changes, not its "shape" (the
    directions of its eigenvectors, the ratios of its eigenvalues), which is
    what makes it a clean knob for comparing recurrent dynamics.
    """
    W = check_square("W", W)
    rho = check_positive_float("rho", rho)
    current = spectral_radius(W)
    if current == 0.0:
        raise ValueError("W has spectral radius 0 (every eigenvalue is 0, e.g. a zero or "
                         "strictly triangular matrix): no multiple of it has spectral radius "
                         f"{rho}")
    W_scaled = (W.astype(np.float64) * (rho / current)).astype(W.dtype)
    # A nearly defective W (e.g. a Jordan block) has eigenvalues that rounding
    # moves by far more than eps: then the request cannot be met, so say so.
    achieved = spectral_radius(W_scaled)
    rtol = 10 * np.sqrt(max(np.finfo(W.dtype).eps, np.finfo(np.float64).eps))
    if not abs(achieved - rho) <= rtol * rho:
        raise ValueError(f"cannot rescale W to spectral radius {rho}: its eigenvalues are too "
                         f"sensitive to rounding (the rescaled matrix has radius {achieved:.6g}, "
                         f"relative error above {rtol:.1e})")
    return W_scaled


def with_spectral_radius(params: dict, rho: float) -> dict:
    r"""A copy of an RNN's parameters whose recurrent matrix ``W_hh`` has spectral radius ``rho``.

    Parameters
    ----------
    params : dict
        RNN parameters, see :func:`bptt.rnn.init_rnn`: ``W_xh (H, D)``,
        ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)``.
    rho : float
        The spectral radius wanted for ``W_hh``, a finite number > 0.

    Returns
    -------
    dict
        New arrays with the same keys, shapes and dtype: ``W_hh`` replaced by
        :func:`scale_to_spectral_radius` ``(params["W_hh"], rho)``, every other
        parameter copied unchanged. ``params`` is not modified.
    """
    check_rnn_params(params)
    new = {key: value.copy() for key, value in params.items()}
    new["W_hh"] = scale_to_spectral_radius(params["W_hh"], rho)
    return new
