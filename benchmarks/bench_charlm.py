r"""The character model against min-char-rnn: characters per second and bits per character.

Run from the repository root (see ``benchmarks/README.md``)::

    .venv/bin/python benchmarks/bench_charlm.py [--seconds 60] [--batch-size B] [--seed 0]
                                                [--threads 1] [--models rnn,lstm,gru]

Issue 13's targets, at ``H = 100``, ``K = 25`` on 2 cores: the package's
character model trains at least 10 times as many characters per second as
min-char-rnn, and after the same seconds of training on the same text reaches
a lower validation bits-per-character. Both sides run here, one after the
other in one process, on the same 90/10 split of ``bptt/texts/tinyshakespeare.txt``:

* ``min-char-rnn``: the faithful reimplementation in ``min_char_rnn.py``
  (batch 1, H = 100, K = 25, Adagrad 0.1; see its docstring for what is faithful);
* the package's :func:`bptt.charlm.train_charlm` with the RNN, the LSTM and
  the GRU: at equal time with ``H = 100`` each, and at equal parameters, the
  LSTM's and GRU's ``H`` chosen so that their parameter count is the nearest
  to the RNN's at ``H = 100`` (computed below from the models' ``init``).

Every model trains for ``--seconds`` of wall-clock time (60 by default),
with OpenBLAS limited to ``--threads`` (1 by default, ``train_charlm``'s own
default; min-char-rnn runs under the same setting), and is then scored by the
same function, :func:`min_char_rnn.bits_per_char`, on the validation text
with its state carried from the first character to the last (numpy, one
stream, no gradient; the target's measure), and beside it as 32 streams side
by side, each from a zero state (``bpc 32``). For the package's models that score is checked against
:func:`bptt.charlm.evaluate_bpc` with one stream. ``chars/s`` is the
characters trained on (``K * B`` per update) divided by the wall time of the
training loop (for both sides: without reading the text, and without the
validation ``train_charlm`` runs at its end). ``others %`` is the share of the
CPUs that other processes used during the whole training call (as in
``bench_rnn.py``): on two cores, anything else running slows the measured
code far more than its share.
"""
from __future__ import annotations

import argparse
import contextlib
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import min_char_rnn as mcr  # noqa: E402
from bench_rnn import (cpu_count, machine_busy_seconds, numpy_blas_info,  # noqa: E402
                       numpy_threads_fallback, own_cpu_seconds)

from bptt.gru import GRU  # noqa: E402
from bptt.lstm import LSTM  # noqa: E402
from bptt.rnn import RNN  # noqa: E402

try:
    from bptt.charlm.blas import blas_threads
except ImportError:                 # bptt.charlm absent: min-char-rnn alone, threads as they are
    def blas_threads(n):
        return contextlib.nullcontext()

TEXT = Path(__file__).resolve().parent.parent / "bptt" / "texts" / "tinyshakespeare.txt"
MODELS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
HIDDEN, SEQ_LEN = mcr.HIDDEN_SIZE, mcr.SEQ_LENGTH
VAL_FRACTION = 0.1
SPEED_GOAL = 10.0


def n_params(model, V: int, H: int) -> int:
    """Parameters of a character model with ``V`` one-hot inputs and outputs and ``H`` units."""
    return sum(a.size for a in model.init(V, H, V, seed=0).values())


def equal_params_hidden(model, V: int, target: int) -> int:
    """The hidden size whose parameter count is nearest to ``target`` (the smaller on a tie)."""
    H = 1
    while n_params(model, V, H + 1) <= target:
        H += 1
    return H if target - n_params(model, V, H) <= n_params(model, V, H + 1) - target else H + 1


def package_logits(model, params: dict, V: int):
    """The package model's forward pass as ``(codes, state) -> (logits, state)``.

    One-hot inputs ``x (T, B, V)`` from ``codes (T, B)``; the state carried is
    the last ``h`` (and the LSTM's last ``c``), passed back as ``h0`` (and ``c0``).
    """
    dtype = params["W_hh"].dtype
    eye = np.eye(V, dtype=dtype)

    def run(codes, state):
        y, cache = model.forward(params, eye[codes], **(state or {}))
        cache = cache if isinstance(cache, dict) else {"h": cache}    # the RNN returns h
        state = {"h0": cache["h"][-1]}
        if "c" in cache:
            state["c0"] = cache["c"][-1]
        return y, state

    return run


def measure(train):
    """Run ``train()`` and return its result, wall-clock seconds and the others' CPU share."""
    busy0, own0, wall0 = machine_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    result = train()
    busy1, own1, wall1 = machine_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    others = None
    if busy0 is not None and busy1 is not None:
        others = max(0.0, (busy1 - busy0) - (own1 - own0)) / ((wall1 - wall0) * cpu_count())
    return result, wall1 - wall0, others


def split(text: str) -> tuple[str, str]:
    """The first 90 % and the last 10 %, as :func:`bptt.charlm.split_text` cuts them."""
    n_val = int(round(VAL_FRACTION * len(text)))
    return text[:len(text) - n_val], text[len(text) - n_val:]


def run_min_char_rnn(train_text, vocab, seconds, seed, threads):
    info = {}

    def train():
        with blas_threads(threads):
            return mcr.train_min_char_rnn(train_text, seconds, seed, vocab=vocab, info=info)

    (params, _, chars), _, others = measure(train)
    return {"label": "min-char-rnn", "model": "rnn", "H": HIDDEN, "B": 1,
            "params": sum(a.size for a in params.values()), "chars": chars,
            "seconds": info["seconds"], "others": others, "vocab": vocab,
            "logits": mcr.logits_fn(params)}


def run_package(charlm, name, H, compare, text, seconds, seed, batch_size, threads):
    """Train with :func:`bptt.charlm.train_charlm` on the whole text (it splits off the same 10 %)."""
    kwargs = {"model": name, "hidden_size": H, "seq_len": SEQ_LEN, "seconds": seconds,
              "seed": seed, "val_fraction": VAL_FRACTION, "progress": False,
              "threads": threads}
    if batch_size is not None:
        kwargs["batch_size"] = batch_size
    (lm, history), _, others = measure(lambda: charlm.train_charlm(text, **kwargs))
    return {"label": f"bptt {name}", "model": name, "H": H, "B": lm.options["batch_size"],
            "compare": compare, "params": sum(a.size for a in lm.params.values()),
            "chars": history["chars"], "seconds": history["seconds"], "others": others,
            "vocab": lm.vocab.chars, "lm": lm,
            "logits": package_logits(MODELS[name], lm.params, lm.vocab.size)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="training time of every model (default 60, the issue's)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch size of the package's models (default: train_charlm's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="OpenBLAS threads while training, both sides (default 1, "
                             "train_charlm's default)")
    parser.add_argument("--models", default="rnn,lstm,gru",
                        help="comma-separated subset of rnn, lstm, gru (default all)")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error(f"--seconds must be positive, got {args.seconds}")
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or any(m not in MODELS for m in models):
        parser.error(f"--models must be a comma-separated subset of rnn, lstm, gru, "
                     f"got {args.models!r}")
    return args, models


def print_header(V, n_train, n_val, seconds, threads):
    blas, default_threads = numpy_blas_info()
    if default_threads is None:
        default_threads, _ = numpy_threads_fallback()
    print(f"bptt character model vs min-char-rnn: {seconds:g} s of training each, K = {SEQ_LEN}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {cpu_count()} CPUs, "
          f"BLAS {blas}; {threads} BLAS thread(s) while training (numpy's default "
          f"{default_threads})")
    print(f"text: {TEXT.name}, V = {V}, train {n_train:,} characters, validation {n_val:,} "
          f"(the last {100 * VAL_FRACTION:.0f}%)\n")


def print_rows(rows, ref):
    head = (f"{'model':<14}{'compare':<10}{'H':>5}{'B':>5}{'params':>9}{'chars':>11}"
            f"{'s':>7}{'chars/s':>10}{'x min-char':>11}{'val bpc':>9}{'bpc 32':>8}"
            f"{'others %':>10}")
    print(head + "\n" + "-" * len(head))
    ref_rate = ref["chars"] / ref["seconds"]
    for r in rows:
        rate = r["chars"] / r["seconds"]
        others = "?" if r["others"] is None else f"{100 * r['others']:.0f}"
        print(f"{r['label']:<14}{r.get('compare', 'reference'):<10}{r['H']:>5}{r['B']:>5}"
              f"{r['params']:>9,}{r['chars']:>11,}{r['seconds']:>7.1f}{rate:>10,.0f}"
              f"{rate / ref_rate:>10.1f}x{r['bpc']:>9.3f}{r['bpc32']:>8.3f}{others:>10}")
    busy = [r["label"] for r in rows if r["others"] is not None and r["others"] > 0.05]
    if busy:
        print(f"\nWARNING: other processes used more than 5% of the CPUs while "
              f"{', '.join(busy)} trained (column 'others %'): not a measurement of this "
              "code. Run again on a quiet machine.")


def print_targets(rows, ref, seconds):
    ref_rate = ref["chars"] / ref["seconds"]
    print(f"\nTargets (issue 13; H = 100, K = 25, 2 cores, {seconds:g} s each; the issue's "
          "is the RNN row, the others are reported beside it):")
    for r in rows:
        if r is ref:
            continue
        ratio = r["chars"] / r["seconds"] / ref_rate
        tag = f"  {r['label']} H={r['H']} ({r['compare']}):"
        print(f"{tag:<32}>= {SPEED_GOAL:g}x chars/s: {'PASS' if ratio >= SPEED_GOAL else 'MISS'}"
              f" ({ratio:.1f}x);  val bpc < min-char-rnn's: "
              f"{'PASS' if r['bpc'] < ref['bpc'] else 'MISS'} ({r['bpc']:.3f} vs {ref['bpc']:.3f})")


def main(argv=None) -> int:
    args, models = parse_args(argv)
    text = TEXT.read_text(encoding="utf-8")
    train_text, val_text = split(text)
    vocab = "".join(sorted(set(text)))
    V = len(vocab)
    print_header(V, len(train_text), len(val_text), args.seconds, args.threads)

    plan = [(name, HIDDEN, "time") for name in models]
    target = n_params(RNN, V, HIDDEN)
    plan += [(name, equal_params_hidden(MODELS[name], V, target), "params")
             for name in models if name != "rnn"]
    try:
        from bptt import charlm
    except ImportError as err:
        charlm = None
        print(f"bptt.charlm is not importable ({err}): only min-char-rnn is run\n")
    else:
        assert charlm.split_text(text, VAL_FRACTION) == (train_text, val_text), \
            "bptt.charlm.split_text no longer cuts the text as this script does"

    rows = [run_min_char_rnn(train_text, vocab, args.seconds, args.seed, args.threads)]
    if charlm is not None:
        for name, H, compare in plan:
            rows.append(run_package(charlm, name, H, compare, text, args.seconds, args.seed,
                                    args.batch_size, args.threads))
    for r in rows:             # one scoring function; each model's own character codes
        val_codes = mcr.encode(val_text, r["vocab"])
        r["bpc"] = mcr.bits_per_char(r["logits"], val_codes)
        r["bpc32"] = mcr.bits_per_char(r["logits"], val_codes, streams=32)
        if "lm" in r:          # the adapter agrees with the package's own scoring
            theirs = charlm.evaluate_bpc(r["lm"], val_text, batch_size=1)
            assert abs(theirs - r["bpc"]) < 1e-4, (
                f"{r['label']}: bits_per_char {r['bpc']:.6f} but bptt.charlm.evaluate_bpc "
                f"with one stream {theirs:.6f}")
    print_rows(rows, rows[0])
    print_targets(rows, rows[0], args.seconds)
    print(f"\nEqual parameters: the RNN at H = {HIDDEN} has {target:,}; "
          + ", ".join(f"{n} H = {H} has {n_params(MODELS[n], V, H):,}"
                      for n, H, c in plan if c == "params"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
