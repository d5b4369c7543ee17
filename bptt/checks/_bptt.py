r"""The mistakes of BPTT: what ``rnn_backward`` returns with one common mistake made.

:func:`backward_variant` is BPTT written step by step with a keyword for each
mistake; :func:`backward_mistakes` and :func:`truncation_mistakes` list the
:class:`~bptt.checks._compare.Mistake` s the judge of :mod:`bptt.checks.backward`
compares a wrong result with (:func:`bptt.checks._compare.values_report`).
Everything is computed in float64 from the problem's arrays.
"""
from __future__ import annotations

import numpy as np

from ..rnn import PARAM_KEYS
from ._compare import Mistake, as64

__all__ = ["TRANSPOSED_HINT", "backward_variant", "backward_mistakes", "truncation_mistakes"]


def backward_variant(params, x, h, dy, *, cut=frozenset(), dtanh="h_t", add_future=True,
                      future="delta", sums="all", batch="sum", hh_pair=0, xh_pair=0,
                      hy_pair=0, zero_h0=False, skip=(), h0_grad="right") -> dict:
    r"""BPTT written step by step, with one common mistake switched on by a keyword.

    With every keyword at its default this is the right gradient: for t = T..1,
    hbar_t = W_hy^T dy_t + W_hh^T delta_{t+1}, delta_t = (1 - h_t^2) * hbar_t,
    and the parameter gradients are sums over t and over the batch. ``batch``
    = "first" or "mean" uses the first sequence only, or a mean over the
    batch, in the parameter gradients. ``cut`` holds the t whose
    h_t receives nothing from step t+1 (truncated BPTT; 0 cuts h0 too).
    ``zero_h0`` pairs delta_1 with zeros in dW_hh, where h[0] = h0 belongs.
    """
    p = {k: as64(v) for k, v in params.items()}
    x, h, dy = as64(x), as64(h), as64(dy)
    T = x.shape[0]
    g = {k: np.zeros_like(p[k]) for k in PARAM_KEYS}
    dx = np.zeros_like(x)
    derivs = {"h_t": lambda t: 1 - h[t] ** 2, "missing": lambda t: 1.0,
              "twice": lambda t: (1 - h[t] ** 2) ** 2, "h_prev": lambda t: 1 - h[t - 1] ** 2,
              "h_next": lambda t: 1 - h[t + 1] ** 2 if t < T else 1.0,
              "tanh_h": lambda t: 1 - np.tanh(h[t]) ** 2, "no_square": lambda t: 1 - h[t],
              "negated": lambda t: h[t] ** 2 - 1}
    from_future = np.zeros_like(h[0])
    delta = hbar = from_future
    for t in range(T, 0, -1):
        if t in skip:
            continue
        hbar = dy[t - 1] @ p["W_hy"] + (from_future if add_future else 0.0)
        delta = derivs[dtanh](t) * hbar
        rows = slice(0, 1) if batch == "first" else slice(None)
        d, e = delta[rows], dy[t - 1][rows]
        h_prev = h[(t - 1 + hh_pair) % (T + 1)] * (0.0 if zero_h0 and t == 1 else 1.0)
        step = {"W_hy": e.T @ h[t + hy_pair][rows], "b_y": e.sum(axis=0),
                "W_xh": d.T @ x[(t - 1 + xh_pair) % T][rows],
                "W_hh": d.T @ h_prev[rows], "b_h": d.sum(axis=0)}
        if batch == "mean":
            step = {k: v / x.shape[1] for k, v in step.items()}
        for k in PARAM_KEYS:
            if sums == "all":
                g[k] += step[k]
            elif sums == "first" or (sums == "last" and t == T):
                g[k] = step[k]    # overwritten: "first" keeps step 1, the last one visited
        dx[t - 1] = delta @ p["W_xh"]
        if t - 1 in cut:
            from_future = np.zeros_like(from_future)
        else:
            back = {"delta": delta @ p["W_hh"], "untransposed": delta @ p["W_hh"].T,
                    "hbar": hbar @ p["W_hh"]}
            from_future = back[future]
    g["x"] = dx
    g["h0"] = {"right": from_future, "delta_1": delta, "hbar_1": hbar}[h0_grad]
    return g


def _window_backward(params, x, h, dy, k: int) -> dict:
    """Truncation of another kind: each loss sends its gradient back k steps at most."""
    p = {key: as64(v) for key, v in params.items()}
    x, h, dy = as64(x), as64(h), as64(dy)
    T = x.shape[0]
    g = {key: np.zeros_like(p[key]) for key in PARAM_KEYS}
    g["x"], g["h0"] = np.zeros_like(x), np.zeros_like(h[0])
    for s in range(1, T + 1):
        g["W_hy"] += dy[s - 1].T @ h[s]
        g["b_y"] += dy[s - 1].sum(axis=0)
        hbar = dy[s - 1] @ p["W_hy"]
        for t in range(s, max(1, s - k + 1) - 1, -1):
            delta = (1 - h[t] ** 2) * hbar
            g["W_xh"] += delta.T @ x[t - 1]
            g["W_hh"] += delta.T @ h[t - 1]
            g["b_h"] += delta.sum(axis=0)
            g["x"][t - 1] += delta @ p["W_xh"]
            hbar = delta @ p["W_hh"]
            if t == 1:
                g["h0"] += hbar
    return g


def _cut(T: int, k: int | None) -> frozenset:
    """The t whose h_t gets nothing from step t+1 with truncate=k: k, 2k, ... below T."""
    return frozenset() if k is None else frozenset(range(k, T, k))


_BACKWARD_MISTAKES = [
    (dict(dtanh="missing"), "the tanh derivative is missing: the gradient reaches a_t through "
     "tanh, delta_t = (1 - h_t**2) * hbar_t, before it reaches W_xh, W_hh, b_h, x_t and "
     "h_{t-1}."),
    (dict(dtanh="twice"), "the tanh derivative is applied twice: (1 - h_t**2) multiplies "
     "hbar_t once, when delta_t is formed, and delta_t is then used as it is."),
    (dict(dtanh="h_prev"), "the tanh derivative is taken at h_{t-1} instead of h_t: step t "
     "computes h_t = tanh(a_t), so its derivative is 1 - h_t**2, from the output of the step "
     "being differentiated. Remember h[t] is h_t and h[0] is h0."),
    (dict(dtanh="h_next"), "the tanh derivative is taken at h_{t+1} instead of h_t: step t "
     "computes h_t = tanh(a_t), so its derivative is 1 - h_t**2, from the output of the step "
     "being differentiated."),
    (dict(dtanh="tanh_h"), "the tanh derivative is computed as 1 - tanh(h_t)**2: h_t is already "
     "tanh(a_t), so the derivative is simply 1 - h_t**2."),
    (dict(dtanh="no_square"), "the tanh derivative is computed as 1 - h_t instead of "
     "1 - h_t**2."),
    (dict(dtanh="negated"), "the tanh derivative has the wrong sign: it is 1 - h_t**2, which is "
     "positive, not h_t**2 - 1."),
    (dict(add_future=False), "the gradient flowing back from the future is not added: "
     "hbar_t = W_hy^T dy_t + W_hh^T delta_{t+1}, the loss at step t plus everything that "
     "h_t influences through step t+1."),
    (dict(future="untransposed"), "the gradient flowing back from step t+1 uses W_hh where its "
     "transpose belongs (or the other way round): it is W_hh^T delta_{t+1} in column form, "
     "which with one row per sequence is the product of delta_{t+1} with W_hh itself."),
    (dict(future="hbar"), "the gradient passed back to h_{t-1} skips the tanh derivative: it is "
     "W_hh^T delta_t with delta_t = (1 - h_t**2) * hbar_t, not W_hh^T hbar_t."),
    (dict(sums="first"), "this gradient holds the contribution of step 1 only, the last one "
     "the reversed loop visits: the weights are shared by all steps, so their gradient is the "
     "sum over t of the contributions of every step; accumulate with += instead of = ."),
    (dict(sums="last"), "this gradient holds the contribution of the last step T only instead "
     "of the sum over t = 1, ..., T: the weights are shared by all steps, so their gradient "
     "accumulates the contribution of every step (+= instead of =)."),
    (dict(batch="first"), "it uses the first sequence of the batch only: the parameters are "
     "shared by every sequence, so their gradients sum over the batch as well as over time "
     "(for a bias the sum of delta_t over the batch; for a weight, with one row per "
     "sequence, the transpose of delta_t times all B rows of its input)."),
    (dict(batch="mean"), "it is a mean over the batch: the parameters are shared by every "
     "sequence, so their gradients are sums over the batch (and over time); dy already holds "
     "any averaging of the loss."),
    (dict(hh_pair=1), "dW_hh pairs delta_t with h_t instead of h_{t-1}: a_t = W_hh h_{t-1} + "
     "W_xh x_t + b_h, so dL/dW_hh = sum_t delta_t h_{t-1}^T; with h[0] = h0, the state "
     "entering step t is h[t-1]."),
    (dict(hh_pair=-1), "dW_hh pairs delta_t with h_{t-2} instead of h_{t-1}: x_t pairs with "
     "h_{t-1}, and x has T entries (x[t-1] is x_t) while h has T+1 (h[t-1] is h_{t-1})."),
    (dict(xh_pair=-1), "dW_xh pairs delta_t with x_{t-1} instead of x_t: x[t-1] is x_t, the "
     "input of step t, while h[t] is its output (h has one more entry, h[0] = h0)."),
    (dict(xh_pair=1), "dW_xh pairs delta_t with x_{t+1} instead of x_t: x[t-1] is x_t, the "
     "input of step t, while h[t] is its output (h has one more entry, h[0] = h0)."),
    (dict(hy_pair=-1), "dW_hy pairs dy_t with h_{t-1} instead of h_t: the output y_t = W_hy h_t "
     "+ b_y is computed from the state after step t, h[t], so dL/dW_hy = sum_t dy_t h_t^T (h "
     "has T+1 entries, h[0] = h0, while dy has T: dy[t-1] goes with h[t])."),
    (dict(zero_h0=True), "dW_hh uses zeros where h_0 belongs: the term of step 1 is delta_1 "
     "h_0^T, and h_0 = h[0] is the given initial state, not zeros (it is zeros only when h0 "
     "is)."),
    (dict(skip=("T",)), "the last step T is missing: the reversed loop must visit every step, "
     "t = T, T-1, ..., 1."),
    (dict(skip=(1,)), "step 1 is missing: the reversed loop stops too early; step 1 (input "
     "x_1 = x[0], state h_0 = h[0]) must be visited too."),
    (dict(h0_grad="delta_1"), "the h0 gradient is delta_1 = dL/da_1; h0 enters a_1 = W_hh h_0 "
     "+ W_xh x_1 + b_h, so dL/dh_0 = W_hh^T delta_1."),
    (dict(h0_grad="hbar_1"), "the h0 gradient is dL/dh_1, one step too late: dL/dh_0 = "
     "W_hh^T delta_1, what flows back out of step 1."),
]

TRANSPOSED_HINT = ("the gradient of W has the layout of W (W[i, j] connects input j to unit "
                    "i), so dL/dW_hh = sum_t delta_t h_{t-1}^T has delta along its rows.")


def backward_mistakes(prob: dict, truncate: int | None) -> list:
    """A Mistake for each common mistake of BPTT (a step left out changes every output)."""
    T = prob["x"].shape[0]
    args = (prob["params"], prob["x"], prob["h"], prob["dy"])
    cut = _cut(T, truncate)
    out = []
    for kw, cause in _BACKWARD_MISTAKES:
        kw = dict(kw)
        if kw.get("skip") == ("T",):
            kw["skip"] = (T,)
        out.append(Mistake(cause, backward_variant(*args, cut=cut, **kw), whole="skip" in kw))
    return out


def truncation_mistakes(prob: dict, k: int) -> list:
    """A Mistake for each common mistake of truncated BPTT with truncate=k, keyed across k."""
    T = prob["x"].shape[0]
    args = (prob["params"], prob["x"], prob["h"], prob["dy"])
    right = _cut(T, k)
    from_end = (f"it counts the chunks of {k} step{'s' if k > 1 else ''} from the end of the "
                f"sequence; they start at step 1: the state is detached at h_{k}, h_{2 * k}, ... "
                f"(after steps {k}, {2 * k}, ... of the forward pass), whatever T is.")
    cuts = [
        ("ignored", frozenset(), f"it ignores truncate: the result is the full BPTT gradient. "
         f"With truncate={k} the state is detached at h_{k}, h_{2 * k}, ...: the gradient "
         f"flowing back from step j*{k}+1 into h_{{j*{k}}} is dropped (chunks of {k} step"
         f"{'s' if k > 1 else ''} from the start)."),
        ("late", frozenset(t + 1 for t in right if t + 1 < T),
         f"it detaches one step too late, at h_{k + 1}, h_{2 * k + 1}, ... instead of "
         f"h_{k}, h_{2 * k}, ...: with truncate={k}, step k+1 is the first step that must not "
         "send its gradient back into h_k."),
        ("early", frozenset(t - 1 for t in range(k, T + 1, k)) - {T},
         f"it detaches one step too early, at h_{k - 1}, h_{2 * k - 1}, ... instead of "
         f"h_{k}, h_{2 * k}, ... (with h[0] = h0, h[t] is h_t)."),
        # Counted from the end, the last chunk may end at h_0: with or without cutting it.
        ("from the end", frozenset(range(T - k, 0, -k)), from_end),
        ("from the end", frozenset(range(T - k, -1, -k)), from_end),
        ("h0", right | {0}, "the h0 gradient is dropped: with truncation, the first chunk (steps "
         "1 to k) still sends its gradient back to h0."),
    ]
    out = [Mistake(cause, backward_variant(*args, cut=cut), key) for key, cut, cause in cuts
           if cut != right]
    out.append(Mistake(f"each loss sends its gradient back {k} steps at most (a sliding window). "
                       f"This truncation is different: the state is detached at h_{k}, "
                       f"h_{2 * k}, ..., so every loss of a chunk reaches back to the start of "
                       "its chunk.", _window_backward(*args, k), "window"))
    return out
