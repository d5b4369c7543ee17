"""RNN, LSTM and GRU character models at the same time budget, for chapter 8.

Each model is trained by :func:`bptt.charlm.train_charlm` on tinyshakespeare
(the first 90 % trains, the last 10 % validates), H = 128, K = 50, B = 32,
Adam at 2e-3 with the gradient clipped at norm 5, seed 0, float32: the
settings of the shipped model (``bptt/models/README.md``). A run is cut into
:data:`SETTINGS` ``segments`` equal pieces, each resuming the last exactly
(optimiser state and stream position), so that the validation loss is measured
on the whole validation text after each piece.

**Equal time, reproducibly.** A run by the clock (``--seconds``) stops after a
number of updates that depends on the machine and on what else runs on it.
Here each model gets a fixed number of updates instead, chosen so that the
three take about the same time: the tool's own ``chars/s`` on this book's
machine (one thread, the three measured side by side, 60 updates each) were
89,300 (RNN), 27,200 (GRU) and 24,600 (LSTM), that is 3.6 and 1.1 times the
LSTM's speed; the steps below keep those ratios (rounded). Each run records
its CPU seconds, so the budget can be checked; they are not read by the
chapter. Run it from the book's root::

    OMP_NUM_THREADS=1 nice .venv/bin/python chapters/data/charlm_compare.py

It writes ``bptt/models/compare.json`` (``--out`` for elsewhere), which the
chapter reads with :func:`bptt.models.stored_comparison`. A test re-runs the
first piece of each model with fewer steps and checks the stored settings are
:data:`SETTINGS`.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

#: Every setting of the comparison; ``steps`` are per model (equal time, see above).
SETTINGS = {
    "models": ["rnn", "gru", "lstm"],
    "steps": {"rnn": 5000, "gru": 1540, "lstm": 1400},
    "segments": 10,
    "hidden_size": 128,
    "seq_len": 50,
    "batch_size": 32,
    "seed": 0,
    "val_fraction": 0.1,
    "optimizer": "adam",
    "lr": 2e-3,
    "clip": 5.0,
    "curve_every": 20,
}

STORED = Path(__file__).resolve().parents[2] / "bptt" / "models" / "compare.json"


def run_model(kind: str, settings: dict = SETTINGS, steps: int | None = None) -> dict:
    """Train one model in ``segments`` resumed pieces; the curves and the final losses."""
    from bptt.charlm import SHIPPED_TEXT, read_text, train_charlm

    text = read_text(SHIPPED_TEXT)
    total = settings["steps"][kind] if steps is None else steps
    n_seg = settings["segments"]
    bounds = np.linspace(0, total, n_seg + 1).round().astype(int)
    lm, losses, val_steps, val_bpc = None, [], [], []
    start = time.process_time()
    for a, b in zip(bounds[:-1], bounds[1:]):
        lm, hist = train_charlm(
            text, model=kind, hidden_size=settings["hidden_size"],
            seq_len=settings["seq_len"], batch_size=settings["batch_size"], steps=int(b - a),
            seed=settings["seed"], lr=settings["lr"], optimizer=settings["optimizer"],
            clip=settings["clip"], val_fraction=settings["val_fraction"], resume=lm,
            progress=False)
        losses.extend(hist["loss_bpc"].tolist())
        val_steps.append(int(b))
        val_bpc.append(round(float(hist["val_bpc"]), 5))
    every = settings["curve_every"]
    loss = np.array(losses)
    n = len(loss) // every * every
    return {"model": kind, "steps": int(total),
            "train_curve": np.round(loss[:n].reshape(-1, every).mean(axis=1), 5).tolist(),
            "train_first": [round(float(v), 5) for v in loss[:every]],
            "val_steps": val_steps, "val_bpc": val_bpc,
            "cpu_seconds": round(time.process_time() - start, 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(STORED))
    args = parser.parse_args(argv)
    runs = [run_model(kind) for kind in SETTINGS["models"]]
    out = Path(args.out)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"settings": SETTINGS, "runs": runs}, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)
    print(f"wrote {out}: " + ", ".join(f"{r['model']} val {r['val_bpc'][-1]:.3f} bpc "
                                       f"({r['cpu_seconds']} CPU s)" for r in runs))


if __name__ == "__main__":
    main()
