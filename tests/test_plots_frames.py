"""bptt.plots.frames: a slider over pre-rendered frames, and show_widget's use of it."""
import base64
import io
import json
import re

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import pytest
from PIL import Image

from bptt.plots.display import HTML, PNG, WIDGET_VIEW, show_widget
from bptt.plots.frames import LIVE_NOTE, frame_slider

matplotlib.use("Agg")


def _draw(a, b="x"):
    fig, ax = plt.subplots(figsize=(1.5, 1), dpi=40)
    ax.set_title(f"{a} {b}")
    ax.plot([0, 1], [0, a])
    return fig


def _data(html):
    m = re.search(r'<script type="application/json" class="bptt-frame-data">(.*?)</script>',
                  html, flags=re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_one_frame_per_combination_in_row_major_order():
    seen = []

    def draw(a, b):
        seen.append((a, b))
        return _draw(a, b)

    html = frame_slider(draw, {"a": [1.0, 2.0, 3.0], "b": ["u", "v"]}, alt="A line.")
    data = _data(html)
    assert seen == [(1.0, "u"), (1.0, "v"), (2.0, "u"), (2.0, "v"), (3.0, "u"), (3.0, "v")]
    assert data["sizes"] == [3, 2] and len(data["png"]) == 6
    assert data["labels"] == [["1", "2", "3"], ["u", "v"]]
    # Every frame is a palette PNG (mode P) and the frames differ.
    for b64 in data["png"]:
        assert Image.open(io.BytesIO(base64.b64decode(b64))).mode == "P"
    assert len(set(data["png"])) == 6


def test_controls_are_labelled_and_start_at_the_initial_values():
    html = frame_slider(_draw, {"a": [1.0, 2.0, 3.0], "b": ["u", "v"]}, alt="A line.",
                        initial={"a": 2.0, "b": "v"}, labels={"a": "spectral radius"})
    inputs = re.findall(r'<input class="bptt-slider"[^>]*>', html)
    assert len(inputs) == 2
    assert 'aria-label="spectral radius"' in inputs[0] and 'value="1"' in inputs[0]
    assert 'aria-label="b"' in inputs[1] and 'value="1"' in inputs[1] and 'max="1"' in inputs[1]
    data = _data(html)
    shown = re.search(r'<img class="bptt-frame" alt="A line." src="data:image/png;base64,([^"]+)"',
                      html).group(1)
    assert shown == data["png"][1 * 2 + 1]          # (a=2.0, b="v")
    assert LIVE_NOTE in html and "make lab" in LIVE_NOTE
    assert " id=" not in html                       # no ids: several sliders per page are fine


def test_value_error_names_the_bad_value():
    with pytest.raises(ValueError, match=re.escape("initial['a'] = 3 is not one of")):
        frame_slider(_draw, {"a": [1, 2]}, alt="A line.", initial={"a": 3})


def test_type_error_when_draw_returns_no_figure():
    with pytest.raises(TypeError, match="draw must return a matplotlib Figure"):
        frame_slider(lambda a: None, {"a": [1]}, alt="x")


def test_show_widget_adds_the_frames_for_the_html_book():
    frames = frame_slider(_draw, {"a": [1.0, 2.0]}, alt="A line.")
    out = show_widget(widgets.IntSlider(), _draw(1.0), frames=frames)._repr_mimebundle_()
    assert out[HTML] == frames and WIDGET_VIEW in out and PNG in out
    without = show_widget(widgets.IntSlider(), _draw(1.0))._repr_mimebundle_()
    assert HTML not in without
    with pytest.raises(TypeError, match="frame_slider"):
        show_widget(widgets.IntSlider(), _draw(1.0), frames="<p>not frames</p>")
