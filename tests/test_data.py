"""Tests for bptt.data: shapes, dtypes, determinism and the meaning of each data set.

Expectations are derived independently of the code under test: the adding
target is recomputed from the marker channel, the copy targets from the input
symbols, the sine frequency from the recurrence s[t+1] = 2 cos(w) s[t] - s[t-1],
and the character codes from ``str.index``.
"""
import numpy as np
import pytest

from bptt.data import (SAMPLE_TEXT, SINE_OMEGA_RANGE, CharVocab, adding_problem, char_batches,
                       copy_task, sine_wave)

DTYPES = [np.float64, np.float32]


# ------------------------------------------------------------------ adding problem

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("T, B", [(2, 1), (7, 3), (20, 5)])
def test_adding_shapes_dtypes(T, B, dtype):
    x, target = adding_problem(T, B, seed=1, dtype=dtype)
    assert x.shape == (T, B, 2) and target.shape == (B, 1)
    assert x.dtype == dtype and target.dtype == dtype


def test_adding_default_dtype_is_float64():
    x, target = adding_problem(5, 2)
    assert x.dtype == np.float64 and target.dtype == np.float64


@pytest.mark.parametrize("T", [2, 3, 8, 11])
def test_adding_markers_and_target(T):
    B = 50
    x, target = adding_problem(T, B, seed=3)
    values, marker = x[..., 0], x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(marker)) <= {0.0, 1.0}
    half = T // 2
    for b in range(B):
        steps = np.flatnonzero(marker[:, b])
        assert len(steps) == 2, f"sequence {b}: markers at {steps}"
        assert steps[0] < half <= steps[1], f"sequence {b}: markers at {steps}, T={T}"
        expected = values[steps[0], b] + values[steps[1], b]
        assert target[b, 0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adding_target_is_exactly_the_sum_of_the_inputs_the_network_sees(dtype):
    # In float32 the sum of the two float32 inputs, rounded once, not the
    # float64 sum rounded to float32 (they differ in the last bit for some).
    T, B = 10, 5000
    x, target = adding_problem(T, B, seed=4, dtype=dtype)
    marked = x[..., 1] == 1
    first = np.argmax(marked, axis=0)
    second = T - 1 - np.argmax(marked[::-1], axis=0)
    cols = np.arange(B)
    want = x[first, cols, 0] + x[second, cols, 0]          # in dtype, as the network adds
    assert want.dtype == dtype
    np.testing.assert_array_equal(target[:, 0], want)


def test_adding_marker_positions_cover_each_half():
    # Guards against e.g. always marking step 0: every step must be used.
    T = 8
    x, _ = adding_problem(T, 2000, seed=0)
    used = np.flatnonzero(x[..., 1].sum(axis=1))
    np.testing.assert_array_equal(used, np.arange(T))


def test_adding_constant_predictor_mse_is_one_sixth():
    # (S - 1)^2 with S = u1 + u2: mean 1/6 and variance E[(S-1)^4] - 1/36 =
    # 1/15 - 1/36 = 7/180, so with B samples the sample mean has standard
    # deviation sqrt(7/180/B) ~ 6.2e-4 for B = 1e5; allow 5 of them.
    B = 100_000
    _, target = adding_problem(4, B, seed=123)
    mse = np.mean((target - 1.0) ** 2)
    tol = 5 * np.sqrt(7 / 180 / B)
    assert abs(mse - 1 / 6) < tol, f"MSE of predicting 1: {mse}, expected 1/6 = {1 / 6} +- {tol}"


# ------------------------------------------------------------------ copy task

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M, L, B, n", [(1, 0, 1, 1), (3, 2, 4, 8), (5, 10, 2, 3)])
def test_copy_shapes_dtypes(M, L, B, n, dtype):
    x, targets, mask = copy_task(M, L, B, n, seed=0, dtype=dtype)
    T = 2 * M + L + 1
    assert x.shape == (T, B, n + 2) and x.dtype == dtype
    assert targets.shape == (T, B) and np.issubdtype(targets.dtype, np.integer)
    assert mask.shape == (T, B) and mask.dtype == bool


@pytest.mark.parametrize("M, L, n", [(1, 0, 2), (3, 2, 8), (4, 7, 5)])
def test_copy_layout(M, L, n):
    B = 6
    x, targets, mask = copy_task(M, L, B, n, seed=5)
    T = 2 * M + L + 1
    blank, delim = n, n + 1
    # x is exactly one-hot
    assert set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x.sum(axis=-1), np.ones((T, B)))
    cls = x.argmax(axis=-1)
    # inputs: symbols, blanks, delimiter, blanks
    assert np.all(cls[:M] < n)
    np.testing.assert_array_equal(cls[M:M + L], blank)
    np.testing.assert_array_equal(cls[M + L], delim)
    np.testing.assert_array_equal(cls[M + L + 1:], blank)
    # mask: exactly the last M steps
    expected_mask = np.zeros((T, B), dtype=bool)
    expected_mask[-M:] = True
    np.testing.assert_array_equal(mask, expected_mask)
    # targets: blank outside the mask
    np.testing.assert_array_equal(targets[~mask], blank)


@pytest.mark.parametrize("M, L", [(1, 0), (4, 3), (6, 0)])
def test_copy_mask_and_targets_reconstruct_input(M, L):
    x, targets, mask = copy_task(M, L, 7, 8, seed=9)
    for b in range(x.shape[1]):
        remembered = x[:M, b].argmax(axis=-1)
        np.testing.assert_array_equal(targets[mask[:, b], b], remembered)


def test_copy_uses_every_symbol():
    n = 5
    x, _, _ = copy_task(4, 1, 200, n, seed=0)
    np.testing.assert_array_equal(np.unique(x[:4].argmax(axis=-1)), np.arange(n))


# ------------------------------------------------------------------ sine waves

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("T, B, K", [(1, 1, 1), (10, 3, 1), (25, 4, 3)])
def test_sine_shapes_dtypes_and_shift(T, B, K, dtype):
    for noise in (0.0, 0.2):
        x, target = sine_wave(T, B, n_waves=K, seed=2, dtype=dtype, noise=noise)
        assert x.shape == (T, B, 1) and target.shape == (T, B, 1)
        assert x.dtype == dtype and target.dtype == dtype
        np.testing.assert_array_equal(target[:-1], x[1:])


@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_sine_input_and_target_share_no_memory(noise):
    x, target = sine_wave(6, 2, seed=1, noise=noise)
    assert not np.shares_memory(x, target)
    x[1:] = 0.0                         # writing to one must leave the other as it was
    assert np.any(target[:-1] != 0.0)


@pytest.mark.parametrize("K", [1, 2, 5])
def test_sine_amplitude_bounded_without_noise(K):
    x, target = sine_wave(40, 10, n_waves=K, seed=4)
    assert np.all(np.abs(x) <= 1) and np.all(np.abs(target) <= 1)


def test_single_sine_frequency_in_documented_range():
    # A sine obeys s[t+1] + s[t-1] = c s[t] with c = 2 cos(w): fit c by least
    # squares per sequence, check the fit is exact and w is in range.
    x, target = sine_wave(30, 20, seed=7)
    s = np.concatenate([x[:, :, 0], target[-1:, :, 0]])      # (T+1, B)
    lhs = s[2:] + s[:-2]
    mid = s[1:-1]
    c = (lhs * mid).sum(axis=0) / (mid * mid).sum(axis=0)
    np.testing.assert_allclose(lhs, c * mid, atol=1e-12)
    omega = np.arccos(c / 2)
    lo, hi = SINE_OMEGA_RANGE
    assert np.all((omega >= lo) & (omega < hi)), omega
    assert len(np.unique(np.round(omega, 8))) == 20, "every sequence needs its own frequency"
    assert len(np.unique(np.round(s[0], 8))) == 20, "every sequence needs its own phase"


def test_sine_noise_is_added_to_the_same_clean_wave():
    clean, _ = sine_wave(200, 50, seed=8)
    noisy, _ = sine_wave(200, 50, seed=8, noise=0.3)
    diff = (noisy - clean).ravel()
    # 10,000 N(0, 0.3^2) draws: sample sd within a few percent of 0.3.
    assert abs(diff.std() - 0.3) < 0.015
    assert abs(diff.mean()) < 0.015


# ------------------------------------------------------------------ determinism

GENERATORS = [
    ("adding", lambda seed: adding_problem(9, 4, seed=seed)),
    ("copy", lambda seed: copy_task(3, 2, 4, seed=seed)),
    ("sine", lambda seed: sine_wave(9, 4, n_waves=2, seed=seed, noise=0.1)),
]


@pytest.mark.parametrize("name, make", GENERATORS, ids=[g[0] for g in GENERATORS])
def test_same_seed_same_arrays_different_seed_different(name, make):
    a, b, c = make(11), make(11), make(12)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not all(np.array_equal(u, w) for u, w in zip(a, c)), f"{name}: seed ignored"


# ------------------------------------------------------------------ characters

def test_sample_text():
    assert 300 <= len(SAMPLE_TEXT) <= 2000
    assert SAMPLE_TEXT.isascii()


def test_vocab_chars_and_codes():
    vocab = CharVocab(SAMPLE_TEXT)
    assert vocab.chars == "".join(sorted(set(SAMPLE_TEXT)))
    assert vocab.size == len(set(SAMPLE_TEXT)) == len(vocab)
    codes = vocab.encode(SAMPLE_TEXT)
    assert codes.shape == (len(SAMPLE_TEXT),) and np.issubdtype(codes.dtype, np.integer)
    np.testing.assert_array_equal(codes, [vocab.chars.index(c) for c in SAMPLE_TEXT])


@pytest.mark.parametrize("text", [SAMPLE_TEXT, "a", "abba\n", "zyx zyx"])
def test_encode_decode_round_trip(text):
    vocab = CharVocab(text)
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.decode(list(vocab.encode(text))) == text
    assert vocab.decode([]) == ""


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_argmax_round_trip(dtype):
    vocab = CharVocab("hello, world")
    idx = np.array([[0, 3, 5], [1, 1, vocab.size - 1]])
    oh = vocab.one_hot(idx, dtype=dtype)
    assert oh.shape == (2, 3, vocab.size) and oh.dtype == dtype
    np.testing.assert_array_equal(oh.sum(axis=-1), 1)
    np.testing.assert_array_equal(oh.argmax(axis=-1), idx)


@pytest.mark.parametrize("T, B", [(1, 1), (5, 1), (7, 3), (25, 8)])
def test_char_batches_reconstruct_stream(T, B):
    codes = CharVocab(SAMPLE_TEXT).encode(SAMPLE_TEXT)
    N = len(codes)
    chunks = list(char_batches(codes, T, B))
    n_chunks = (N - 1) // (B * T)
    assert len(chunks) == n_chunks
    for inputs, targets in chunks:
        assert inputs.shape == (T, B) and targets.shape == (T, B)
        assert np.issubdtype(inputs.dtype, np.integer)
    inputs = np.concatenate([c[0] for c in chunks])     # (n_chunks*T, B)
    targets = np.concatenate([c[1] for c in chunks])
    L = n_chunks * T
    for b in range(B):
        # stream b is the b-th contiguous piece of the text...
        np.testing.assert_array_equal(inputs[:, b], codes[b * L:(b + 1) * L])
        # ...and its targets are the same text one character later
        np.testing.assert_array_equal(targets[:, b], codes[b * L + 1:(b + 1) * L + 1])
    # the streams together cover the start of the text without gaps
    np.testing.assert_array_equal(inputs.T.ravel(), codes[:B * L])
    # consecutive chunks continue each other (what carrying h0 relies on)
    for (_, t_prev), (i_next, _) in zip(chunks, chunks[1:]):
        np.testing.assert_array_equal(t_prev[-1], i_next[0])


def test_char_batches_are_copies_sharing_no_memory():
    codes = np.arange(40)
    chunks = list(char_batches(codes, 3, 2))
    arrays = [codes] + [a for chunk in chunks for a in chunk]
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)
    chunks[0][0][...] = -1              # a caller may write to a batch
    np.testing.assert_array_equal(codes, np.arange(40))
    np.testing.assert_array_equal(chunks[0][1], [[1, 19], [2, 20], [3, 21]])


def test_char_batches_exact_fit():
    codes = np.arange(7)          # 7 = B*T + 1 with B = 2, T = 3: one chunk, nothing dropped
    (inputs, targets), = list(char_batches(codes, 3, 2))
    np.testing.assert_array_equal(inputs, [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(targets, [[1, 4], [2, 5], [3, 6]])


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("call, match", [
    (lambda: adding_problem(1, 3), r"T must be >= 2"),
    (lambda: adding_problem(0, 3), r"T must be >= 1"),
    (lambda: adding_problem(5, 2, seed=-1), r"seed must be >= 0"),
    (lambda: copy_task(0, 1, 2), r"T_memory must be >= 1"),
    (lambda: copy_task(2, -1, 2), r"T_delay must be >= 0, got -1"),
    (lambda: copy_task(2, 1, 0), r"B must be >= 1"),
    (lambda: copy_task(2, 1, 2, 0), r"n_symbols must be >= 1"),
    (lambda: sine_wave(0, 2), r"T must be >= 1"),
    (lambda: sine_wave(4, 2, n_waves=0), r"n_waves must be >= 1"),
    (lambda: sine_wave(4, 2, noise=-0.1), r"noise must be a finite number >= 0"),
    (lambda: sine_wave(4, 2, noise=np.nan), r"noise must be a finite number >= 0"),
])
def test_synthetic_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: adding_problem(5, 2.0), r"B must be a positive int"),
    (lambda: adding_problem(5, 2, dtype=np.int32), r"dtype must be a floating"),
    (lambda: adding_problem(5, 2, seed=1.5), r"seed must be a non-negative int"),
    (lambda: copy_task(2, True, 2), r"T_delay must be a non-negative int"),
    (lambda: copy_task(2, 1, 2, dtype="int64"), r"dtype must be a floating"),
    (lambda: sine_wave(4, 2, noise="0.1"), r"noise must be a non-negative number"),
])
def test_synthetic_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_float_is_accepted_as_a_dtype():
    assert sine_wave(4, 2, dtype="float")[0].dtype == np.float64


def test_vocab_errors():
    with pytest.raises(TypeError, match=r"text must be a str, got list"):
        CharVocab(["a", "b"])
    with pytest.raises(ValueError, match=r"text must contain at least one character"):
        CharVocab("")
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match=r"character 'z' at position 2 of text is not in"):
        vocab.encode("abzc")
    with pytest.raises(ValueError, match=r"character '\\n' at position 0"):
        vocab.encode("\nab")
    with pytest.raises(ValueError, match=r"indices must hold class indices in \[0, 3\), "
                                         r"got values from 0 to 3"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match=r"got values from -1 to 1"):
        vocab.one_hot(np.array([-1, 1]))
    with pytest.raises(TypeError,
                       match=r"indices must hold integer class indices, got dtype float"):
        vocab.one_hot(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match=r"integer class indices, got dtype bool"):
        vocab.one_hot(np.array([True, False]))
    with pytest.raises(ValueError, match=r"indices must have shape \(N,\), got \(1, 2\)"):
        vocab.decode(np.array([[0, 1]]))
    with pytest.raises(TypeError, match=r"dtype must be a floating"):
        vocab.one_hot([0], dtype=np.int64)


def test_char_batches_errors_raised_at_call():
    codes = np.arange(10)
    with pytest.raises(ValueError, match=r"need at least B\*T \+ 1 = 11 codes, got 10"):
        char_batches(codes, 5, 2)
    with pytest.raises(ValueError, match=r"T must be >= 1, got 0"):
        char_batches(codes, 0, 2)
    with pytest.raises(TypeError, match=r"B must be a positive int"):
        char_batches(codes, 2, None)
    with pytest.raises(TypeError, match=r"indices must hold integer class indices"):
        char_batches("some text", 2, 2)
    with pytest.raises(ValueError, match=r"indices must have shape \(N,\), got \(2, 5\)"):
        char_batches(codes.reshape(2, 5), 2, 2)
    with pytest.raises(ValueError, match=r"class indices >= 0, got values from -1"):
        char_batches(np.array([-1, 0, 1, 2]), 1, 1)
