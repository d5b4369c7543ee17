"""Showing a run's progress: a bar redrawn in place, or a plain line now and then.

A terminal (or a notebook, whose output honours the carriage return) gets a
bar redrawn on one line at most ten times a second; a pipe or a log file gets
a line at every tenth of the run, so that a log stays short and readable.
No dependency: ``tqdm`` is not among the package's requirements.
"""
from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


def _in_kernel() -> bool:
    """Running in a Jupyter kernel (a notebook), whose output draws ``\\r`` in place."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return shell is not None and hasattr(shell, "kernel")


def _interactive(stream) -> bool:
    """A terminal, or a notebook."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) or _in_kernel()


class Progress:
    """Report ``update(step, elapsed, loss_bpc, chars)`` calls as a bar or as lines.

    Parameters
    ----------
    mode : bool or str
        ``False`` shows nothing; ``True`` chooses ``"bar"`` on a terminal or in
        a notebook and ``"lines"`` otherwise; ``"bar"`` or ``"lines"`` forces one.
    steps, seconds : int or float, optional
        The budget of the run (whichever ends it first): sets the fraction done.
    stream : file, optional
        Where to write; ``sys.stdout`` when None.
    """

    def __init__(self, mode, *, steps=None, seconds=None, stream=None):
        if mode not in (True, False, "bar", "lines"):
            raise ValueError(f"progress must be True, False, 'bar' or 'lines', got {mode!r}")
        self.stream = sys.stdout if stream is None else stream
        if mode is True:
            mode = "bar" if _interactive(self.stream) else "lines"
        self.mode = mode
        self.steps, self.seconds = steps, seconds
        self._next_tenth = 1
        self._last_draw = -1.0
        self._drawn = False

    def _fraction(self, step: int, elapsed: float) -> float:
        done = [f for f in (step / self.steps if self.steps else None,
                            elapsed / self.seconds if self.seconds else None) if f is not None]
        return min(1.0, max(done)) if done else 0.0

    def update(self, step: int, elapsed: float, loss_bpc: float, chars: int) -> None:
        """One update done: ``step`` updates in ``elapsed`` seconds, the last loss (bits)."""
        if not self.mode:
            return
        frac = self._fraction(step, elapsed)
        rate = chars / elapsed if elapsed > 0 else 0.0
        text = f"step {step:>6}  {elapsed:6.1f} s  loss {loss_bpc:.3f} bpc  {rate:,.0f} chars/s"
        if self.mode == "bar":
            now = time.perf_counter()
            if now - self._last_draw < 0.1 and frac < 1.0:
                return
            self._last_draw = now
            filled = int(round(30 * frac))
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * frac:3.0f}%  {text}")
            self.stream.flush()
            self._drawn = True
        elif frac * 10 >= self._next_tenth:
            self._next_tenth = int(frac * 10) + 1
            print(f"{100 * frac:3.0f}%  {text}", file=self.stream, flush=True)

    def close(self) -> None:
        """End the bar's line, so that what follows starts on a line of its own."""
        if self.mode == "bar" and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
