"""The data that crosses the sandbox's wall (bptt/course/wire.py): values in, values out, no code.

What a kernel writes is hostile until read: reading never unpickles, never
follows a link, refuses what is too large, and turns what it does not know
into a placeholder.
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile

import numpy as np
import pytest

from bptt.checks._harness import Bound
from bptt.course import wire
from bptt.data import CharVocab


class Mine:
    pass


def _round_trip(value, tmp_path, builders=None):
    wire.save(tmp_path / "v.npz", value)
    return wire.load(tmp_path / "v.npz", builders)


def test_data_round_trips_with_its_types(tmp_path):
    rng = np.random.default_rng(5)
    rng.standard_normal(3)
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), 3: (1, 2.5, "s", None, True),
             "scalar": np.float64(1.5), "int": np.int64(7), "nan": math.nan,
             "list": [np.zeros(0), {"nested": -math.inf}], "rng": rng}
    back = _round_trip(value, tmp_path)
    assert list(back) == list(value)
    assert back["a"].dtype == np.float32 and np.array_equal(back["a"], value["a"])
    assert back[3] == (1, 2.5, "s", None, True) and isinstance(back[3], tuple)
    assert type(back["scalar"]) is np.float64 and type(back["int"]) is np.int64
    assert math.isnan(back["nan"]) and back["list"][1] == {"nested": -math.inf}
    assert back["rng"].standard_normal(2).tolist() == rng.standard_normal(2).tolist()


def test_what_is_not_data_comes_back_as_a_placeholder(tmp_path):
    class ValueError2(ValueError):
        pass
    back = _round_trip([Mine(), np.array([Mine()]), len, ValueError2("bad"),
                        NotImplementedError(), CharVocab("hello")], tmp_path)
    assert isinstance(back[0], wire.Opaque) and "Mine" in repr(back[0])
    assert isinstance(back[1], wire.Opaque) and "objects" in repr(back[1])
    assert isinstance(back[2], wire.Placeholder) and callable(back[2])
    assert type(back[3]).__name__ == "ValueError2" and isinstance(back[3], ValueError)
    assert str(back[3]) == "bad" and type(back[4]) is NotImplementedError
    assert isinstance(back[5], CharVocab) and back[5].chars == "ehlo"


def test_function_arguments_are_rebuilt_from_their_data(tmp_path):
    w = np.array([1.0, -2.0])
    back = _round_trip({"t": "marker"}, tmp_path)          # a dict that merely looks like a node
    assert back == {"t": "marker"}
    arrays: dict = {}
    node = {"t": "bound", "kind": "cubic_of_given_x", "v": wire.encode({"w": w}, arrays)}
    wire.save_tree(tmp_path / "f.npz", node, arrays)
    bound = wire.load(tmp_path / "f.npz", wire.builders(Bound))
    assert isinstance(bound, Bound)
    assert bound.make({"x": np.array([2.0, 1.0])})(None) == 8.0 - 2.0
    unknown = wire.load(tmp_path / "f.npz")                # the grader rebuilds nothing
    assert isinstance(unknown, wire.Placeholder)


def test_hostile_files_are_refused(tmp_path, monkeypatch):
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a file of results"):
        wire.load(tmp_path / "text.npz")
    np.savez(tmp_path / "pickle.npz", tree=np.array(json.dumps({"t": "array", "k": "a0"})),
             a0=np.array([Mine()], dtype=object))
    with pytest.raises(ValueError, match="not a file of results.*dtype object"):
        wire.load(tmp_path / "pickle.npz")
    monkeypatch.setattr(wire, "MAX_BYTES", 1000)
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a0.npy", b"\0" * (2 ** 24 + 2000))
    with pytest.raises(ValueError, match="once unpacked"):
        wire.load(tmp_path / "bomb.npz")
    deep = {"t": "list", "v": []}
    for _ in range(100):
        deep = {"t": "list", "v": [deep]}
    np.savez(tmp_path / "deep.npz", tree=np.array(json.dumps(deep)))
    assert "malformed" in repr(_innermost(wire.load(tmp_path / "deep.npz")))


def _raw(path, tree: str, entries=()):
    """An .npz written by hand: its tree, then entries of raw bytes (headers that may lie)."""
    with zipfile.ZipFile(path, "w") as z:
        with z.open("tree.npy", "w") as f:
            np.lib.format.write_array(f, np.array(tree))
        for name, data in entries:
            z.writestr(name, data)


def _header(descr, shape) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array_header_2_0(f, {"descr": descr, "fortran_order": False,
                                             "shape": shape})
    return f.getvalue()


@pytest.mark.parametrize("why, tree, entries", [
    # numpy allocates the shape a header claims before it reads: 64 TiB, a MemoryError
    ("claims shape", '{"t": "array", "k": "a0"}', [("a0.npy", _header("<f8", (2 ** 43,)))]),
    # items of no size: 10**15 of them cost nothing to hold, and forever to judge
    ("holds dtype", '{"t": "array", "k": "a0"}', [("a0.npy", _header("<U0", (10 ** 15,)))]),
    ("holds dtype", '{"t": "array", "k": "a0"}', [("a0.npy", _header([("a", "<f8")], (2,))
                                                   + b"\0" * 16)]),
    ("is not a stored .npy", '{"t": "none"}', [("a0.txt", b"")]),
    # the JSON reader recurses: a RecursionError, which nothing else catches
    ("nested too deeply", "[" * 200_000 + "]" * 200_000, []),
    ("characters", json.dumps({"t": "str", "v": "x" * (2 ** 22)}), []),
])
def test_entries_and_trees_are_checked_before_they_are_read(tmp_path, why, tree, entries):
    _raw(tmp_path / "r.npz", tree, entries)
    with pytest.raises(ValueError, match=f"not a file of results.*{why}"):
        wire.load(tmp_path / "r.npz")
    assert isinstance(wire.read_file(tmp_path / "r.npz"), ValueError)


def _innermost(value):
    while isinstance(value, list) and value:
        value = value[0]
    return value


def test_read_file_follows_no_link(tmp_path):
    wire.save(tmp_path / "real.npz", [1])
    os.symlink(tmp_path / "real.npz", tmp_path / "link.npz")
    assert wire.read_file(tmp_path / "real.npz") == [1]
    assert "not a regular file" in str(wire.read_file(tmp_path / "link.npz"))
    assert wire.read_file(tmp_path / "none.npz") is None
    (tmp_path / "dir.npz").mkdir()
    assert isinstance(wire.read_file(tmp_path / "dir.npz"), ValueError)
