"""The min-char-rnn reimplementation that issue 13's benchmark compares with is itself correct.

It lives in ``benchmarks/`` (not a package), so it is imported by path.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "min_char_rnn.py"
_spec = importlib.util.spec_from_file_location("min_char_rnn", _PATH)
mcr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mcr)


def _loss(params, inputs, targets, h_prev):
    return mcr.loss_and_grads(params, inputs, targets, h_prev, clip=None)[0]


@pytest.mark.parametrize("T", [1, 4])
def test_gradient_matches_finite_differences(T):
    V, H = 5, 3
    rng = np.random.default_rng(T)
    params = mcr.init_params(V, H, seed=1)
    for k in params:                       # larger than 0.01 so every term matters
        params[k] = rng.standard_normal(params[k].shape) * 0.5
    inputs = rng.integers(0, V, T).tolist()
    targets = rng.integers(0, V, T).tolist()
    h_prev = rng.standard_normal((H, 1)) * 0.5
    _, grads, _ = mcr.loss_and_grads(params, inputs, targets, h_prev, clip=None)
    eps = 1e-6
    for k, p in params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = _loss(params, inputs, targets, h_prev)
            p[idx] = old - eps
            down = _loss(params, inputs, targets, h_prev)
            p[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        err = np.max(np.abs(grads[k] - numeric))
        assert err < 1e-7 * max(1.0, np.max(np.abs(numeric))), (
            f"d{k}: backprop {grads[k].ravel()} vs finite differences {numeric.ravel()}, "
            f"max |difference| {err:.3g}")


def test_clipping_and_carried_state():
    params = mcr.init_params(4, 3, seed=0)
    params["Why"][:] = 100.0               # huge gradients: every entry must be clipped
    loss, grads, h_last = mcr.loss_and_grads(params, [0, 1, 2], [1, 2, 3], np.zeros((3, 1)))
    assert all(np.max(np.abs(g)) <= mcr.CLIP for g in grads.values())
    assert h_last.shape == (3, 1) and loss > 0


def test_loss_falls_on_a_tiny_text():
    text = "hello world, hello there. " * 20
    vocab = "".join(sorted(set(text)))
    codes = mcr.encode(text, vocab)
    before = mcr.bits_per_char(mcr.logits_fn(mcr.init_params(len(vocab), 32, seed=0)), codes)
    params, got_vocab, chars = mcr.train_min_char_rnn(text, seconds=10.0, seed=0,
                                                      hidden_size=32, max_steps=300)
    after = mcr.bits_per_char(mcr.logits_fn(params), codes)
    assert got_vocab == vocab and chars == 300 * mcr.SEQ_LENGTH
    assert abs(before - np.log2(len(vocab))) < 0.01, (before, np.log2(len(vocab)))
    assert after < 0.5 * before, f"bits per character {before:.3f} -> {after:.3f}"


def test_bits_per_char_does_not_depend_on_the_chunk():
    rng = np.random.default_rng(0)
    params = mcr.init_params(6, 4, seed=0)
    for k in params:
        params[k] = rng.standard_normal(params[k].shape)
    codes = rng.integers(0, 6, 50)
    for streams in (1, 3):
        values = [mcr.bits_per_char(mcr.logits_fn(params), codes, chunk=c, streams=streams)
                  for c in (1, 7, 100)]
        np.testing.assert_allclose(values, values[0], rtol=1e-12)


def test_bits_per_char_scores_every_character_once():
    """A stateless bigram model scores the same in any number of streams, and as counted here."""
    V = 7
    table = np.random.default_rng(1).standard_normal((V, V))

    def bigram(codes, state):
        return table[codes], state

    codes = np.random.default_rng(0).integers(0, V, 53)
    log_p = table - np.log(np.exp(table).sum(axis=1, keepdims=True))
    want = -np.mean(log_p[codes[:-1], codes[1:]]) / np.log(2)
    for streams in (1, 4, 52, 100):
        got = mcr.bits_per_char(bigram, codes, streams=streams)
        assert abs(got - want) < 1e-12, f"streams={streams}: {got} != {want}"
