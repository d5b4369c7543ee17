"""Tests for bptt.charlm: the streams, training, resuming, bits per character, sampling, files."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from bptt.charlm import (SHIPPED_TEXT, evaluate_bpc, load_model, new_charlm, read_text, sample,
                         save_model, split_text, stream_layout, train_charlm)
from bptt.charlm.corpus import chunk
from bptt.charlm.lm import final_state, one_hot
from bptt.data import CharVocab

TEXT = SHIPPED_TEXT.read_text(encoding="utf-8")[:6000]
SMALL = dict(model="rnn", hidden_size=12, seq_len=8, batch_size=4, seed=3, progress=False)


@pytest.fixture(scope="module")
def trained():
    return train_charlm(TEXT, steps=6, **{**SMALL, "model": "lstm"})


# ---------------------------------------------------------------- the streams

def test_each_stream_covers_its_own_contiguous_slice():
    codes = np.arange(103)
    data = stream_layout(codes, batch_size=4, seq_len=5)     # n_chunks = 102 // 20 = 5
    L = 25
    assert data.shape == (4, L + 1)
    for b in range(4):
        np.testing.assert_array_equal(data[b], codes[b * L:b * L + L + 1])


def test_chunks_walk_the_streams_and_targets_are_inputs_shifted_by_one():
    codes = np.arange(103)
    data = stream_layout(codes, 4, 5)
    inputs = np.concatenate([chunk(data, j, 5)[0] for j in range(5)])    # (25, 4)
    targets = np.concatenate([chunk(data, j, 5)[1] for j in range(5)])
    np.testing.assert_array_equal(inputs, data[:, :-1].T)
    np.testing.assert_array_equal(targets, inputs + 1)                   # codes are positions


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_carrying_the_state_across_chunks_is_one_long_forward(kind):
    lm = new_charlm(CharVocab(TEXT), kind, 7, seed=1, dtype=np.float64)
    data = stream_layout(lm.vocab.encode(TEXT), 3, 6)
    n = 4
    state, ys = (), []
    for j in range(n):
        y, cache = lm.model.forward(lm.params, one_hot(chunk(data, j, 6)[0], lm.vocab_size,
                                                       lm.dtype), *state)
        state = final_state(cache)
        ys.append(y)
    whole = one_hot(data[:, :n * 6].T, lm.vocab_size, lm.dtype)
    y_long, cache = lm.model.forward(lm.params, whole)
    np.testing.assert_allclose(np.concatenate(ys), y_long, rtol=1e-12, atol=1e-12)
    for a, b in zip(state, final_state(cache)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_split_keeps_the_order_and_the_last_tenth():
    train, val = split_text("abcdefghij" * 10, 0.1)
    assert train + val == "abcdefghij" * 10 and len(val) == 10
    assert split_text("abcdef", 0.0) == ("abcdef", "")


# ---------------------------------------------------------------- bits per character

def _hand_nats(params, codes, start, stop, h):
    """-ln p of codes[start+1 .. stop] read from codes[start ..], an RNN written out."""
    total = 0.0
    for n in range(start, stop):
        h = np.tanh(params["W_xh"][:, codes[n]] + params["W_hh"] @ h + params["b_h"])
        y = params["W_hy"] @ h + params["b_y"]
        total -= y[codes[n + 1]] - np.log(np.sum(np.exp(y)))
    return total, h


@pytest.mark.parametrize("batch_size", [1, 2, 3, 10])
def test_bpc_is_the_hand_computed_mean_of_minus_log2_p(batch_size):
    text = "abbabca"
    lm = new_charlm(CharVocab(text), "rnn", 2, seed=5, dtype=np.float64)
    lm.params["b_h"][:] = [0.3, -0.2]
    lm.params["b_y"][:] = [0.1, -0.4, 0.2]
    codes = lm.vocab.encode(text)
    N = len(text) - 1
    B = min(batch_size, N)
    L = N // B
    nats, h = 0.0, np.zeros(2)
    for b in range(B):                       # each stream from a zero state
        more, h = _hand_nats(lm.params, codes, b * L, b * L + L, np.zeros(2))
        nats += more
    more, _ = _hand_nats(lm.params, codes, B * L, N, h)     # the rest continues stream B-1
    nats += more
    expected = nats / N / np.log(2)
    got = evaluate_bpc(lm, text, batch_size=batch_size, seq_len=2)
    assert abs(got - expected) < 1e-12, (got, expected)


def test_bpc_does_not_depend_on_the_chunk_length(trained):
    lm, _ = trained
    a = evaluate_bpc(lm, TEXT[:777], batch_size=5, seq_len=3)
    b = evaluate_bpc(lm, TEXT[:777], batch_size=5, seq_len=1000)
    assert abs(a - b) < 1e-5, (a, b)


def test_bpc_of_an_untrained_model_is_near_log2_V():
    lm = new_charlm(CharVocab(TEXT), "rnn", 8, seed=0)
    got = evaluate_bpc(lm, TEXT[:2000])
    assert abs(got - np.log2(lm.vocab_size)) < 1.0, got


# ---------------------------------------------------------------- training

def test_training_reports_what_it_did(trained):
    lm, history = trained
    assert history["steps"] == 6 and lm.steps == 6
    assert history["chars"] == 6 * 8 * 4
    assert history["loss_bpc"].shape == (6,)
    assert history["train_bpc"] == history["loss_bpc"][-1]        # the last tenth of 6: one
    assert np.isfinite(history["val_bpc"]) and history["chars_per_s"] > 0
    assert lm.options["seq_len"] == 8 and lm.options["optimizer"] == "adam"
    assert lm.params["W_hh"].dtype == np.float32


def test_a_timed_run_stops_on_the_clock_and_no_validation_gives_nan():
    lm, history = train_charlm(TEXT, seconds=0.3, val_fraction=0.0, **SMALL)
    assert history["steps"] >= 1 and 0.3 <= history["seconds"] < 2.0
    assert np.isnan(history["val_bpc"]) and lm.options["val_fraction"] == 0.0
    _, history = train_charlm(TEXT, seconds=60.0, steps=3, **SMALL)     # the first to come
    assert history["steps"] == 3 and history["seconds"] < 5.0


def test_training_lowers_the_loss():
    _, history = train_charlm(TEXT, steps=60, lr=1e-2, **SMALL)
    assert history["loss_bpc"][-10:].mean() < history["loss_bpc"][:5].mean() - 1.0


def test_the_same_seed_and_steps_give_the_same_model():
    a, _ = train_charlm(TEXT, steps=5, **SMALL)
    b, _ = train_charlm(TEXT, steps=5, **SMALL)
    c, _ = train_charlm(TEXT, steps=5, **{**SMALL, "seed": 4})
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["W_hh"], c.params["W_hh"])


@pytest.mark.parametrize("kind, opt", [("lstm", "adam"), ("gru", "adagrad")])
def test_resuming_from_a_file_continues_the_run_exactly(tmp_path, kind, opt):
    # 720 training characters make 719 // (4 * 8) = 22 chunks: 30 steps pass the end
    # of the streams once (the states restart from zeros), after the resumption.
    text = TEXT[:800]
    options = {**SMALL, "model": kind, "optimizer": opt}
    whole, _ = train_charlm(text, steps=30, **options)
    first, _ = train_charlm(text, steps=17, **options)
    save_model(tmp_path / "m.npz", first)
    resumed, history = train_charlm(text, steps=13, resume=tmp_path / "m.npz",
                                    **{k: v for k, v in options.items() if k != "seed"})
    assert history["continued"] and resumed.steps == 30
    for k in whole.params:
        np.testing.assert_allclose(resumed.params[k], whole.params[k], rtol=1e-6, atol=1e-7)


def test_resuming_leaves_the_given_model_alone(trained):
    lm, _ = trained
    before = {k: v.copy() for k, v in lm.params.items()}
    more, _ = train_charlm(TEXT, steps=2, resume=lm, seq_len=8, batch_size=4, progress=False)
    assert more.steps == lm.steps + 2
    for k in before:
        np.testing.assert_array_equal(lm.params[k], before[k])


def test_resuming_on_other_streams_starts_them_afresh(trained):
    lm, _ = trained
    _, history = train_charlm(TEXT, steps=1, resume=lm, seq_len=5, batch_size=4, progress=False)
    assert not history["continued"]


# ---------------------------------------------------------------- sampling

def test_sample_draws_length_characters_of_the_vocabulary(trained):
    lm, _ = trained
    text = sample(lm, 50, temperature=0.8, seed=2, prime="ROMEO:")
    assert len(text) == 50 and set(text) <= set(lm.vocab.chars)
    assert sample(lm, 50, temperature=0.8, seed=2, prime="ROMEO:") == text
    assert sample(lm, 50, temperature=0.8, seed=3, prime="ROMEO:") != text
    assert len(sample(lm, 7)) == 7


def test_a_cold_sample_picks_the_likeliest_character(trained):
    lm, _ = trained
    x = one_hot(lm.vocab.encode("ab")[:, None], lm.vocab_size, lm.dtype)
    y, _ = lm.model.forward(lm.params, x)
    assert sample(lm, 1, temperature=1e-4, prime="ab") == lm.vocab.chars[int(np.argmax(y[-1, 0]))]


# ---------------------------------------------------------------- files

def test_save_and_load_give_the_same_model(trained, tmp_path):
    lm, _ = trained
    path = save_model(tmp_path / "m.npz", lm)
    assert os.listdir(tmp_path) == ["m.npz"]                  # no temporary file left
    (tmp_path / "plain").write_text("")                       # the mode open() gives
    assert path.stat().st_mode == (tmp_path / "plain").stat().st_mode
    (tmp_path / "plain").unlink()
    back = load_model(path)
    assert (back.kind, back.vocab.chars, back.steps, back.options) == \
        (lm.kind, lm.vocab.chars, lm.steps, lm.options)
    for k in lm.params:
        np.testing.assert_array_equal(back.params[k], lm.params[k])
    for k in lm.optimizer.m:
        np.testing.assert_array_equal(back.optimizer.v[k], lm.optimizer.v[k])
    assert back.optimizer.t == lm.optimizer.t and back.optimizer.lr == lm.optimizer.lr
    assert back.position["chunk"] == lm.position["chunk"]
    np.testing.assert_array_equal(back.position["state"][1], lm.position["state"][1])
    with np.load(path, allow_pickle=False) as f:              # plain numpy can read it
        assert "param/W_hh" in f.files


def test_a_vocabulary_with_odd_characters_survives_the_file(tmp_path):
    text = "a\x00b\n\u00e9\U0001F600 " * 20
    lm, _ = train_charlm(text, steps=1, **{**SMALL, "batch_size": 2})
    back = load_model(save_model(tmp_path / "m.npz", lm))
    assert back.vocab.chars == lm.vocab.chars


def test_a_truncated_file_is_refused(trained, tmp_path):
    lm, _ = trained
    path = save_model(tmp_path / "m.npz", lm)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="is not a bptt.charlm model"):
            load_model(bad)


@pytest.mark.parametrize("write", [
    lambda p: p.write_text("hello, I am text"),
    lambda p: np.save(open(p, "wb"), np.zeros(3)),
    lambda p: np.savez(open(p, "wb"), W_hh=np.zeros((3, 3))),
    lambda p: np.savez(open(p, "wb"), meta=np.array('{"format": "other"}')),
    lambda p: np.savez(open(p, "wb"), meta=np.array("not json")),
    lambda p: zipfile.ZipFile(p, "w").writestr("x.txt", "a zip, not an npz"),
])
def test_a_foreign_file_is_refused(tmp_path, write):
    path = tmp_path / "foreign.npz"
    write(path)
    with pytest.raises(ValueError, match="is not a bptt.charlm model"):
        load_model(path)


def test_a_file_whose_parameters_do_not_fit_its_vocabulary_is_refused(trained, tmp_path):
    lm, _ = trained
    path = save_model(tmp_path / "m.npz", lm)
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["param/W_hy"] = arrays["param/W_hy"][:-1]
    arrays["param/b_y"] = arrays["param/b_y"][:-1]
    np.savez(open(path, "wb"), **arrays)
    with pytest.raises(ValueError, match="inconsistent.*vocabulary has V"):
        load_model(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_model(tmp_path / "nothing.npz")


def test_saving_into_a_missing_folder_writes_nothing(trained, tmp_path):
    lm, _ = trained
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(tmp_path / "no" / "m.npz", lm)
    with pytest.raises(ValueError, match="is a folder"):
        save_model(tmp_path, lm)
    assert os.listdir(tmp_path) == []


def test_a_failed_save_leaves_the_old_file_and_no_temporary(trained, tmp_path, monkeypatch):
    lm, _ = trained
    path = save_model(tmp_path / "m.npz", lm)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, lm)
    assert os.listdir(tmp_path) == ["m.npz"] and path.read_bytes() == before


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, match", [
    (dict(text=""), "text must not be empty"),
    (dict(text="abc" * 10), r"text is too short: its training part \(the first 27 of 30 "),
    (dict(seq_len=0), "seq_len must be >= 1, got 0"),
    (dict(batch_size=-2), "batch_size must be >= 1, got -2"),
    (dict(hidden_size=0), "hidden_size must be >= 1, got 0"),
    (dict(steps=0), "steps must be >= 1, got 0"),
    (dict(steps=None), "give seconds or steps"),
    (dict(seconds=-1.0), "seconds must be a finite number > 0"),
    (dict(val_fraction=1.0), r"val_fraction must be in \[0, 1\), got 1.0"),
    (dict(model="transformer"), "model must be one of"),
    (dict(optimizer="sgd"), "optimizer must be one of"),
    (dict(lr=0.0), "lr must be a finite number > 0"),
    (dict(clip=-5.0), "clip must be a finite number > 0"),
    (dict(dtype=np.int32), "dtype"),
])
def test_bad_training_arguments_are_named(kwargs, match):
    args = {"text": TEXT, "steps": 1, **SMALL, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        train_charlm(args.pop("text"), **args)


def test_resuming_with_a_contradicting_model_or_an_unknown_character_is_refused(trained):
    lm, _ = trained
    with pytest.raises(ValueError, match="model must be the resumed model's, 'lstm'"):
        train_charlm(TEXT, steps=1, resume=lm, model="rnn", progress=False)
    with pytest.raises(ValueError, match="hidden_size must be the resumed model's, 12"):
        train_charlm(TEXT, steps=1, resume=lm, hidden_size=13, progress=False)
    with pytest.raises(ValueError, match="does not know.*'~'"):
        train_charlm(TEXT + "~" * 700, steps=1, resume=lm, progress=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(prime="ROMEO~"), r"prime holds a character the model does not know: '~' at "
                           r"position 5; the model's \d+ characters are"),
    (dict(length=0), "length must be >= 1, got 0"),
    (dict(temperature=0.0), "temperature must be a finite number > 0"),
    (dict(seed=-1), "seed must be >= 0"),
])
def test_bad_sampling_arguments_are_named(trained, kwargs, match):
    lm, _ = trained
    with pytest.raises((ValueError, TypeError), match=match):
        sample(lm, **{"length": 5, **kwargs})


def test_scoring_a_text_with_an_unknown_character_is_refused(trained):
    lm, _ = trained
    with pytest.raises(ValueError, match="'~' at position 2"):
        evaluate_bpc(lm, "ab~cd")
    with pytest.raises(ValueError, match="at least 2 characters"):
        evaluate_bpc(lm, "a")


def test_reading_a_missing_or_empty_text_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_text(tmp_path / "none.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_text(tmp_path / "empty.txt")


def test_import_bptt_does_not_load_the_character_model():
    code = "import sys, bptt\nassert not [m for m in sys.modules if m.startswith('bptt.charlm')]\n"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- progress

def test_progress_draws_a_bar_in_place_or_a_line_a_tenth():
    import io

    from bptt.charlm.progress import Progress
    bar, lines = io.StringIO(), io.StringIO()
    for mode, stream in (("bar", bar), ("lines", lines)):
        p = Progress(mode, steps=20, stream=stream)
        for step in range(1, 21):
            p.update(step, 0.01 * step, 4.0, 100 * step)
        p.close()
    assert bar.getvalue().startswith("\r[") and bar.getvalue().endswith("\n")
    assert "100%" in bar.getvalue().splitlines()[-1]
    assert len(lines.getvalue().splitlines()) == 10
    assert lines.getvalue().splitlines()[-1].startswith("100%  step     20")
    with pytest.raises(ValueError, match="progress must be True, False, 'bar' or 'lines'"):
        Progress("yes")


def test_a_quiet_run_prints_nothing(capsys):
    train_charlm(TEXT, steps=2, **SMALL)
    assert capsys.readouterr().out == ""
