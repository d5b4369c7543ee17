r"""Benchmark :func:`bptt.rnn_forward` + :func:`bptt.rnn_backward` on the CPU.

Run from the repository root (see ``benchmarks/README.md``)::

    python benchmarks/bench_rnn.py [--sizes small,medium,large] [--repeats N]
                                   [--dtype float32|float64]

For each size it prints the time of one forward+backward pass (median of N
repeats), its rate in GFLOP/s, that rate as a fraction of this machine's
matrix-multiply rate measured in the same run, and the speed-up over two
references doing the same maths:

* ``naive``: a textbook BPTT written below, with per-step loops everywhere
  (input projection, output layer and the weight-gradient sums all inside the
  time loop);
* ``torch``: ``torch.nn.RNN`` + ``torch.nn.Linear`` with autograd, only when
  ``import torch`` works. PyTorch is never a requirement.

Before anything is timed, both references' gradients are checked against
:func:`bptt.rnn_backward` (an ``AssertionError`` stops the script), so every
speed-up compares implementations that compute the same numbers.

FLOP count
----------
Only matrix products are counted (the element-wise tanh, its derivative and
the bias sums are O(TBH), negligible next to them). A product of an
``(m, k)`` by a ``(k, n)`` matrix is ``2mkn`` FLOP. In ``bptt/rnn.py``:

``rnn_forward``, :math:`2TB(DH + H^2 + HO)`:

* input projection ``x @ W_xh.T``, ``(TB, D) @ (D, H)``: :math:`2TBDH`;
* recurrence ``h[t-1] @ W_hh.T``, T times ``(B, H) @ (H, H)``: :math:`2TBH^2`;
* output layer ``h[1:] @ W_hy.T``, ``(TB, H) @ (H, O)``: :math:`2TBHO`.

``rnn_backward``, :math:`4TB(DH + H^2 + HO)`:

* ``dW_hy = dy.T @ h[1:]``, ``(O, TB) @ (TB, H)``: :math:`2TBHO`;
* the gradient reaching h from y, ``dy @ W_hy``, ``(TB, O) @ (O, H)``: :math:`2TBHO`;
* recurrence ``delta_t @ W_hh``, T times ``(B, H) @ (H, H)``: :math:`2TBH^2`
  (the last one gives dL/dh_0);
* ``dW_hh = delta.T @ h[:-1]``, ``(H, TB) @ (TB, H)``: :math:`2TBH^2`;
* ``dW_xh = delta.T @ x``, ``(H, TB) @ (TB, D)``: :math:`2TBDH`;
* ``dx = delta @ W_xh``, ``(TB, H) @ (H, D)``: :math:`2TBDH`.

One forward+backward is therefore :math:`6TB(DH + H^2 + HO)` FLOP. The PyTorch
reference is asked for the same gradients (its input has ``requires_grad``,
so it computes dx too); the naive one computes exactly the same products.

Matrix-multiply rate: the median time of a ``(2048, 2048) @ (2048, 2048)``
product in the benchmark's dtype, ``2 * 2048**3`` FLOP, sampled between the
timed runs of every size so that it sees the same machine state.

Timing: ``time.perf_counter``; every implementation is warmed up (the first
call also serves the gradient check), then the N runs of each are split into
three blocks and the implementations of one size take turns block by block,
so that a slow phase of the machine hits them all alike. Each block starts
with a 0.3 s pause and one untimed call: OpenBLAS's threads keep spinning for
a while after a product, and torch run straight after numpy was measured
here at twice its time. N adapts to the size so that the default run stays
under about three minutes on 2 cores; ``--repeats`` fixes it. The column
"others %" shows how much CPU other processes took meanwhile: on two cores,
any of it slows multi-threaded BLAS far more than its share.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# Benchmark the bptt that sits beside this script, whichever environment runs it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bptt.rnn import init_rnn, rnn_backward, rnn_forward  # noqa: E402

#: (T, B, D, H, O) of each benchmark size, from the project's issue.
SIZES = {
    "small": (100, 32, 64, 128, 64),
    "medium": (100, 64, 256, 512, 256),
    "large": (50, 256, 1024, 1024, 1024),
}
GRAD_KEYS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y", "x")
MATMUL_N = 2048
#: Seconds of timed runs aimed at per size when --repeats is not given.
TIME_BUDGET = 30.0
MIN_REPEATS, MAX_REPEATS = 5, 31
#: Each implementation's runs are split into this many blocks, taken in turns.
ROUNDS = 3
#: Seconds of sleep before each block: long enough for the previous
#: library's threads to stop spinning (OpenBLAS's spin for ~0.1 s after a
#: product; measured here, torch right after bptt took twice its time).
SETTLE = 0.3


def flops_forward_backward(T: int, B: int, D: int, H: int, O: int) -> int:
    """FLOP of one rnn_forward + rnn_backward: 2TB(DH+H^2+HO) + 4TB(DH+H^2+HO)."""
    return 6 * T * B * (D * H + H * H + H * O)


# ----------------------------------------------------------------------------
# The naive reference: BPTT as a textbook first writes it
# ----------------------------------------------------------------------------

def naive_forward(params: dict, x: np.ndarray, h0: np.ndarray):
    """Forward pass with everything inside the time loop; same maths as rnn_forward.

    Parameters
    ----------
    params : dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)``.
    x : ndarray, shape (T, B, D)
    h0 : ndarray, shape (B, H)

    Returns
    -------
    y : ndarray, shape (T, B, O)
    h : ndarray, shape (T+1, B, H), with ``h[0] = h0``
    """
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    hs, ys = [h0], []
    for t in range(x.shape[0]):
        h_t = np.tanh(x[t] @ W_xh.T + hs[-1] @ W_hh.T + b_h)
        hs.append(h_t)
        ys.append(h_t @ W_hy.T + b_y)
    return np.stack(ys), np.stack(hs)


def naive_backward(params: dict, x: np.ndarray, h: np.ndarray, dy: np.ndarray) -> dict:
    """BPTT with one loop over time holding every product; same maths as rnn_backward.

    Parameters
    ----------
    params : dict
        As for :func:`naive_forward`.
    x : ndarray, shape (T, B, D)
    h : ndarray, shape (T+1, B, H)
        The hidden states returned by :func:`naive_forward`.
    dy : ndarray, shape (T, B, O)
        dL/dy.

    Returns
    -------
    dict
        dL/d(parameter) for each parameter key, ``x (T, B, D)`` and ``h0 (B, H)``.
    """
    W_xh, W_hh, W_hy = params["W_xh"], params["W_hh"], params["W_hy"]
    grads = {key: np.zeros_like(params[key]) for key in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}
    dx = np.empty_like(x)
    dh_next = np.zeros_like(h[0])
    for t in range(x.shape[0] - 1, -1, -1):     # x[t] feeds h[t+1]
        # Each weight gradient grows by one step's sum over the batch of
        # outer products (delta_t h_{t-1}^T and so on), inside the loop.
        grads["W_hy"] += dy[t].T @ h[t + 1]
        grads["b_y"] += dy[t].sum(axis=0)
        dh = dy[t] @ W_hy + dh_next
        delta = (1.0 - h[t + 1] ** 2) * dh
        grads["W_xh"] += delta.T @ x[t]
        grads["W_hh"] += delta.T @ h[t]
        grads["b_h"] += delta.sum(axis=0)
        dx[t] = delta @ W_xh
        dh_next = delta @ W_hh
    grads["x"] = dx
    grads["h0"] = dh_next
    return grads


# ----------------------------------------------------------------------------
# Machine information
# ----------------------------------------------------------------------------

def numpy_blas_info() -> tuple[str, int | None]:
    """Describe numpy's BLAS and return ``(description, number of threads or None)``.

    threadpoolctl, when installed, reports the library actually loaded, its
    kernel (e.g. ``SkylakeX``, which ``OPENBLAS_CORETYPE`` can change) and its
    thread count. Without it, numpy's build configuration names the library.
    """
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        # Prefer the BLAS shipped with numpy if another library brought its own.
        blas.sort(key=lambda i: "numpy" not in i.get("filepath", ""))
        if blas:
            i = blas[0]
            desc = (f"{i.get('internal_api')} {i.get('version')}, kernel "
                    f"{i.get('architecture', '?')}, {i.get('threading_layer', '?')} threads "
                    f"(threadpoolctl)")
            return desc, i.get("num_threads")
    desc = "unknown (numpy.show_config failed)"
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        desc = f"{blas.get('name')} {blas.get('version')} (numpy.show_config; " \
               f"install threadpoolctl for the kernel and thread count)"
    except Exception:   # the dict layout is not a stable numpy API
        pass
    return desc, None


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def numpy_threads_fallback() -> tuple[int, str]:
    """Guess numpy's BLAS thread count from the environment, as OpenBLAS and MKL do."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").split(",")[0]
        if value.isdigit() and int(value) > 0:
            return int(value), f"from {var}"
    return cpu_count(), "assumed: one per CPU"


# ----------------------------------------------------------------------------
# The PyTorch reference
# ----------------------------------------------------------------------------

def make_torch_case(torch, params: dict, x: np.ndarray, dy: np.ndarray):
    """Build ``torch.nn.RNN`` + ``nn.Linear`` holding the same weights as ``params``.

    Returns
    -------
    step : callable
        One forward+backward with fresh gradients; returns the ``(T, B, O)`` output.
    grads : callable
        Returns the gradients of the last ``step`` as numpy arrays keyed like
        :func:`bptt.rnn_backward`'s.
    """
    H, D = params["W_xh"].shape
    O = params["W_hy"].shape[0]
    dtype = getattr(torch, np.dtype(x.dtype).name)
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=False).to(dtype)
    linear = torch.nn.Linear(H, O).to(dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"]))
        # torch has two hidden biases that are simply added: b_h = b_ih + b_hh.
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b_h"]))
        rnn.bias_hh_l0.zero_()
        linear.weight.copy_(torch.from_numpy(params["W_hy"]))
        linear.bias.copy_(torch.from_numpy(params["b_y"]))
    x_t = torch.from_numpy(x).requires_grad_(True)     # so that dL/dx is computed too
    dy_t = torch.from_numpy(dy)
    tensors = [*rnn.parameters(), *linear.parameters(), x_t]

    def step():
        for tensor in tensors:
            tensor.grad = None
        out, _ = rnn(x_t)                # h0 = zeros, as in the numpy runs
        y = linear(out)
        # dL/dy of L = sum(y * dy) is dy: the same gradient rnn_backward is given.
        (y * dy_t).sum().backward()
        return y

    def grads():
        return {"W_xh": rnn.weight_ih_l0.grad.numpy(), "W_hh": rnn.weight_hh_l0.grad.numpy(),
                "b_h": rnn.bias_ih_l0.grad.numpy(), "W_hy": linear.weight.grad.numpy(),
                "b_y": linear.bias.grad.numpy(), "x": x_t.grad.numpy()}

    return step, grads


# ----------------------------------------------------------------------------
# Checking and timing
# ----------------------------------------------------------------------------

def assert_grads_close(label: str, got: dict, want: dict, rtol: float) -> None:
    """Assert every gradient in ``GRAD_KEYS`` agrees, to ``rtol`` of its largest entry."""
    for key in GRAD_KEYS:
        scale = float(np.max(np.abs(want[key])))
        err = float(np.max(np.abs(got[key] - want[key])))
        assert got[key].shape == want[key].shape and err <= rtol * scale, (
            f"{label}: dL/d{key} differs from rnn_backward's: max |difference| = {err:.3g}, "
            f"allowed {rtol:g} * max |rnn_backward| = {rtol * scale:.3g}")


def time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (Linux ``/proc/stat``), else None.

    Steal time (a virtual machine's CPU taken by its host) counts as busy too.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def time_blocks(fns: dict, repeats: int) -> tuple[dict, float | None]:
    """Time each function ``repeats`` times, in blocks that take turns.

    The runs are split into ``ROUNDS`` blocks per function; the functions take
    turns block by block, so a slow phase of the machine touches them all.
    Each block starts with ``SETTLE`` seconds of sleep and one untimed call:
    two thread pools (OpenBLAS's and torch's OpenMP one) busy-waiting on the
    same two cores would otherwise slow whichever runs next.

    Returns
    -------
    times : dict
        The ``repeats`` wall-clock times of each function, in seconds.
    others : float or None
        The share of the machine's CPUs that *other* processes used meanwhile
        (0 on a quiet machine; None where it cannot be read). Two BLAS threads
        sharing two cores with anything else slow down far more than the other
        process's share, so a run with a high value is not a measurement.
    """
    rounds = min(ROUNDS, repeats)
    block = [repeats // rounds + (i < repeats % rounds) for i in range(rounds)]
    times = {name: [] for name in fns}
    busy0, own0, wall0 = machine_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    for k in block:
        for name, fn in fns.items():
            time.sleep(SETTLE)
            fn()
            times[name].extend(time_once(fn) for _ in range(k))
    busy1, own1, wall1 = machine_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    others = None
    if busy0 is not None and busy1 is not None:
        others = max(0.0, (busy1 - busy0) - (own1 - own0)) / ((wall1 - wall0) * cpu_count())
    return times, others


def quartiles(times: list) -> tuple[float, float, float]:
    if len(times) < 2:
        return times[0], times[0], times[0]
    q1, q2, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return q1, q2, q3


def bench_size(name: str, dims: tuple, dtype, repeats: int | None, torch, matmul) -> dict:
    """Check the references' gradients, then time every implementation at one size."""
    T, B, D, H, O = dims
    params = init_rnn(D, H, O, seed=0, dtype=dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    dy = rng.standard_normal((T, B, O)).astype(dtype)
    h0 = np.zeros((B, H), dtype=dtype)
    rtol = 1e-3 if np.dtype(dtype) == np.float32 else 1e-8

    def run_bptt():
        _, h = rnn_forward(params, x, h0)
        return rnn_backward(params, x, h, dy)

    def run_naive():
        _, h = naive_forward(params, x, h0)
        return naive_backward(params, x, h, dy)

    fns = {"bptt": run_bptt, "naive": run_naive, "matmul": matmul}
    # First calls: warm-up and the honesty check; then one timed call of each
    # chooses N.
    want = run_bptt()
    assert_grads_close(f"{name}: naive", run_naive(), want, rtol)
    if torch is not None:
        torch_step, torch_grads = make_torch_case(torch, params, x, dy)
        torch_step()
        assert_grads_close(f"{name}: torch", torch_grads(), want, rtol)
        fns["torch"] = torch_step
    one_round = 0.0
    for fn in fns.values():
        time.sleep(SETTLE)
        one_round += time_once(fn)
    if repeats is None:
        repeats = int(min(MAX_REPEATS, max(MIN_REPEATS, TIME_BUDGET // one_round)))
    times, others = time_blocks(fns, repeats)
    return {"name": name, "dims": dims, "repeats": repeats, "times": times, "others": others,
            "flops": flops_forward_backward(T, B, D, H, O)}


def make_matmul(dtype):
    """A (2048, 2048) @ (2048, 2048) product writing into a preallocated output."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal((MATMUL_N, MATMUL_N)).astype(dtype)
    b = rng.standard_normal((MATMUL_N, MATMUL_N)).astype(dtype)
    out = np.empty((MATMUL_N, MATMUL_N), dtype=dtype)
    return lambda: np.matmul(a, b, out=out)


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------

def print_table(results: list, matmul_rate: float, has_torch: bool) -> None:
    head = (f"{'size':<7}{'T':>4}{'B':>5}{'D':>6}{'H':>6}{'O':>6}{'N':>4}{'GFLOP':>7}"
            f"{'bptt ms':>10}{'IQR %':>7}{'GFLOP/s':>9}{'% matmul':>9}"
            f"{'naive ms':>10}{'x naive':>9}{'torch ms':>10}{'x torch':>9}{'others %':>10}")
    print(head)
    print("-" * len(head))
    for r in results:
        T, B, D, H, O = r["dims"]
        q1, med, q3 = quartiles(r["times"]["bptt"])
        rate = r["flops"] / med / 1e9
        naive = statistics.median(r["times"]["naive"])
        if has_torch:
            tmed = statistics.median(r["times"]["torch"])
            torch_cols = f"{tmed * 1e3:>10.2f}{tmed / med:>8.2f}x"
        else:
            torch_cols = f"{'-':>10}{'-':>9}"
        others = "?" if r["others"] is None else f"{100 * r['others']:.0f}"
        print(f"{r['name']:<7}{T:>4}{B:>5}{D:>6}{H:>6}{O:>6}{r['repeats']:>4}"
              f"{r['flops'] / 1e9:>7.2f}{med * 1e3:>10.2f}{100 * (q3 - q1) / med:>7.1f}"
              f"{rate:>9.1f}{100 * rate / matmul_rate:>8.1f}%"
              f"{naive * 1e3:>10.2f}{naive / med:>8.2f}x{torch_cols}{others:>10}")
    busy = [r["name"] for r in results if r["others"] is not None and r["others"] > 0.05]
    if busy:
        print(f"\nWARNING: other processes used more than 5% of the CPUs while {', '.join(busy)} "
              "ran (column 'others %'): those times are not a measurement of this code. "
              "Run again on a quiet machine.")


def print_targets(results: list, matmul_rate: float, has_torch: bool) -> None:
    by_name = {r["name"]: r for r in results}

    def speedup(size):
        r = by_name[size]
        return statistics.median(r["times"]["torch"]) / statistics.median(r["times"]["bptt"])

    targets = [
        ("small", "bptt >= 1.5x as fast as torch autograd", True,
         lambda: (speedup("small"), 1.5, "x")),
        ("medium", "bptt no slower than torch autograd (>= 1.0x)", True,
         lambda: (speedup("medium"), 1.0, "x")),
        ("large", "bptt >= 80% of the matmul rate", False,
         lambda: (100 * by_name["large"]["flops"]
                  / statistics.median(by_name["large"]["times"]["bptt"]) / 1e9 / matmul_rate,
                  80.0, "%")),
    ]
    print("\nTargets (defined for float32):")
    for size, text, needs_torch, measure in targets:
        label = f"  {size:<7}{text:<48}"
        if size not in by_name:
            print(f"{label}skipped: size not run")
        elif needs_torch and not has_torch:
            print(f"{label}skipped: torch not installed")
        else:
            value, goal, unit = measure()
            verdict = "PASS" if value >= goal else "MISS"
            print(f"{label}{verdict}  ({value:.2f}{unit}, target {goal:g}{unit})")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated subset of: " + ", ".join(SIZES))
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per implementation and size (default: adaptive, "
                             f"{MIN_REPEATS} to {MAX_REPEATS})")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        parser.error(f"--sizes must be a comma-separated subset of {', '.join(SIZES)}, "
                     f"got {args.sizes!r}")
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be a positive integer, got {args.repeats}")
    return sizes, args.repeats, np.dtype(args.dtype)


def main(argv=None) -> int:
    sizes, repeats, dtype = parse_args(argv)
    # Ask about numpy's BLAS before torch is imported, so nothing torch loads
    # can be mistaken for it.
    blas, np_threads = numpy_blas_info()
    thread_note = "threadpoolctl"
    if np_threads is None:
        np_threads, thread_note = numpy_threads_fallback()
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(np_threads)   # the same cores for both sides

    print("bptt RNN benchmark: rnn_forward + rnn_backward, "
          f"dtype {dtype.name}, median of N runs")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()} {platform.processor() or platform.system()}, "
          f"{cpu_count()} CPUs")
    print(f"numpy BLAS: {blas}")
    print(f"numpy BLAS threads: {np_threads} ({thread_note})")
    env = [f"{k}={os.environ[k]}" for k in sorted(os.environ)
           if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "GOTO"))]
    print(f"BLAS environment: {' '.join(env) if env else '(none set)'}")
    if torch is not None:
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()} "
              "(set to numpy's)")
    else:
        print("torch: not installed, its columns are skipped")

    matmul = make_matmul(dtype)
    matmul()
    results = []
    for name in sizes:
        results.append(bench_size(name, SIZES[name], dtype, repeats, torch, matmul))
    mm_times = [t for r in results for t in r["times"]["matmul"]]
    mm_med = statistics.median(mm_times)
    matmul_rate = 2 * MATMUL_N ** 3 / mm_med / 1e9
    print(f"matmul rate: {matmul_rate:.1f} GFLOP/s "
          f"({MATMUL_N}^3 {dtype.name} product, median of {len(mm_times)}: "
          f"{mm_med * 1e3:.1f} ms)\n")
    print_table(results, matmul_rate, torch is not None)
    print_targets(results, matmul_rate, torch is not None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
