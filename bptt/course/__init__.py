"""Course tooling: release the student versions of the assignments, and grade submissions.

Not part of the maths: ``import bptt`` never loads this subpackage (nor does
``import bptt.checks``, the self-checks students run). It needs only the
standard library to release; grading also needs ``nbclient`` and
``nbformat``, imported when a notebook is run.

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
  and ``totals.csv``
- :mod:`bptt.course.kernel`: running one notebook in a fresh kernel, with time
  limits and capped output
- :mod:`bptt.course.guard`: the one piece that runs inside the student's
  kernel, before each check
- :mod:`bptt.course.cli`: ``python -m bptt.course {release,pages,grade} ...``
"""
