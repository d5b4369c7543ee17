r"""Self-checks for the homework: run your function and, when it is wrong, learn why.

Each ``check_*`` function takes *your* implementation of one function, with
exactly the signature the homework gives it, runs it on several random
problems and compares what it returns with what the package computes:

=================================  ==================================================
``check_rnn_step_forward(fn)``     ``fn(params, x_t, h_prev) -> h_t`` (HW1)
``check_rnn_forward(fn)``          ``fn(params, x, h0=None) -> (y, h)`` (HW1)
``check_rnn_backward(fn)``         ``fn(params, x, h, dy, truncate=None) -> grads`` (HW2, HW3)
``check_return_dh(fn)``            ``fn(params, x, h, dy, return_dh=True)["h"]`` (HW2)
``check_numerical_gradient(fn)``   ``fn(f, x, eps=1e-6) -> grad`` (HW2)
``check_gradient_check(fn)``       ``fn(backward, params, x, target, eps=1e-6) -> errors`` (HW2)
``check_clip_grad_norm(fn)``       ``fn(grads, max_norm) -> (clipped, total_norm)`` (HW3)
``check_clip_grad_value(fn)``      ``fn(grads, clip_value) -> clipped`` (HW3)
``check_lag_norms(fn)``            ``fn(params, x, dy_T) -> norms (T+1, B)`` (HW3)
``check_sample(fn)``               ``fn(params, h, index, n, rng, temperature=1.0)`` (HW4)
``check_train_char_rnn(fn)``       ``fn(text, *, hidden_size, ..., seed) -> (params, vocab,``
                                   ``losses)`` (HW4)
``check_lstm_step_forward(fn)``    ``fn(params, x_t, h_prev, c_prev) -> (h_t, c_t, gates)`` (HW5)
``check_lstm_step_backward(fn)``   ``fn(params, x_t, h_prev, c_prev, c_t, gates, dh_t,``
                                   ``dc_t) -> grads`` (HW5)
``check_lstm_backward(fn)``        ``fn(params, x, state, dy, truncate=None) -> grads`` (HW5)
``check_tbptt_gradients(fn)``      ``fn(params, x, dy, k1, k2, h0=None) -> [grads, ...]`` (HW6)
=================================  ==================================================

A check returns ``None`` when ``fn`` is right and raises ``AssertionError``
otherwise. The message gives first the probable cause, when it can tell,
then the evidence: which output (or gradient key) is wrong, for which sizes
``(T, B, D, H, O)``, by how much (the relative error and a few entries,
expected next to what ``fn`` gave). It has a dozen lines at most; its last
line says how many more the whole report has: every check takes
``full=True`` to show them all, and the error's ``details()`` returns them.
In Jupyter its traceback shows your cell and your functions, none of the
checks' own code. If ``fn`` raises, the message shows the exception, its
probable cause, the shapes of the call and the line that raised;
``NotImplementedError`` is reported as "not implemented yet".

**Calls.** ``fn`` gets copies of the problem's arrays, and changing one in
place is a failure, as is returning an argument, or an array that shares
memory with an argument or with another output. Each problem is given to
``fn`` twice, each time on new copies: a function that keeps state between
calls (a module-level cache or list, a mutable default argument, an output
buffer reused) returns something else the second time, or the same array, and
is refused for that.

**How a cause is recognised.** The check knows the common mistakes (the tanh
derivative missing or taken at the wrong step, the gradient from step t+1 not
added, a weight gradient holding one step instead of the sum over time, a bias
gradient not summed over the batch, a transposed matrix, ...). On a problem
where ``fn`` is wrong, it computes what each mistake would give and compares
``fn``'s numbers with those, one output at a time: equal numbers name the
mistake (a step left out must change every output it touches). When two
mistakes give the same numbers on that problem, the one that the other
failing problems also fit is named. Otherwise the numbers alone may tell:
all zeros, every entry the same number (a sum with no axis), a constant
factor (1/T, 1/B, ...), a transpose. Messages show numbers and formulas,
never the package's code.

**Sizes.** Every check of an RNN function runs several problems: ``T = 1`` and
``B = 1``, sizes that all differ (so that a transposed matrix or a mixed-up
axis has the wrong shape), ``D = H``, a nonzero and a zero ``h0``, and float32
inputs (whose dtype must be kept). A function that is right on some of them
only is refused, and the message says which ones pass: "right only when
B = 1" often points straight at the bug.

**Tolerances.** float64 results must agree with the package to a norm-based
relative error (:func:`bptt.gradcheck.rel_error`) of ``1e-6``, float32 ones to
``1e-4``; a correct implementation, however it is written, agrees to about
``1e-15`` in float64. Clipping is compared with a relative tolerance of
``1e-5`` (see :mod:`bptt.checks.clipping`).

**Layout.** One module a topic, on one harness (:mod:`bptt.checks._harness`):
each check is (a) a ``draw`` of problems from a seed, (b) the call of ``fn``
on fresh copies of their arguments, (c) a ``judge`` of the outputs, which
diagnoses the cause with :mod:`bptt.checks._compare`. RNN problems come from
:func:`bptt.checks._rnn.draw_rnn`.

=====================================  ===========================================
:mod:`bptt.checks.forward`             ``rnn_step_forward``, ``rnn_forward``
:mod:`bptt.checks.backward`            ``rnn_backward`` (truncation, ``return_dh``)
:mod:`bptt.checks.finite_differences`  ``numerical_gradient``, ``gradient_check``
:mod:`bptt.checks.clipping`            ``clip_grad_norm``, ``clip_grad_value``
:mod:`bptt.checks.dynamics`            ``lag_norms``
:mod:`bptt.checks.char_model`          ``sample``, ``train_char_rnn``
=====================================  ===========================================

**A new topic** (a new model's checks, say) is one new module here whose
``__all__`` names its checks: this package imports every module whose name
does not start with an underscore and exports the names of its ``__all__``,
so ``bptt.checks.check_lstm_forward`` needs no edit anywhere else.
"""
import importlib as _importlib
import pkgutil as _pkgutil


def _export_topics() -> list:
    """Import every public submodule and bind the names of its ``__all__`` here; return them."""
    exported: dict[str, str] = {}
    for info in _pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = _importlib.import_module(f"{__name__}.{info.name}")
        for name in module.__all__:
            if name in exported:
                raise ImportError(f"{__name__}.{info.name} exports {name!r}, which "
                                  f"{__name__}.{exported[name]} exports already")
            exported[name] = info.name
            globals()[name] = getattr(module, name)
    return list(exported)


__all__ = _export_topics()
