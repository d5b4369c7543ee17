"""Tests of bptt.models: the shipped character model and the stored comparison.

The shipped model's held-out loss is the number chapter 8 quotes: it is
evaluated again here (deterministic: a fixed text, no sampling). The stored
comparison's settings must be its script's, and its first updates re-run to
the stored losses, so neither can drift from the code.
"""
from __future__ import annotations

import importlib.util
import shlex
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from bptt.charlm import SHIPPED_TEXT, evaluate_bpc, read_text, split_text
from bptt.models import (SHIPPED, SHIPPED_COMMAND, SHIPPED_VAL_BPC, shipped_charlm,
                         stored_comparison)

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "charlm_compare", ROOT / "chapters" / "data" / "charlm_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_model_is_small_package_data():
    path = resources.files("bptt").joinpath("models", SHIPPED)
    size = path.stat().st_size if hasattr(path, "stat") else len(path.read_bytes())
    assert size < 2_000_000, f"the shipped model is {size} bytes, over 2 MB"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"models/*.npz"' in pyproject and '"models/*.json"' in pyproject


def test_shipped_model_is_what_its_command_says():
    lm = shipped_charlm()
    args = shlex.split(SHIPPED_COMMAND)
    flag = {a: args[i + 1] for i, a in enumerate(args) if a.startswith("--")}
    assert lm.kind == flag["--model"] and lm.hidden_size == int(flag["--hidden-size"])
    assert lm.steps == int(flag["--steps"])
    assert lm.options["seq_len"] == int(flag["--seq-len"])
    assert lm.options["batch_size"] == int(flag["--batch-size"])
    assert lm.options["seed"] == int(flag["--seed"])
    assert lm.options["lr"] == float(flag["--lr"]) and lm.options["clip"] == float(flag["--clip"])
    assert lm.options["optimizer"] == "adam"
    assert lm.dtype == np.float32
    assert flag["--out"] == f"bptt/models/{SHIPPED}"


def test_shipped_model_scores_what_the_chapter_says():
    lm = shipped_charlm()
    _, val = split_text(read_text(SHIPPED_TEXT), lm.options["val_fraction"])
    bpc = evaluate_bpc(lm, val)
    assert round(bpc, 4) == SHIPPED_VAL_BPC, (bpc, SHIPPED_VAL_BPC)
    assert round(evaluate_bpc(lm, val), 4) == SHIPPED_VAL_BPC       # deterministic


def test_comparison_settings_are_the_scripts():
    stored = stored_comparison()
    assert stored["settings"] == _script().SETTINGS
    runs = {r["model"]: r for r in stored["runs"]}
    assert sorted(runs) == sorted(stored["settings"]["models"])
    for m, r in runs.items():
        assert r["steps"] == stored["settings"]["steps"][m]
        assert len(r["val_bpc"]) == stored["settings"]["segments"]
        assert r["val_steps"][-1] == r["steps"]
        assert all(np.isfinite(r["val_bpc"]))


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_comparison_reruns_its_first_updates(kind):
    script = _script()
    every = script.SETTINGS["curve_every"]
    # One segment of `every` updates, resumed in two pieces: the same losses
    # as the stored run's first updates (resuming is exact).
    fast = {**script.SETTINGS, "segments": 2}
    run = script.run_model(kind, fast, steps=every)
    stored = {r["model"]: r for r in stored_comparison()["runs"]}[kind]
    np.testing.assert_allclose(run["train_first"], stored["train_first"], rtol=1e-5)


def test_the_chapter_shows_the_command_that_made_the_model():
    import json
    nb = json.loads((ROOT / "chapters" / "08-charlm.ipynb").read_text(encoding="utf-8"))
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    shown = [line for line in md.splitlines() if line.startswith("python -m bptt.charlm train")]
    assert shown, "chapter 8 no longer shows the shipped model's command"
    for line in shown:
        assert line in SHIPPED_COMMAND, (line, SHIPPED_COMMAND)
