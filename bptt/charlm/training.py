r"""Training a character model: B streams, chunks of K characters, the state carried, clipped Adam.

One update of :func:`train_charlm` is the loop body of :func:`bptt.stream.train_stream`
with ``k1 = k2 = K``, written out so that a run can stop on the clock, show
its progress and be resumed::

    x, targets = chunk j of the B streams           # (K, B, V) one-hot, (K, B) codes
    y, cache = forward(params, x, *state)           # state carried from chunk j-1
    loss, dy = softmax_cross_entropy(y, targets)    # mean nats over the K*B characters
    grads = backward(params, x, cache, dy)          # BPTT inside the chunk only
    optimizer.step(params, clip_grad_norm(grads, clip))
    state = the chunk's last state                  # plain numbers: the gradient is cut here

When the streams reach the end of the training text, the next pass starts
again at chunk 0 from zero states (the end of stream b does not lead into
its beginning).
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from ..clip import clip_grad_norm
from ..data import CharVocab
from ..losses import softmax_cross_entropy
from ..validate import (check_float_dtype, check_nonneg_int, check_positive_float,
                        check_positive_int)
from .blas import blas_threads
from .corpus import chunk, split_text, stream_layout
from .evaluation import evaluate_bpc
from .lm import (DEFAULT_LR, OPTIMIZERS, CharLM, check_kind, encode, final_state, new_charlm,
                 one_hot, optimizer_name)
from .progress import Progress

__all__ = ["train_charlm"]

LN2 = float(np.log(2.0))


def _layout_key(train_text: str, B: int, K: int) -> str:
    """What must match for a resumed run's streams to continue where they stopped."""
    digest = hashlib.sha256(train_text.encode("utf-8")).hexdigest()[:16]
    return f"{digest}-B{B}-K{K}"


def _check_resume(resume, model, hidden_size, optimizer, dtype) -> CharLM:
    """The model to resume (a CharLM, or a path to load); refuse options that contradict it."""
    if isinstance(resume, (str, Path)):
        from .model_io import load_model
        resume = load_model(resume)
    if not isinstance(resume, CharLM):
        raise TypeError(f"resume must be a CharLM or the path of a saved model, "
                        f"got {type(resume).__name__}")
    given = {"model": (model, resume.kind), "hidden_size": (hidden_size, resume.hidden_size),
             "dtype": (None if dtype is None else check_float_dtype("dtype", dtype),
                       resume.dtype)}
    if resume.optimizer is not None:
        given["optimizer"] = (optimizer, optimizer_name(resume.optimizer))
    for name, (asked, has) in given.items():
        if asked is not None and asked != has:
            raise ValueError(f"{name} must be the resumed model's, {has!r}, or left out; "
                             f"got {asked!r}")
    return resume


def train_charlm(text: str, *, model: str | None = None, hidden_size: int | None = None,
                 seq_len: int = 25, batch_size: int = 32, seconds: float | None = None,
                 steps: int | None = None, seed: int = 0, lr: float | None = None,
                 optimizer: str | None = None, clip: float | None = 5.0,
                 val_fraction: float = 0.1, dtype=None, resume=None, progress=True,
                 eval_batch_size: int = 32, threads: int | None = 1):
    r"""Train a character model on the first ``1 - val_fraction`` of ``text``; score the rest.

    Parameters
    ----------
    text : str
        The whole text (e.g. :func:`bptt.charlm.read_text` of a file).
    model : {"rnn", "lstm", "gru"}
        The model; ``"lstm"`` when None (or the resumed model's).
    hidden_size : int
        ``H``; 100 when None (or the resumed model's).
    seq_len : int
        ``K``: characters per chunk, the steps each update backpropagates through.
    batch_size : int
        ``B``: streams read side by side; an update sees ``K*B`` characters.
    seconds : float, optional
        Stop after this much wall time (at least one update is made).
    steps : int, optional
        Stop after this many updates. At least one of ``seconds`` and
        ``steps`` must be given; with both, the first reached stops the run.
    seed : int
        Seeds the initial parameters; nothing else in training is random, so
        a run with ``steps`` is reproducible.
    lr : float, optional
        The learning rate; when None, the resumed model's, or 2e-3 for Adam
        and 0.1 for Adagrad.
    optimizer : {"adam", "adagrad"}
        ``"adam"`` when None (or the resumed model's).
    clip : float or None
        Rescale each update's gradient to this global norm when it is larger
        (:func:`bptt.clip.clip_grad_norm`); None does not clip.
    val_fraction : float
        The final fraction of ``text`` kept for validation, in ``[0, 1)``.
    dtype : numpy float dtype
        float32 when None (or the resumed model's).
    resume : CharLM or path, optional
        A model to train further: its parameters, optimiser state, number of
        updates, and, when the training text, ``batch_size`` and ``seq_len``
        are the same, the position of its streams and their carried states
        (so that resuming continues the run exactly). Its vocabulary is kept:
        ``text`` must use only characters it knows.
    progress : bool or {"bar", "lines"}
        Show progress on stdout (see :class:`bptt.charlm.progress.Progress`).
    eval_batch_size : int
        Streams for the validation score (:func:`bptt.charlm.evaluate_bpc`).
    threads : int or None
        OpenBLAS threads during the run (:func:`bptt.charlm.blas.blas_threads`:
        one is fastest for products this small); None leaves numpy's setting.

    Returns
    -------
    model : CharLM
        The trained model, with its optimiser and stream position for resuming.
    history : dict
        ``loss_bpc (n,)``: each update's training loss in bits per character
        (before the update); ``steps`` (this run's updates), ``chars``
        (characters processed, every stream counted), ``seconds`` (training
        wall time, without the validation), ``chars_per_s``; ``train_bpc``, the
        mean of the last tenth of ``loss_bpc``; ``val_bpc`` on the whole
        validation part (NaN when there is none); ``continued``: whether the
        streams continued a resumed run's; ``stopped``: None, or why the run
        stopped early (a loss that is not finite).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str (the text itself; read_text(path) reads a file), "
                        f"got {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty, got ''")
    K = check_positive_int("seq_len", seq_len)
    B = check_positive_int("batch_size", batch_size)
    if seconds is None and steps is None:
        raise ValueError("give seconds or steps (or both): how long to train, got neither")
    if seconds is not None:
        seconds = check_positive_float("seconds", seconds)
    steps = check_positive_int("steps", steps, allow_none=True)
    seed = check_nonneg_int("seed", seed)
    if optimizer is not None and optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    if model is not None:
        check_kind(model)
    if hidden_size is not None:
        check_positive_int("hidden_size", hidden_size)
    clip = None if clip is None else check_positive_float("clip", clip)
    eval_B = check_positive_int("eval_batch_size", eval_batch_size)
    threads = check_positive_int("threads", threads, allow_none=True)
    progress_display = Progress(progress, steps=steps, seconds=seconds)   # checks the mode

    train_text, val_text = split_text(text, val_fraction)
    if resume is not None:
        lm = _check_resume(resume, model, hidden_size, optimizer, dtype)
        codes = encode(lm.vocab, train_text, "the training part of text (resumed model)")
        if val_text:
            encode(lm.vocab, val_text, "the validation part of text (resumed model)")
    else:
        vocab = CharVocab(text)          # the whole text's characters, validation's too
        codes = vocab.encode(train_text)
    if codes.shape[0] < B * K + 1:
        raise ValueError(f"text is too short: its training part (the first "
                         f"{len(train_text)} of {len(text)} characters, val_fraction = "
                         f"{val_fraction}) must hold at least one batch of chunks, "
                         f"batch_size * seq_len + 1 = {B} * {K} + 1 = {B * K + 1} characters; "
                         f"use a longer text or a smaller batch_size or seq_len")
    data = stream_layout(codes, B, K)
    if resume is None:
        lm = new_charlm(vocab, model or "lstm", hidden_size or 100, seed=seed,
                        dtype=np.float32 if dtype is None else dtype)
    opt_name = optimizer or (optimizer_name(lm.optimizer) if lm.optimizer else "adam")
    if lr is not None:
        lr = check_positive_float("lr", lr)
    elif lm.optimizer is not None:
        lr = lm.optimizer.lr             # the resumed run's
    else:
        lr = DEFAULT_LR[opt_name]

    # From here on nothing can fail on the arguments: work on copies, so that a
    # resumed CharLM given by the caller is left as it was.
    params = {k: v.copy() for k, v in lm.params.items()}
    opt = _copy_optimizer(lm.optimizer) if lm.optimizer is not None else OPTIMIZERS[opt_name](lr)
    opt.lr = lr
    layout = _layout_key(train_text, B, K)
    position = lm.position if lm.position and lm.position.get("layout") == layout else None
    j, state = (position["chunk"], tuple(s.copy() for s in position["state"])) if position \
        else (0, ())
    with blas_threads(threads):
        history = _run(lm, params, opt, data, K, j, state, steps, seconds, clip,
                       progress_display)
        j, state = history.pop("_position")
        options = {"model": lm.kind, "hidden_size": lm.hidden_size, "seq_len": K,
                   "batch_size": B, "seconds": seconds, "steps": steps,
                   "seed": lm.options.get("seed", seed), "lr": lr, "optimizer": opt_name,
                   "clip": clip, "val_fraction": float(val_fraction), "dtype": str(lm.dtype)}
        trained = CharLM(lm.kind, params, lm.vocab, options, opt, lm.steps + history["steps"],
                         {"chunk": j, "state": state, "layout": layout})
        history["continued"] = position is not None
        history["val_bpc"] = (evaluate_bpc(trained, val_text, batch_size=eval_B)
                              if len(val_text) > 1 else float("nan"))
    return trained, history


def _copy_optimizer(opt):
    """A copy of an optimiser with its state (Adam's m, v, t; Adagrad's mem)."""
    new = type(opt).__new__(type(opt))
    new.__dict__.update({k: ({kk: (vv.copy() if isinstance(vv, np.ndarray) else vv)
                              for kk, vv in v.items()} if isinstance(v, dict) else v)
                         for k, v in opt.__dict__.items()})
    return new


def _run(lm, params, opt, data, K, j, state, steps, seconds, clip, progress):
    """The training loop on checked arguments; returns the history (and the stream position)."""
    model, V, dtype = lm.model, lm.vocab_size, lm.dtype
    n_chunks = (data.shape[1] - 1) // K
    B = data.shape[0]
    losses, stopped = [], None
    start = time.perf_counter()
    elapsed = 0.0
    while (steps is None or len(losses) < steps) and (
            seconds is None or not losses or elapsed < seconds):
        inputs, targets = chunk(data, j, K)
        x = one_hot(inputs, V, dtype)
        y, cache = model.forward(params, x, *state)
        loss, dy = softmax_cross_entropy(y, targets)
        if not np.isfinite(loss):
            stopped = f"the loss was {loss} at update {lm.steps + len(losses) + 1}"
            break
        grads = model.backward(params, x, cache, dy)
        if clip is not None:
            grads, _ = clip_grad_norm(grads, clip)
        opt.step(params, grads)
        losses.append(loss / LN2)
        state = final_state(cache)                  # carried, detached: the gradient is cut
        j += 1
        if j == n_chunks:                           # the end of the streams: a new pass
            j, state = 0, ()
        elapsed = time.perf_counter() - start
        progress.update(len(losses), elapsed, losses[-1], len(losses) * K * B)
    progress.close()
    n = len(losses)
    chars = n * K * B
    if not state:                                   # zeros, stored explicitly
        H = lm.hidden_size
        state = tuple(np.zeros((B, H), dtype=dtype) for _ in range(2 if lm.kind == "lstm" else 1))
    tail = losses[n - max(1, n // 10):] if n else []
    return {"loss_bpc": np.array(losses), "steps": n, "chars": chars, "seconds": elapsed,
            "chars_per_s": chars / elapsed if elapsed > 0 else float("nan"),
            "train_bpc": float(np.mean(tail)) if tail else float("nan"),
            "stopped": stopped, "_position": (j, state)}
