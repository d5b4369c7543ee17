"""Tests for python -m bptt.charlm: the two commands end to end, and every bad input refused."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from bptt.charlm import SHIPPED_TEXT, load_model
from bptt.charlm.cli import main

TEXT = SHIPPED_TEXT.read_text(encoding="utf-8")[:6000]
LAST_LINE = re.compile(r"chars/s \d+ train_bpc \d+\.\d{4} val_bpc \d+\.\d{4}")
SMALL = ["--model", "rnn", "--hidden-size", "12", "--seq-len", "8", "--batch-size", "4",
         "--seed", "3"]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "bptt.charlm", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_train_then_sample_in_a_subprocess(folder):
    out = run("train", "--text", "text.txt", *SMALL, "--steps", "5", "--out", "m.npz",
              cwd=folder)
    assert out.returncode == 0, out.stderr
    assert LAST_LINE.fullmatch(out.stdout.splitlines()[-1]), out.stdout
    assert sorted(os.listdir(folder)) == ["m.npz", "text.txt"]
    assert load_model(folder / "m.npz").steps == 5
    out = run("sample", "--model", "m.npz", "--length", "40", "--temperature", "0.7",
              "--seed", "1", "--prime", "First", cwd=folder)
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("\n") and len(out.stdout[:-1]) == 40


def test_the_last_line_holds_the_run_s_numbers(folder, capsys):
    assert main(["train", "--text", str(folder / "text.txt"), *SMALL, "--steps", "10",
                 "--out", str(folder / "m.npz")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert LAST_LINE.fullmatch(lines[-1])
    chars_per_s, train_bpc, val_bpc = (float(v) for v in lines[-1].split()[1::2])
    assert chars_per_s > 0 and 3 < train_bpc < 7 and 3 < val_bpc < 7
    assert any(line.startswith("100%") for line in lines)      # progress: plain lines


def test_train_resume_and_the_same_seed_give_the_same_model(folder, capsys):
    common = ["--text", str(folder / "text.txt"), *SMALL]
    main(["train", *common, "--steps", "6", "--out", str(folder / "a.npz")])
    main(["train", *common, "--steps", "6", "--out", str(folder / "b.npz")])
    a, b = load_model(folder / "a.npz"), load_model(folder / "b.npz")
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    main(["train", "--text", str(folder / "text.txt"), "--seq-len", "8", "--batch-size", "4",
          "--steps", "4", "--resume", str(folder / "a.npz"), "--out", str(folder / "a.npz")])
    main(["train", *common, "--steps", "10", "--out", str(folder / "c.npz")])
    resumed, whole = load_model(folder / "a.npz"), load_model(folder / "c.npz")
    assert resumed.steps == 10
    for k in whole.params:
        np.testing.assert_allclose(resumed.params[k], whole.params[k], rtol=1e-6, atol=1e-7)


def _refused(argv, match, capsys, folder):
    before = sorted(os.listdir(folder))
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    message = capsys.readouterr().err
    assert re.search(match, message), message
    assert sorted(os.listdir(folder)) == before                # nothing written


@pytest.mark.parametrize("args, match", [
    (["--text", "none.txt"], r"--text file '.*none.txt' does not exist"),
    (["--text", "empty.txt"], r"--text file '.*empty.txt' is empty"),
    (["--text", "short.txt"], r"--text is too short: its training part \(the first 27 of 30 "
                              r"characters, --val-fraction = 0.1\) must hold at least one "
                              r"batch of chunks, --batch-size \* --seq-len \+ 1 = 4 \* 8 \+ 1 "
                              r"= 33 characters"),
    (["--seq-len", "0"], "--seq-len must be >= 1, got 0"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--hidden-size", "-3"], "--hidden-size must be >= 1, got -3"),
    (["--steps", "0"], "--steps must be >= 1, got 0"),
    (["--seconds", "-1"], "--seconds must be a finite number > 0, got -1"),
    (["--val-fraction", "1.5"], r"--val-fraction must be in \[0, 1\), got 1.5"),
    (["--lr", "0"], "--lr must be a finite number > 0"),
    (["--clip", "-1"], "--clip must be >= 0"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--model", "cnn"], "invalid choice: 'cnn'"),
    (["--out", "nofolder/m.npz"], r"its folder '.*nofolder' does not exist"),
    (["--resume", "foreign.npz"], r"model file '.*foreign.npz' is not a bptt.charlm model"),
])
def test_bad_training_input_is_named_and_writes_nothing(folder, capsys, args, match):
    (folder / "empty.txt").write_text("")
    (folder / "short.txt").write_text("x" * 30)
    np.savez(open(folder / "foreign.npz", "wb"), W=np.zeros(2))
    argv = ["train", "--text", str(folder / "text.txt"), *SMALL, "--steps", "2",
            "--out", str(folder / "m.npz"), *args]
    argv = [str(folder / a) if a.endswith((".txt", ".npz")) and a != "m.npz" else a
            for a in argv]
    _refused(argv, match, capsys, folder)


@pytest.mark.parametrize("args, match", [
    (["--prime", "ROMEO~"], r"--prime holds a character the model does not know: '~' at "
                            r"position 5; the model's \d+ characters are"),
    (["--length", "0"], "--length must be >= 1, got 0"),
    (["--temperature", "0"], "--temperature must be a finite number > 0"),
])
def test_bad_sampling_input_is_named(folder, capsys, args, match):
    main(["train", "--text", str(folder / "text.txt"), *SMALL, "--steps", "1", "--out",
          str(folder / "m.npz")])
    capsys.readouterr()
    _refused(["sample", "--model", str(folder / "m.npz"), *args], match, capsys, folder)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"plain text"])
def test_sampling_from_a_foreign_or_truncated_file_is_refused(folder, capsys, content):
    (folder / "bad.npz").write_bytes(content)
    _refused(["sample", "--model", str(folder / "bad.npz")],
             r"--model file '.*bad.npz' is not a bptt.charlm model", capsys, folder)
