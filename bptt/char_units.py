r"""What a character model's hidden units track: states over a text, hand-made indicators, correlations.

Karpathy, Johnson and Fei-Fei (2015, "Visualizing and understanding recurrent
networks") found LSTM cells that follow something a reader can name: the
position in a line, being inside quotes or brackets. This module finds such
units the simple way, by correlating each unit's activation with a hand-made
indicator of the text:

* :func:`unit_states` runs a model over a text (one stream, from a zero
  state) and returns the state after each character, ``(N, H)``;
* the indicators (:data:`INDICATORS`) give one number per character, the
  property of the text up to and including it;
* :func:`correlations` gives Pearson's :math:`r` of every unit with an
  indicator, and :func:`find_units` picks the unit of largest :math:`|r|` on
  one text and scores it on another (held-out) text, so that the reported
  :math:`r` is not inflated by the choice among H units.

Notes
-----
Pearson's correlation of unit :math:`j`'s activations :math:`a_{nj}` with an
indicator :math:`z_n` over :math:`N` characters is

.. math::

    r_j = \frac{\sum_n (a_{nj} - \bar a_j)(z_n - \bar z)}
               {\sqrt{\sum_n (a_{nj} - \bar a_j)^2}\,\sqrt{\sum_n (z_n - \bar z)^2}},

taken as 0 for a unit (or an indicator) that is constant on the text. The
largest of H such values is biased upwards on the text it was chosen on; on
held-out text it is not. Chapter "A character-level language model" uses it.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["unit_states", "line_position", "speaker_line", "sentence_end", "in_word",
           "INDICATORS", "correlations", "find_units"]

_SPEAKER = re.compile(r"^[A-Z][A-Za-z' ]*:$", flags=re.M)


def unit_states(lm, text: str, *, which: str = "h", seq_len: int = 200) -> np.ndarray:
    """The state after each character of ``text``, read as one stream from a zero state.

    Parameters
    ----------
    lm : bptt.charlm.CharLM
        A character model.
    text : str
        At least one character, all in the model's vocabulary.
    which : {"h", "c"}
        The hidden state, or (LSTM only) the cell state.
    seq_len : int
        Characters per forward pass (memory only; the state is carried).

    Returns
    -------
    ndarray of float64, shape (N, H)
        Row n: the state after reading ``text[n]``.
    """
    if which not in ("h", "c"):
        raise ValueError(f"which must be 'h' or 'c', got {which!r}")
    if which == "c" and lm.kind != "lstm":
        raise ValueError(f"which='c' needs an LSTM (it has a cell state), got {lm.kind!r}")
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty str")
    codes = lm.vocab.encode(text)
    eye = np.eye(lm.vocab_size, dtype=lm.dtype)         # one-hot rows
    out, state = [], ()
    for s in range(0, codes.shape[0], seq_len):
        x = eye[codes[s:s + seq_len, None]]              # (T, 1, V)
        _, cache = lm.model.forward(lm.params, x, *state)
        if isinstance(cache, np.ndarray):                # the RNN's cache is h (T+1, B, H)
            cache = {"h": cache}
        out.append(cache[which][1:, 0].astype(np.float64))   # (T, H): after each character
        # The carried state: h (and the LSTM's c) after the chunk's last character.
        state = tuple(cache[k][-1] for k in ("h", "c") if k in cache)
    return np.concatenate(out)


def line_position(text: str) -> np.ndarray:
    """Characters since the last newline (0 at a newline), shape (N,)."""
    pos = np.empty(len(text))
    n = 0
    for i, ch in enumerate(text):
        n = 0 if ch == "\n" else n + 1
        pos[i] = n
    return pos


def speaker_line(text: str) -> np.ndarray:
    """1 on the characters of a speaker's name line ("GREMIO:"), newline excluded, else 0."""
    z = np.zeros(len(text))
    for m in _SPEAKER.finditer(text):
        z[m.start():m.end()] = 1.0
    return z


def sentence_end(text: str) -> np.ndarray:
    """1 where the last character that is not a space or newline ends a sentence (. ! ?)."""
    z = np.zeros(len(text))
    ended = 0.0
    for i, ch in enumerate(text):
        if ch not in " \n":
            ended = 1.0 if ch in ".!?" else 0.0
        z[i] = ended
    return z


def in_word(text: str) -> np.ndarray:
    """1 on letters (and the apostrophe inside a word, as in "Call'd"), else 0."""
    return np.array([1.0 if (ch.isalpha() or (ch == "'" and 0 < i < len(text) - 1
                                             and text[i - 1].isalpha() and text[i + 1].isalpha()))
                     else 0.0 for i, ch in enumerate(text)])


#: The indicators the chapter tries, by name.
INDICATORS = {"position in the line": line_position, "speaker's name line": speaker_line,
              "a sentence has ended": sentence_end, "inside a word": in_word}


def correlations(states: np.ndarray, indicator: np.ndarray) -> np.ndarray:
    """Pearson's r of each unit with the indicator: ``states (N, H)``, ``indicator (N,)`` -> (H,).

    A unit or an indicator that is constant over the text gets r = 0.
    """
    a = np.asarray(states, dtype=np.float64)
    z = np.asarray(indicator, dtype=np.float64)
    if a.ndim != 2 or z.shape != (a.shape[0],):
        raise ValueError(f"states must be (N, H) and indicator (N,), got {a.shape} and {z.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"need at least 2 characters, got {a.shape[0]}")
    a = a - a.mean(axis=0)
    z = z - z.mean()
    den = np.sqrt((a ** 2).sum(axis=0) * (z ** 2).sum())
    num = z @ a
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return r


def find_units(select_states, select_text: str, test_states, test_text: str,
               indicators: dict | None = None, *, threshold: float = 0.5) -> dict:
    """For each indicator, the unit of largest |r| on one text, and its r on held-out text.

    Parameters
    ----------
    select_states, test_states : ndarray, shape (N1, H) and (N2, H)
        States over the selection text and the held-out text (:func:`unit_states`).
    select_text, test_text : str
        The texts, ``N1`` and ``N2`` characters.
    indicators : dict of str to callable, optional
        Name to ``f(text) -> (N,)``; :data:`INDICATORS` by default.
    threshold : float
        Units with ``|r| >= threshold`` on the held-out text are counted.

    Returns
    -------
    dict of str to dict
        Per indicator: ``unit`` (chosen on the selection text), ``r_select``
        (its r there), ``r_test`` (its r on the held-out text), ``n_strong``
        (units with ``|r| >= threshold`` on the held-out text) and
        ``r_test_all`` (every unit's r on it, shape (H,)).
    """
    indicators = INDICATORS if indicators is None else indicators
    out = {}
    for name, f in indicators.items():
        r_sel = correlations(select_states, f(select_text))
        r_test = correlations(test_states, f(test_text))
        unit = int(np.argmax(np.abs(r_sel)))
        out[name] = {"unit": unit, "r_select": float(r_sel[unit]),
                     "r_test": float(r_test[unit]),
                     "n_strong": int(np.sum(np.abs(r_test) >= threshold)),
                     "r_test_all": r_test}
    return out
