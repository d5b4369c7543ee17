r"""The text a character model trains on: read, split, and cut into B parallel streams.

A text of N characters is split once, in order: the first ``1 - val_fraction``
of it trains, the rest validates (no shuffling: the validation part is text the
model has never read, as a later chapter of the same book would be).

Training walks B streams side by side. The training part is cut into B
contiguous pieces of ``L = n_chunks * K`` characters; stream b reads
characters ``b L .. b L + L`` (one more than it predicts: the last target),
K at a time::

    codes:   |---- stream 0 ----|---- stream 1 ----| ... |-- stream B-1 --|.
    chunk j: inputs  data[:, jK     : (j+1)K]    (B, K), transposed to (K, B)
             targets data[:, jK + 1 : (j+1)K + 1]       (the next character)

Column b of chunk j+1 continues column b of chunk j, so the state a chunk
ends in is the right initial state of the next: carried, but detached
(truncated BPTT, :mod:`bptt.stream`). This is :func:`bptt.data.char_batches`
held as one ``(B, L+1)`` array, so that a run can start at any chunk (resuming)
and loop over the text again.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..validate import check_positive_int

__all__ = ["SHIPPED_TEXT", "read_text", "split_text", "stream_layout", "chunk"]

#: The text shipped with the package (package data): Shakespeare, 1,115,394 characters.
SHIPPED_TEXT = Path(__file__).resolve().parent.parent / "texts" / "tinyshakespeare.txt"


def read_text(path) -> str:
    """Read a UTF-8 text file; refuse a missing, unreadable or empty one by name.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        Its characters (newlines kept as they are: ``newline=""``).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"text path must be a str or path, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"text file {str(p)!r} does not exist")
    if not p.is_file():
        raise ValueError(f"text file {str(p)!r} is not a file")
    try:
        with open(p, encoding="utf-8", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise ValueError(f"text file {str(p)!r} is not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start})") from None
    if not text:
        raise ValueError(f"text file {str(p)!r} is empty; a character model needs text")
    return text


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """Split ``text`` into its first ``1 - val_fraction`` (training) and the rest (validation).

    Parameters
    ----------
    text : str
        The whole text, non-empty.
    val_fraction : float
        In ``[0, 1)``; 0 gives an empty validation part.

    Returns
    -------
    train, val : str
        ``train + val == text``; ``len(val) = round(val_fraction * len(text))``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty, got ''")
    if isinstance(val_fraction, (bool, np.bool_)) or not isinstance(
            val_fraction, (int, float, np.integer, np.floating)):
        raise TypeError(f"val_fraction must be a number in [0, 1), "
                        f"got {type(val_fraction).__name__} {val_fraction!r}")
    if not 0.0 <= val_fraction < 1.0:          # also refuses NaN
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = int(round(float(val_fraction) * len(text)))
    if val_fraction > 0 and n_val < 2:
        raise ValueError(f"val_fraction = {val_fraction} of a text of {len(text)} characters "
                         f"leaves {n_val} for validation; at least 2 are needed (one input, "
                         f"one target), or val_fraction = 0 for none")
    return text[:len(text) - n_val], text[len(text) - n_val:]


def stream_layout(codes: np.ndarray, batch_size: int, seq_len: int) -> np.ndarray:
    """The B streams of an encoded text, as rows: ``data (B, L+1)``, ``L = n_chunks * K``.

    Parameters
    ----------
    codes : ndarray of int, shape (N,)
        The encoded text.
    batch_size : int
        ``B``, the number of streams.
    seq_len : int
        ``K``, characters per chunk.

    Returns
    -------
    data : ndarray of int32, shape (B, L+1)
        ``data[b] = codes[b L : b L + L + 1]``: stream b's own contiguous slice,
        its last character only a target. ``n_chunks = (N - 1) // (B K)``; the
        last ``N - 1 - B L`` characters are not used.
    """
    B = check_positive_int("batch_size", batch_size)
    K = check_positive_int("seq_len", seq_len)
    codes = np.asarray(codes)
    if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be an int array of shape (N,), got {codes.dtype} "
                         f"{codes.shape}")
    N = codes.shape[0]
    n_chunks = (N - 1) // (B * K)
    if n_chunks < 1:
        raise ValueError(f"the training text must hold at least one batch of chunks, "
                         f"batch_size * seq_len + 1 = {B} * {K} + 1 = {B * K + 1} characters, "
                         f"got {N}; use a longer text or a smaller batch_size or seq_len")
    L = n_chunks * K
    # Row b starts at b L; the (B, L+1) windows overlap by one character (a target).
    starts = np.arange(B)[:, None] * L + np.arange(L + 1)[None, :]
    return codes[starts].astype(np.int32)


def chunk(data: np.ndarray, j: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunk j of the streams: ``inputs, targets (K, B)``, time first; targets shifted by one."""
    s = j * seq_len
    return data[:, s:s + seq_len].T, data[:, s + 1:s + seq_len + 1].T
