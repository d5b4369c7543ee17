"""``python -m bptt.charlm``: see :mod:`bptt.charlm.cli`."""
import sys

from .cli import main

sys.exit(main())
