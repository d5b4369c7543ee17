"""Trained models shipped with the package, and the stored comparison of chapter 8.

Training a character model long enough to read well takes minutes, more than
a chapter's one minute, so the chapter "A character-level language model"
loads one made by a single seeded command (``README.md`` beside this file):

* :func:`shipped_charlm`: an LSTM, H = 128, float32, trained on tinyshakespeare;
  :data:`SHIPPED_COMMAND` made it, and its loss on the validation text (the
  last 10 %) is :data:`SHIPPED_VAL_BPC` bits per character, which
  ``tests/test_models.py`` checks by evaluating it again.
* :func:`stored_comparison`: RNN, GRU and LSTM at the same time budget
  (``chapters/data/charlm_compare.py``).

Not imported by ``import bptt`` (it loads :mod:`bptt.charlm`).
"""
from __future__ import annotations

import json
from importlib import resources

__all__ = ["SHIPPED", "SHIPPED_COMMAND", "SHIPPED_VAL_BPC", "shipped_charlm",
           "stored_comparison"]

#: The file name of the shipped model, in this folder.
SHIPPED = "charlm_lstm128.npz"

#: The command, run from the book's root, that wrote it (about 7 minutes of one core).
SHIPPED_COMMAND = ("OMP_NUM_THREADS=1 python -m bptt.charlm train --model lstm --hidden-size 128 "
                   "--seq-len 50 --batch-size 32 --lr 0.002 --clip 5 --steps 12000 --seed 0 "
                   "--out bptt/models/charlm_lstm128.npz")

#: Its loss on the validation part (the last 10 % of the text), bits per character,
#: ``evaluate_bpc(model, val_text)`` rounded to 4 decimals.
SHIPPED_VAL_BPC = 2.3714


def shipped_charlm():
    """The shipped model, a :class:`bptt.charlm.CharLM` (see :data:`SHIPPED_COMMAND`)."""
    from ..charlm import load_model

    with resources.as_file(resources.files("bptt").joinpath("models", SHIPPED)) as path:
        return load_model(path)


def stored_comparison() -> dict:
    """RNN, GRU and LSTM at equal time (``bptt/models/compare.json``).

    Written by ``chapters/data/charlm_compare.py``. A dict with ``settings``
    (the script's ``SETTINGS``) and ``runs``, one per model: ``model``,
    ``steps``, ``train_curve`` (the training loss in bits per character, the
    mean of every ``curve_every`` updates), ``train_first`` (the first
    ``curve_every`` losses), ``val_steps`` and ``val_bpc`` (the loss on the
    whole validation text after each segment) and ``cpu_seconds``.
    """
    text = resources.files("bptt").joinpath("models", "compare.json").read_text(encoding="utf-8")
    return json.loads(text)
