"""The public API is a contract: homework checks, chapters and outside checks
call these exact names with these argument orders. Renaming or reordering any
of them must fail here first."""
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import bptt

CONTRACT = {
    "init_rnn": "(input_size, hidden_size, output_size, *, seed=0, dtype=<class 'numpy.float64'>)",
    "rnn_step_forward": "(params, x_t, h_prev)",
    "rnn_forward": "(params, x, h0=None)",
    "rnn_backward": "(params, x, h, dy, truncate=None, *, return_dh=False)",
    "clip_grad_norm": "(grads, max_norm)",
    "clip_grad_value": "(grads, clip_value)",
    "softmax_cross_entropy": "(logits, targets, mask=None)",
    "mse_loss": "(y, target, mask=None)",
    "last_step_mask": "(T, B)",
    "numerical_gradient": "(f, x, eps=1e-06)",
    "numerical_gradient_params": "(f, params, eps=1e-06)",
    "rel_error": "(a, b)",
    "init_lstm": "(input_size, hidden_size, output_size, *, seed=0, dtype=<class 'numpy.float64'>)",
    "lstm_step_forward": "(params, x_t, h_prev, c_prev)",
    "lstm_step_backward": "(params, x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t)",
    "lstm_forward": "(params, x, h0=None, c0=None)",
    "lstm_backward": "(params, x, state, dy, truncate=None)",
    "init_gru": "(input_size, hidden_size, output_size, *, seed=0, dtype=<class 'numpy.float64'>)",
    "gru_step_forward": "(params, x_t, h_prev)",
    "gru_step_backward": "(params, x_t, h_prev, gates, dh_t)",
    "gru_forward": "(params, x, h0=None)",
    "gru_backward": "(params, x, state, dy, truncate=None)",
    "tbptt_gradients": "(params, x, dy, k1, k2, h0=None, *, model=Model(name='rnn', "
                       "keys=('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y')))",
    "artbp_backward": "(params, x, h, dy, *, truncation_prob, rng)",
    "train_stream": "(params, x, targets, loss_fn, optimizer, *, k1, k2=None, clip_norm=None, "
                    "model=Model(name='rnn', keys=('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y')), "
                    "carry=True, resets=None, h0=None)",
}


def _plain_signature(fn) -> str:
    """The signature without annotations, as it would be written in a call."""
    sig = inspect.signature(fn)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_signature(name):
    assert name in bptt.__all__, f"bptt.{name} is not exported"
    assert _plain_signature(getattr(bptt, name)) == CONTRACT[name]


def test_param_keys_and_layout():
    assert bptt.PARAM_KEYS == ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
    p = bptt.init_rnn(3, 5, 2)
    assert {k: v.shape for k, v in p.items()} == {
        "W_xh": (5, 3), "W_hh": (5, 5), "b_h": (5,), "W_hy": (2, 5), "b_y": (2,)}


def test_backward_returns_the_contract_keys():
    p = bptt.init_rnn(3, 5, 2)
    x = np.zeros((4, 2, 3))
    _, h = bptt.rnn_forward(p, x)
    g = bptt.rnn_backward(p, x, h, np.ones((4, 2, 2)))
    assert list(g) == ["W_xh", "W_hh", "b_h", "W_hy", "b_y", "x", "h0"]


@pytest.mark.parametrize("cls", ["SGD", "Adagrad", "Adam"])
def test_optimisers_step(cls):
    assert list(inspect.signature(getattr(bptt, cls).step).parameters) == ["self", "params", "grads"]


def test_import_bptt_needs_numpy_only():
    # A fresh interpreter: `import bptt` loads the core, never matplotlib,
    # ipywidgets, the self-checks or the course tooling.
    code = ("import sys, bptt\n"
            "bad = [m for m in sys.modules if m.startswith(('matplotlib', 'ipywidgets', "
            "'PIL', 'bptt.checks', 'bptt.plots', 'bptt.course'))]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_checks_and_plots_load_on_first_use():
    code = ("import sys, bptt\n"
            "assert callable(bptt.checks.check_rnn_forward)\n"
            "assert callable(bptt.checks.check_return_dh)\n"
            "assert bptt.plots.display.show_widget\n"
            "assert 'matplotlib' in sys.modules\n"
            "assert {'checks', 'plots'} <= set(dir(bptt))\n"
            "try:\n"
            "    bptt.no_such_name\n"
            "except AttributeError as err:\n"
            "    assert 'no_such_name' in str(err)\n"
            "else:\n"
            "    raise AssertionError('bptt.no_such_name did not raise')\n")
    subprocess.run([sys.executable, "-c", code], check=True,
                   env={**os.environ, "MPLBACKEND": "Agg"})


def test_moved_names_live_in_their_modules():
    from bptt import model, one_unit, rnn
    assert bptt.PARAM_KEYS is rnn.PARAM_KEYS
    assert model.NON_PARAM_KEYS == ("x", "h0", "c0", "h", "c")
    assert isinstance(rnn.RNN, model.Model)
    for name in ("check_rnn_params", "rnn_step_backward", "step_gradients"):
        assert callable(getattr(rnn, name)), name
    for name in ("one_unit_params", "one_unit_forward", "one_unit_loss", "one_unit_wall",
                 "one_unit_descent"):
        assert callable(getattr(one_unit, name)), name
    assert _plain_signature(rnn.rnn_step_backward) == "(params, x_t, h_prev, h_t, dh_t)"
    assert "model" in inspect.signature(bptt.train.train).parameters
