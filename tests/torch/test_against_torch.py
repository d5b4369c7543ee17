"""bptt's clipping and optimisers against PyTorch, in an environment that has torch.

The book's environment (.venv) has no torch, so the main suite does not
collect this folder (tests/conftest.py). Run it where torch and numpy are
installed, from the repository root:

    PYTHONPATH=. /tmp/torchvenv/bin/python -m pytest tests/torch -q -p no:cacheprovider

It needs only numpy, torch and pytest: ``import bptt`` loads numpy and nothing else.
"""
import numpy as np
import pytest

# torch.nn, not torch: without torch, "torch" would find this folder (a namespace package).
pytest.importorskip("torch.nn")
import torch  # noqa: E402

from bptt.clip import clip_grad_norm, clip_grad_value  # noqa: E402
from bptt.optim import SGD, Adam  # noqa: E402
from bptt.rnn import PARAM_KEYS  # noqa: E402

SHAPES = {"W_xh": (4, 3), "W_hh": (4, 4), "b_h": (4,), "W_hy": (2, 4), "b_y": (2,)}


def random_grads(seed=0, dtype=np.float64, scale=1.0):
    """The five RNN gradients plus the x and h0 that rnn_backward adds (not clipped)."""
    rng = np.random.default_rng(seed)
    g = {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in SHAPES.items()}
    g["x"] = (scale * rng.standard_normal((5, 2, 3))).astype(dtype)
    g["h0"] = (scale * rng.standard_normal((2, 4))).astype(dtype)
    return g


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clipping_matches_torch(dtype, max_norm):
    g = random_grads(seed=6, dtype=dtype, scale=2.0)
    tensors = [torch.tensor(g[k]).requires_grad_() for k in PARAM_KEYS]
    for t, k in zip(tensors, PARAM_KEYS):
        t.grad = torch.tensor(g[k])
    t_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    out, total = clip_grad_norm(g, max_norm)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert total == pytest.approx(float(t_norm), rel=rtol)
    for t, k in zip(tensors, PARAM_KEYS):
        np.testing.assert_allclose(out[k], t.grad.numpy(), rtol=rtol, err_msg=k)
        t.grad = torch.tensor(g[k])
    torch.nn.utils.clip_grad_value_(tensors, 0.7)
    out = clip_grad_value(g, 0.7)
    for t, k in zip(tensors, PARAM_KEYS):
        np.testing.assert_array_equal(out[k], t.grad.numpy(), err_msg=k)


@pytest.mark.parametrize("make, torch_opt", [
    (lambda: SGD(0.05, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    (lambda: SGD(0.05, momentum=0.9, nesterov=True),
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
    (lambda: Adam(0.01, betas=(0.8, 0.99)),
     lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99))),
], ids=["momentum", "nesterov", "adam"])
def test_optimisers_match_torch(make, torch_opt):
    params = {k: v for k, v in random_grads(seed=0).items() if k in SHAPES}
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    topt = torch_opt(list(tensors.values()))
    opt = make()
    for step in range(5):
        g = random_grads(seed=1 + step)
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k])
        topt.step()
        opt.step(params, g)
    for k in SHAPES:
        np.testing.assert_allclose(params[k], tensors[k].detach().numpy(), rtol=1e-12,
                                   atol=1e-14, err_msg=k)
