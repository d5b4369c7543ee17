"""Tests of bptt.char_units: states over a text, the indicators, correlations, held-out choice."""
from __future__ import annotations

import numpy as np
import pytest

from bptt.char_units import (correlations, find_units, in_word, line_position, sentence_end,
                             speaker_line, unit_states)
from bptt.charlm import new_charlm
from bptt.charlm.lm import one_hot
from bptt.data import CharVocab

TEXT = "GREMIO:\nGood morrow, sir. Go!\n\nBAPTISTA:\nCall'd Kate? Yes.\n"


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_states_are_the_forward_pass_over_one_stream(kind):
    lm = new_charlm(CharVocab(TEXT), kind, 6, seed=1, dtype=np.float64)
    whole = lm.model.forward(lm.params, one_hot(lm.vocab.encode(TEXT)[:, None],
                                                 lm.vocab_size, np.float64))[1]
    h = whole if isinstance(whole, np.ndarray) else whole["h"]
    # Chunked (state carried) equals one pass; row n is the state after text[n].
    states = unit_states(lm, TEXT, seq_len=7)
    assert states.shape == (len(TEXT), 6)
    np.testing.assert_allclose(states, h[1:, 0], rtol=1e-12, atol=1e-14)
    if kind == "lstm":
        np.testing.assert_allclose(unit_states(lm, TEXT, which="c", seq_len=5),
                                   whole["c"][1:, 0], rtol=1e-12, atol=1e-14)
    else:
        with pytest.raises(ValueError, match="needs an LSTM"):
            unit_states(lm, TEXT, which="c")


def test_indicators():
    t = "AB:\nab. c\n"
    np.testing.assert_array_equal(line_position(t), [1, 2, 3, 0, 1, 2, 3, 4, 5, 0])
    np.testing.assert_array_equal(speaker_line(t), [1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(sentence_end(t), [0, 0, 0, 0, 0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(in_word("a'b 'c"), [1, 1, 1, 0, 0, 1])
    # A colon inside a line of speech is not a speaker's line.
    assert speaker_line("Go to: now\n").sum() == 0


def test_correlations_match_numpy_and_treat_constants_as_zero():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 4))
    a[:, 3] = 2.0                                     # a constant unit
    z = a[:, 0] * 3 + 0.1 * rng.standard_normal(50)
    r = correlations(a, z)
    for j in range(3):
        assert r[j] == pytest.approx(np.corrcoef(a[:, j], z)[0, 1], abs=1e-12)
    assert r[3] == 0.0 and r[0] > 0.99
    assert np.all(correlations(a, np.ones(50)) == 0.0)
    with pytest.raises(ValueError, match="indicator"):
        correlations(a, z[:-1])


def test_find_units_chooses_on_one_text_and_scores_on_the_other():
    rng = np.random.default_rng(1)
    sel, test = "ab\ncd e\n" * 20, "xy z\nw\n" * 20
    sel_states = rng.standard_normal((len(sel), 5))
    test_states = rng.standard_normal((len(test), 5))
    sel_states[:, 2] = line_position(sel)              # unit 2 tracks it on both texts
    test_states[:, 2] = -line_position(test)
    out = find_units(sel_states, sel, test_states, test, {"pos": line_position}, threshold=0.9)
    assert out["pos"]["unit"] == 2
    assert out["pos"]["r_select"] == pytest.approx(1.0)
    assert out["pos"]["r_test"] == pytest.approx(-1.0)
    assert out["pos"]["n_strong"] == 1 and out["pos"]["r_test_all"].shape == (5,)
