"""Saving and loading a character model: one ``.npz`` file, written atomically, read safely.

The file is a plain numpy ``.npz`` (a zip of ``.npy`` arrays) that numpy alone
can open, with no pickled objects:

==========================  ==================================================
``meta``                    JSON text: ``format`` (``"bptt.charlm"``),
                            ``version``, ``kind``, ``vocab`` (the characters,
                            in code order), ``options`` (the training options
                            used), ``steps``, the optimiser's name, learning
                            rate, constants and step counts, and the stream
                            position (chunk index, layout key)
``param/<key>``             each parameter, e.g. ``param/W_hh``
``opt/<name>/<key>``        the optimiser's state: Adam's ``m`` and ``v``,
                            Adagrad's ``mem``
``state/<i>``               the carried states ``(B, H)`` (``h``, then ``c``)
==========================  ==================================================

Saving writes a temporary file in the destination's folder and renames it
over the destination (``os.replace``, atomic on one file system): a crash or
an error mid-write leaves the old file, or none, never half a model.
Loading reads with ``allow_pickle=False`` and checks everything (the format
tag, the model's keys and shapes against the vocabulary, the optimiser's
state) before returning, so a truncated or foreign file is refused with a
message that says so.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..data import CharVocab
from .lm import MODELS, OPTIMIZERS, CharLM, optimizer_name

__all__ = ["FORMAT", "VERSION", "save_model", "load_model", "check_out_path"]

FORMAT, VERSION = "bptt.charlm", 1


def check_out_path(path) -> Path:
    """Check that a model can be written at ``path`` (its folder exists; it is no folder)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"out path {str(p)!r} is a folder; give a file name such as "
                         f"{str(p / 'model.npz')!r}")
    if not p.parent.is_dir():
        raise FileNotFoundError(f"out path {str(p)!r}: its folder {str(p.parent)!r} does not exist")
    return p


def _arrays(lm: CharLM) -> dict:
    opt = lm.optimizer
    meta = {"format": FORMAT, "version": VERSION, "kind": lm.kind, "vocab": lm.vocab.chars,
            "options": lm.options, "steps": int(lm.steps), "optimizer": None, "position": None}
    arrays = {f"param/{k}": v for k, v in lm.params.items()}
    if opt is not None:
        name = optimizer_name(opt)
        state = {"adam": ("m", "v"), "adagrad": ("mem",)}[name]
        meta["optimizer"] = {"name": name, "lr": opt.lr, "eps": opt.eps,
                             "betas": list(getattr(opt, "betas", ())) or None,
                             "t": dict(getattr(opt, "t", {})) or None}
        for s in state:
            arrays.update({f"opt/{s}/{k}": v for k, v in getattr(opt, s).items()})
    if lm.position is not None:
        meta["position"] = {"chunk": int(lm.position["chunk"]), "layout": lm.position["layout"]}
        arrays.update({f"state/{i}": s for i, s in enumerate(lm.position["state"])})
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def save_model(path, model: CharLM) -> Path:
    """Write ``model`` to ``path`` (an ``.npz``; the name is used as given), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist. An existing file is replaced.
    model : CharLM
        E.g. the first value :func:`bptt.charlm.train_charlm` returns.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if not isinstance(model, CharLM):
        raise TypeError(f"model must be a bptt.charlm.CharLM, got {type(model).__name__}")
    p = check_out_path(path)
    arrays = _arrays(model)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode open() would have.
        os.chmod(tmp, _new_file_mode())
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)              # a file object: no ".npz" appended
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        os.unlink(tmp)
        raise
    return p


def _new_file_mode() -> int:
    """``0o666`` less the process's umask: the mode ``open(path, "w")`` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _Bad(ValueError):
    pass


def load_model(path) -> CharLM:
    """Read a model written by :func:`save_model`; refuse anything else with a clear error.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.

    Returns
    -------
    CharLM
        With its optimiser and stream position, ready to sample from or to
        resume (``train_charlm(text, resume=model, ...)``).

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        When the file is not one of ours, or is truncated or inconsistent.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"model path must be a str or path, got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"model file {str(p)!r} does not exist")
    try:
        arrays = _read(p)
        return _build(arrays)
    except _Bad as exc:
        raise ValueError(f"model file {str(p)!r} is not a {FORMAT} model saved by "
                         f"bptt.charlm.save_model: {exc}") from None


def _read(p: Path) -> dict:
    try:
        obj = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise _Bad(f"it cannot be read as an .npz file ({type(exc).__name__}: {exc}); "
                   f"is it truncated, or another kind of file?") from None
    if not isinstance(obj, np.lib.npyio.NpzFile):
        raise _Bad(f"it holds a single array, not an .npz archive (got {type(obj).__name__})")
    try:
        with obj:
            return {k: obj[k] for k in obj.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise _Bad(f"an entry cannot be read ({type(exc).__name__}: {exc}); "
                   f"the file may be truncated") from None


def _build(arrays: dict) -> CharLM:
    if "meta" not in arrays:
        raise _Bad(f"it has no 'meta' entry (entries: {sorted(arrays)[:8]})")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as exc:
        raise _Bad(f"its 'meta' entry is not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Bad(f"its format tag is {meta.get('format') if isinstance(meta, dict) else None!r}, "
                   f"expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise _Bad(f"format version {meta.get('version')!r}, this package reads {VERSION}")
    try:
        return _from_meta(meta, arrays)
    except (KeyError, TypeError, ValueError) as exc:
        raise _Bad(f"it is inconsistent ({type(exc).__name__}: {exc})") from None


def _from_meta(meta: dict, arrays: dict) -> CharLM:
    kind = meta["kind"]
    if kind not in MODELS:
        raise ValueError(f"kind must be one of {sorted(MODELS)}, got {kind!r}")
    model = MODELS[kind]
    vocab = CharVocab(meta["vocab"])
    if vocab.chars != meta["vocab"]:
        raise ValueError("the vocabulary is not sorted characters, each once")
    params = {k: arrays[f"param/{k}"] for k in model.keys}
    D, H, O = model.check(params)
    if D != vocab.size or O != vocab.size:
        raise ValueError(f"the parameters take {D} inputs and give {O} outputs, but the "
                         f"vocabulary has V = {vocab.size} characters")
    opt = None
    if meta["optimizer"] is not None:
        o = meta["optimizer"]
        cls = OPTIMIZERS[o["name"]]
        opt = cls(o["lr"], eps=o["eps"]) if o["name"] == "adagrad" else \
            cls(o["lr"], betas=tuple(o["betas"]), eps=o["eps"])
        for s in ({"adam": ("m", "v"), "adagrad": ("mem",)}[o["name"]]):
            state = {k: arrays[f"opt/{s}/{k}"] for k in model.keys if f"opt/{s}/{k}" in arrays}
            for k, a in state.items():
                if a.shape != params[k].shape or a.dtype != params[k].dtype:
                    raise ValueError(f"the optimiser's {s}[{k!r}] has shape {a.shape}, "
                                     f"expected {params[k].shape}")
            getattr(opt, s).update(state)
        if o["name"] == "adam":
            opt.t.update({k: int(v) for k, v in (o["t"] or {}).items()})
    position = None
    if meta["position"] is not None:
        n = 2 if kind == "lstm" else 1
        state = tuple(arrays[f"state/{i}"] for i in range(n))
        for s in state:
            if s.ndim != 2 or s.shape[1] != H or s.dtype != params["W_hh"].dtype:
                raise ValueError(f"a carried state has shape {s.shape}, expected (B, {H})")
        position = {"chunk": int(meta["position"]["chunk"]), "state": state,
                    "layout": str(meta["position"]["layout"])}
    return CharLM(kind, params, vocab, dict(meta["options"]), opt, int(meta["steps"]), position)
