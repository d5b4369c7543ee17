"""Running one notebook in a fresh kernel, with time limits and capped output.

The kernel is started and ended by a :class:`bptt.course.sandbox.Launcher`
(in a bubblewrap sandbox, unless grading was asked to run without one).

Built on ``nbclient`` (imported when a notebook is run, so that releasing
needs no Jupyter package), not on ``otter-grader``: otter's batch grader
(``otter grade``) runs in Docker, its container-free ``otter run`` has no time
limit, and its format (``# BEGIN QUESTION`` blocks with OK-format test files)
differs from nbgrader's, which the sources use.

:func:`run_notebook` never raises for what the notebook does: a cell that
raises, a kernel that dies, a cell that never ends and a notebook that prints
megabytes all come back as replies and a stop reason, so grading goes on.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import time

__all__ = ["run_notebook"]


#: The only kinds of display output kept: a notebook opened by the instructor
#: (in Jupyter, VS Code, or as HTML by nbconvert) must run no student's script,
#: which HTML, JavaScript, SVG, Markdown and widget outputs can hold.
SAFE_MIME = ("text/plain", "image/png", "image/jpeg")
#: Characters kept of an error's message and of each line of its traceback.
_ERROR_TEXT = 2000


def _safe(content: dict) -> dict:
    """A kernel message's content with only what a stored output may hold, and no more."""
    content = dict(content)
    if "data" in content:
        data = content["data"] if isinstance(content["data"], dict) else {}
        meta = content.get("metadata") if isinstance(content.get("metadata"), dict) else {}
        content["data"] = {k: v for k, v in data.items() if k in SAFE_MIME}
        content["metadata"] = {k: v for k, v in meta.items() if k in SAFE_MIME}
    if "traceback" in content:
        content["ename"] = str(content.get("ename", ""))[:_ERROR_TEXT]
        content["evalue"] = str(content.get("evalue", ""))[:_ERROR_TEXT]
        content["traceback"] = [str(line)[:_ERROR_TEXT] for line in
                                list(content.get("traceback") or [])[-20:]]
    return content


def _make_client(nb, km, cell_timeout: float, max_output: int):
    """An nbclient NotebookClient that caps stored output and records each cell's reply."""
    import nbformat
    from nbclient import NotebookClient

    class _Client(NotebookClient):
        """Stores at most ``max_output`` characters of output for the whole notebook.

        Errors and display updates count too, and displays keep only
        :data:`SAFE_MIME`.
        """

        def _fits(self, content: dict) -> bool:
            size = len(content["text"]) if "text" in content else len(json.dumps(content))
            left = max_output - self.stored
            self.stored += size
            return size <= left

        def _update_display_id(self, display_id, msg):
            msg = {**msg, "content": _safe(msg["content"])}
            if display_id in self._display_id_map and self._fits(msg["content"]):
                super()._update_display_id(display_id, msg)

        def output(self, outs, msg, display_id, cell_index):
            content = msg["content"] = _safe(msg["content"])
            left = max_output - self.stored
            if self._fits(content):
                return super().output(outs, msg, display_id, cell_index)
            if msg["msg_type"] == "stream" and left > 0:
                content["text"] = str(content["text"])[:left]
                super().output(outs, msg, display_id, cell_index)
            if not self.capped:
                self.capped = True
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"\n[the grader stored only the first {max_output} characters of "
                         "output]\n"))
            return None

    replies, limits = {}, {}

    def on_cell_executed(cell, cell_index, execute_reply):
        content = (execute_reply or {}).get("content")
        replies[cell_index] = content if isinstance(content, dict) else {}

    client = _Client(
        nbformat.from_dict(nb), km=km, allow_errors=True,
        interrupt_on_timeout=True, shutdown_kernel="immediate", iopub_timeout=2,
        timeout=max(1, int(cell_timeout)),
        error_on_timeout={"ename": "Timeout", "evalue": "", "traceback": []},
        on_cell_executed=on_cell_executed)
    client.stored, client.capped = 0, False
    client.timeout_func = lambda cell: limits.get("current")
    return client, replies, limits


async def run_notebook(nb: dict, launcher, job, *, timeout: float, cell_timeout: float,
                       max_output: int):
    """Run ``nb`` in a fresh kernel started by ``launcher`` for ``job``; end it and all it started.

    Parameters
    ----------
    nb : dict
        The notebook to run (every source one string).
    launcher : bptt.course.sandbox.Launcher
        Starts the kernel (in its sandbox) and ends it.
    job : bptt.course.sandbox.Job
        The notebook's folders; the kernel works in ``job.home``.
    timeout : float
        Seconds the whole notebook may run (starting the kernel is not
        counted); cells not reached are not run.
    cell_timeout : float
        Seconds one cell may run before it is interrupted.
    max_output : int
        Characters of output stored for the whole notebook.

    Returns
    -------
    executed : nbformat.NotebookNode
        The notebook with its outputs.
    replies : dict
        The kernel's reply to each cell run, by cell index (``status``, and
        ``ename`` and ``evalue`` for an error).
    stopped : str or None
        Why the run stopped before the end ("not run: ..."), or None.
    """
    from nbclient.exceptions import DeadKernelError

    km = launcher.kernel_manager(job)
    client, replies, limits = _make_client(nb, km, cell_timeout, max_output)
    stopped = None
    # The launcher's environment (one thread per kernel, so that several run
    # side by side and results do not depend on the core count), and nothing
    # of the grader's. The kernel's own stdout and stderr (its log) are not the
    # student's output: drop them.
    try:
        async with client.async_setup_kernel(env=launcher.process_env(job), cwd=str(job.home),
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL):
            deadline = time.monotonic() + timeout     # starting the kernel is not counted
            for index, cell in enumerate(client.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0.5:
                    stopped = (f"not run: the notebook used up its {timeout:g} s before "
                               f"cell {index + 1}")
                    break
                limits["current"] = limits[index] = max(1.0, min(cell_timeout, remaining))
                try:
                    await client.async_execute_cell(cell, index)
                except DeadKernelError:
                    replies[index] = {"status": "error", "ename": "DeadKernelError",
                                      "evalue": "the kernel died (it crashed or exited) while "
                                                "running this cell"}
                    stopped = f"not run: the kernel died in cell {index + 1}"
                    break
    except Exception as exc:      # the kernel would not start, or nbclient failed
        stopped = f"not run: the notebook could not be executed ({type(exc).__name__}: {exc})"
    finally:
        await _end(client, km, launcher)
    for cell in client.nb.cells:      # the kernel's reply may have set anything
        if cell.cell_type == "code" and type(cell.get("execution_count")) is not int:
            cell.execution_count = None
    for index, reply in replies.items():
        if reply.get("ename") == "Timeout":
            reply["evalue"] = (f"the cell did not finish within {limits[index]:.0f} s "
                               "(an endless loop, or far too slow); it was interrupted")
    return client.nb, replies, stopped


async def _end(client, km, launcher) -> None:
    """Stop the channels, kill the kernel and all it started, free its files."""
    if client.kc is not None:
        client.kc.stop_channels()
    await asyncio.to_thread(launcher.end, km)
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    except Exception:       # it is dead already; only the bookkeeping complains
        pass
    done = km.cleanup_resources()
    if inspect.isawaitable(done):
        await done

