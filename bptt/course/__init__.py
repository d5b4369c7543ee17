"""Course tooling: release the student versions of the assignments, and grade submissions.

Not part of the maths: ``import bptt`` never loads this subpackage (nor does
``import bptt.checks``, the self-checks students run). It needs only the
standard library to release; grading also needs ``nbclient``, ``nbformat``
and IPython, imported when a notebook is graded, and bubblewrap (``bwrap``)
on the machine.

Every function takes its folders as arguments and reads nothing else: no path
of the repository is built in, so the tooling works from an installed wheel.
Only the command line has defaults, relative to the current directory (see
:mod:`bptt.course.cli`).

Modules, one concept each:

- :mod:`bptt.course.notebooks`: notebooks as plain JSON, and the nbgrader
  conventions of the sources (solution regions, graded cells, questions)
- :mod:`bptt.course.release`: the student versions: notebooks and zips to hand
  out, and the pages the book shows
- :mod:`bptt.course.grade`: grading a folder of submissions into ``grades.csv``
  and ``totals.csv``, written once every kernel has ended
- :mod:`bptt.course.prepare`: the notebook the grader runs (check cells become
  call cells), and its syntax errors found before it runs
- :mod:`bptt.course.verdict`: what a check cell checks, the problems drawn for
  it, and the verdict, all in the grader's process
- :mod:`bptt.course.wire`: problems and results as data (.npz, no code), the
  one format that crosses the sandbox's wall
- :mod:`bptt.course.runtime`: the ``bptt`` a graded kernel imports, whose
  reference functions for the assignment raise
- :mod:`bptt.course.sandbox`: the bubblewrap sandbox of each graded notebook
- :mod:`bptt.course.kernel`: running one notebook in a fresh kernel, with time
  limits and capped output
- :mod:`bptt.course.call_cell`: the one piece that runs inside the student's
  kernel: it calls the student's functions and writes what they gave
- :mod:`bptt.course.cli`: ``python -m bptt.course {release,pages,grade} ...``
"""
