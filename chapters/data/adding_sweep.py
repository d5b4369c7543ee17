"""The adding-problem sweep of chapter "LSTM and GRU": models x lengths x seeds.

Every run is one call of :func:`bptt.adding.adding_run`; the JSON keeps every
run's result beside the settings, so the chapter quotes counts of seeds, not
one chosen run. Run it from the book's root, one thread a process::

    OMP_NUM_THREADS=1 nice .venv/bin/python chapters/data/adding_sweep.py --jobs 2

It writes ``bptt/sweeps/adding.json`` (``--out`` for elsewhere), which the
chapter reads with :func:`bptt.adding.stored_sweep`.

``tests/test_adding.py`` re-runs one cheap entry and checks the stored settings
equal :data:`SETTINGS`, so the stored results cannot drift from the code.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

#: Every setting of the sweep. The budget (steps) depends on T only, the
#: learning rate on the model only; the rest is shared. Each budget lets one
#: LSTM run take about 20 s of one core (chapters/data/adding_sweep.json,
#: "seconds").
SETTINGS = {
    "models": ["rnn", "lstm", "gru"],
    "T": [50, 100, 200],
    "seeds": [0, 1, 2, 3, 4],
    "n_steps": {"50": 2400, "100": 1200, "200": 800},
    "lr": {"rnn": 0.003, "lstm": 0.01, "gru": 0.01},
    "hidden_size": 32,
    "batch_size": 32,
    "clip_norm": 1.0,
    "n_points": 8,
    "optimizer": "Adam(lr, betas=(0.9, 0.999), eps=1e-8)",
}

#: The stored sweep the chapter reads (see bptt.adding.stored_sweep).
STORED = Path(__file__).resolve().parents[2] / "bptt" / "sweeps" / "adding.json"

#: Where each model lives: module and attribute.
MODELS = {"rnn": ("bptt.rnn", "RNN"), "lstm": ("bptt.lstm", "LSTM"), "gru": ("bptt.gru", "GRU")}


def model_by_name(name: str):
    """The :class:`bptt.model.Model` called ``name`` (``"rnn"``, ``"lstm"``, ``"gru"``)."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {name!r}")
    module, attr = MODELS[name]
    return getattr(importlib.import_module(module), attr)


def run_one(name: str, T: int, seed: int, settings: dict = SETTINGS) -> dict:
    """One run of the sweep with ``settings``: the result of ``adding_run`` and its CPU seconds."""
    from bptt.adding import adding_run
    start = time.process_time()
    result = adding_run(model_by_name(name), T, seed=seed,
                        hidden_size=settings["hidden_size"], batch_size=settings["batch_size"],
                        lr=settings["lr"][name], clip_norm=settings["clip_norm"],
                        n_steps=settings["n_steps"][str(T)], n_points=settings["n_points"])
    result["seconds"] = round(time.process_time() - start, 1)   # not reproducible: never compared
    return result


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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(STORED), help="the JSON file to write "
                        "(default: the package's stored sweep, %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes (at most 2 here)")
    args = parser.parse_args(argv)
    jobs = [(m, T, s) for m in SETTINGS["models"] for T in SETTINGS["T"] for s in SETTINGS["seeds"]]
    jobs.sort(key=lambda j: -j[1])        # the longest first, so the two processes end together
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_one, *zip(*jobs)))
        for r in results:
            print(f"{r['model']:5} T={r['T']:3} seed={r['seed']} mse={r['final_mse']:.4g} "
                  f"solved={r['solved']} {r['seconds']} s", flush=True)
    results.sort(key=lambda r: (SETTINGS["models"].index(r["model"]), r["T"], r["seed"]))
    write_json(args.out, {"settings": SETTINGS, "runs": results})


if __name__ == "__main__":
    main()
