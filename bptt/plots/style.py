"""One matplotlib style for every figure of the book."""
from __future__ import annotations

import matplotlib as mpl

#: Settings applied by :func:`use_book_style`: a fixed size and resolution so
#: figures look alike across chapters and PNG outputs do not depend on the
#: machine's defaults.
BOOK_RC = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.cmap": "viridis",
    "animation.html": "jshtml",
    "animation.embed_limit": 8.0,   # MB; keeps stored animations small
}

#: Width in inches of a figure made of one column of panels: a phone (about
#: 360 CSS pixels) shrinks it by less than a half, so its text stays legible.
WIDTH = 5.6


def use_book_style() -> None:
    """Apply :data:`BOOK_RC` to matplotlib's global settings."""
    mpl.rcParams.update(BOOK_RC)
