"""``python -m bptt.course``: see :mod:`bptt.course.cli`."""
import sys

from .cli import main

sys.exit(main())
