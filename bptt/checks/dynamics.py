r"""Check of the gradient norm against time lag, ``lag_norms`` (homework 3).

The homework's ``lag_norms`` is :func:`bptt.dynamics.gradient_norm_by_lag`
for a loss at the last step only; the check compares the two on RNN
problems run from ``h0 = 0``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..dynamics import gradient_norm_by_lag
from ..gradcheck import rel_error
from ._harness import Call, Check, Failure, Problem, call_failure
from ._rnn import Sizes, draw_rnn

__all__ = ["check_lag_norms"]

#: float64 results must agree with the package to this relative error.
_TOL = 1e-8


def draw_lag_norms(seed) -> list[Problem]:
    """(a) Problems from h0 = 0 with a loss at the last step, dL/dy_T = the last dy."""
    problems = []
    for i, sz in enumerate([Sizes(8, 3, 2, 5, 3, h0="zero"), Sizes(1, 1, 3, 2, 2, h0="zero"),
                            Sizes(5, 2, 4, 4, 1, h0="zero")]):
        prob = draw_rnn(sz, (seed, 9, i))
        params, dy_T = prob["params"], prob["dy"][-1]
        want = gradient_norm_by_lag(params, prob["h"], dy_T @ params["W_hy"])
        problems.append(Problem(sz.label(), {"params": params, "x": prob["x"], "dy_T": dy_T},
                                case=sz, facts={"want": want}))
    return problems


def judge_lag_norms(problem: Problem, result: Call) -> Failure | None:
    """(c) The norms (T+1, B) against the package's; reversed lags are recognised."""
    failure = call_failure("lag_norms", problem, result)
    if failure:
        return failure
    got, want, where = result.output, problem.facts["want"], problem.label
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        return Failure((f"lag_norms must return an array of shape (T+1, B) = {want.shape}, got "
                        f"{getattr(got, 'shape', type(got).__name__)} for {where}.",), True)
    if rel_error(got, want) <= _TOL:
        return None
    if rel_error(got, want[::-1]) <= _TOL:
        return Failure((f"lag_norms is reversed for {where}: index it by the lag tau = T - t "
                        "(norms[0] is the last step), not by t.",), True)
    return Failure((f"lag_norms is wrong for {where}: relative error {rel_error(got, want):.2e}; "
                    f"expected norms[:, 0] = {np.round(want[:, 0], 6)}, got "
                    f"{np.round(got[:, 0], 6)}. dy is zero except at the last step, where it "
                    "is dy_T.",), True)


LAG_NORMS = Check("lag_norms", draw_lag_norms, judge_lag_norms)


def check_lag_norms(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check ``fn(params, x, dy_T) -> norms``, the gradient norm against time lag.

    Parameters
    ----------
    fn : callable
        For an RNN run from ``h0 = 0`` on ``x (T, B, D)`` with a loss at the
        last step only, :math:`\partial L/\partial y_T` = ``dy_T (B, O)``,
        returns ``norms (T+1, B)`` with ``norms[tau, b]`` the Euclidean norm of
        :math:`\partial L/\partial h_{T-\tau}` for sequence b.
    seed : int, keyword-only
        Seed of the random problems (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` raises or modifies its inputs, or when the shape or values
        differ from :func:`bptt.dynamics.gradient_norm_by_lag`.
    """
    __tracebackhide__ = True
    LAG_NORMS.run(fn, seed, full)
