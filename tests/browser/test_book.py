"""The built book in a real browser: every page, as a reader without internet sees it.

Run by ``make browser`` (and ``make test``, after ``make book``). Every page of
``_build/html`` (the documents listed in its search index, so whatever the
table of contents holds) is loaded in headless Chromium at laptop width and at
phone width (390 px), with every request to another host aborted, and must:

* load with no page error, no console error outside the allow-list below and
  no failed request on the site;
* ask another host for nothing but the allow-listed;
* have all its maths typeset by the book's own MathJax, with no TeX error and
  no raw TeX left in the text;
* load every image; give every image alt text and every figure a caption;
* keep every solution hidden until its button is clicked, then show it;
* play every animation (the frame changes) with its buttons' icons drawn;
* show no live widget (a page has no kernel), and instead sliders over
  pre-rendered frames that change the image and say where the live widget runs;
* print (the page's download-as-PDF) stills, not players;
* fit display maths in the column at laptop width, and show that wide maths
  scrolls on a phone; keep code in exercises and solutions from scrolling;
* use each element id once; name every control; quote numbers in plain text;
* link only to files and anchors that exist;
* fit the phone's width (no sideways scrolling of the page);
* have one title, the same in the tab and in the sidebar; show the logo and
  name the favicon;
* on notebook pages, offer the .ipynb download and the Binder and Colab launch
  buttons (JupyterHub only when a hub is configured) for the repository set in
  ``_config.yml``.

Previous/next links must chain every page in the order of the sidebar, and the
search page must find words of the book and quote them without raw TeX. A screenshot of each page at each
width goes to ``_build/screenshots/``.
"""
from __future__ import annotations

import struct
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from visit import HTML, ROOT, SHOTS, VIEWPORTS, Visit, book_pages, raw_tex, shot_name

PAGES = book_pages()
NOTEBOOK_PAGES = [p for p in PAGES if (HTML / "_sources" / p).with_suffix(".ipynb").is_file()]

# No page may ask another host for anything: not the animation player's icon
# font (bptt.plots.display strips matplotlib's CDN link; the theme's own Font
# Awesome draws the icons), not Thebe (chapters/_ext/book_html.py).
ALLOWED_EXTERNAL: set = set()

# Console errors that are not the book's fault and break nothing, as
# (start of the message, start of the address of the script or resource).
ALLOWED_CONSOLE_ERRORS: list = []
# Uncaught exceptions likewise, by the start of their message.
ALLOWED_PAGE_ERRORS: list = []


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _site_path(url: str) -> str:
    """``http://127.0.0.1:port/chapters/x.html#a`` -> ``chapters/x.html``."""
    path = unquote(urlsplit(url).path).lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


_ID_CACHE: dict[Path, set[str]] = {}


def _ids(path: Path) -> set[str]:
    if path not in _ID_CACHE:
        parser = _Ids()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        _ID_CACHE[path] = parser.ids
    return _ID_CACHE[path]


def _unexpected_errors(v) -> tuple[list, list]:
    """A visit's uncaught errors and console errors that are not allow-listed."""
    console = [(text, src) for text, src in v.console_errors
               if not any(text.startswith(t) and src.startswith(s) for t, s in ALLOWED_CONSOLE_ERRORS)]
    exceptions = [e for e in v.page_errors if not any(e.startswith(a) for a in ALLOWED_PAGE_ERRORS)]
    return exceptions, console


def _both(visitor, page):
    return [visitor.visit(page, v) for v in VIEWPORTS]


def test_the_book_is_built():
    assert PAGES, f"no pages in {HTML}/searchindex.js: run 'make book' first"
    assert "chapters/intro.html" in PAGES


@pytest.mark.parametrize("page", PAGES)
def test_loads_without_errors(visitor, page):
    for v in _both(visitor, page):
        exceptions, console = _unexpected_errors(v)
        assert not exceptions, f"{page} ({v.viewport}): uncaught errors: {exceptions}"
        assert not console, f"{page} ({v.viewport}): console errors: {console}"
        assert not v.bad_responses, f"{page} ({v.viewport}): failed requests: {v.bad_responses}"


@pytest.mark.parametrize("page", PAGES)
def test_needs_no_other_host(visitor, page):
    for v in _both(visitor, page):
        unexpected = sorted(set(v.external_requests) - ALLOWED_EXTERNAL)
        assert not unexpected, f"{page} ({v.viewport}) asked other hosts for {unexpected}"


@pytest.mark.parametrize("page", PAGES)
def test_maths_typeset(visitor, page):
    v = visitor.visit(page)
    probe = v.probe
    assert v.maths_ready, f"{page}: MathJax never started (is it served from the book?)"
    assert probe["maths_typeset"] == probe["maths"], (
        f"{page}: {probe['maths'] - probe['maths_typeset']} of {probe['maths']} maths "
        "elements were not typeset")
    assert probe["math_errors"] == 0, f"{page}: {probe['math_errors']} TeX errors shown by MathJax"
    leftover = raw_tex(probe["texts"])
    assert not leftover, f"{page}: raw TeX left in the text: {leftover[:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_images_load(visitor, page):
    imgs = visitor.visit(page).probe["imgs"]
    assert imgs, f"{page}: no image at all (not even the logo)"
    broken = [f'{i["where"]}: {i["src"]}' for i in imgs if not i["loaded"]]
    assert not broken, f"{page}: images that did not load: {broken}"


@pytest.mark.parametrize("page", PAGES)
def test_figures_have_captions_and_alt_text(visitor, page):
    """Images, animations and widgets of the text sit in captioned figures; images have alt text.

    Images drawn inside a widget (its live plot) are the widget's: the widget's
    figure carries the caption, and the alt text cannot be set on them.
    """
    probe = visitor.visit(page).probe
    problems = [f'image without alt text ({i["where"]}: {i["src"]}...)'
                for i in probe["imgs"] if not i["alt"] and not i["in_widget"]]
    problems += [f'image outside a captioned figure ({i["where"]}: {i["src"]}...)'
                 for i in probe["imgs"] if i["in_article"] and not i["in_widget"] and not i["caption"]]
    problems += [f'figure without caption (#{f["id"]})' for f in probe["figures"] if not f["caption"]]
    problems += [f"animation {k} outside a captioned figure"
                 for k, caption in enumerate(probe["animations"]) if caption is None]
    problems += [f'widget {w["model_id"]} outside a captioned figure'
                 for w in probe["widgets"] if not w["caption"]]
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_one_title_named_alike_everywhere(visitor, page):
    """One <h1>; the browser tab and the sidebar (seen from the landing page) give the same title."""
    probe = visitor.visit(page).probe
    assert len(probe["h1s"]) == 1, f"{page}: {len(probe['h1s'])} titles: {probe['h1s']}"
    title = probe["h1s"][0]
    assert probe["title"].startswith(title), f"{page}: tab title {probe['title']!r} vs {title!r}"
    if page != "chapters/intro.html":   # the landing page is "#" in its own sidebar
        sidebar = dict((_site_path(h), t) for h, t in visitor.visit("chapters/intro.html").probe["sidebar_titles"])
        assert sidebar.get(page) == title, f"{page}: sidebar says {sidebar.get(page)!r}, page {title!r}"


@pytest.mark.parametrize("page", PAGES)
def test_logo_and_favicon(visitor, page):
    probe = visitor.visit(page).probe
    assert probe["logo"], f"{page}: no logo"
    assert probe["logo"]["loaded"] and probe["logo"]["alt"], f"{page}: logo {probe['logo']}"
    assert _site_path(probe["logo"]["src"]).endswith("logo.svg"), probe["logo"]["src"]
    assert probe["favicon"], f"{page}: no favicon link"
    icon = HTML / _site_path(probe["favicon"])
    assert icon.is_file() and icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{page}: favicon {icon}"


@pytest.mark.parametrize("page", PAGES)
def test_solutions_hidden_until_clicked(visitor, page):
    for s in visitor.visit(page).solutions:
        assert s["n_buttons"] == len(visitor.visit(page).solutions), f"{page}: a solution has no button"
        assert "dropdown" in s["classes"], f"{page}: solution {s['id']} is not a dropdown"
        assert s["n_children"] > 0, f"{page}: solution {s['id']} is empty"
        assert s["hidden_before"], f"{page}: solution {s['id']} is shown before any click"
        assert s["shown_after"], f"{page}: solution {s['id']} stays hidden after a click"


@pytest.mark.parametrize("page", PAGES)
def test_animations_play(visitor, page):
    for a in visitor.visit(page).animations:
        assert a["frame_changed"], f"{page}: animation {a['index']} shows the same frame after 'play'"
        assert a["n_buttons"] >= 7, f"{page}: animation {a['index']} has {a['n_buttons']} buttons"
        assert all(w > 0 for w in a["icon_widths"]), (
            f"{page}: animation {a['index']} has buttons without an icon: {a['icon_widths']}")


@pytest.mark.parametrize("page", PAGES)
def test_no_live_widget_that_cannot_work(visitor, page):
    """A page has no kernel: a live widget's slider would move and change nothing.

    Every widget of a chapter comes with pre-rendered frames (show_widget's
    ``frames``), which the HTML shows instead of the widget.
    """
    widgets = visitor.visit(page).probe["widgets"]
    assert not widgets, (f"{page}: {len(widgets)} live widget(s) in a page with no kernel: "
                         "give show_widget(..., frames=frame_slider(...))")


@pytest.mark.parametrize("page", PAGES)
def test_frame_sliders_work_and_say_where_the_live_widget_is(visitor, page):
    v = visitor.visit(page)
    for k, f in enumerate(v.probe["frame_sliders"]):
        assert f["caption"], f"{page}: frame slider {k} is not in a captioned figure"
        assert f["alt"], f"{page}: frame slider {k}'s image has no alt text"
        assert f["n_inputs"] >= 1, f"{page}: frame slider {k} has no slider"
        assert "make lab" in f["note"], f"{page}: frame slider {k} does not say where the live widget runs"
    for s in v.sliders:
        assert s["frame_changed"], f"{page}: moving slider {s['index']} did not change the image"
        assert s["label_changed"], f"{page}: slider {s['index']} does not show its new value"


@pytest.mark.parametrize("page", PAGES)
def test_print_shows_stills_not_players(visitor, page):
    view = visitor.visit(page).print_view
    assert view["controls_shown"] == 0, f"{page}: print shows {view['controls_shown']} player controls"
    assert view["stills_shown"] == view["stills"], (
        f"{page}: print hides {view['stills'] - view['stills_shown']} of the animations' images")


@pytest.mark.parametrize("page", PAGES)
def test_display_maths_fits_the_column_on_a_laptop(visitor, page):
    wide = visitor.visit(page).probe["wide_maths"]
    assert not wide, f"{page}: display maths wider than the column at 1280 px: {wide}"


@pytest.mark.parametrize("page", PAGES)
def test_maths_that_scrolls_on_a_phone_shows_it(visitor, page):
    for m in visitor.visit(page, "phone").scrolling_maths:
        assert m["overflow_x"] in ("auto", "scroll"), f"{page}: wide maths is clipped on a phone: {m}"
        assert m["cue"], f"{page}: wide maths scrolls on a phone with no cue: {m['text']}"


@pytest.mark.parametrize("page", PAGES)
def test_code_in_exercises_and_solutions_fits(visitor, page):
    wide = visitor.visit(page).probe["wide_code"]
    assert not wide, f"{page}: code in exercises or solutions scrolls sideways at 1280 px: {wide}"


@pytest.mark.parametrize("page", PAGES)
def test_element_ids_are_unique(visitor, page):
    dups = visitor.visit(page).probe["duplicate_ids"]
    assert not dups, f"{page}: element ids used more than once: {dups}"


@pytest.mark.parametrize("page", PAGES)
def test_controls_have_accessible_names(visitor, page):
    unnamed = visitor.visit(page).probe["unnamed_controls"]
    assert not unnamed, f"{page}: controls a screen reader cannot name: {unnamed}"


@pytest.mark.parametrize("page", PAGES)
def test_quoted_numbers_are_not_bold(visitor, page):
    bold = visitor.visit(page).probe["bold_quotes"]
    assert not bold, f"{page}: numbers quoted from code shown in bold: {bold[:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(visitor, page):
    links = set(visitor.visit(page).probe["links"])
    assert links, f"{page}: no link at all"
    broken = []
    for url in sorted(links):
        target = HTML / _site_path(url)
        fragment = unquote(urlsplit(url).fragment)
        if not target.is_file():
            broken.append(f"{url} (no file)")
        elif fragment and target.suffix == ".html" and fragment not in _ids(target):
            broken.append(f"{url} (no anchor #{fragment})")
    assert not broken, f"{page}: broken internal links: {broken}"


@pytest.mark.parametrize("page", PAGES)
def test_fits_a_phone(visitor, page):
    v = visitor.visit(page, "phone")
    assert v.overflow_px <= 1, f"{page}: the page scrolls sideways by {v.overflow_px} px at 390 px"


@pytest.mark.parametrize("page", PAGES)
def test_screenshots(visitor, page):
    for viewport, spec in VIEWPORTS.items():
        visitor.visit(page, viewport)
        shot = SHOTS / shot_name(page, viewport)
        head = shot.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{shot} is not a PNG"
        width, height = struct.unpack(">II", head[16:24])
        assert width == spec["viewport"]["width"], f"{shot}: {width} px wide"
        assert height >= spec["viewport"]["height"], f"{shot}: only {height} px high"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_notebook_pages_offer_download_and_launch(visitor, page):
    cfg = _config()
    repo = urlsplit(cfg["repository"]["url"]).path.strip("/")        # owner/name
    nb_path = page.removesuffix(".html") + ".ipynb"
    links = visitor.visit(page).probe["launch"]
    hrefs = [link["href"] for link in links]
    assert any(_site_path(h) == f"_sources/{nb_path}" for h in hrefs), (
        f"{page}: no .ipynb download link in {hrefs}")
    buttons = cfg["launch_buttons"]
    hosts = {"Binder": buttons["binderhub_url"], "Colab": buttons["colab_url"]}
    if buttons.get("jupyterhub_url"):
        hosts["JupyterHub"] = buttons["jupyterhub_url"]
    else:   # no hub configured: no button that cannot work
        assert not [link for link in links if "JupyterHub" in link["text"]], (
            f"{page}: a JupyterHub button, but _config.yml names no hub")
    for name, host in hosts.items():
        assert host, f"_config.yml sets no launch_buttons URL for {name}"
        matching = [h for h in hrefs if h.startswith(host) and nb_path in unquote(h)
                    and repo in unquote(h)]
        assert matching, f"{page}: no {name} button for {repo} {nb_path} among {hrefs}"


def test_previous_next_chain_every_page_in_sidebar_order(visitor):
    root = visitor.visit("chapters/intro.html").probe
    order = [_site_path(u) for u in root["sidebar"]]
    # The first entry of the sidebar is the landing page itself ("#").
    assert order and order[0] == "chapters/intro.html", order
    assert sorted(order) == sorted(PAGES), "the sidebar and the built pages differ"
    for i, page in enumerate(order):
        probe = visitor.visit(page).probe
        prev = _site_path(probe["prev"]) if probe["prev"] else None
        nxt = _site_path(probe["next"]) if probe["next"] else None
        assert prev == (order[i - 1] if i > 0 else None), f"{page}: 'previous' is {prev}"
        assert nxt == (order[i + 1] if i + 1 < len(order) else None), f"{page}: 'next' is {nxt}"


def test_previous_next_buttons_navigate(visitor):
    record = visitor.visit("chapters/intro.html")
    _, page = visitor.new_page("laptop", Visit("navigation", "laptop"))
    try:
        second = _site_path(record.probe["next"])
        page.goto(record.url)
        page.locator(".prev-next-area a.right-next").click()
        page.wait_for_url(f"{visitor.base_url}/{second}")
        assert page.locator("article h1").first.is_visible()
        page.locator(".prev-next-area a.left-prev").click()
        page.wait_for_url(record.url)
        assert _site_path(page.url) == "chapters/intro.html"
    finally:
        page.context.close()


@pytest.mark.parametrize("word", ["backpropagation", "gradient"])
def test_search_finds_pages(visitor, word):
    record = Visit("search.html", "laptop")
    _, page = visitor.new_page("laptop", record)
    try:
        # As a reader does it: open the search box, type, press Enter.
        page.goto(f"{visitor.base_url}/chapters/intro.html")
        page.keyboard.press("Control+k")
        box = page.locator("input[name='q']:visible").first
        box.fill(word)
        box.press("Enter")
        page.wait_for_url("**/search.html?q=*")
        page.locator("#search-results ul.search li a").first.wait_for(timeout=15_000)
        found = {_site_path(h) for h in page.eval_on_selector_all(
            "#search-results ul.search li a", "links => links.map(a => a.href)")}
        assert found & set(PAGES), f"search for {word!r} found no page: {found}"
        # Each result quotes the page around the word: as text, not TeX.
        page.locator("#search-results p.context").first.wait_for(timeout=15_000)
        snippets = page.eval_on_selector_all("#search-results p.context",
                                             "ps => ps.map(p => p.textContent)")
        leftover = raw_tex(snippets) + [s for s in snippets if "\\" in s]
        assert not leftover, f"search snippets for {word!r} show raw TeX: {leftover[:3]}"
        assert _unexpected_errors(record) == ([], []), _unexpected_errors(record)
        assert not record.bad_responses and not set(record.external_requests) - ALLOWED_EXTERNAL
    finally:
        page.context.close()
