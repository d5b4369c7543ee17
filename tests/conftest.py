"""Shared test settings and fixtures.

Hypothesis runs derandomized (the same examples on every run, so a failure is
reproducible and CI cannot flake), without a deadline (the first call pays for
imports) and with few enough examples that each module stays under ~10 s.
Set ``HYPOTHESIS_PROFILE=thorough`` for a longer search.

``tests/torch/`` compares the package with PyTorch, which the book's
environment does not have: it is collected only where torch is installed (see
its docstring). That side environment has numpy, torch and pytest only, so
this file imports hypothesis and autograd only when they are there.
"""
from __future__ import annotations

import importlib.util
import os
from types import SimpleNamespace

import pytest


def _have_torch() -> bool:
    """True when the real torch is installed (not the folder tests/torch, a namespace package)."""
    spec = importlib.util.find_spec("torch")
    return spec is not None and spec.origin not in (None, "namespace")


#: Folders pytest does not collect (relative to this file).
collect_ignore = [] if _have_torch() else ["torch"]

if importlib.util.find_spec("hypothesis"):
    from hypothesis import settings

    settings.register_profile("bptt", deadline=None, max_examples=50, derandomize=True)
    settings.register_profile("thorough", deadline=None, max_examples=500, derandomize=False)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "bptt"))


@pytest.fixture
def small():
    """A valid problem whose sizes all differ, so a mixed-up axis cannot pass.

    T=4, B=2, D=3, H=5, O=6. Holds ``params``, ``x``, ``h0`` (nonzero), the
    ``y`` and ``h`` of a forward pass, and a random ``dy``.
    """
    from autograd_rnn import random_problem

    from bptt import rnn_forward

    params, x, h0, dy = random_problem(T=4, B=2, D=3, H=5, O=6, seed=7)
    y, h = rnn_forward(params, x, h0)
    return SimpleNamespace(params=params, x=x, h0=h0, y=y, h=h, dy=dy,
                           T=4, B=2, D=3, H=5, O=6)
