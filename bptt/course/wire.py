"""Problems and results as data: the one format that crosses the sandbox's wall, both ways.

During grading the grader (trusted, its own process) and a student's kernel
(in a sandbox) exchange ``.npz`` files and nothing else: the grader writes the
problems to call each student function on, the kernel writes back what each
call gave. Never code, never a pickle: a value is a tree of JSON nodes (the
entry ``tree``) and the arrays it points at (``a0``, ``a1``, ...).

==================================  ===========================================
node ``t``                          value
==================================  ===========================================
none, bool, int, float, str         the Python value (``v``; floats may be
                                    ``"nan"``, ``"inf"``, ``"-inf"``)
array, scalar                       a numpy array, or a numpy scalar (a 0-d
                                    array), under the entry ``k``
dict, list, tuple                   their items (a dict as ``[key, value]`` pairs,
                                    in order: the order of arguments matters)
rng                                 a ``numpy.random.Generator``: its bit
                                    generator's state
vocab                               a ``bptt.data.CharVocab``: its characters
exception                           what a call raised: its class's name, the
                                    built-in classes it derives from, message
fn, bound                           a function argument the other side rebuilds
                                    from data (``kind`` and its data ``v``),
                                    see :data:`BUILDERS`
callable, opaque                    something that is not data (a function, a
                                    student's own object): a placeholder
==================================  ===========================================

Reading never unpickles (nor lets numpy read an array: each entry's header is
checked against its size first), reads at most :data:`MAX_BYTES` and a tree of
at most 4 Mi characters, and turns whatever it does not know into an :class:`Opaque`
placeholder: a hostile file can at worst give a wrong result, which earns
nothing. This module needs numpy and the standard library only: the grader
copies it unchanged into the kernel's runtime, as ``_bptt_wire``.
"""
from __future__ import annotations

import builtins
import io
import json
import math
import os
import stat
import zipfile

import numpy as np

__all__ = ["MAX_BYTES", "Opaque", "Placeholder", "encode", "decode", "save", "save_tree",
           "load", "read_file", "builders", "BUILDERS"]

#: The most bytes one file may hold (its arrays), in either direction.
MAX_BYTES = 512 * 2 ** 20
_MAX_DEPTH = 40
_MAX_TEXT = 2000
#: The most characters of a tree, and arrays, one file may hold: a tree's
#: JSON is small (the arrays carry the data), but its Python objects cost
#: ten times its text, and its nesting the reader's stack.
_MAX_TREE, _MAX_ENTRIES = 2 ** 22, 100_000
#: The dtypes an array may have: booleans, integers, floats, complex, text.
_KINDS = "biufcSU"


class Opaque:
    """What was not data on the other side: shown as ``<text>``, equal to its like only."""

    def __init__(self, text: str):
        self.text = str(text)[:_MAX_TEXT]

    def __repr__(self) -> str:
        return f"<{self.text}>"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


class Placeholder(Opaque):
    """A function that crossed the wall: callable, so messages call it "a function"."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.text} cannot be called outside the kernel")


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def _float(x: float):
    return x if math.isfinite(x) else str(x)


def encode(value, arrays: dict, special=None, depth: int = 0) -> dict:
    """The node of ``value``; its arrays are added to ``arrays`` (``"a<n>"`` keys).

    ``special(value)`` may return a node for a value it knows (the grader's
    function arguments), or None.
    """
    node = special(value) if special is not None else None
    if node is not None:
        return node
    if depth > _MAX_DEPTH:
        return {"t": "opaque", "text": "a value nested too deeply"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, (np.ndarray, np.generic)):      # before float: np.float64 is one
        array = np.asarray(value)
        if array.dtype.hasobject:
            return {"t": "opaque", "text": f"an array of Python objects, shape {array.shape}"}
        key = f"a{len(arrays)}"
        arrays[key] = np.array(array, subok=False)
        return {"t": "array" if isinstance(value, np.ndarray) else "scalar", "k": key}
    if isinstance(value, bool):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int):
        return {"t": "int", "v": int(value)}
    if isinstance(value, float):
        return {"t": "float", "v": _float(float(value))}
    if isinstance(value, str):
        return {"t": "str", "v": str(value)}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k, arrays, special, depth + 1),
                                    encode(v, arrays, special, depth + 1)]
                                   for k, v in list(value.items())]}
    if isinstance(value, (list, tuple)):
        return {"t": "tuple" if isinstance(value, tuple) else "list",
                "v": [encode(v, arrays, special, depth + 1) for v in list(value)]}
    if isinstance(value, np.random.Generator):
        return {"t": "rng", "state": value.bit_generator.state}
    if type(value).__name__ == "CharVocab" and isinstance(getattr(value, "chars", None), str):
        return {"t": "vocab", "chars": value.chars}
    if isinstance(value, BaseException):
        bases = [c.__name__ for c in type(value).__mro__
                 if getattr(builtins, c.__name__, None) is c]
        try:
            message = str(value)[:20 * _MAX_TEXT]
        except Exception:
            message = "(its message could not be printed)"
        return {"t": "exception", "type": type(value).__name__, "bases": bases,
                "msg": message}
    if callable(value):
        return {"t": "callable", "text": f"the function {getattr(value, '__name__', '?')}"}
    return {"t": "opaque", "text": f"a {type(value).__name__} object"}


def save(path, value, special=None) -> None:
    """Write ``value`` to ``path`` (an .npz), atomically: a temporary file, then a rename."""
    arrays: dict = {}
    save_tree(path, encode(value, arrays, special), arrays)


def save_tree(path, tree: dict, arrays: dict) -> None:
    """Write an encoded value (``tree`` and its ``arrays``) to ``path``, atomically."""
    total = sum(a.nbytes for a in arrays.values())
    if total > MAX_BYTES:
        arrays, tree = {}, {"t": "opaque", "text": f"a result of {total} bytes, more than "
                                                  f"the {MAX_BYTES} the grader reads"}
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as f:
        np.savez(f, tree=np.array(json.dumps(tree)), **arrays)
    os.replace(temporary, path)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------

def _exception(node: dict) -> BaseException:
    """An exception of the same name, deriving from the same built-in class."""
    name, message = str(node.get("type", "Exception")), str(node.get("msg", ""))
    base = Exception
    for candidate in node.get("bases") or []:
        found = getattr(builtins, str(candidate), None)
        if isinstance(found, type) and issubclass(found, Exception):
            base = found
            break
    if getattr(builtins, name, None) is base or not name.isidentifier():
        return base(message)
    return type(name, (base,), {"__module__": "student"})(message)


def _rng(state) -> object:
    try:
        generator = np.random.Generator(getattr(np.random, state["bit_generator"])())
        generator.bit_generator.state = state
        return generator
    except Exception:
        return Opaque("a random generator that could not be rebuilt")


def decode(node, arrays, builders=None, depth: int = 0):
    """The value of ``node`` (see :func:`encode`); ``builders[kind](data)`` rebuilds functions."""
    if not isinstance(node, dict) or depth > _MAX_DEPTH:
        return Opaque("a malformed value")
    t, v = node.get("t"), node.get("v")
    if t == "none":
        return None
    if t in ("bool", "int", "str") and type(v) is {"bool": bool, "int": int, "str": str}[t]:
        return v
    if t == "float" and isinstance(v, (int, float, str)):
        try:
            return float(v)
        except ValueError:
            return Opaque("a malformed number")
    if t in ("array", "scalar") and node.get("k") in arrays:
        array = arrays[node["k"]]
        return array if t == "array" else array[()]
    if t == "dict" and isinstance(v, list):
        out = {}
        for pair in v:
            if not (isinstance(pair, list) and len(pair) == 2):
                return Opaque("a malformed dict")
            key = decode(pair[0], arrays, builders, depth + 1)
            try:
                out[key] = decode(pair[1], arrays, builders, depth + 1)
            except TypeError:                      # an unhashable key
                return Opaque("a dict with an unhashable key")
        return out
    if t in ("list", "tuple") and isinstance(v, list):
        items = [decode(x, arrays, builders, depth + 1) for x in v]
        return tuple(items) if t == "tuple" else items
    if t == "rng" and isinstance(node.get("state"), dict):
        return _rng(node["state"])
    if t == "vocab" and isinstance(node.get("chars"), str) and node["chars"]:
        from bptt.data import CharVocab      # only the grader reads results
        return CharVocab(node["chars"])
    if t == "exception":
        return _exception(node)
    if t in ("fn", "bound") and builders and node.get("kind") in builders:
        return builders[node["kind"]](decode(v, arrays, builders, depth + 1))
    if t in ("callable", "fn", "bound"):
        return Placeholder(str(node.get("text", "a function")))
    return Opaque(str(node.get("text", "something the grader cannot read")))


def read_file(path):
    """The value in the file ``path``, None when there is none, or the ValueError why not.

    Never follows a symbolic link, and reads regular files only: the folder
    it reads is one a student's kernel could write links into.
    """
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return ValueError("it is not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return ValueError(exc.strerror)
    with os.fdopen(fd, "rb") as f:
        try:
            return load(f)
        except ValueError as exc:
            return exc


def load(source, builders=None):
    """Read a value written by :func:`save`, from a path or an open binary file.

    Reads at most :data:`MAX_BYTES` (plus the tree); raises ValueError for a
    file that is larger, not an .npz, or without a tree, and for any entry
    that is not a plain array (see :func:`_array`).
    """
    if hasattr(source, "read"):
        data = source.read(MAX_BYTES + 2 ** 24 + 1)
    else:
        with open(source, "rb") as f:
            data = f.read(MAX_BYTES + 2 ** 24 + 1)
    if len(data) > MAX_BYTES + 2 ** 24:
        raise ValueError(f"more than {MAX_BYTES} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > _MAX_ENTRIES:
                raise ValueError(f"more than {_MAX_ENTRIES} arrays")
            if sum(i.file_size for i in entries) > MAX_BYTES + 2 ** 24:
                raise ValueError(f"more than {MAX_BYTES} bytes once unpacked")
            arrays = {i.filename[:-4]: _array(archive, i) for i in entries}
        tree = arrays.pop("tree")
        if tree.dtype.kind != "U" or tree.shape != () or tree.itemsize > 4 * _MAX_TREE:
            raise ValueError(f"its tree is not a text of at most {_MAX_TREE} characters")
        return decode(json.loads(str(tree[()])), arrays, builders)
    except RecursionError:
        raise ValueError("not a file of results (a tree nested too deeply)") from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ValueError(f"not a file of results ({exc})") from None


def _array(archive, info):
    """The array of one entry, its header checked before numpy allocates anything.

    An .npy header may claim any shape and dtype whatever the data that
    follows (numpy allocates the claimed size first): refuse a name that is
    not ``<key>.npy``, a dtype other than booleans, numbers and text, an
    empty item, and a shape whose size is not the entry's.
    """
    from numpy.lib import format as npy

    if not info.filename.endswith(".npy") or info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"the entry {info.filename[:100]!r} is not a stored .npy file")
    with archive.open(info) as f:
        version = npy.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"the entry {info.filename[:100]!r} has an .npy version {version}")
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = read(f)
        if dtype.kind not in _KINDS or dtype.itemsize == 0 or dtype.fields is not None:
            raise ValueError(f"the entry {info.filename[:100]!r} holds dtype {dtype}, "
                             "not booleans, numbers or text")
        size = math.prod(shape) * dtype.itemsize
        if size != info.file_size - f.tell():
            raise ValueError(f"the entry {info.filename[:100]!r} claims shape {shape[:8]} "
                             f"and dtype {dtype}, not what it holds")
        flat = np.frombuffer(f.read(size), dtype=dtype, count=math.prod(shape))
    return flat.reshape(shape, order="F" if fortran else "C").copy()


# --------------------------------------------------------------------------
# Function arguments, rebuilt from data where the student's function runs
# --------------------------------------------------------------------------
# The self-checks give some functions functions: numerical_gradient gets an f,
# gradient_check a backward pass. Those cannot cross the wall as code. The
# grader sends what defines them (bptt.course.verdict makes the data, and
# checks that what these rebuild is the function it drew); the kernel rebuilds
# them here. ``Bound`` is the harness's class for an argument made from the
# copies of the others.

def _cubic(data):
    w = data["w"]
    return lambda z: float(np.sum(w * z ** 3))


def _smooth(data):
    w = data["w"]
    return lambda z: float(np.sum(w * np.sin(z)) + 0.5 * np.sum(z) ** 2)


def _same(name: str, got, want) -> None:
    got = np.asarray(got)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12):
        raise ValueError(f"this backward pass is given for one point only, and {name} is not "
                         "the one the check gave (call it with the params and x you were "
                         "given and h = rnn_forward(params, x)[1], before perturbing them)")


def _linear_backward(data):
    """A backward pass as its linear map dy -> grads at the problem's (params, x, h)."""
    params, x, h, maps = data["params"], data["x"], data["h"], data["maps"]

    def backward(params_, x_, h_, dy, truncate=None, *, return_dh=False):
        if truncate is not None or return_dh:
            raise ValueError("this backward pass computes full BPTT only "
                             "(truncate=None, return_dh=False)")
        for key, value in params.items():
            _same(f"params[{key!r}]", params_[key], value)
        _same("x", x_, x)
        _same("h", h_, h)
        dy = np.asarray(dy, dtype=np.float64)
        want = x.shape[:2] + params["W_hy"].shape[:1]
        if dy.shape != want:
            raise ValueError(f"dy must have shape (T, B, O) = {want}, got {dy.shape}")
        dtype = params["W_hh"].dtype
        return {key: (J @ dy.ravel()).reshape(data["shapes"][key]).astype(dtype)
                for key, J in maps.items()}
    return backward


def builders(bound_class=None) -> dict:
    """The rebuilders by kind; ``bound_class`` (the harness's Bound) for the closures."""
    found = {"cubic": _cubic, "smooth": _smooth, "linear_backward": _linear_backward}
    if bound_class is not None:
        found["cubic_of_given_x"] = lambda data: bound_class(
            lambda args: (lambda _: float(np.sum(data["w"] * args["x"] ** 3))))
    return found


#: The rebuilders without the harness (for the grader's own verification).
BUILDERS = builders()
