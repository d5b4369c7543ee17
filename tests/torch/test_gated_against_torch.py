"""bptt's LSTM and GRU against torch.nn.LSTM / torch.nn.GRU + nn.Linear, weights copied.

Run in the side environment that has torch (see test_against_torch.py):

    .torchvenv/bin/python -m pytest tests/torch -q -p no:cacheprovider

Forward outputs and every gradient (parameters, x, h0, c0) are compared in
float64, with full BPTT and with truncation, where torch's state is
``detach()``-ed after steps k, 2k, ... of a step-by-step run.
"""
import numpy as np
import pytest

pytest.importorskip("torch.nn")
import torch  # noqa: E402

from bptt.gru import init_gru, gru_backward, gru_forward  # noqa: E402
from bptt.lstm import init_lstm, lstm_backward, lstm_forward  # noqa: E402

T, B, D, H, O = 7, 3, 4, 5, 2


def _problem(init, seed):
    rng = np.random.default_rng(seed)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in init(D, H, O).items()}
    x = rng.standard_normal((T, B, D))
    init_states = [0.5 * rng.standard_normal((B, H)) for _ in range(2)]
    return params, x, init_states, rng.standard_normal((T, B, O))


def _torch_run(module, linear, x, states, dy, truncate, lstm):
    """Step-by-step torch forward (detaching every k steps), then backward of sum(y * dy)."""
    ys, k = [], truncate or T
    state = tuple(states) if lstm else states[0]
    for t in range(T):
        out, state = module(x[t:t + 1], state)
        ys.append(linear(out))
        if (t + 1) % k == 0:
            state = tuple(s.detach() for s in state) if lstm else state.detach()
    y = torch.cat(ys)
    (y * torch.from_numpy(dy)).sum().backward()
    return y


def _leaves(x, states):
    x_t = torch.tensor(x, requires_grad=True)
    s_t = [torch.tensor(s[None], requires_grad=True) for s in states]   # (1, B, H)
    return x_t, s_t


@pytest.mark.parametrize("truncate", [None, 1, 3])
def test_lstm_matches_torch(truncate):
    params, x, (h0, c0), dy = _problem(init_lstm, 0)
    lstm = torch.nn.LSTM(D, H).double()
    linear = torch.nn.Linear(H, O).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(params["W_xh"]))
        lstm.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"]))
        lstm.bias_ih_l0.copy_(torch.from_numpy(0.25 * params["b_h"]))   # b_h = b_ih + b_hh
        lstm.bias_hh_l0.copy_(torch.from_numpy(0.75 * params["b_h"]))
        linear.weight.copy_(torch.from_numpy(params["W_hy"]))
        linear.bias.copy_(torch.from_numpy(params["b_y"]))
    x_t, (h0_t, c0_t) = _leaves(x, [h0, c0])
    y_t = _torch_run(lstm, linear, x_t, [h0_t, c0_t], dy, truncate, lstm=True)
    y, state = lstm_forward(params, x, h0, c0)
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=1e-12, atol=1e-13)
    g = lstm_backward(params, x, state, dy, truncate)
    want = {"W_xh": lstm.weight_ih_l0.grad, "W_hh": lstm.weight_hh_l0.grad,
            "b_h": lstm.bias_ih_l0.grad, "W_hy": linear.weight.grad, "b_y": linear.bias.grad,
            "x": x_t.grad, "h0": h0_t.grad[0], "c0": c0_t.grad[0]}
    np.testing.assert_allclose(lstm.bias_hh_l0.grad, lstm.bias_ih_l0.grad, rtol=1e-14)
    for key, w in want.items():
        np.testing.assert_allclose(g[key], w.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("truncate", [None, 1, 3])
def test_gru_matches_torch(truncate):
    params, x, (h0, _), dy = _problem(init_gru, 1)
    gru = torch.nn.GRU(D, H).double()
    linear = torch.nn.Linear(H, O).double()
    with torch.no_grad():
        for name, key in (("weight_ih_l0", "W_xh"), ("weight_hh_l0", "W_hh"),
                          ("bias_ih_l0", "b_xh"), ("bias_hh_l0", "b_hh")):
            getattr(gru, name).copy_(torch.from_numpy(params[key]))
        linear.weight.copy_(torch.from_numpy(params["W_hy"]))
        linear.bias.copy_(torch.from_numpy(params["b_y"]))
    x_t, (h0_t,) = _leaves(x, [h0])
    y_t = _torch_run(gru, linear, x_t, [h0_t], dy, truncate, lstm=False)
    y, state = gru_forward(params, x, h0)
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=1e-12, atol=1e-13)
    g = gru_backward(params, x, state, dy, truncate)
    want = {"W_xh": gru.weight_ih_l0.grad, "W_hh": gru.weight_hh_l0.grad,
            "b_xh": gru.bias_ih_l0.grad, "b_hh": gru.bias_hh_l0.grad,
            "W_hy": linear.weight.grad, "b_y": linear.bias.grad, "x": x_t.grad,
            "h0": h0_t.grad[0]}
    for key, w in want.items():
        np.testing.assert_allclose(g[key], w.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("which", ["lstm", "gru"])
def test_full_sequence_torch_module_agrees_in_float32(which):
    # torch's fused whole-sequence call (not step by step), float32 in and out.
    init, fwd = (init_lstm, lstm_forward) if which == "lstm" else (init_gru, gru_forward)
    params, x, _, _ = _problem(init, 2)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    module = (torch.nn.LSTM if which == "lstm" else torch.nn.GRU)(D, H)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(p32["W_xh"]))
        module.weight_hh_l0.copy_(torch.from_numpy(p32["W_hh"]))
        b_ih, b_hh = (("b_h", None) if which == "lstm" else ("b_xh", "b_hh"))
        module.bias_ih_l0.copy_(torch.from_numpy(p32[b_ih]))
        module.bias_hh_l0.copy_(torch.zeros(module.bias_hh_l0.shape) if b_hh is None
                                else torch.from_numpy(p32[b_hh]))
        out, _ = module(torch.from_numpy(x.astype(np.float32)))
    y, state = fwd(p32, x.astype(np.float32))
    assert y.dtype == np.float32 and state["h"].dtype == np.float32
    np.testing.assert_allclose(state["h"][1:], out.numpy(), rtol=1e-4, atol=1e-5)
