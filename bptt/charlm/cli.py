"""The command line: ``python -m bptt.charlm {train,sample} ...``.

Two commands (``python -m bptt.charlm COMMAND --help`` for each)::

    train  --out MODEL.npz [--text PATH] [--model {rnn,lstm,gru}] [--hidden-size H]
           [--seq-len K] [--batch-size B] [--seconds S | --steps N] [--seed N] [...]
    sample --model MODEL.npz [--length N] [--temperature T] [--seed S] [--prime TEXT]

``train`` trains on the first 90 % of the text (``--val-fraction``), shows its
progress, writes the model (parameters, vocabulary, options, optimiser state)
to ``--out``, and prints as its last line::

    chars/s X train_bpc Y val_bpc Z

the characters processed per second of training (every stream counted), the
mean training loss of the last tenth of the updates and the loss on the whole
validation part, both in bits per character. ``--resume MODEL.npz`` trains a
saved model further. ``sample`` prints ``--length`` characters drawn from a model.

Every argument is checked before any work starts; on a bad one the command
names it, says what it expected and what it got, exits with status 2 and
writes nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

from .corpus import SHIPPED_TEXT, read_text
from .lm import MODELS, OPTIMIZERS
from .model_io import check_out_path, load_model, save_model
from .sampling import sample
from .training import train_charlm

__all__ = ["main", "result_line"]

#: The Python argument names in error messages, as the command line spells them.
_FLAGS = {"seq_len": "--seq-len", "batch_size": "--batch-size", "hidden_size": "--hidden-size",
          "val_fraction": "--val-fraction", "eval_batch_size": "--eval-batch-size"}

_LEADING = {"seconds": "--seconds", "steps": "--steps", "seed": "--seed", "lr": "--lr",
            "clip": "--clip", "optimizer": "--optimizer", "length": "--length",
            "temperature": "--temperature", "prime": "--prime", "model": "--model",
            "text": "--text", "dtype": "--dtype", "threads": "--threads"}


def _as_flags(message: str) -> str:
    for name, flag in _FLAGS.items():
        message = re.sub(rf"\b{name}\b", flag, message)
    first = message.split(" ", 1)[0]
    if first in _LEADING:
        message = _LEADING[first] + message[len(first):]
    return message


def result_line(history: dict) -> str:
    """The last line ``train`` prints: ``chars/s X train_bpc Y val_bpc Z``."""
    return (f"chars/s {history['chars_per_s']:.0f} train_bpc {history['train_bpc']:.4f} "
            f"val_bpc {history['val_bpc']:.4f}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bptt.charlm",
                                     description="Train a character model by truncated BPTT, "
                                                 "and sample from it.")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = parser.commands = {}       # each command's parser, for its error messages
    p = commands["train"] = sub.add_parser("train", help="train a model and save it",
                       description="Train on B parallel streams of the text, K characters a "
                                   "chunk, the state carried and the gradient cut between "
                                   "chunks. The last line printed is "
                                   "'chars/s X train_bpc Y val_bpc Z'.")
    p.add_argument("--text", default=str(SHIPPED_TEXT),
                   help="UTF-8 text file (default: the shipped tinyshakespeare.txt)")
    p.add_argument("--out", required=True, help="the model file to write (.npz)")
    p.add_argument("--model", choices=sorted(MODELS), default=None,
                   help="the recurrent model (default: lstm, or the resumed model's)")
    p.add_argument("--hidden-size", type=int, default=None, metavar="H",
                   help="hidden units (default: 100, or the resumed model's)")
    p.add_argument("--seq-len", type=int, default=25, metavar="K",
                   help="characters per chunk: the steps backpropagated through (default: 25)")
    p.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="parallel streams (default: 32)")
    p.add_argument("--seconds", type=float, default=None, metavar="S",
                   help="train for this much wall time (default: 60 unless --steps is given)")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="train for this many updates (with --seconds: whichever comes first)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default: 0)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=None,
                   help="default: adam (or the resumed model's)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: 2e-3 for adam, 0.1 for adagrad)")
    p.add_argument("--clip", type=float, default=5.0,
                   help="clip each update's gradient to this global norm; 0 for none "
                        "(default: 5)")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="final fraction of the text kept for validation (default: 0.1)")
    p.add_argument("--dtype", choices=["float32", "float64"], default=None,
                   help="default: float32 (or the resumed model's)")
    p.add_argument("--resume", default=None, metavar="MODEL.npz",
                   help="train this saved model further (its optimiser state and stream "
                        "position too)")
    p.add_argument("--threads", type=int, default=1,
                   help="OpenBLAS threads; one is fastest for products this small (default: 1)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p = commands["sample"] = sub.add_parser("sample", help="print characters drawn from a model",
                       description="Print LENGTH characters drawn from a saved model.")
    p.add_argument("--model", required=True, metavar="MODEL.npz", help="the model file")
    p.add_argument("--length", type=int, default=500, help="characters to draw (default: 500)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="softmax temperature > 0 (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    p.add_argument("--prime", default="", help="text read before drawing (not printed)")
    return parser


def _train(args) -> None:
    out = check_out_path(args.out)              # before the run, not after it
    text = read_text(args.text)
    resume = load_model(args.resume) if args.resume is not None else None
    seconds = args.seconds if args.seconds is not None or args.steps is not None else 60.0
    if args.clip is not None and args.clip < 0:
        raise ValueError(f"clip must be >= 0 (0 for no clipping), got {args.clip}")
    lm, history = train_charlm(
        text, model=args.model, hidden_size=args.hidden_size, seq_len=args.seq_len,
        batch_size=args.batch_size, seconds=seconds, steps=args.steps, seed=args.seed,
        lr=args.lr, optimizer=args.optimizer, clip=args.clip or None,
        val_fraction=args.val_fraction, dtype=args.dtype, resume=resume,
        progress=not args.quiet, threads=args.threads)
    lm.options["text"] = args.text
    save_model(out, lm)
    if history["stopped"]:
        print(f"stopped early: {history['stopped']}")
    print(f"wrote {out} ({lm.kind}, H = {lm.hidden_size}, V = {lm.vocab_size}, "
          f"{lm.steps} updates in all, {history['steps']} in this run of "
          f"{history['seconds']:.1f} s)")
    print(result_line(history))


def main(argv=None) -> int:
    """Run one command (``argv`` defaults to ``sys.argv[1:]``); see the module docstring."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            _train(args)
        else:
            print(sample(load_model(args.model), args.length, temperature=args.temperature,
                         seed=args.seed, prime=args.prime))
    except (ValueError, TypeError, FileNotFoundError) as exc:
        parser.commands[args.command].error(_as_flags(str(exc)))
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Python's docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":   # pragma: no cover
    raise SystemExit(main())
