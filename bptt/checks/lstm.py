r"""Checks of the LSTM: ``lstm_step_forward``, ``lstm_step_backward``, ``lstm_backward`` (HW5).

The LSTM's parameters stack its four gates along the rows, in PyTorch's order
i, f, g, o: ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)``; rows ``0:H``
belong to the input gate i, ``H:2H`` to the forget gate f, ``2H:3H`` to the
candidate g, ``3H:4H`` to the output gate o. A gradient of these parameters
is judged block by block, so that a message names the gate whose rows are
wrong. On a wrong result, each check computes what every common mistake of
the LSTM gives (:func:`step_backward_variant`, :func:`backward_variant`,
:func:`_forward_variant`, written here step by step in float64) and names the
mistake whose numbers the student's match (:mod:`bptt.checks._compare`).

``check_lstm_backward`` runs three stages like ``check_rnn_backward``: five
float64 problems, one float32 problem, then truncated BPTT (``truncate`` =
1, 2, 3, T, T+1 on the problems with T >= 3). The problems come from
:func:`draw_lstm`.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..lstm import lstm_backward as _ref_lstm_backward
from ..lstm import lstm_forward as _ref_lstm_forward
from ..lstm import lstm_step_backward as _ref_lstm_step_backward
from ..lstm import lstm_step_forward as _ref_lstm_step_forward
from ._compare import TOL, Mistake, array_problem, as64, close, values_report
from ._harness import Call, Check, Failure, Problem, call_failure, check_fn, wrong
from ._rnn import PATTERNS, Sizes, backward_problem, rnn_exception_hint, truncations

__all__ = ["check_lstm_step_forward", "check_lstm_step_backward", "check_lstm_backward"]

#: The gates in the order of their blocks of rows (PyTorch's).
GATES = ("i", "f", "g", "o")
_PARAM_KEYS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
#: The keys of lstm_step_backward's dict, and of lstm_backward's.
STEP_KEYS = ("W_xh", "W_hh", "b_h", "x_t", "h_prev", "c_prev")
GRAD_KEYS = (*_PARAM_KEYS, "x", "h0", "c0")
#: The keys whose rows are the four gates' blocks.
_GATED = ("W_xh", "W_hh", "b_h")

LETTERS = {"W_xh": ("4H", "D"), "W_hh": ("4H", "H"), "b_h": ("4H",), "W_hy": ("O", "H"),
           "b_y": ("O",), "x": ("T", "B", "D"), "h0": ("B", "H"), "c0": ("B", "H"),
           "x_t": ("B", "D"), "h_prev": ("B", "H"), "c_prev": ("B", "H"), "h_t": ("B", "H"),
           "c_t": ("B", "H"), "gates": ("B", "4H")}


def _shape(sz: Sizes, key: str) -> tuple:
    dims = {**sz.dims(), "4H": 4 * sz.H}
    return tuple(dims[letter] for letter in LETTERS[key])


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _rows(gate: str) -> str:
    return {"i": "rows 0:H", "f": "rows H:2H", "g": "rows 2H:3H", "o": "rows 3H:4H"}[gate]


# --------------------------------------------------------------------------
# (a) The random problem
# --------------------------------------------------------------------------

def draw_lstm(sz: Sizes, seed) -> dict:
    """Random parameters, inputs, h0, c0, the package's forward pass and a random dy.

    The gates' biases are nonzero and different, and the weights moderate, so
    that every gate works away from 0 and 1 and each common mistake changes
    the numbers. ``h0`` and ``c0`` are zeros when ``sz.h0`` is "zero". Drawn
    in float64, then cast to ``sz.dtype``. Returns ``params``, ``x``, ``h0``,
    ``c0``, ``y``, ``state`` (``h``, ``c``, gates) and ``dy``.
    """
    rng = np.random.default_rng(seed)
    T, B, D, H, O = sz.T, sz.B, sz.D, sz.H, sz.O
    params = {"W_xh": rng.standard_normal((4 * H, D)) / np.sqrt(D),
              "W_hh": 1.2 * rng.standard_normal((4 * H, H)) / np.sqrt(H),
              "b_h": 0.5 * rng.standard_normal(4 * H),
              "W_hy": rng.standard_normal((O, H)) / np.sqrt(H),
              "b_y": 0.3 * rng.standard_normal(O)}
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H))
    c0 = rng.standard_normal((B, H))
    if sz.h0 == "zero":
        h0, c0 = np.zeros((B, H)), np.zeros((B, H))
    dy = rng.standard_normal((T, B, O))
    dtype = np.dtype(sz.dtype)
    params = {k: v.astype(dtype) for k, v in params.items()}
    x, h0, c0, dy = (a.astype(dtype) for a in (x, h0, c0, dy))
    y, state = _ref_lstm_forward(params, x, h0, c0)
    return {"params": params, "x": x, "h0": h0, "c0": c0, "y": y, "state": state, "dy": dy}


def lstm_exception_hint(exc: Exception, line: str = "") -> str:
    """A likely reason for an exception raised inside an LSTM function."""
    text = str(exc)
    if isinstance(exc, KeyError):
        return f"params has the keys {list(_PARAM_KEYS)}; state has 'h', 'c' and 'gates'."
    if isinstance(exc, ValueError) and any(s in text for s in ("matmul", "aligned", "shapes",
                                                                 "broadcast", "mismatch")):
        return ("two arrays of incompatible shapes were combined. W_xh is (4H, D) and W_hh is "
                "(4H, H): the four gates' pre-activations of all sequences are one (B, 4H) "
                "array, x_t @ W_xh.T + h_prev @ W_hh.T + b_h, split into four (B, H) blocks "
                "i, f, g, o (np.split(a, 4, axis=1)); each gate is (B, H), like h and c.")
    return rnn_exception_hint(exc, line)


# --------------------------------------------------------------------------
# The mistakes of one step: forward
# --------------------------------------------------------------------------

def _forward_variant(params, x_t, h_prev, c_prev, *, order="ifgo", acts="right", bias=True,
                     use_c=True, forget_on="c_prev", tanh_c=True, pre=False, swap_hc=False,
                     swap_state=False) -> dict:
    """One LSTM step with one common mistake switched on by a keyword (float64).

    ``order`` is the order in which the student takes the gates from the four
    blocks of the pre-activation (and lays them out in gates).
    """
    p = {k: as64(v) for k, v in params.items()}
    x_t, h_prev, c_prev = as64(x_t), as64(h_prev), as64(c_prev)
    if swap_state:
        h_prev, c_prev = c_prev, h_prev
    a = x_t @ p["W_xh"].T + h_prev @ p["W_hh"].T + (p["b_h"] if bias else 0.0)
    blocks = np.split(a, 4, axis=1)
    named = dict(zip(order, blocks))
    fn = {"right": lambda k: np.tanh if k == "g" else _sigmoid,
          "all sigmoid": lambda k: _sigmoid, "all tanh": lambda k: np.tanh}[acts]
    gate = {k: fn(k)(v) for k, v in named.items()}
    kept = {"c_prev": c_prev, "h_prev": h_prev}[forget_on]
    c_t = gate["f"] * kept + gate["i"] * gate["g"] if use_c else gate["i"] * gate["g"]
    h_t = gate["o"] * (np.tanh(c_t) if tanh_c else c_t)
    gates = np.concatenate([named[k] if pre else gate[k] for k in order], axis=1)
    if swap_hc:
        h_t, c_t = c_t, h_t
    return {"h_t": h_t, "c_t": c_t, "gates": gates}


_ORDER_HINT = ("the gates are taken in the wrong order: this package stacks the four blocks "
               "of rows of W_xh, W_hh and b_h in PyTorch's order i, f, g, o (input, forget, "
               "candidate, output: rows 0:H, H:2H, 2H:3H, 3H:4H), and gates keeps that "
               "order. Other code (CS231n's assignment, for one) uses i, f, o, g.")


def _forward_mistakes(params, x_t, h_prev, c_prev) -> list:
    knobs = [
        (dict(order="ifog"), f"{_ORDER_HINT} Here the gates are read as i, f, o, g."),
        (dict(order="figo"), "the input and forget gates are exchanged: rows 0:H are the input "
         "gate i, rows H:2H the forget gate f, and c_t = f * c_{t-1} + i * g."),
        (dict(order="iofg"), f"{_ORDER_HINT} Here the gates are read as i, o, f, g."),
        (dict(acts="all sigmoid"), "the candidate g goes through the sigmoid: i, f and o are "
         "sigmoids (gates between 0 and 1), but g = tanh(a_g), between -1 and 1."),
        (dict(acts="all tanh"), "the gates i, f and o go through tanh: they are sigmoids, "
         "between 0 and 1 (only the candidate g is a tanh)."),
        (dict(bias=False), "b_h is missing from the pre-activation a_t = W_xh x_t + W_hh "
         "h_{t-1} + b_h."),
        (dict(use_c=False), "c_{t-1} is ignored: the cell keeps f * c_{t-1}, c_t = f * c_{t-1} "
         "+ i * g."),
        (dict(forget_on="h_prev"), "the forget gate is applied to h_{t-1} instead of c_{t-1}: "
         "c_t = f * c_{t-1} + i * g; the cell state, not the hidden state, is what is kept."),
        (dict(tanh_c=False), "the tanh of the cell is missing: h_t = o * tanh(c_t)."),
        (dict(pre=True), "gates holds the pre-activations: return the gates after their "
         "nonlinearities (sigmoid for i, f, o; tanh for g), which the backward pass needs."),
        (dict(swap_hc=True), "h_t and c_t are exchanged: the step returns (h_t, c_t, gates)."),
        (dict(swap_state=True), "h_prev and c_prev are exchanged: h_{t-1} enters the "
         "pre-activation through W_hh, and c_{t-1} is what the forget gate keeps."),
    ]
    return [(cause, _forward_variant(params, x_t, h_prev, c_prev, **kw)) for kw, cause in knobs]


# --------------------------------------------------------------------------
# The mistakes of one step: backward
# --------------------------------------------------------------------------

def step_backward_variant(params, x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t, *,
                          read="ifgo", write="ifgo", dsig=None, dg="right", dtanh_c="right",
                          c_path=True, dc_future=True, df_c="c_prev", do_c="tanh",
                          dc_prev="f") -> dict:
    r"""``lstm_step_backward`` written out, with one common mistake switched on by a keyword.

    With every keyword at its default it is the right gradient:
    dc = dc_t + o * (1 - tanh(c_t)^2) * dh_t; the gates' gradients
    di = dc * g, df = dc * c_{t-1}, dg = dc * i, do = dh_t * tanh(c_t), each
    through its nonlinearity (s * (1 - s) for a sigmoid s, 1 - g^2 for g)
    into da, the (B, 4H) gradient of the pre-activation; then
    dW_xh = da^T x_t, dW_hh = da^T h_{t-1}, db_h = sum over the batch,
    dx_t = da W_xh, dh_{t-1} = da W_hh, dc_{t-1} = f * dc.

    ``read`` and ``write`` are the orders in which the gates are taken from
    gates and their gradients put into ``da``; ``dsig`` maps a sigmoid gate
    to how its derivative is computed ("pre": s(1-s) on the pre-activation,
    "tanh": 1 - s^2, "missing", or another gate's name: from that gate's
    activation); ``dg`` is "sigmoid" (g(1-g)), "pre" (1 - a_g^2) or "missing".
    """
    p = {k: as64(v) for k, v in params.items()}
    x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t = (as64(a) for a in (
        x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t))
    a = dict(zip(GATES, np.split(x_t @ p["W_xh"].T + h_prev @ p["W_hh"].T + p["b_h"], 4,
                                 axis=1)))
    s = dict(zip(read, np.split(gates, 4, axis=1)))
    tc = np.tanh(c_t)
    slope = {"right": 1 - tc ** 2, "missing": 1.0, "c_prev": 1 - np.tanh(c_prev) ** 2,
             "no_tanh": 1 - c_t ** 2}[dtanh_c]
    dc = (dc_t if dc_future else 0.0) + (s["o"] * slope * dh_t if c_path else 0.0)
    d = {"i": dc * s["g"], "f": dc * {"c_prev": c_prev, "c_t": c_t}[df_c], "g": dc * s["i"],
         "o": dh_t * {"tanh": tc, "c": c_t}[do_c]}
    da = {}
    for k in ("i", "f", "o"):
        how = (dsig or {}).get(k, "right")
        if how == "right":
            deriv = s[k] * (1 - s[k])
        elif how == "pre":
            deriv = a[k] * (1 - a[k])
        elif how == "tanh":
            deriv = 1 - s[k] ** 2
        elif how == "missing":
            deriv = 1.0
        else:
            deriv = s[how] * (1 - s[how])
        da[k] = d[k] * deriv
    da["g"] = d["g"] * {"right": 1 - s["g"] ** 2, "sigmoid": s["g"] * (1 - s["g"]),
                        "pre": 1 - a["g"] ** 2, "missing": 1.0}[dg]
    da = np.concatenate([da[k] for k in write], axis=1)
    return {"W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(axis=0),
            "x_t": da @ p["W_xh"], "h_prev": da @ p["W_hh"],
            "c_prev": {"f": s["f"] * dc, "no_f": dc, "future_only": s["f"] * dc_t}[dc_prev]}


_GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g",
               "o": "output gate o"}
_FROM = {"i": "the input gate's gradient is dc * g", "f": "the forget gate's gradient is "
         "dc * c_{t-1}", "o": "the output gate's gradient is dh_t * tanh(c_t)"}


def _step_mistakes(*, sequence: bool) -> list:
    """(keywords, cause, key) of each common mistake of one step's backward pass."""
    out = []
    for k in ("i", "f", "o"):
        name, rows = _GATE_NAMES[k], _rows(k)
        at = f"at the {name}'s sigmoid ({rows})"
        out += [
            (dict(dsig={k: "pre"}), f"the sigmoid derivative {at} is evaluated at the wrong "
             f"value: s * (1 - s) on the pre-activation a_{k} instead of on the gate's "
             f"value {k} = sigmoid(a_{k}), which gates holds: the derivative is "
             f"{k} * (1 - {k}).", f"pre {k}"),
            (dict(dsig={k: "tanh"}), f"the derivative {at} is the tanh's, 1 - {k}**2: "
             f"{k} is a sigmoid, whose derivative is {k} * (1 - {k}).", f"tanh {k}"),
            (dict(dsig={k: "missing"}), f"the sigmoid derivative {at} is missing: "
             f"{_FROM[k]}, and it reaches a_{k} through the sigmoid, times {k} * (1 - {k}).",
             f"missing {k}"),
        ]
        for other in ("i", "f", "o", "g"):
            if other != k:
                out.append((dict(dsig={k: other}), f"the sigmoid derivative {at} is evaluated "
                            f"at the wrong value: it is computed from the {_GATE_NAMES[other]}, "
                            f"{other} * (1 - {other}), instead of {k} * (1 - {k}) (each gate's "
                            "derivative comes from its own block of gates).",
                            f"{other} for {k}"))
    rows = _rows("g")
    out += [
        (dict(dg="sigmoid"), f"the derivative at the candidate g ({rows}) is a sigmoid's, "
         "g * (1 - g): g = tanh(a_g), so it is 1 - g**2.", "sigmoid g"),
        (dict(dg="pre"), f"the tanh derivative at the candidate g ({rows}) is evaluated at the "
         "pre-activation, 1 - a_g**2: it is 1 - g**2, from g = tanh(a_g) itself.", "pre g"),
        (dict(dg="missing"), f"the tanh derivative at the candidate g ({rows}) is missing: "
         "the gradient dc * i reaches a_g through tanh, times 1 - g**2.", "missing g"),
        (dict(read="ifog", write="ifog"), f"{_ORDER_HINT} Here gates is split, and the "
         "gradients of the blocks stacked, as i, f, o, g.", "order"),
        (dict(read="ifog"), f"{_ORDER_HINT} Here gates is split as i, f, o, g.", "order"),
        (dict(write="ifog"), f"{_ORDER_HINT} Here the gradients of the four blocks are stacked "
         "as i, f, o, g.", "order"),
        (dict(read="figo", write="figo"), "the input and forget gates are exchanged: rows 0:H "
         "are the input gate i, rows H:2H the forget gate f.", "swap i f"),
        (dict(dtanh_c="missing"), "the derivative of tanh(c_t) is missing from the c path: "
         "h_t = o * tanh(c_t), so dh_t reaches c_t times o * (1 - tanh(c_t)**2).", "tanh c"),
        (dict(dtanh_c="c_prev"), "the derivative of tanh(c_t) uses c_{t-1}: h_t = o * "
         "tanh(c_t), so dh_t reaches c_t times o * (1 - tanh(c_t)**2), at this step's c_t.",
         "tanh c prev"),
        (dict(dtanh_c="no_tanh"), "the derivative of tanh(c_t) is computed as 1 - c_t**2: c_t "
         "is not a tanh (h_t is o * tanh(c_t)), so it is 1 - tanh(c_t)**2.", "no tanh c"),
        (dict(c_path=False), "the c path is missing from h's gradient: dh_t also reaches c_t, "
         "through h_t = o * tanh(c_t), so the cell's gradient is dc = dc_t + o * (1 - "
         "tanh(c_t)**2) * dh_t, not dc_t alone.", "c path"),
        (dict(df_c="c_t"), "the forget gate is applied to the wrong c: c_t = f * c_{t-1} + "
         "i * g, so the forget gate's gradient is dc * c_{t-1}, not dc * c_t.", "f c_t"),
        (dict(do_c="c"), "the output gate's gradient uses c_t instead of tanh(c_t): h_t = o * "
         "tanh(c_t), so do = dh_t * tanh(c_t).", "o c"),
        (dict(dc_prev="no_f"), "dc_prev is missing the forget gate's factor: c_t = f * c_{t-1} "
         "+ i * g, so dL/dc_{t-1} = f * dc, not dc.", "no f"),
    ]
    if not sequence:
        # Over a sequence these two give what no c path through time gives (dc_T = 0).
        out += [
            (dict(dc_prev="future_only"), "dc_prev passes back only what came from step t+1 "
             "(f * dc_t): it is f * dc, with dc the whole gradient of c_t, dc_t plus o * (1 - "
             "tanh(c_t)**2) * dh_t.", "future only"),
            (dict(dc_future=False), "dc_t is not added: the cell's gradient is dc = dc_t + o * "
             "(1 - tanh(c_t)**2) * dh_t, what flows into c_t from step t+1 plus what comes "
             "through h_t.", "dc_t")]
    return out


def _gate_lines(got: Mapping, want: Mapping, tol: float) -> tuple:
    """Which gates' blocks of rows of W_xh, W_hh and b_h are wrong, as one line; or ()."""
    keys = [k for k in _GATED if k in got and isinstance(got[k], np.ndarray)
            and got[k].shape == np.shape(want[k])]
    if not keys:
        return ()
    bad = [k for k in GATES if not all(close(b, w, tol) for key in keys
                                       for b, w in [(np.split(as64(got[key]), 4)[GATES.index(k)],
                                                     np.split(as64(want[key]), 4)[GATES.index(k)])])]
    if not bad or len(bad) == 4:
        return ("  by gate: the blocks of every gate i, f, g, o are wrong.",) if bad else ()
    right = [k for k in GATES if k not in bad]
    rows = [f"{_GATE_NAMES[k]} ({_rows(k)})" for k in bad]
    return (f"  by gate: wrong in the rows of {', '.join(rows)} of {', '.join(keys)}; right "
            f"for {', '.join(right)}.",)


def _grads_form(got, keys, shape, dtype, hint) -> str | None:
    """Why ``got`` is not a dict of the right arrays, or None."""
    if got is None:
        return "it returned None: a return statement is missing."
    if not isinstance(got, Mapping):
        return f"it must return a dict with the keys {list(keys)}, got {type(got).__name__}."
    missing = [k for k in keys if k not in got]
    if missing:
        return f"the returned dict misses the key(s) {missing} (it has {list(got)})."
    for k in keys:
        text = array_problem(k, got[k], shape(k), dtype, hint, LETTERS)
        if text:
            return text
    return None


def _shape_hint(key: str, shape: tuple, sz: Sizes) -> str:
    H, B, D = sz.H, sz.B, sz.D
    if key == "b_h" and shape == (B, 4 * H):
        return ("the bias gradient is not summed over the batch: the bias is added to every "
                "sequence, so its gradient sums over the batch.")
    if key in _GATED and shape and shape[0] == H:
        return ("it has H rows: the parameters stack the four gates, 4H rows (i, f, g, o); "
                "so does their gradient, the four blocks of da side by side.")
    if key in ("W_xh", "W_hh") and len(shape) == 2 and shape[1] == 4 * H:
        return "it looks transposed: dW has the layout of W, da.T @ x_t for W_xh (4H, D)."
    if key in ("x_t", "h_prev", "c_prev", "h0", "c0") and shape == (B, 4 * H):
        return "it has 4H columns: it is a state's (or an input's) gradient, back through W."
    del D
    return ""


# --------------------------------------------------------------------------
# lstm_step_forward
# --------------------------------------------------------------------------

_STEP_SIZES = [Sizes(3, 3, 2, 5, 2), Sizes(3, 1, 4, 3, 2), Sizes(3, 2, 3, 3, 2),
               Sizes(3, 4, 5, 2, 3), Sizes(3, 2, 3, 4, 2, dtype=np.float32)]
_STEP_T = 2          # the step taken: x_2, with h_1, c_1 from the forward pass (nonzero)
_STEP_PATTERNS = (PATTERNS[1], (lambda s: s.D == s.H, "It is right only when D == H: look for "
                                "W_xh and W_hh (or x_t and h_prev) used in each other's place."))


def _step_args(prob: dict) -> dict:
    st = prob["state"]
    t = _STEP_T
    return {"params": prob["params"], "x_t": prob["x"][t - 1], "h_prev": st["h"][t - 1],
            "c_prev": st["c"][t - 1]}


def draw_step_forward(seed) -> list[Problem]:
    """(a) Step 2 of a drawn sequence, from h_1 and c_1 (both nonzero), for every size."""
    problems = []
    for i, sz in enumerate(_STEP_SIZES):
        prob = draw_lstm(sz, (seed, 51, i))
        args = _step_args(prob)
        h_t, c_t, gates = _ref_lstm_step_forward(*args.values())
        problems.append(Problem(sz.label("BDH"), args, case=sz, facts={
            "want": {"h_t": h_t, "c_t": c_t, "gates": gates}}))
    return problems


def judge_step_forward(problem: Problem, result: Call) -> Failure | None:
    """(c) (h_t, c_t, gates) against the package's; the gates block by block; the mistakes."""
    name, sz = "lstm_step_forward", problem.case
    failure = call_failure(name, problem, result, lstm_exception_hint,
                           outputs=("h_t", "c_t", "gates"))
    if failure:
        return failure
    out = result.output
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        kind = (f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list))
                else type(out).__name__)
        return wrong(name, problem, f"it must return the triple (h_t, c_t, gates), got {kind}.")
    got = dict(zip(("h_t", "c_t", "gates"), out))
    for key in got:
        text = array_problem(key, got[key], _shape(sz, key), np.dtype(sz.dtype),
                             lambda k, s: _shape_hint(k, s, sz), LETTERS)
        if text:
            return wrong(name, problem, "the returned " + text)
    want, tol = problem.facts["want"], TOL[np.dtype(sz.dtype)]
    notes = ()
    if not close(got["gates"], want["gates"], tol):
        bad = [k for k, b, w in zip(GATES, np.split(as64(got["gates"]), 4, axis=1),
                                    np.split(as64(want["gates"]), 4, axis=1))
               if not close(b, w, tol)]
        cols = [f"{_GATE_NAMES[k]} (columns{_rows(k)[4:]})" for k in bad]
        notes = (f"  by gate: gates is wrong in the columns of {', '.join(cols)}.",)
    return values_report(["h_t", "c_t", "gates"], got, want, tol,
                         lambda: _forward_mistakes(*problem.args.values()), letters=LETTERS,
                         notes=notes)


STEP_FORWARD = Check("lstm_step_forward", draw_step_forward, judge_step_forward, _STEP_PATTERNS)


def check_lstm_step_forward(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check an implementation of :func:`bptt.lstm.lstm_step_forward`.

    Parameters
    ----------
    fn : callable
        ``fn(params, x_t, h_prev, c_prev) -> (h_t, c_t, gates)`` with ``x_t (B, D)``,
        ``h_prev (B, H)``, ``c_prev (B, H)``, ``h_t (B, H)``, ``c_t (B, H)`` and
        ``gates (B, 4H)``: the activated gates i, f, g, o side by side.
    seed : int, keyword-only
        Seed of the random problems (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies its inputs, keeps state between
        calls or changes the dtype. Recognised: gates in the wrong order (i, f,
        o, g), i and f exchanged, g through a sigmoid or i, f, o through tanh,
        ``b_h`` missing, ``c_prev`` ignored, the forget gate applied to
        ``h_prev``, ``tanh(c_t)`` missing, pre-activations returned as gates,
        ``h_t`` and ``c_t`` (or ``h_prev`` and ``c_prev``) exchanged.
    """
    __tracebackhide__ = True
    STEP_FORWARD.run(fn, seed, full)


# --------------------------------------------------------------------------
# lstm_step_backward
# --------------------------------------------------------------------------

def draw_step_backward(seed) -> list[Problem]:
    """(a) Step 2 of a drawn sequence with random dh_t and dc_t, for every size."""
    problems = []
    for i, sz in enumerate(_STEP_SIZES):
        prob = draw_lstm(sz, (seed, 52, i))
        args = _step_args(prob)
        st, t = prob["state"], _STEP_T
        rng = np.random.default_rng((seed, 53, i))
        dtype = np.dtype(sz.dtype)
        args.update(c_t=st["c"][t], gates=st["gates"][t - 1],
                    dh_t=rng.standard_normal((sz.B, sz.H)).astype(dtype),
                    dc_t=rng.standard_normal((sz.B, sz.H)).astype(dtype))
        want = _ref_lstm_step_backward(*args.values())
        problems.append(Problem(sz.label("BDH"), args, case=sz, facts={"want": want}))
    return problems


def judge_step_backward(problem: Problem, result: Call) -> Failure | None:
    """(c) The dict's keys, shapes, dtypes, then values, gate by gate; the step's mistakes."""
    name, sz = "lstm_step_backward", problem.case
    failure = call_failure(name, problem, result, lstm_exception_hint, outputs="grads")
    if failure:
        return failure
    got, want, tol = result.output, problem.facts["want"], TOL[np.dtype(sz.dtype)]
    shapes = {"W_xh": (4 * sz.H, sz.D), "W_hh": (4 * sz.H, sz.H), "b_h": (4 * sz.H,),
              "x_t": (sz.B, sz.D), "h_prev": (sz.B, sz.H), "c_prev": (sz.B, sz.H)}
    text = _grads_form(got, STEP_KEYS, shapes.get, np.dtype(sz.dtype),
                       lambda k, s: _shape_hint(k, s, sz))
    if text:
        return Failure(("  " + text,), lead=1)
    args = problem.args
    return values_report(
        STEP_KEYS, got, want, tol,
        lambda: [Mistake(cause, step_backward_variant(*args.values(), **kw), key)
                 for kw, cause, key in _step_mistakes(sequence=False)],
        letters=LETTERS, notes=_gate_lines(got, want, tol))


STEP_BACKWARD = Check("lstm_step_backward", draw_step_backward, judge_step_backward,
                      _STEP_PATTERNS)


def check_lstm_step_backward(fn: Callable, *, seed: int = 0, full: bool = False) -> None:
    r"""Check an implementation of :func:`bptt.lstm.lstm_step_backward`.

    Parameters
    ----------
    fn : callable
        ``fn(params, x_t, h_prev, c_prev, c_t, gates, dh_t, dc_t) -> grads``,
        with the arrays of one step of the forward pass (``gates (B, 4H)``
        activated, in the order i, f, g, o), ``dh_t (B, H)`` the total
        dL/dh_t and ``dc_t (B, H)`` what flows into c_t from step t+1 only;
        ``grads`` holds ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)``
        (this step's share), ``x_t (B, D)``, ``h_prev (B, H)`` and
        ``c_prev (B, H)``.
    seed : int, keyword-only
        Seed of the random problems (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong, raises, modifies its inputs, keeps state between
        calls or changes the dtype. The message names the gate whose rows of
        ``W_xh``, ``W_hh`` and ``b_h`` are wrong, and the probable cause:
        recognised are a sigmoid derivative evaluated at the wrong value (on
        the pre-activation, from another gate, as a tanh's) or missing; the
        candidate's tanh derivative wrong or missing; the gates in the wrong
        order (i, f, o, g) or i and f exchanged; the derivative of tanh(c_t)
        missing, at c_{t-1} or as 1 - c_t**2; the c path missing from h's
        gradient; dc_t not added; the forget gate's gradient from c_t instead
        of c_{t-1}; the output gate's from c_t instead of tanh(c_t); dc_prev
        without the factor f, or from dc_t alone.
    """
    __tracebackhide__ = True
    STEP_BACKWARD.run(fn, seed, full)


# --------------------------------------------------------------------------
# lstm_backward
# --------------------------------------------------------------------------

def backward_variant(params, x, state, dy, *, cut_h=frozenset(), cut_c=frozenset(), step=None,
                     add_dh=True, add_dc=True, hy_pair=0, sums="all", h0_grad=True,
                     c0_grad=True) -> dict:
    """``lstm_backward`` written out, with one common mistake switched on by a keyword.

    ``cut_h`` and ``cut_c`` hold the t whose h_t, or c_t, receives nothing
    from step t+1 (truncated BPTT cuts both); ``step`` holds the keywords of
    :func:`step_backward_variant`; ``add_dh`` and ``add_dc`` pass the
    gradients from step t+1 back at all.
    """
    p = {k: as64(v) for k, v in params.items()}
    x, dy = as64(x), as64(dy)
    h, c, gates = (as64(state[k]) for k in ("h", "c", "gates"))
    T = x.shape[0]
    g = {k: np.zeros_like(p[k]) for k in _PARAM_KEYS}
    g["x"] = np.zeros_like(x)
    dh_next, dc_next = np.zeros_like(h[0]), np.zeros_like(c[0])
    for t in range(T, 0, -1):
        dh = dy[t - 1] @ p["W_hy"] + (dh_next if add_dh else 0.0)
        s = step_backward_variant(p, x[t - 1], h[t - 1], c[t - 1], c[t], gates[t - 1], dh,
                                  dc_next if add_dc else 0.0 * dc_next, **(step or {}))
        share = {"W_xh": s["W_xh"], "W_hh": s["W_hh"], "b_h": s["b_h"],
                 "W_hy": dy[t - 1].T @ h[t + hy_pair], "b_y": dy[t - 1].sum(axis=0)}
        for k in _PARAM_KEYS:
            if sums == "all":
                g[k] += share[k]
            elif sums == "first" or (sums == "last" and t == T):
                g[k] = share[k]
        g["x"][t - 1] = s["x_t"]
        dh_next = 0.0 * dh_next if t - 1 in cut_h else s["h_prev"]
        dc_next = 0.0 * dc_next if t - 1 in cut_c else s["c_prev"]
    g["h0"] = dh_next if h0_grad else np.zeros_like(dh_next)
    g["c0"] = dc_next if c0_grad else np.zeros_like(dc_next)
    return g


def _cut(T: int, k: int | None) -> frozenset:
    """The t whose h_t and c_t get nothing from step t+1 with truncate=k: k, 2k, ... below T."""
    return frozenset() if k is None else frozenset(range(k, T, k))


_SEQUENCE_MISTAKES = [
    (dict(add_dh=False), "the gradient flowing into h_t from step t+1 is not added: dh_t = "
     "W_hy^T dy_t + dL/dh_t through step t+1 (what the step returned as h_prev).", "dh"),
    (dict(add_dc=False, c0_grad=False), "the cell's gradient does not flow back through "
     "time: the c_prev that step t returns, f * dc (dc including what came from step t+1), "
     "is the dc_t of step t-1 (zero only after the last step). This is the LSTM's long path, "
     "c_{t-1} -> c_t.", "dc"),
    (dict(add_dc=False), "the cell's gradient does not flow back through time: the c_prev "
     "that step t returns is the dc_t of step t-1 (zero only after the last step). This is "
     "the LSTM's long path, c_{t-1} -> c_t.", "dc"),
    (dict(hy_pair=-1), "dW_hy pairs dy_t with h_{t-1} instead of h_t: y_t = W_hy h_t + b_y, "
     "and h[t] is h_t (h[0] = h0).", "hy"),
    (dict(sums="first"), "this gradient holds step 1's share only, the last one the reversed "
     "loop visits: the weights are shared by all steps, so their gradient is the sum over t "
     "(+= instead of =).", "first"),
    (dict(sums="last"), "this gradient holds the last step's share only: the weights are "
     "shared by all steps, so their gradient is the sum over t (+= instead of =).", "last"),
    (dict(h0_grad=False), "the h0 gradient is missing: it is what step 1 returns as h_prev.",
     "h0"),
    (dict(c0_grad=False), "the c0 gradient is missing: it is what step 1 returns as c_prev.",
     "c0"),
]


def backward_mistakes(prob: dict, truncate) -> list:
    """A Mistake for each common mistake of the LSTM's BPTT, step and sequence."""
    args = (prob["params"], prob["x"], prob["state"], prob["dy"])
    cut = _cut(prob["x"].shape[0], truncate)
    out = [Mistake(cause, backward_variant(*args, cut_h=cut, cut_c=cut, step=kw), key)
           for kw, cause, key in _step_mistakes(sequence=True)]
    out += [Mistake(cause, backward_variant(*args, cut_h=cut, cut_c=cut, **kw), key)
            for kw, cause, key in _SEQUENCE_MISTAKES]
    return out


def truncation_mistakes(prob: dict, k: int) -> list:
    """A Mistake for each common mistake of truncated BPTT with truncate=k, keyed across k."""
    T = prob["x"].shape[0]
    args = (prob["params"], prob["x"], prob["state"], prob["dy"])
    right = _cut(T, k)
    chunks = (f"with truncate={k} both h and c are detached at step {k}, {2 * k}, ...: nothing "
              f"flows from step j*{k}+1 into h_{{j*{k}}} or c_{{j*{k}}}.")
    cuts = [
        ("ignored", frozenset(), frozenset(), f"it ignores truncate: the result is the full "
         f"BPTT gradient; {chunks}"),
        ("late", *(2 * [frozenset(t + 1 for t in right if t + 1 < T)]), f"truncation is off "
         f"by one, one step too late: it detaches at h_{k + 1}, c_{k + 1}, ... instead of "
         f"h_{k}, c_{k}, ...; {chunks}"),
        ("early", *(2 * [frozenset(t - 1 for t in range(k, T + 1, k)) - {T}]), f"truncation "
         f"is off by one, one step too early: it detaches at h_{k - 1}, c_{k - 1}, ... instead "
         f"of h_{k}, c_{k}, ... (h[t] is h_t, h[0] = h0); {chunks}"),
        ("h only", right, frozenset(), f"only h is detached, c is not: {chunks} The cell state "
         "is part of the state: its gradient is cut too."),
        ("c only", frozenset(), right, f"only c is detached, h is not: {chunks}"),
        ("h0", right | {0}, right | {0}, "the h0 and c0 gradients are dropped: with "
         "truncation, the first chunk still sends its gradient back to h0 and c0."),
    ]
    return [Mistake(cause, backward_variant(*args, cut_h=ch, cut_c=cc), key)
            for key, ch, cc, cause in cuts if (ch, cc) != (right, right)]


_BACKWARD_SIZES = [Sizes(4, 3, 2, 5, 6), Sizes(1, 1, 2, 3, 4), Sizes(6, 2, 3, 3, 2),
                   Sizes(5, 1, 4, 2, 3), Sizes(3, 2, 3, 4, 1, h0="zero")]
_FLOAT32 = Sizes(3, 2, 3, 4, 2, dtype=np.float32)
_PATTERNS = (*PATTERNS[:3], (lambda s: s.h0 != "random", "It is right only when h0 = c0 = 0: "
                             "h0 or c0 (h[0], c[0]) is missing somewhere, for example from the "
                             "first step."))


def _backward_problem(sz: Sizes, prob: dict, truncated: bool = False, truncate=None) -> Problem:
    """``fn(params, x, state, dy)``, or when ``truncated`` ``fn(..., truncate=truncate)``."""
    return backward_problem(sz, prob, ("params", "x", "state", "dy"), _ref_lstm_backward,
                            truncated, truncate)


def _drawn(seed) -> list:
    return [(sz, draw_lstm(sz, (seed, 54, i))) for i, sz in enumerate(_BACKWARD_SIZES)]


def draw_backward(seed) -> list[Problem]:
    """(a) The LSTM's BPTT on five float64 problems."""
    return [_backward_problem(sz, prob) for sz, prob in _drawn(seed)]


def draw_backward_float32(seed) -> list[Problem]:
    """(a) The LSTM's BPTT on one float32 problem."""
    return [_backward_problem(_FLOAT32, draw_lstm(_FLOAT32, (seed, 54, len(_BACKWARD_SIZES))))]


def draw_truncated(seed) -> list[Problem]:
    """(a) The problems with T >= 3, with truncate = None, 1, 2, 3, T and T + 1."""
    return [_backward_problem(sz, prob, True, k) for sz, prob in _drawn(seed) if sz.T >= 3
            for k in truncations(sz.T)]


def judge_backward(problem: Problem, result: Call) -> Failure | None:
    """(c) The gradients' keys, shapes, dtypes, then values, gate by gate; the mistakes."""
    failure = call_failure("lstm_backward", problem, result, lstm_exception_hint,
                           outputs="grads")
    if failure:
        return failure
    f = problem.facts
    sz, got, want, k = f["sz"], result.output, f["want"], f["truncate"]
    tol = TOL[np.dtype(sz.dtype)]
    text = _grads_form(got, GRAD_KEYS, lambda key: _shape(sz, key), np.dtype(sz.dtype),
                       lambda key, s: _shape_hint(key, s, sz))
    if text:
        if isinstance(got, Mapping) and "c0" not in got and "h0" in got:
            text += (" c0 is the gradient with respect to the initial cell state, what step 1 "
                     "returns as c_prev.")
        return Failure(("  " + text,), lead=1)
    return values_report(
        GRAD_KEYS, got, want, tol,
        lambda: (backward_mistakes(f["prob"], k) if k is None
                 else truncation_mistakes(f["prob"], k) + backward_mistakes(f["prob"], k)),
        letters=LETTERS, time_keys=("x",), notes=_gate_lines(got, want, tol))


def _truncation_summary(results: list) -> list[str]:
    """For each problem, the values of truncate for which ``fn`` is right and wrong."""
    by_size: dict[str, tuple[list, list]] = {}
    for problem, failure in results:
        sz, k = problem.case
        right, wrong_ks = by_size.setdefault(sz.label(), ([], []))
        (wrong_ks if failure else right).append(str(k))
    return [f"  {label}: right for truncate = {', '.join(right) or '-'}; "
            f"wrong for {', '.join(wrong_ks) or '-'}." for label, (right, wrong_ks)
            in by_size.items()]


BACKWARD = Check("lstm_backward", draw_backward, judge_backward, _PATTERNS)
BACKWARD_FLOAT32 = Check("lstm_backward", draw_backward_float32, judge_backward)
TRUNCATED = Check("lstm_backward", draw_truncated, judge_backward, summary=_truncation_summary)


def check_lstm_backward(fn: Callable, *, truncation: bool = True, seed: int = 0,
                        full: bool = False) -> None:
    r"""Check an implementation of :func:`bptt.lstm.lstm_backward` (the LSTM's BPTT).

    Parameters
    ----------
    fn : callable
        ``fn(params, x, state, dy, truncate=None) -> grads`` with ``x (T, B, D)``,
        ``state`` the dict of the forward pass (``h (T+1, B, H)``,
        ``c (T+1, B, H)``, ``gates (T, B, 4H)``), ``dy (T, B, O)``; ``grads``
        holds ``W_xh (4H, D)``, ``W_hh (4H, H)``, ``b_h (4H,)``, ``W_hy (O, H)``,
        ``b_y (O,)``, ``x (T, B, D)``, ``h0 (B, H)`` and ``c0 (B, H)``.
    truncation : bool, keyword-only
        Also check truncated BPTT (``truncate`` = 1, 2, 3, T and T+1, on the
        problems with T >= 3). Pass False for an ``fn`` with no truncation.
    seed : int, keyword-only
        Seed of the random problems (the check is deterministic for a seed).
    full : bool, keyword-only
        Show the whole report, not only its first dozen lines.

    Raises
    ------
    AssertionError
        When ``fn`` is wrong on any problem, raises, modifies its inputs,
        keeps state between calls or does not keep the dtype. The message
        names the gate whose rows are wrong and the probable cause: every
        mistake of :func:`check_lstm_step_backward`, made at every step; the
        gradient from step t+1 not added into h_t, or not passed back into
        c_{t-1}; ``dW_hy`` paired with h_{t-1}; a weight gradient from one
        step only; the h0 or c0 gradient missing. For truncation: truncate
        ignored, detaching one step early or late, h detached but not c (or
        c but not h), h0 and c0 cut off.
    """
    __tracebackhide__ = True
    check_fn(fn, seed)
    if not isinstance(truncation, (bool, np.bool_)):
        raise TypeError(f"truncation must be True or False, got {truncation!r}")
    BACKWARD.run(fn, seed, full)
    BACKWARD_FLOAT32.run(fn, seed, full)
    if truncation:
        TRUNCATED.run(fn, seed, full)
