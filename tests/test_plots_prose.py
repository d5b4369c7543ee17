"""bptt.plots.prose: the values a chapter quotes, shown without quotes, listed for nbval."""
import numpy as np
import pytest

from bptt.plots.prose import Prose, Quoted, parse_prose_listing


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
