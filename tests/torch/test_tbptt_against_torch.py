"""bptt.tbptt_gradients against PyTorch processing a stream in chunks with ``detach()``.

Run where torch is installed, from the repository root (see test_against_torch.py):

    .torchvenv/bin/python -m pytest tests/torch -q -p no:cacheprovider
"""
import numpy as np
import pytest

pytest.importorskip("torch.nn")
import torch  # noqa: E402

from bptt.gru import GRU, init_gru  # noqa: E402
from bptt.lstm import LSTM, init_lstm  # noqa: E402
from bptt.rnn import RNN, init_rnn  # noqa: E402
from bptt.tbptt import tbptt_gradients  # noqa: E402

MODELS = {"rnn": (RNN, init_rnn, torch.nn.RNN), "lstm": (LSTM, init_lstm, torch.nn.LSTM),
          "gru": (GRU, init_gru, torch.nn.GRU)}


def torch_model(name, params):
    """The torch layer and output Linear holding ``params``.

    The RNN's and LSTM's ``b_h`` is ``bias_ih`` (``bias_hh`` zero); the GRU
    keeps both, ``b_xh`` and ``b_hh``, as torch does.
    """
    _, _, cls = MODELS[name]
    H4, D = params["W_xh"].shape
    H = params["W_hh"].shape[1]
    rnn = cls(D, H).double()
    out = torch.nn.Linear(H, params["W_hy"].shape[0]).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(params["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.tensor(params["W_hh"]))
        if name == "gru":
            rnn.bias_ih_l0.copy_(torch.tensor(params["b_xh"]))
            rnn.bias_hh_l0.copy_(torch.tensor(params["b_hh"]))
        else:
            rnn.bias_ih_l0.copy_(torch.tensor(params["b_h"]))
            rnn.bias_hh_l0.zero_()
        out.weight.copy_(torch.tensor(params["W_hy"]))
        out.bias.copy_(torch.tensor(params["b_y"]))
    return rnn, out


def torch_grads(name, rnn, out):
    """The model's keys from the torch modules' .grad."""
    g = {"W_xh": rnn.weight_ih_l0.grad, "W_hh": rnn.weight_hh_l0.grad,
         "W_hy": out.weight.grad, "b_y": out.bias.grad}
    if name == "gru":
        g.update(b_xh=rnn.bias_ih_l0.grad, b_hh=rnn.bias_hh_l0.grad)
    else:
        g["b_h"] = rnn.bias_ih_l0.grad
    return {k: v.numpy().copy() for k, v in g.items()}


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def torch_stream(name, params, x, w, k1, k2):
    """Walk the stream: one no-grad pass for the states, then per update re-run its window
    from the *detached* state h_{t-k2} and backpropagate the update's own losses."""
    rnn, out = torch_model(name, params)
    X, W = torch.tensor(x), torch.tensor(w)
    T = x.shape[0]
    states = [None]                       # states[t]: the state after step t (None: zeros)
    with torch.no_grad():
        state = None
        for t in range(T):
            _, state = rnn(X[t:t + 1], state)
            states.append(state)
    times = [t for t in range(1, T + 1) if t % k1 == 0 or t == T]
    grads = []
    for s, t in zip([0, *times[:-1]], times):
        wstart = max(0, t - k2)
        start = states[wstart]
        rnn.zero_grad()
        out.zero_grad()
        hs, _ = rnn(X[wstart:t], None if start is None else detach(start))
        loss = (W[s:t] * out(hs[s - wstart:])).sum()
        loss.backward()
        grads.append(torch_grads(name, rnn, out))
    return grads


def torch_chunks(name, params, x, w, k):
    """BPTT(k; k) the usual torch way: one pass, ``state = state.detach()`` between chunks."""
    rnn, out = torch_model(name, params)
    X, W = torch.tensor(x), torch.tensor(w)
    state, grads = None, []
    for s in range(0, x.shape[0], k):
        rnn.zero_grad()
        out.zero_grad()
        hs, state = rnn(X[s:s + k], state)
        (W[s:s + k] * out(hs)).sum().backward()
        grads.append(torch_grads(name, rnn, out))
        state = detach(state)
    return grads


def problem(name, T, seed):
    model, init, _ = MODELS[name]
    rng = np.random.default_rng(seed)
    params = init(3, 4, 2, seed=seed)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    return model, params, rng.standard_normal((T, 2, 3)), rng.standard_normal((T, 2, 2))


def assert_same(got, want, keys):
    assert len(got) == len(want)
    for j, (g, ref) in enumerate(zip(got, want)):
        for key in keys:
            np.testing.assert_allclose(g[key], ref[key], rtol=1e-10, atol=1e-12,
                                       err_msg=f"update {j} {key}")


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("T, k", [(6, 2), (6, 3), (5, 1), (4, 6)])
def test_chunks_with_detach(name, T, k):
    # k divides T (or k >= T): otherwise tbptt's last update reaches back k
    # steps, past the last chunk boundary, where torch's last chunk is shorter.
    model, params, x, w = problem(name, T, seed=T + k)
    got = tbptt_gradients(params, x, w, k, k, model=model)
    assert_same(got, torch_chunks(name, params, x, w, k), model.keys)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("T, k1, k2", [(7, 2, 3), (7, 3, 5), (5, 1, 4), (6, 2, 9), (7, 3, 3)])
def test_windows_with_detach(name, T, k1, k2):
    model, params, x, w = problem(name, T, seed=T * k2 + k1)
    got = tbptt_gradients(params, x, w, k1, k2, model=model)
    assert_same(got, torch_stream(name, params, x, w, k1, k2), model.keys)
