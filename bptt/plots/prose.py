r"""Numbers quoted in a chapter's prose, computed by its code.

A sentence such as "the gradient shrinks by a factor of 2.3 × 10⁻⁶" must not
drift from the code that computes it. The chapters write such a value once,
formatted, on a :class:`Prose` object::

    prose = Prose()
    prose.ratio_25 = f"{ratio:.1e}"

and the Markdown cells quote it with MyST's inline ``{eval}`` role::

    the gradient shrinks by a factor of {eval}`prose.ratio_25`

Three readers see the same text:

* JupyterLab with jupyterlab-myst evaluates ``prose.ratio_25`` in the kernel
  when the Markdown cell is run, and stores the result in the cell's
  ``user_expressions`` metadata, which it also shows when the notebook is
  opened without a kernel.
* The book's build (``chapters/_ext/stored_eval.py``) renders the same
  stored result: it never runs a kernel.
* ``chapters/_ext/run_notebook.py`` runs a notebook top to bottom as a reader
  would and stores those results.

Every value is text, chosen and rounded by the code, shown without quotes.
:func:`sci`, :func:`power_of_ten` and :func:`rnd` format numbers the way the
chapters quote them ("3.2 × 10⁻⁷", "10⁻⁸", 0.56), so that no chapter keeps
its own copy.
The last cell of each chapter displays its ``prose`` (one ``name: value``
line each, sorted), so that nbval, which compares code cells' outputs on
every run, fails when a quoted number changes; a test checks that the stored
``{eval}`` results equal those lines.
"""
from __future__ import annotations

import math
import numbers
import re

import numpy as np

__all__ = ["Prose", "Quoted", "sci", "power_of_ten", "rnd"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _finite(name: str, value):
    """Refuse what is not a finite real number (a 0-d array is one); return ``value``."""
    try:
        as_float = None if isinstance(value, (bool, str, bytes)) else float(value)
    except (TypeError, ValueError):
        as_float = None
    if as_float is None:
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(as_float):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def sci(value, digits: int = 1, *, space: str = "\u00a0") -> str:
    """``value`` in scientific notation for the prose: ``sci(3.21e-7)`` is "3.2 × 10⁻⁷".

    Parameters
    ----------
    value : real number
        Finite.
    digits : int
        Digits of the mantissa after the point (0: "3 × 10⁻⁷").
    space : str
        Around the "×": a no-break space by default, so that a line or a table
        cell never breaks inside the number.
    """
    mantissa, exponent = f"{_finite('value', value):.{digits}e}".split("e")
    return f"{mantissa}{space}×{space}10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def power_of_ten(value, rounding=round) -> str:
    """The power of ten nearest ``value`` (> 0) for the prose: ``power_of_ten(1.1e-8)`` is "10⁻⁸".

    ``rounding`` turns :math:`\\log_{10}` of the value into the exponent
    (``round`` by default; ``np.ceil`` for an upper bound).
    """
    if not float(_finite("value", value)) > 0:
        raise ValueError(f"value must be > 0, got {value}")
    return "10" + str(int(rounding(np.log10(value)))).translate(_SUPERSCRIPT)


def rnd(value, digits: int) -> float:
    """``value`` as a plain Python float rounded to ``digits`` decimals, for the prose."""
    return round(float(_finite("value", value)), digits)


class Quoted(str):
    """Text quoted in the prose: a ``str`` whose repr is the text itself.

    Jupyter shows a value by its repr (``text/plain``); a plain string would
    come with its quotes and escaped backslashes.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class Prose:
    """A namespace of the values one chapter quotes in its prose.

    Set an attribute to quote a value: ``prose.n_steps = 25``. A ``str`` is kept
    as it is, an integer is written in full, and a float as Python writes it
    (``repr``), so round it first or, better, format it yourself
    (``f"{x:.3f}"``): the number of digits shown is a decision of the text.

    Its repr lists every value, one ``name: value`` line each, sorted by name.
    """

    def __init__(self):
        object.__setattr__(self, "_values", {})

    def __setattr__(self, name: str, value) -> None:
        if not _NAME.fullmatch(name):
            raise AttributeError(f"prose name must be letters, digits and _, "
                                 f"starting with a letter, got {name!r}")
        if isinstance(value, bool) or not isinstance(value, (str, numbers.Real)):
            raise TypeError(f"prose.{name} must be a str (format it yourself, "
                            f"e.g. f'{{x:.3f}}') or a number, got {type(value).__name__}")
        if isinstance(value, numbers.Integral):
            text = str(int(value))
        elif isinstance(value, numbers.Real) and not isinstance(value, str):
            text = repr(float(value))   # Python's shortest repr: round it first
        else:
            text = value
        if not text.strip() or "\n" in text:
            raise ValueError(f"prose.{name} must be one non-empty line, got {text!r}")
        self._values[name] = Quoted(text)

    def __getattr__(self, name: str) -> Quoted:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"prose has no value {name!r}: set it in a code cell "
                                 f"above the text that quotes it") from None

    def __delattr__(self, name: str) -> None:
        raise AttributeError("prose values cannot be deleted")

    def __dir__(self):
        return sorted(self._values)

    def items(self) -> list[tuple[str, Quoted]]:
        """``(name, value)`` pairs, sorted by name."""
        return sorted(self._values.items())

    def __repr__(self) -> str:
        return "\n".join(f"{name}: {value}" for name, value in self.items())


def parse_prose_listing(text: str) -> dict[str, str]:
    """Read back the repr of a :class:`Prose`: ``name: value`` lines to a dict."""
    values = {}
    for line in text.splitlines():
        name, sep, value = line.partition(": ")
        if not sep or not _NAME.fullmatch(name):
            raise ValueError(f"not a 'name: value' line of a prose listing: {line!r}")
        values[name] = value
    return values
