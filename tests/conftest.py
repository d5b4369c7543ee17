"""Shared test settings and fixtures.

Hypothesis runs derandomized (the same examples on every run, so a failure is
reproducible and CI cannot flake), without a deadline (the first call pays for
imports) and with few enough examples that each module stays under ~10 s.
Set ``HYPOTHESIS_PROFILE=thorough`` for a longer search.
"""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from hypothesis import settings

from autograd_rnn import random_problem
from bptt import rnn_forward

settings.register_profile("bptt", deadline=None, max_examples=50, derandomize=True)
settings.register_profile("thorough", deadline=None, max_examples=500, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "bptt"))


@pytest.fixture
def small():
    """A valid problem whose sizes all differ, so a mixed-up axis cannot pass.

    T=4, B=2, D=3, H=5, O=6. Holds ``params``, ``x``, ``h0`` (nonzero), the
    ``y`` and ``h`` of a forward pass, and a random ``dy``.
    """
    params, x, h0, dy = random_problem(T=4, B=2, D=3, H=5, O=6, seed=7)
    y, h = rnn_forward(params, x, h0)
    return SimpleNamespace(params=params, x=x, h0=h0, y=y, h=h, dy=dy,
                           T=4, B=2, D=3, H=5, O=6)
