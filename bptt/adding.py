r"""The adding problem as a measurement: train one model from one seed, and judge it.

Chapter "LSTM and GRU" asks how far back each model can carry a number. One
call of :func:`adding_run` trains one model (any :class:`bptt.model.Model`:
:data:`bptt.rnn.RNN`, the LSTM, the GRU) on :func:`bptt.data.adding_problem`
sequences of one length T, with :func:`bptt.train.train` unchanged, Adam and
clipping by norm, and returns a small, rounded, JSON-ready result. A sweep over
models, lengths and seeds (``chapters/data/adding_sweep.py``) is a loop over it.

**Which adding problem.** The package's variant is that of Le, Jaitly & Hinton
(2015): numbers drawn from :math:`U[0, 1)`, one marker in each half of the
sequence, target the sum :math:`S = u_1 + u_2`, so the lag is up to T - 1 steps.
Hochreiter & Schmidhuber (1997, experiment "adding problem") drew the numbers
from :math:`[-1, 1]`, marked one of the first ten pairs and one of the first
T/2 - 1, flagged the first and last pairs with -1, varied the length between
T and 1.1 T, and asked for :math:`0.5 + (X_1 + X_2)/4`, the sum scaled to
:math:`[0, 1]`. Their sum's range is twice ours and is then divided by 4: an
error :math:`e` on their scale is an error :math:`2e` on ours.

**When a run has solved it.** The memoryless baseline, the constant 1, has
mean squared error :math:`\operatorname{Var}(S) = 1/6` (see
:func:`~bptt.data.adding_problem`); a model that only learns the second
number (which it sees late) reaches :math:`\operatorname{Var}(u_1) = 1/12`,
half of it. We count a run as *solved* when its MSE on a held-out batch of
:data:`TEST_B` sequences is below :data:`SOLVED_FRACTION` = 10 % of the
baseline, :math:`1/60 \approx 0.0167`: it must then carry the first number
too, since forgetting it costs 1/12, five times more. Le et al. (2015) and
Arjovsky et al. (2016) judge runs by the test MSE against this baseline;
Hochreiter & Schmidhuber count a sequence as processed correctly when the
absolute error is below 0.04 on their scale, 0.08 on ours, and stop training
when the last 2000 sequences all were. Our threshold is looser (a root mean
square error of 0.13 on our scale): it separates "remembers both numbers"
from "remembers one", which is the chapter's question, and a fixed budget of
steps would rarely reach their stricter criterion. The result also reports,
as ``within_hs``, the fraction of test sequences within their tolerance
(:data:`HS_TOLERANCE`), so the stricter judgement can be read as well.

**Deterministic.** Everything is drawn from the seed (initial weights by
``model.init(seed=seed)``, training batches by :func:`training_batch_seed`,
the test batch by :data:`TEST_SEED`, the same for every run), and the reported
numbers are rounded to :data:`DIGITS` significant digits. Matrix products go
through BLAS; the sums this package does itself do not depend on the number
of threads.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Iterator

import numpy as np

from .data import adding_problem
from .losses import last_step_mask, mse_loss
from .model import Model
from .optim import Adam
from .train import train
from .validate import check_nonneg_int, check_positive_float, check_positive_int

__all__ = ["BASELINE_MSE", "SOLVED_FRACTION", "HS_TOLERANCE", "TEST_B", "TEST_SEED",
           "DIGITS", "adding_loss", "training_batch_seed", "adding_batches",
           "adding_errors", "adding_run", "success_counts", "stored_sweep"]

#: MSE of the constant prediction 1 (the mean of the sum), :math:`\operatorname{Var}(S) = 1/6`.
BASELINE_MSE = 1.0 / 6.0
#: A run is solved when its test MSE is below this fraction of :data:`BASELINE_MSE`.
SOLVED_FRACTION = 0.1
#: Hochreiter & Schmidhuber's tolerance 0.04 on :math:`0.5 + (X_1+X_2)/4`, on our scale
#: (their sum has twice our range, then is divided by 4: a factor 2).
HS_TOLERANCE = 0.08
#: Size and seed of the held-out test batch, the same for every run.
TEST_B = 256
TEST_SEED = 0
#: Significant digits of every reported number.
DIGITS = 4


def _round(value: float) -> float:
    """``value`` to :data:`DIGITS` significant digits, as a Python float (JSON-ready)."""
    return float(f"{float(value):.{DIGITS}g}")


def adding_loss(y: np.ndarray, target: np.ndarray):
    r"""Squared error of the last output against the sum, and its gradient.

    Parameters
    ----------
    y : ndarray, shape (T, B, 1)
        The model's outputs; only ``y[-1]`` is judged.
    target : ndarray, shape (B, 1)
        The sums, as :func:`bptt.data.adding_problem` returns them.

    Returns
    -------
    loss : float
        :math:`\frac1B \sum_b (y_{T,b} - S_b)^2`.
    dy : ndarray, shape (T, B, 1)
        Zero except at the last step (:func:`bptt.losses.last_step_mask`).
    """
    T, B = y.shape[:2]
    full = np.broadcast_to(target, (T, *target.shape))     # (T, B, 1); only [-1] counts
    return mse_loss(y, full, mask=last_step_mask(T, B))


def training_batch_seed(seed: int, step: int) -> int:
    """Seed of the batch of training step ``step`` of the run ``seed``.

    ``10**6 (seed + 1) + step``: never :data:`TEST_SEED`, and distinct across
    runs of up to a million steps.
    """
    return 10**6 * (check_nonneg_int("seed", seed) + 1) + check_nonneg_int("step", step)


def adding_batches(T: int, B: int, seed: int, start: int = 0) -> Iterator:
    """Fresh adding-problem batches ``(x (T, B, 2), target (B, 1))``, one per step from ``start``."""
    step = start
    while True:
        yield adding_problem(T, B, seed=training_batch_seed(seed, step))
        step += 1


def adding_errors(model: Model, params: dict, T: int, B: int = TEST_B,
                  seed: int = TEST_SEED) -> np.ndarray:
    r"""The errors :math:`y_{T,b} - S_b` of a model on a batch of ``B`` sequences, shape (B,).

    The test batch is ``adding_problem(T, B, seed=seed)``, by default the
    held-out :data:`TEST_SEED`, which no training batch uses.
    """
    x, target = adding_problem(T, B, seed=seed)
    y, _ = model.forward(params, x)
    return y[-1, :, 0] - target[:, 0]


def _checkpoints(n_steps: int, n_points: int) -> list:
    """``n_points`` steps from ``n_steps / n_points`` to ``n_steps``, evenly spaced (integers)."""
    n_points = min(check_positive_int("n_points", n_points), n_steps)
    return [round(n_steps * (i + 1) / n_points) for i in range(n_points)]


def adding_run(model: Model, T: int, *, seed: int, hidden_size: int = 32, batch_size: int = 32,
               lr: float = 0.01, clip_norm: float = 1.0, n_steps: int = 1000,
               n_points: int = 8) -> dict:
    r"""Train ``model`` on the adding problem of length ``T`` from ``seed``; return the result.

    Parameters
    ----------
    model : bptt.model.Model
        E.g. :data:`bptt.rnn.RNN`; initialised as ``model.init(2, hidden_size, 1, seed=seed)``.
    T : int
        Sequence length, >= 2; the first number must be carried up to T - 1 steps.
    seed : int
        Seeds the initial weights and, through :func:`training_batch_seed`,
        every training batch.
    hidden_size, batch_size : int
        ``H``, and ``B`` the sequences per training step (a fresh batch each step).
    lr : float
        Adam's learning rate (betas (0.9, 0.999), eps 1e-8).
    clip_norm : float
        The global gradient norm is capped at it (:func:`bptt.clip.clip_grad_norm`).
    n_steps : int
        Training steps (updates).
    n_points : int
        Points of the learning curve: the test MSE after every ``n_steps / n_points`` steps.

    Returns
    -------
    dict
        ``model`` (its name), ``T``, ``seed``; ``steps (n_points + 1,)`` and
        ``test_mse (n_points + 1,)``: the learning curve, from step 0;
        ``final_mse``: the test MSE at the end; ``solved``: ``final_mse <
        SOLVED_FRACTION * BASELINE_MSE``; ``within_hs``: the fraction of test
        sequences whose error is below :data:`HS_TOLERANCE`; ``stopped``: None,
        or why :func:`bptt.train.train` stopped the run. Numbers rounded to
        :data:`DIGITS` significant digits.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.model.Model, got {type(model).__name__}")
    T = check_positive_int("T", T)
    n_steps = check_positive_int("n_steps", n_steps)
    B = check_positive_int("batch_size", batch_size)
    params = model.init(2, check_positive_int("hidden_size", hidden_size), 1,
                        seed=check_nonneg_int("seed", seed))
    opt = Adam(check_positive_float("lr", lr))    # one optimiser: its moments carry over
    steps, curve, done, stopped = [0], [_test_mse(model, params, T)], 0, None
    for end in _checkpoints(n_steps, n_points):
        params, hist = train(params, adding_batches(T, B, seed, start=done), adding_loss, opt,
                             n_steps=end - done, clip_norm=clip_norm, model=model)
        done, stopped = end, hist["stopped"]
        steps.append(end)
        curve.append(_test_mse(model, params, T))
        if stopped:
            break
    errors = adding_errors(model, params, T)
    return {"model": model.name, "T": T, "seed": seed, "steps": steps,
            "test_mse": [_round(v) for v in curve], "final_mse": _round(curve[-1]),
            "solved": bool(_round(curve[-1]) < SOLVED_FRACTION * BASELINE_MSE),
            "within_hs": _round(np.mean(np.abs(errors) < HS_TOLERANCE)),
            "stopped": stopped}


def _test_mse(model: Model, params: dict, T: int) -> float:
    """Mean squared error on the held-out batch."""
    return float(np.mean(adding_errors(model, params, T) ** 2))


def success_counts(runs) -> dict:
    """How many runs of each model and length solved the problem.

    Parameters
    ----------
    runs : iterable of dict
        Results of :func:`adding_run` (``model``, ``T``, ``solved``), e.g. the
        ``"runs"`` of the sweep's JSON.

    Returns
    -------
    dict
        ``{model: {T: (n_solved, n_runs)}}``, models in their first-seen order, T ascending.
    """
    counts: dict = {}
    for r in runs:
        solved, total = counts.setdefault(r["model"], {}).get(r["T"], (0, 0))
        counts[r["model"]][r["T"]] = (solved + bool(r["solved"]), total + 1)
    return {m: dict(sorted(by_T.items())) for m, by_T in counts.items()}


def stored_sweep() -> dict:
    """The stored sweep over models, lengths and seeds (``bptt/sweeps/adding.json``).

    Written by ``chapters/data/adding_sweep.py`` (about 11 CPU minutes), read
    by the chapter, which has only a minute. Returns a dict with ``settings``
    (the script's ``SETTINGS``) and ``runs``, a list of :func:`adding_run`
    results, each with the CPU ``seconds`` it took.
    """
    text = resources.files("bptt").joinpath("sweeps", "adding.json").read_text(encoding="utf-8")
    return json.loads(text)
