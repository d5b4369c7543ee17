"""Tests of bptt.plots.display: animations and widgets with a still for print.

Each frame of the test animation fills the figure with one known colour, so
which frames a still shows, and where, is read off its pixels and compared
with colours chosen here, not with anything the code computed.
"""
from __future__ import annotations

import base64
import gc
import io
import re

import ipywidgets
import matplotlib

matplotlib.use("Agg")   # no notebook here: only the tests' figures are drawn

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402

from bptt.plots.display import (  # noqa: E402
    PNG, WIDGET_VIEW, RichOutput, animation_frames, palette_frames, show_animation,
    show_widget)

COLOURS = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1), (0.5, 0.5, 0.5)]
W_PX, H_PX = 60, 40       # frame size in pixels: figsize (1.2, 0.8) at dpi 50
GUTTER = 8


@pytest.fixture(autouse=True)
def figure_dpi():
    """Save at each figure's own dpi, whatever another test module set globally."""
    with matplotlib.rc_context({"savefig.dpi": "figure", "savefig.bbox": None}):
        yield
    plt.close("all")


def colour_animation(n_frames: int) -> FuncAnimation:
    """Frame k is a figure filled with COLOURS[k]."""
    fig = plt.figure(figsize=(W_PX / 50, H_PX / 50), dpi=50)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    image = ax.imshow(np.zeros((2, 2, 3)), vmin=0, vmax=1)

    def update(k):
        image.set_data(np.tile(np.array(COLOURS[k], dtype=float), (2, 2, 1)))
        return [image]

    anim = FuncAnimation(fig, update, frames=n_frames)
    plt.close(fig)
    return anim


def decode_png(b64: str) -> np.ndarray:
    return mpimg.imread(io.BytesIO(base64.b64decode(b64)), format="png")


def tile_colour(grid: np.ndarray, row: int, col: int) -> tuple:
    """The RGB at the centre of tile (row, col) of a grid of stills."""
    y = row * (H_PX + GUTTER) + H_PX // 2
    x = col * (W_PX + GUTTER) + W_PX // 2
    return tuple(np.round(grid[y, x, :3], 2))


@pytest.mark.parametrize("n_frames", [1, 3, 7])
def test_animation_frames_in_order(n_frames):
    frames = animation_frames(colour_animation(n_frames))
    assert len(frames) == n_frames
    for k, frame in enumerate(frames):
        assert frame.shape == (H_PX, W_PX, 4)
        np.testing.assert_allclose(frame[H_PX // 2, W_PX // 2, :3], COLOURS[k], atol=0.01)


@pytest.mark.parametrize("n_frames, stills, ncols, expected_frames, shape", [
    # 7 frames, 4 stills: round(k * 6 / 3) = 0, 2, 4, 6, on a 2 x 2 grid.
    (7, 4, 2, [0, 2, 4, 6], (2, 2)),
    # 5 frames, 3 stills: round(k * 4 / 2) = 0, 2, 4, in one row.
    (5, 3, 3, [0, 2, 4], (1, 3)),
    # 6 frames, 4 stills: k * 5 / 3 = 0, 1.67, 3.33, 5 rounds to 0, 2, 3, 5.
    (6, 4, 4, [0, 2, 3, 5], (1, 4)),
    # More stills than frames: every frame once; ncols capped by the count.
    (2, 4, 4, [0, 1], (1, 2)),
    (1, 4, 2, [0], (1, 1)),
])
def test_still_grid_shows_evenly_spread_frames(n_frames, stills, ncols, expected_frames, shape):
    out = show_animation(colour_animation(n_frames), alt="colours", stills=stills, ncols=ncols)
    grid = decode_png(out.bundle[PNG])
    rows, cols = shape
    assert grid.shape[:2] == (rows * H_PX + (rows - 1) * GUTTER, cols * W_PX + (cols - 1) * GUTTER)
    for k, frame in enumerate(expected_frames):
        r, c = divmod(k, cols)
        assert tile_colour(grid, r, c) == COLOURS[frame], f"tile {k} should show frame {frame}"


def test_animation_bundle_has_player_with_alt_text_and_text():
    out = show_animation(colour_animation(3), alt='Colours "red" & <green>')
    assert set(out.bundle) == {"text/html", "image/png", "text/plain"}
    player = out.bundle["text/html"]
    assert 'class="animation"' in player and "play_animation" in player
    imgs = re.findall(r"<img [^>]*>", player)
    assert len(imgs) == 1
    assert 'alt="Colours &quot;red&quot; &amp; &lt;green&gt;"' in imgs[0]
    assert out.bundle["text/plain"] == 'Animation of 3 frames: Colours "red" & <green>'
    # Jupyter asks for the bundle through this method: it must be the same data.
    assert out._repr_mimebundle_() == out.bundle
    assert repr(out) == out.bundle["text/plain"]


def test_animation_player_asks_no_other_host_and_names_its_slider():
    player = show_animation(colour_animation(3), alt="x").bundle["text/html"]
    # matplotlib links Font Awesome from a CDN; the book's theme ships it.
    assert "<link" not in player and "http" not in player
    sliders = re.findall(r'<input [^>]*class="anim-slider"[^>]*>', player)
    assert len(sliders) == 1 and 'aria-label="Animation frame"' in sliders[0]


def test_show_widget_keeps_the_view_and_adds_the_still():
    slider = ipywidgets.IntSlider(value=3)
    still = plt.figure(figsize=(2, 1), dpi=50)
    still.patch.set_facecolor((0, 0, 1))
    out = show_widget(slider, still)
    assert out.bundle[WIDGET_VIEW]["model_id"] == slider.model_id
    assert "IntSlider" in out.bundle["text/plain"]
    png = decode_png(out.bundle[PNG])
    assert png.shape[:2] == (50, 100)
    np.testing.assert_allclose(png[25, 50, :3], (0, 0, 1), atol=0.01)
    # Closed, so that the notebook does not show it a second time.
    assert still.number not in plt.get_fignums()
    slider.close()


def test_rich_output_returns_a_copy():
    out = RichOutput({"text/plain": "x"})
    out._repr_mimebundle_()["text/plain"] = "changed"
    assert out.bundle == {"text/plain": "x"}


# --- palette_frames and a ready player -------------------------------------

_FRAME_B64 = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)")


def _frame_pixels(player: str) -> list[np.ndarray]:
    """Every frame of a player, decoded to RGB in [0, 1]."""
    frames = []
    for b64 in _FRAME_B64.findall(player):
        raw = base64.b64decode(b64.replace("\\\n", ""))
        frames.append(mpimg.imread(io.BytesIO(raw), format="png")[..., :3])
    return frames


def test_palette_frames_keeps_every_frame_and_its_colour():
    player = colour_animation(5).to_jshtml()
    light = palette_frames(player, colors=8)
    before, after = _frame_pixels(player), _frame_pixels(light)
    assert len(after) == len(before) == 5
    for k, frame in enumerate(after):
        assert frame.shape == before[k].shape
        # Each frame is one flat colour: the palette keeps it (to 8-bit rounding).
        np.testing.assert_allclose(frame[H_PX // 2, W_PX // 2], COLOURS[k], atol=1 / 255)


def test_palette_frames_are_lighter_on_a_line_plot():
    fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
    line, = ax.plot([], [])
    ax.set_xlim(0, 1)
    ax.set_ylim(-1, 1)
    xs = np.linspace(0, 1, 200)

    def draw(k):
        line.set_data(xs, np.sin(2 * np.pi * (xs + k / 6)))
        return (line,)

    player = FuncAnimation(fig, draw, frames=6).to_jshtml()
    assert len(palette_frames(player, colors=64)) < 0.7 * len(player)


def test_show_animation_uses_a_ready_player_and_keeps_its_alt_text():
    anim = colour_animation(3)
    ready = re.sub(r'<img id="(_anim_img[0-9a-f]+)">', r'<img id="\1" alt="Given.">',
                   anim.to_jshtml())
    out = show_animation(anim, alt="Ignored, the player has its own.", player=ready)
    html_out = out._repr_mimebundle_()["text/html"]
    # The player is used as given, but for the CDN link and the slider's name.
    assert 'alt="Given."' in html_out and "Ignored" not in html_out
    assert html_out.replace(' aria-label="Animation frame"', "") == re.sub(
        r'<link rel="stylesheet"\s+href="[^"]*">\s*', "", ready)
    assert PNG in out._repr_mimebundle_()


def test_show_animation_gives_a_ready_player_without_alt_its_alt():
    anim = colour_animation(3)
    out = show_animation(anim, alt="Three colours.", player=anim.to_jshtml())
    assert 'alt="Three colours."' in out._repr_mimebundle_()["text/html"]


# --- bad input: one test per error class --------------------------------------


def test_type_errors():
    with pytest.raises(TypeError, match="anim must be a matplotlib.animation.Animation"):
        show_animation(plt.figure(), alt="x")
    with pytest.raises(TypeError, match="widget must be an ipywidgets widget with a view"):
        show_widget(3, plt.figure())


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_value_errors():
    with pytest.raises(ValueError, match="alt must be a non-empty description"):
        show_animation(colour_animation(2), alt=" ")
    gc.collect()             # the unrendered animation warns when deleted: here, filtered
    with pytest.raises(ValueError, match=re.escape("colors must be in [2, 256]")):
        palette_frames("x", colors=300)


def test_runtime_error_when_matplotlib_changes_its_player():
    with pytest.raises(RuntimeError, match="found no PNG frame"):
        palette_frames("not a player")
