"""The recall sweep of chapter "Truncated BPTT on streams": lag x truncation x seeds, and ARTBP.

Every training run is one call of :func:`bptt.recall.recall_run`: truncated
BPTT over a grid of lags L and truncation lengths k, and ARTBP with c = 1/k at
equal compute on part of it. The estimator's measurements (mean of many draws,
variance against c and T) are computed by :func:`variance_measurements`. Run
it from the book's root, one thread a process::

    OMP_NUM_THREADS=1 nice .venv/bin/python chapters/data/recall_sweep.py --jobs 2

It writes ``bptt/sweeps/recall.json`` (``--out`` for elsewhere), which the
chapter reads with :func:`bptt.recall.stored_recall_sweep`.

``tests/test_recall.py`` re-runs one cheap entry and checks the stored settings
equal :data:`SETTINGS`, so the stored results cannot drift from the code.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

#: Every setting of the sweep. The budget is the same stream length for every
#: run (each step run forward once and backward once, whatever k): a run takes
#: 1 to 5 s of one core (the JSON's "seconds"), most for small k (more updates).
SETTINGS = {
    "L": [5, 10, 20],
    "k": [5, 10, 20, 40, 80],
    "seeds": [0, 1, 2, 3, 4],
    "artbp": {"L": [10, 20], "k": [10, 20, 40]},
    "n_steps": 100_000,
    "hidden_size": 32,
    "batch_size": 16,
    "lr": 0.003,
    "clip_norm": 1.0,
    "n_points": 8,
    "optimizer": "Adam(lr, betas=(0.9, 0.999), eps=1e-8)",
    "variance": {"hidden_size": 32, "batch_size": 16, "L": 10, "seed": 0, "n_draws": 4000,
                 "mean_c": 0.1, "mean_T": 20,
                 "mean_counts": [1, 3, 10, 30, 100, 300, 1000, 4000],
                 "c": [0.02, 0.05, 0.1, 0.2, 0.3], "c_T": 20,
                 "T": [5, 10, 20, 40, 80], "T_c": 0.1},
}

#: The stored sweep the chapter reads (see bptt.recall.stored_recall_sweep).
STORED = Path(__file__).resolve().parents[2] / "bptt" / "sweeps" / "recall.json"


def run_one(method: str, L: int, k: int, seed: int, settings: dict = SETTINGS) -> dict:
    """One training run with ``settings``: the result of ``recall_run`` and its CPU seconds."""
    from bptt.recall import recall_run
    start = time.process_time()
    result = recall_run(L, k, seed=seed, method=method, hidden_size=settings["hidden_size"],
                        batch_size=settings["batch_size"], n_steps=settings["n_steps"],
                        lr=settings["lr"], clip_norm=settings["clip_norm"],
                        n_points=settings["n_points"])
    result["seconds"] = round(time.process_time() - start, 1)   # not reproducible: never compared
    return result


def variance_problem(T: int, v: dict):
    """The estimator's test case: an untrained RNN on T steps of the recall stream, loss at T.

    Returns ``params``, ``x (T, B, V)`` and ``dy_last (B, V)``, the gradient of
    the mean cross-entropy of the last step.
    """
    import numpy as np

    from bptt.losses import softmax_cross_entropy
    from bptt.recall import V, recall_stream
    from bptt.rnn import init_rnn, rnn_forward
    params = init_rnn(V, v["hidden_size"], V, seed=v["seed"])
    x, targets, _ = recall_stream(T, v["batch_size"], min(v["L"], T - 1), seed=v["seed"])
    y, _ = rnn_forward(params, x)
    _, dy = softmax_cross_entropy(y[-1:], targets[-1:])
    return params, x, np.asarray(dy[0])


def variance_measurements(v: dict) -> dict:
    """The ARTBP estimator measured: mean of draws, variance against c and against T.

    ``mean``: relative error of the mean of the first n draws (c = mean_c, T =
    mean_T), with the prediction sqrt(v/n); ``vs_c`` (T = c_T) and ``vs_T`` (c =
    T_c): measured and predicted relative variance, of the weights' gradient
    and of h0's. Rounded to bptt.recall.DIGITS significant digits.
    """
    import numpy as np

    from bptt.recall import (_round, artbp_draws, mean_error_curve,
                             predicted_relative_variance, relative_variance)

    def one(T, c):
        params, x, dy_last = variance_problem(T, v)
        dy = np.zeros((T, *dy_last.shape))
        dy[-1] = dy_last
        out = {"T": T, "c": c}
        for key, name in ((None, "params"), ("h0", "h0")):
            draws, full = artbp_draws(params, x, dy, c, n_draws=v["n_draws"], seed=v["seed"],
                                      key=key)
            out[f"{name}_measured"] = _round(relative_variance(draws, full))
            out[f"{name}_predicted"] = _round(predicted_relative_variance(params, x, dy_last, c,
                                                                          key=key))
            if key is None and T == v["mean_T"] and c == v["mean_c"]:
                errors = mean_error_curve(draws, full, v["mean_counts"])
                out["mean_error"] = [_round(e) for e in errors]
        return out

    mean = one(v["mean_T"], v["mean_c"])
    return {"mean": {"counts": v["mean_counts"], "error": mean["mean_error"],
                     "predicted": [_round(np.sqrt(mean["params_predicted"] / n))
                                   for n in v["mean_counts"]]},
            "vs_c": [one(v["c_T"], c) for c in v["c"]],
            "vs_T": [one(T, v["T_c"]) for T in v["T"]]}


def write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then os.replace."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def jobs(settings: dict = SETTINGS) -> list:
    """Every training run as ``(method, L, k, seed)``: the truncation grid, then ARTBP's."""
    grid = [("tbptt", L, k, s) for L in settings["L"] for k in settings["k"]
            for s in settings["seeds"]]
    a = settings["artbp"]
    return grid + [("artbp", L, k, s) for L in a["L"] for k in a["k"] for s in settings["seeds"]]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(STORED), help="the JSON file to write "
                        "(default: the package's stored sweep, %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes (at most 2 here)")
    args = parser.parse_args(argv)
    todo = sorted(jobs(), key=lambda j: j[2])     # small k (slowest) first
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        variance = pool.submit(variance_measurements, SETTINGS["variance"])
        results = list(pool.map(run_one, *zip(*todo)))
        for r in results:
            print(f"{r['method']:5} L={r['L']:2} k={r['k']:2} seed={r['seed']} "
                  f"acc={r['final_accuracy']:.4g} solved={r['solved']} {r['seconds']} s",
                  flush=True)
        variance = variance.result()
    order = {j: i for i, j in enumerate(jobs())}
    results.sort(key=lambda r: order[r["method"], r["L"], r["k"], r["seed"]])
    write_json(args.out, {"settings": SETTINGS, "runs": results, "variance": variance})


if __name__ == "__main__":
    main()
