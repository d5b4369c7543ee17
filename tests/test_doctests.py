"""The docstring examples (``>>>``) of the core modules run, and give what they show.

Only the core: its modules import numpy alone, so this never loads matplotlib.
A module whose docstrings gain an example is checked without editing this file.
"""
import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import bptt

#: Every core module: bptt's modules, not its subpackages (plots, course) nor the
#: self-checks, which are not core.
CORE = sorted(m.name for m in pkgutil.iter_modules(bptt.__path__)
              if not m.ispkg and m.name not in ("checks", "homework_checks"))
#: Modules that do hold examples: a check that the collection above finds them.
WITH_EXAMPLES = {"gradcheck", "losses", "spectral", "tbptt"}


@pytest.mark.parametrize("name", CORE)
def test_docstring_examples(name):
    module = importlib.import_module(f"bptt.{name}")
    with np.printoptions(legacy=False):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    assert (result.attempted > 0) == (name in WITH_EXAMPLES), (name, result.attempted)
