"""bptt.plots.prose: the values a chapter quotes, shown without quotes, listed for nbval."""
import numpy as np
import pytest

from bptt.plots.prose import Prose, Quoted, parse_prose_listing, power_of_ten, rnd, sci


def test_values_are_text_shown_without_quotes():
    prose = Prose()
    prose.ratio = f"{2.3e-6:.1e}"
    prose.n = 25
    prose.big = np.int64(10_000)
    prose.half = 0.5
    prose.tex = r"10⁻⁸ \ 'quoted'"
    assert repr(prose.ratio) == "2.3e-06" and isinstance(prose.ratio, Quoted)
    assert repr(prose.n) == "25" and repr(prose.big) == "10000" and repr(prose.half) == "0.5"
    # A plain str's repr would add quotes and double the backslash.
    assert repr(prose.tex) == r"10⁻⁸ \ 'quoted'"


def test_listing_is_sorted_and_reads_back():
    prose = Prose()
    prose.zeta, prose.alpha = "2", "1"
    assert repr(prose) == "alpha: 1\nzeta: 2"
    assert parse_prose_listing(repr(prose)) == {"alpha": "1", "zeta": "2"}
    assert prose.items() == [("alpha", "1"), ("zeta", "2")]
    assert dir(prose) == ["alpha", "zeta"]


def test_a_value_can_be_set_again():
    # A reader who changes a parameter and re-runs a cell sets it again.
    prose = Prose()
    prose.x = "1"
    prose.x = "2"
    assert prose.x == "2"


@pytest.mark.parametrize("value, error, words", [
    (True, TypeError, "must be a str"),
    ([1], TypeError, "got list"),
    (None, TypeError, "got NoneType"),
    ("", ValueError, "one non-empty line"),
    ("two\nlines", ValueError, "one non-empty line"),
])
def test_bad_values_are_refused_with_the_name(value, error, words):
    prose = Prose()
    with pytest.raises(error, match=words) as info:
        prose.x = value
    assert "prose.x" in str(info.value)


@pytest.mark.parametrize("name", ["_private", "9lives"])
def test_bad_names_are_refused(name):
    with pytest.raises(AttributeError, match="prose name"):
        setattr(Prose(), name, "1")


def test_a_missing_value_says_where_to_set_it():
    with pytest.raises(AttributeError, match="'nope'.*above the text"):
        Prose().nope


def test_values_cannot_be_deleted():
    prose = Prose()
    prose.x = "1"
    with pytest.raises(AttributeError, match="cannot be deleted"):
        del prose.x


def test_parse_refuses_what_is_not_a_listing():
    with pytest.raises(ValueError, match="not a 'name: value' line"):
        parse_prose_listing("alpha 1")


# ---------------------------------------------------------------- number formatting

NBSP = "\u00a0"


@pytest.mark.parametrize("value, digits, want", [
    (3.21e-7, 1, "3.2 × 10⁻⁷"), (-3.21e-7, 1, "-3.2 × 10⁻⁷"), (12345.6, 2, "1.23 × 10⁴"),
    (1.5 ** 100, 1, "4.1 × 10¹⁷"), (0.04, 0, "4 × 10⁻²"), (1.0, 1, "1.0 × 10⁰"),
    (9.96e-3, 1, "1.0 × 10⁻²"), (np.float32(2.5e-12), 1, "2.5 × 10⁻¹²"),
    (np.array(7e10), 0, "7 × 10¹⁰")])
def test_sci(value, digits, want):
    # No-break spaces by default (chapter 5's tables), plain ones on request (chapter 3).
    assert sci(value, digits) == want.replace(" ", NBSP)
    assert sci(value, digits, space=" ") == want
    assert sci(value) == sci(value, 1)


@pytest.mark.parametrize("value, rounding, want", [(1.1e-8, round, "10⁻⁸"),
                                                   (3e-7, np.ceil, "10⁻⁶"),
                                                   (2 ** -53, round, "10⁻¹⁶"),
                                                   (1e-6, round, "10⁻⁶"), (250.0, round, "10²")])
def test_power_of_ten(value, rounding, want):
    assert power_of_ten(value, rounding) == want


def test_rnd_is_a_rounded_python_float():
    assert rnd(np.float32(0.5678), 2) == 0.57 and type(rnd(np.float64(1.23456), 3)) is float
    assert rnd(np.array(2.675), 1) == 2.7 and rnd(3, 2) == 3.0


@pytest.mark.parametrize("call, exc", [(lambda: sci(float("nan")), ValueError),
                                       (lambda: sci("1e-3"), TypeError),
                                       (lambda: rnd(np.inf, 2), ValueError),
                                       (lambda: rnd(True, 2), TypeError),
                                       (lambda: power_of_ten(0.0), ValueError),
                                       (lambda: power_of_ten(None), TypeError)])
def test_formatting_refuses_what_is_not_a_finite_number(call, exc):
    with pytest.raises(exc, match="value must be"):
        call()
