"""Attacks on the grader (issue 10): none earns a point, reads a secret, or harms another student.

Each attack is a student's Homework 1 (or 2) built here from the student
version, some cells replaced by the attack and the functions left as stubs
(or as wrappers of the package's own). One grading run, in bubblewrap
sandboxes, grades all of them beside honest submissions (module scope: the
whole suite is one run); each test asserts that its attack earned nothing on
the question it targets, with the right cause, or that it could not do what
it tried. The seven routes of the issue come first, then the others.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
import time

import pytest

from bptt.course import grade
from bptt.course.sandbox import bwrap_problem
from course_cells import HOMEWORK, SUBMISSIONS

pytestmark = pytest.mark.skipif(bwrap_problem() is not None,
                                reason=f"no bubblewrap sandbox here: {bwrap_problem()}")

#: A secret in the grader's environment, which no kernel may read.
SECRET = "s3cret-of-the-grader-7f3a"
#: In the command line of the detached process of the "daemon" attack.
MARKER = "bptt-attack-daemon-5b1e"

STEP = "def rnn_step_forward(params, x_t, h_prev):\n    return np.zeros_like(h_prev)\n"
FORWARD = ("def rnn_forward(params, x, h0=None):\n"
           "    T, B, _ = x.shape\n"
           "    H, O = params['W_hh'].shape[0], params['W_hy'].shape[0]\n"
           "    return np.zeros((T, B, O), x.dtype), np.zeros((T + 1, B, H), x.dtype)\n")
STUBS = {"hw1-04": STEP, "hw1-07": FORWARD}
SETUP = "import numpy as np\nimport bptt\nimport bptt.checks\n"
#: Walks what the sandbox can see, without the system, /proc, /sys and /dev.
WALK = ("import os\n"
        "def walk():\n"
        "    for root, dirs, files in os.walk('/'):\n"
        "        dirs[:] = [d for d in dirs if os.path.join(root, d)\n"
        "                   not in ('/usr', '/proc', '/sys', '/dev')]\n"
        "        yield from (os.path.join(root, f) for f in files)\n")


def attacks(paths: dict) -> dict:
    """name: (assignment, {cell id: new source}, [cells added at the end])."""
    results = "os.path.join(os.environ['BPTT_GRADING'], 'out')"
    return {
        # ---- the seven routes of the issue
        "rebind_bptt": ("hw1-forward", {**STUBS, "hw1-02": (
            "import types\nimport numpy as np\n"
            "noop = lambda fn, **options: None\n"
            "bptt = types.SimpleNamespace(checks=types.SimpleNamespace(\n"
            "    check_rnn_step_forward=noop, check_rnn_forward=noop))\n")}, []),
        "input_transformer": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "def blank(lines):\n"
            "    text = ''.join(lines)\n"
            "    return [] if 'check' in text or '_bptt_grading' in text else lines\n"
            "get_ipython().input_transformers_cleanup.append(blank)\n"
            "get_ipython().input_transformers_post.append(blank)\n")}, []),
        "reload_then_patch": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import importlib, sys, _bptt_call._harness\n"
            "importlib.reload = lambda module: module\n"
            "bptt.checks.check_rnn_step_forward = bptt.checks.check_rnn_forward = "
            "lambda fn, **o: None\n"
            "for name, module in list(sys.modules.items()):\n"
            "    if name.endswith('_harness'):\n"
            "        module.call = lambda fn, problem: module.Call(output=None)\n")}, []),
        "replace_guard": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import os, sys, types\n"
            "guard = types.ModuleType('bptt.course.guard')\n"
            "guard.prepare_check = lambda *args, **kwargs: None\n"
            "sys.modules['bptt.course'] = types.ModuleType('bptt.course')\n"
            "sys.modules['bptt.course.guard'] = guard\n"
            "import _bptt_grading, _bptt_wire\n"
            "def forged(cell, namespace):\n"
            f"    _bptt_wire.save(os.path.join({results}, cell + '.npz'),\n"
            "                    {'calls': [{'missing': False, 'stages': []}]})\n"
            "_bptt_grading.call_cell = forged\n")}, []),
        "fake_checks_on_path": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import os, sys\n"
            "os.makedirs('fake', exist_ok=True)\n"
            "with open('fake/checks.py', 'w') as f:\n"
            "    f.write('def check_rnn_step_forward(fn, **o): pass\\n'\n"
            "            'def check_rnn_forward(fn, **o): pass\\n')\n"
            "bptt.__path__.insert(0, os.path.abspath('fake'))\n"
            "sys.modules.pop('bptt.checks', None)\n"
            "import bptt.checks\n")}, []),
        "wrappers": ("hw1-forward", {
            "hw1-04": ("def rnn_step_forward(params, x_t, h_prev):\n"
                       "    return bptt.rnn_step_forward(params, x_t, h_prev)\n"),
            "hw1-07": ("def rnn_forward(params, x, h0=None):\n"
                       "    from bptt.rnn import rnn_forward as reference\n"
                       "    return reference(params, x, h0)\n")}, []),
        "exec_solutions": ("hw1-forward", {"hw1-02": SETUP + WALK + (
            "import json\n"
            "mark = '### BEGIN ' + 'SOLUTION'      # not this cell's own text\n"
            f"candidates = [{paths['source']!r}] + [p for p in walk() if p.endswith('.ipynb')]\n"
            "found = []\n"
            "for path in candidates:\n"
            "    try:\n"
            "        text = open(path).read()\n"
            "    except OSError:\n"
            "        continue\n"
            "    if mark in text:\n"
            "        found.append(path)\n"
            "        for cell in json.loads(text)['cells']:\n"
            "            if mark in ''.join(cell['source']):\n"
            "                exec(''.join(cell['source']), globals())\n"
            "print('SOLUTIONS FOUND:', found)\n")}, []),
        # ---- the other harms of the issue
        "snoop": ("hw1-forward", {**STUBS, "hw1-02": SETUP + WALK + (
            "seen = []\n"
            "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
            "    for part in ('cmdline', 'environ'):\n"
            "        try:\n"
            "            seen.append(open(f'/proc/{pid}/{part}', 'rb').read().decode('latin-1'))\n"
            "        except OSError:\n"
            "            pass\n"
            "print('PROCESSES:', sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
            "print('PROC:', '|'.join(seen))\n"
            f"for path in [{paths['submissions']!r}, {paths['out']!r}, {paths['repo']!r}]:\n"
            "    print('VISIBLE' if os.path.exists(path) else 'INVISIBLE', path)\n"
            "print('FILES:', [p for p in walk() if p.endswith(('.csv', '.ipynb', '.npz'))])\n"
            "import glob, importlib, importlib.util, sys\n"
            "print('BPTT FILE:', bptt.__file__)\n"
            "for folder in sys.path:\n"       # the editable install's finder, put first
            "    for finder in glob.glob(os.path.join(folder, '__editable__*finder.py')):\n"
            "        module = importlib.import_module(os.path.basename(finder)[:-3])\n"
            "        sys.meta_path.insert(0, module._EditableFinder)\n"
            "for name in [m for m in sys.modules if m.split('.')[0] == 'bptt']:\n"
            "    del sys.modules[name]\n"
            "print('EDITABLE FINDS:', importlib.util.find_spec('bptt').origin)\n")},
                  []),
        "vandal": ("hw1-forward", {**STUBS, "hw1-02": SETUP + WALK + (
            "blank = open('hw1-forward.ipynb').read()\n"
            f"targets = [{paths['victim']!r}, '../victim/hw1-forward.ipynb',\n"
            f"           {paths['out']!r} + '/grades.csv']\n"
            "targets += [p for p in walk() if p.endswith('.ipynb')\n"
            "            and p != os.path.abspath('hw1-forward.ipynb')]\n"
            "overwrote = []\n"
            "for path in targets:\n"
            "    try:\n"
            "        with open(path, 'w') as f:\n"
            "            f.write(blank)\n"
            "        overwrote.append(path)\n"
            "    except OSError:\n"
            "        pass\n"
            "print('OVERWROTE:', overwrote)\n")}, []),
        "daemon": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import subprocess, sys\n"
            "code = '''\n"
            "import sys, time\n"
            "end = time.time() + 30\n"
            "while time.time() < end:\n"
            "    try:\n"
            "        with open(sys.argv[1], 'w') as f:\n"
            "            f.write('student,assignment,question,points,max_points,feedback\\\\n')\n"
            "    except OSError:\n"
            "        pass\n"
            "    time.sleep(0.1)\n"
            "'''\n"
            "subprocess.run(['/bin/sh', '-c', 'setsid \"$0\" -c \"$1\" \"$2\" \"$3\" '\n"
            "                '</dev/null >/dev/null 2>&1 &', sys.executable, code,\n"
            f"                {paths['out'] + '/grades.csv'!r}, {MARKER!r}])\n"
            "import os, time\n"
            "time.sleep(0.5)\n"
            "alive = [p for p in os.listdir('/proc') if p.isdigit()\n"
            f"         and {MARKER!r} in open(f'/proc/{{p}}/cmdline').read()]\n"
            "print('DAEMON RUNNING:', bool(alive))\n")}, []),
        "importlib_routes": ("hw1-forward", {
            "hw1-04": ("import importlib, inspect\n"
                       "def rnn_step_forward(params, x_t, h_prev):\n"
                       "    module = importlib.import_module('bptt.' + 'rnn')\n"
                       "    step = getattr(module, 'rnn_step_' + 'forward')\n"
                       "    return step(params, x_t, h_prev)\n"),
            "hw1-07": ("import importlib.util, inspect\n"
                       "namespace = {'__name__': 'bptt.copy', '__package__': 'bptt'}\n"
                       "exec(inspect.getsource(importlib.import_module('bptt.rnn')), namespace)\n"
                       f"spec = importlib.util.spec_from_file_location('r', {paths['rnn']!r})\n"
                       "try:\n"
                       "    loaded = importlib.util.module_from_spec(spec)\n"
                       "    spec.loader.exec_module(loaded)\n"
                       "except (OSError, AttributeError) as exc:\n"
                       "    print('REPOSITORY:', type(exc).__name__)\n"
                       "def rnn_forward(params, x, h0=None):\n"
                       "    if h0 is None:\n"
                       "        return namespace['rnn_forward'](params, x, h0)\n"
                       "    return __import__('bptt').rnn.__dict__['rnn_forward'](params, x, h0)\n"
                       )}, []),
        # ---- others found while building the grader
        "forged_symlink": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import os, _bptt_grading\n"
            f"os.symlink('/etc/passwd', os.path.join({results}, 'q0.npz'))\n"
            "_bptt_grading.call_cell = lambda cell, namespace: None\n")}, []),
        "zip_bomb": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import io, json, os, _bptt_grading\n"
            "def bomb(cell, namespace):\n"
            "    if cell != 'q0':\n"
            "        return\n"
            f"    with open(os.path.join({results}, cell + '.npz'), 'wb') as f:\n"
            "        np.savez_compressed(f, tree=np.array(json.dumps({'t': 'none'})),\n"
            "                            a0=np.zeros(72_000_000))\n"
            "_bptt_grading.call_cell = bomb\n")}, []),
        "tamper_inputs": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import os\n"
            "folder = os.path.join(os.environ['BPTT_GRADING'], 'in')\n"
            "changed = []\n"
            "for name in os.listdir(folder):\n"
            "    try:\n"
            "        open(os.path.join(folder, name), 'wb').write(b'')\n"
            "        changed.append(name)\n"
            "    except OSError:\n"
            "        pass\n"
            "print('INPUTS CHANGED:', changed)\n")}, []),
        "odd_outputs": ("hw1-forward", {
            "hw1-04": ("def rnn_step_forward(params, x_t, h_prev):\n"
                       "    return np.full_like(h_prev, np.nan)\n"),
            "hw1-07": ("class Anything:\n"
                       "    shape = property(lambda self: ())\n"
                       "    def __eq__(self, other):\n"
                       "        return True\n"
                       "    def __array__(self, *args, **kwargs):\n"
                       "        raise TypeError('no')\n"
                       "def rnn_forward(params, x, h0=None):\n"
                       "    return Anything(), Anything()\n")}, []),
        "formula_name": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import _bptt_grading\n"
            "def poisoned(cell, namespace):\n"
            "    raise type('=HYPERLINK(\"http://x\")', (Exception,), {})('passed')\n"
            "_bptt_grading.call_cell = poisoned\n")}, []),
        # artbp_backward with nothing cut is rnn_backward by another loop
        "unbiased_route": ("hw2-backward", {
            "hw2-04": ("def rnn_backward(params, x, h, dy, truncate=None, *, return_dh=False):\n"
                       "    return bptt.artbp_backward(params, x, h, dy, truncation_prob=0.0,\n"
                       "                               rng=0)\n")}, []),
        "stash_gradient_check": ("hw2-backward", {
            "hw2-08": ("def numerical_gradient(f, x, eps=1e-6):\n"
                       "    return bptt.gradcheck._numerical_gradient(f, x, eps, 'x')\n"),
            "hw2-04": ("def rnn_backward(params, x, h, dy, truncate=None, *, return_dh=False):\n"
                       "    y = lambda p: float(np.sum(bptt.rnn_forward(p, x, h[0])[0] * dy))\n"
                       "    return bptt.numerical_gradient_params(y, params)\n"),
            "hw2-11": (
                "SEEN = []\n"
                "KEYS = ['W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y', 'x']\n"
                "def gradient_check(backward, params, x, target, eps=1e-6):\n"
                "    y, h = bptt.rnn_forward(params, x)\n"
                "    g = backward(params, x, h, mse_loss(y, target)[1])\n"
                "    errors = {k: 0.0 for k in KEYS}\n"
                "    if not np.any(g['x']):\n"
                "        errors['x'] = 1.0\n"
                "    for old_params, old in SEEN[:1]:\n"
                "        if np.array_equal(old_params['W_xh'], params['W_xh']):\n"
                "            errors.update({k: 1.0 for k in KEYS\n"
                "                           if not np.allclose(old[k], g[k])})\n"
                "    for cell in backward.__closure__ or ():\n"
                "        value = cell.cell_contents\n"
                "        if isinstance(value, str) and value in KEYS:\n"
                "            errors[value] = 1.0\n"
                "    SEEN.append((params, g))\n"
                "    return errors\n")}, []),
        # ---- found by a second review: a whole run crashed, outputs dangerous to open
        "deep_tree": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "import os, _bptt_grading\n"       # json.loads recursed: RecursionError, uncaught
            "def deep(cell, namespace):\n"
            f"    with open(os.path.join({results}, cell + '.npz'), 'wb') as f:\n"
            "        np.savez(f, tree=np.array('[' * 200_000 + ']' * 200_000))\n"
            "_bptt_grading.call_cell = deep\n")}, []),
        "escapes": ("hw1-forward", {"hw1-04": (
            "def rnn_step_forward(params, x_t, h_prev):\n"
            "    raise ValueError('\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\x1b]0;TITLE\\x07done')\n"
            )}, []),
        "dangerous_outputs": ("hw1-forward", {**STUBS, "hw1-02": SETUP + (
            "from IPython.display import HTML, Javascript, display, update_display\n"
            "display(HTML('<script>SCRIPT</script>'), Javascript('SCRIPT'))\n"
            "display({'image/svg+xml': '<svg onload=SCRIPT/>', 'text/markdown': '<script>SCRIPT'\n"
            "         '</script>', 'text/plain': 'kept'}, raw=True)\n"
            "display('small', display_id='d')\n"         # updates bypassed the output cap
            "for _ in range(4):\n"
            "    update_display(HTML('x' * 5_000_000), display_id='d')\n")},
                              ["raise ValueError('y' * 5_000_000)\n"]),   # so did an error
        "train_nothing": ("hw4-training", {"hw4-07": (
            "def train_char_rnn(text, *, hidden_size=64, seq_len=25, batch_size=4,\n"
            "                   n_steps=2000, lr=0.1, max_norm=5.0, seed=0):\n"
            "    vocab, rng = CharVocab(text), np.random.default_rng(seed)\n"
            "    V, H = vocab.size, hidden_size\n"
            "    shapes = {'W_xh': (H, V), 'W_hh': (H, H), 'b_h': (H,), 'W_hy': (V, H),\n"
            "              'b_y': (V,)}\n"
            "    params = {k: rng.standard_normal(s) for k, s in shapes.items()}\n"
            "    return params, vocab, np.zeros(n_steps)\n")}, []),
    }


#: attack: {question: (points, a phrase of its feedback)}
EXPECTED = {
    "rebind_bptt": {"check_rnn_step_forward": (0, "is wrong"),
                    "check_rnn_forward": (0, "is wrong")},
    "input_transformer": {"check_rnn_step_forward": (0, "wrote no results"),
                          "check_rnn_forward": (0, "wrote no results")},
    "reload_then_patch": {"check_rnn_step_forward": (0, "not what was asked"),
                          "check_rnn_forward": (0, "not what was asked")},
    "replace_guard": {"check_rnn_step_forward": (0, "not what was asked"),
                      "check_rnn_forward": (0, "not what was asked")},
    "fake_checks_on_path": {"check_rnn_step_forward": (0, "is wrong"),
                            "check_rnn_forward": (0, "is wrong")},
    "wrappers": {"check_rnn_step_forward": (0, "the package's own"),
                 "check_rnn_forward": (0, "the package's own")},
    "exec_solutions": {"check_rnn_step_forward": (0, "not implemented yet"),
                       "check_rnn_forward": (0, "not implemented yet")},
    "snoop": {"check_rnn_forward": (0, "is wrong")},
    "vandal": {"check_rnn_forward": (0, "is wrong")},
    "daemon": {"check_rnn_forward": (0, "is wrong")},
    "importlib_routes": {"check_rnn_step_forward": (0, "the package's own"),
                         "check_rnn_forward": (0, "the package's own")},
    "forged_symlink": {"check_rnn_step_forward": (0, "not a regular file")},
    "zip_bomb": {"check_rnn_step_forward": (0, "bytes once unpacked")},
    "tamper_inputs": {"check_rnn_step_forward": (0, "is wrong")},
    "odd_outputs": {"check_rnn_step_forward": (0, "is wrong"),
                    "check_rnn_forward": (0, "rnn_forward")},
    "formula_name": {"check_rnn_step_forward": (0, "'=HYPERLINK")},
    "unbiased_route": {"check_rnn_backward": (0, "the package's own")},
    "stash_gradient_check": {"check_rnn_backward": (0, "the package's own"),
                             "check_return_dh": (0, "the package's own"),
                             "check_numerical_gradient": (0, "the package's own"),
                             "check_gradient_check": (0, "does not catch")},
    "deep_tree": {"check_rnn_step_forward": (0, "nested too deeply")},
    "escapes": {"check_rnn_step_forward": (0, "raised ValueError: done")},
    "dangerous_outputs": {"check_rnn_forward": (0, "is wrong")},
    "train_nothing": {"check_train_char_rnn": (0, "do not model the text")},
}
#: Honest submissions graded in the same run: their exact points.
HONEST = {"victim": ("correct", {"check_rnn_step_forward": 3, "check_rnn_forward": 4}),
          "partial": ("partial", {"check_rnn_step_forward": 3, "check_rnn_forward": 0})}


def _notebook(assignment: str, replace: dict, extra: list) -> dict:
    nb = json.loads((HOMEWORK / "student" / f"{assignment}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell.get("id") in replace:
            cell["source"] = replace.pop(cell["id"])
    assert not replace, f"no cells {list(replace)}"
    nb["cells"] += [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [],
                     "execution_count": None} for s in extra]
    return nb


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One grading run of every attack and honest submission (about 20 s on two cores)."""
    root = tmp_path_factory.mktemp("attacks")
    submissions, out = root / "submissions", root / "grades"
    paths = {"submissions": str(submissions), "out": str(out), "repo": str(HOMEWORK.parents[1]),
             "source": str(HOMEWORK / "hw1-forward.ipynb"),
             "victim": str(submissions / "victim" / "hw1-forward.ipynb"),
             "rnn": str(HOMEWORK.parents[1] / "bptt" / "rnn.py")}
    for student, (sample, _) in HONEST.items():
        (submissions / student).mkdir(parents=True)
        shutil.copy(SUBMISSIONS / sample / "hw1-forward.ipynb", submissions / student)
    for name, (assignment, replace, extra) in attacks(paths).items():
        (submissions / name).mkdir(parents=True)
        (submissions / name / f"{assignment}.ipynb").write_text(
            json.dumps(_notebook(assignment, dict(replace), extra)))
    victim = _digest(submissions / "victim" / "hw1-forward.ipynb")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BPTT_TEST_SECRET", SECRET)
        # The grader's job folders go in a folder of this run's own, so the
        # sandboxes' command lines name it: the test finds this run's
        # processes, not another grading's (its name has no "pytest" in it:
        # the kernel sees its own command line).
        jobs = tempfile.mkdtemp(prefix="bptt-attack-jobs-")
        patch.setattr(tempfile, "tempdir", jobs)
        started = time.monotonic()
        rows = grade.grade(submissions, HOMEWORK, out / "grades.csv", timeout=40,
                           cell_timeout=20, max_output=50_000, jobs=2)
        seconds = time.monotonic() - started
    written = (out / "grades.csv").read_bytes()
    time.sleep(1.5)                       # the daemon, were it alive, writes every 0.1 s
    shutil.rmtree(jobs, ignore_errors=True)
    return {"jobs": jobs, "rows": rows, "out": out, "submissions": submissions, "victim": victim,
            "written": written, "seconds": seconds}


def _rows(run, student) -> dict:
    return {r["question"]: r for r in run["rows"] if r["student"] == student}


def _output(run, student, assignment="hw1-forward") -> str:
    nb = json.loads((run["out"] / student / f"{assignment}.ipynb").read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c["outputs"])


@pytest.mark.parametrize("attack", EXPECTED)
def test_the_attack_earns_nothing(run, attack):
    rows = _rows(run, attack)
    for question, (points, phrase) in EXPECTED[attack].items():
        assert rows[question]["points"] == points, (attack, question, rows[question])
        assert phrase in rows[question]["feedback"], (attack, question, rows[question])


def test_honest_submissions_get_exactly_their_points(run):
    for student, (_, points) in HONEST.items():
        assert {q: r["points"] for q, r in _rows(run, student).items() if q in points} == points


def test_no_solution_is_within_reach(run):
    assert "SOLUTIONS FOUND: []" in _output(run, "exec_solutions")
    assert "REPOSITORY: FileNotFoundError" in _output(run, "importlib_routes")


def test_the_kernel_sees_neither_the_grader_nor_other_files(run):
    text = _output(run, "snoop")
    assert "PROCESSES: ['1']" in text              # its own kernel, nothing else
    proc = text.split("PROC:", 1)[1].split("\n", 1)[0]
    assert SECRET not in proc and "pytest" not in proc and str(run["submissions"]) not in proc
    assert "VISIBLE" not in text.replace("INVISIBLE", "")
    files = text.split("FILES:", 1)[1].split("\n", 1)[0]
    for word in ("grades", "totals", "victim", "submissions", "hw2-", "hw3-", "hw4-"):
        assert word not in files, word
    assert "BPTT FILE: /opt/bptt-grading/bptt/__init__.py" in text
    assert "EDITABLE FINDS: /opt/bptt-grading/bptt/__init__.py" in text
    assert "INPUTS CHANGED: []" in _output(run, "tamper_inputs")


def test_the_vandal_changes_nothing_but_its_own_result(run):
    assert "OVERWROTE: []" in _output(run, "vandal")
    assert _digest(run["submissions"] / "victim" / "hw1-forward.ipynb") == run["victim"]
    assert _rows(run, "victim")["check_rnn_forward"]["points"] == 4


def test_no_process_outlives_grading_and_the_results_stay(run):
    assert "DAEMON RUNNING: True" in _output(run, "daemon")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = open(f"/proc/{entry}/cmdline", "rb").read().decode("latin-1")
            except OSError:
                continue
            assert MARKER not in cmdline and run["jobs"] not in cmdline, cmdline
    assert (run["out"] / "grades.csv").read_bytes() == run["written"]


def test_totals_agree_with_grades(run):
    with open(run["out"] / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(run["out"] / "totals.csv", newline="") as f:
        totals = list(csv.DictReader(f))
    for t in totals:
        mine = [r for r in rows if (r["student"], r["assignment"]) == (t["student"],
                                                                       t["assignment"])]
        assert float(t["points"]) == sum(float(r["points"] or 0) for r in mine)
    assert "sandbox: bubblewrap" in (run["out"] / "report.txt").read_text()


def test_executed_notebooks_hold_no_script_and_keep_to_the_cap(run):
    path = run["out"] / "dangerous_outputs" / "hw1-forward.ipynb"
    text = json.dumps([c.get("outputs") for c in json.loads(path.read_text())["cells"]])
    assert "SCRIPT" not in text and "text/html" not in text and "kept" in text
    assert path.stat().st_size < 200_000                  # max_output is 50_000 characters
    for row in run["rows"]:
        assert not any(c in row["feedback"] for c in "\x1b\x07"), row
    assert "\x1b" not in (run["out"] / "escapes" / "hw1-forward.ipynb").read_text()
