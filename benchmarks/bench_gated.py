r"""Benchmark the LSTM and the GRU (forward + backward) against torch.nn.LSTM / GRU + nn.Linear.

Run from the repository root, where torch is installed (see ``benchmarks/README.md``)::

    .torchvenv/bin/python benchmarks/bench_gated.py [--sizes small,medium] [--repeats N]
                                                    [--dtype float32|float64]

It shares its timing, machine information and gradient check with
``bench_rnn.py`` (imported from it), and measures the same two sizes as that
benchmark's PyTorch targets. For each model and size it prints the median
time of one ``*_forward`` + ``*_backward`` (``dy`` given, every gradient
computed, including dL/dx), the same for torch (forward of the whole sequence
with the module, then ``(y * dy).sum().backward()``; ``x`` requires grad), and
the speed-up. Torch's gradients are checked against the package's first.
Targets (float32): at least 1.5x as fast as torch at small, no slower at medium.

The matmul floor
----------------
Beside them it times ``floor``: only the matrix products that one forward +
backward must do at that size, with the package's shapes and layouts, on the
same BLAS and threads, and nothing else (no element-wise work, no checks). With
``n`` gates (4 for the LSTM, 3 for the GRU), ``nH = n * H``:

* forward: the input projection ``(TB, D) @ (D, nH)``; T recurrence products
  ``(B, H) @ (H, nH)``; the output layer ``(TB, H) @ (H, O)``;
* backward: ``dW_hy`` ``(O, TB) @ (TB, H)``; the gradient from y,
  ``(TB, O) @ (O, H)``; T recurrence products ``(B, nH) @ (nH, H)``;
  ``dW_xh`` ``(nH, TB) @ (TB, D)``; ``dW_hh`` ``(nH, TB) @ (TB, H)``;
  ``dx`` ``(TB, nH) @ (nH, D)``.

That is ``6TB(nHD + nH^2 + HO)`` FLOP. A numpy implementation calls these
products and more, so ``bptt ms`` cannot go below ``floor ms``, and the
speed-up over torch cannot exceed ``torch ms / floor ms`` (printed as
``max x``): if that is below a target, no rewrite of the element-wise work
reaches it on this BLAS.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_rnn import (SIZES, numpy_blas_info, numpy_threads_fallback,  # noqa: E402
                       parse_args, quartiles, time_blocks, time_once)

from bptt.gru import GRU  # noqa: E402
from bptt.lstm import LSTM  # noqa: E402

MODELS = {"lstm": LSTM, "gru": GRU}
#: bptt key -> torch parameter name (and the Linear's); b_h of the LSTM is bias_ih + bias_hh.
TORCH_NAMES = {"W_xh": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_h": "bias_ih_l0",
               "b_xh": "bias_ih_l0", "b_hh": "bias_hh_l0"}
TIME_BUDGET = 20.0


def make_torch_case(torch, name, params, x, dy):
    """torch.nn.LSTM or GRU + nn.Linear holding ``params``; returns (step, grads)."""
    D, H, O = MODELS[name].check(params)
    dtype = getattr(torch, np.dtype(x.dtype).name)
    module = (torch.nn.LSTM if name == "lstm" else torch.nn.GRU)(D, H).to(dtype)
    linear = torch.nn.Linear(H, O).to(dtype)
    with torch.no_grad():
        module.bias_hh_l0.zero_()
        for key, tname in TORCH_NAMES.items():
            if key in params:
                getattr(module, tname).copy_(torch.from_numpy(params[key]))
        linear.weight.copy_(torch.from_numpy(params["W_hy"]))
        linear.bias.copy_(torch.from_numpy(params["b_y"]))
    x_t = torch.from_numpy(x).requires_grad_(True)
    dy_t = torch.from_numpy(dy)
    tensors = [*module.parameters(), *linear.parameters(), x_t]

    def step():
        for tensor in tensors:
            tensor.grad = None
        out, _ = module(x_t)
        (linear(out) * dy_t).sum().backward()

    def grads():
        g = {key: getattr(module, tname).grad.numpy() for key, tname in TORCH_NAMES.items()
             if key in params}
        g.update({"W_hy": linear.weight.grad.numpy(), "b_y": linear.bias.grad.numpy(),
                  "x": x_t.grad.numpy()})
        return g

    return step, grads


def make_floor(name, size, dtype):
    """Only the matrix products of one forward + backward (see the module docstring)."""
    T, B, D, H, O = SIZES[size]
    nH = {"lstm": 4, "gru": 3}[name] * H
    rng = np.random.default_rng(3)

    def rand(*shape):
        return rng.standard_normal(shape).astype(dtype)

    W_xh, W_hh, W_hy = rand(nH, D), rand(nH, H), rand(O, H)
    W_hh_T = np.ascontiguousarray(W_hh.T)
    x2, h, dy2, delta = rand(T * B, D), rand(T + 1, B, H), rand(T * B, O), rand(T, B, nH)
    gates, buf, from_future = np.empty((T * B, nH), dtype), np.empty((B, nH), dtype), \
        np.empty((B, H), dtype)
    h2, delta2 = h[1:].reshape(T * B, H), delta.reshape(T * B, nH)

    def floor():
        np.matmul(x2, W_xh.T, out=gates)               # forward
        for t in range(1, T + 1):
            np.matmul(h[t - 1], W_hh_T, out=buf)
        h2 @ W_hy.T
        dy2.T @ h2                                     # backward
        dy2 @ W_hy
        for t in range(T, 0, -1):
            np.matmul(delta[t - 1], W_hh, out=from_future)
        delta2.T @ x2
        delta2.T @ h[:-1].reshape(T * B, H)
        delta2 @ W_xh

    return floor


def bench(name, size, dtype, repeats, torch):
    T, B, D, H, O = SIZES[size]
    model = MODELS[name]
    params = model.init(D, H, O, seed=0, dtype=dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    dy = rng.standard_normal((T, B, O)).astype(dtype)

    def run_bptt():
        _, state = model.forward(params, x)
        return model.backward(params, x, state, dy)

    want = run_bptt()
    torch_step, torch_grads = make_torch_case(torch, name, params, x, dy)
    torch_step()
    rtol = 1e-3 if np.dtype(dtype) == np.float32 else 1e-8
    for key, got in torch_grads().items():
        scale = float(np.max(np.abs(want[key])))
        err = float(np.max(np.abs(got - want[key])))
        assert err <= rtol * scale, f"{name} {size}: torch's d{key} differs by {err:.3g}"
    fns = {"bptt": run_bptt, "torch": torch_step, "floor": make_floor(name, size, dtype)}
    if repeats is None:
        one = sum(time_once(fn) for fn in fns.values())
        repeats = int(min(31, max(5, TIME_BUDGET // one)))
    times, others = time_blocks(fns, repeats)
    return {"model": name, "size": size, "dims": SIZES[size], "repeats": repeats,
            "times": times, "others": others}


def main(argv=None) -> int:
    sizes, repeats, dtype = parse_args(argv)
    sizes = [s for s in sizes if s != "large"] or ["small", "medium"]
    _, np_threads = numpy_blas_info()
    if np_threads is None:
        np_threads, _ = numpy_threads_fallback()
    try:
        import torch
    except ImportError:
        print("torch is not installed: this benchmark compares with it (make torchvenv)")
        return 1
    torch.set_num_threads(np_threads)
    print(f"bptt gated benchmark: forward + backward, dtype {dtype.name}, median of N runs; "
          f"numpy {np.__version__}, torch {torch.__version__}, {np_threads} threads each")
    head = (f"{'model':<6}{'size':<8}{'T':>4}{'B':>5}{'D':>5}{'H':>5}{'O':>5}{'N':>4}"
            f"{'bptt ms':>10}{'IQR %':>7}{'torch ms':>10}{'IQR %':>7}{'x torch':>9}"
            f"{'floor ms':>10}{'IQR %':>7}{'max x':>7}{'others %':>10}")
    print(head + "\n" + "-" * len(head))
    verdicts = []
    for name in MODELS:
        for size in sizes:
            r = bench(name, size, dtype, repeats, torch)
            (q1, med, q3), (t1, tmed, t3), (f1, fmed, f3) = (
                quartiles(r["times"][k]) for k in ("bptt", "torch", "floor"))
            others = "?" if r["others"] is None else f"{100 * r['others']:.0f}"
            print(f"{name:<6}{size:<8}" + "".join(f"{v:>{w}}" for v, w in
                  zip(r["dims"], (4, 5, 5, 5, 5))) + f"{r['repeats']:>4}"
                  f"{med * 1e3:>10.2f}{100 * (q3 - q1) / med:>7.1f}{tmed * 1e3:>10.2f}"
                  f"{100 * (t3 - t1) / tmed:>7.1f}{tmed / med:>8.2f}x"
                  f"{fmed * 1e3:>10.2f}{100 * (f3 - f1) / fmed:>7.1f}{tmed / fmed:>6.2f}x"
                  f"{others:>10}")
            goal = {"small": 1.5, "medium": 1.0}[size]
            verdicts.append(f"  {name} {size:<7} >= {goal:g}x torch: "
                            f"{'PASS' if tmed / med >= goal else 'MISS'} ({tmed / med:.2f}x; "
                            f"at most {tmed / fmed:.2f}x with only the matmul floor left)")
    print("\nTargets (defined for float32; noisy on a shared machine, see 'others %'):")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
