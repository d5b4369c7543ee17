"""Visit a page of the built book in Chromium and record what a reader would meet.

A :class:`Visitor` loads each page once per viewport and keeps a
:class:`Visit`: errors, requests to other hosts, maths, images, links,
solutions, animations and widgets, each probed the way a reader would (the
solutions and the animations are clicked). The tests in ``test_book.py``
assert on these records, so that the slow part, loading a page, happens once.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The built book; BOOK_HTML points the tests at another build of it.
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
SHOTS = ROOT / "_build" / "screenshots"

VIEWPORTS = {
    "laptop": dict(viewport={"width": 1280, "height": 800}),
    "phone": dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True),
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def book_pages() -> list[str]:
    """Every page of the built book (its documents, from the search index), as ``.html`` paths."""
    index = HTML / "searchindex.js"
    if not index.is_file():
        return []
    text = index.read_text(encoding="utf-8")
    data = json.loads(text[text.index("(") + 1:text.rindex(")")])
    return [f"{doc}.html" for doc in data["docnames"]]


def shot_name(page: str, viewport: str) -> str:
    """``chapters/03-backward.html`` -> ``03-backward-laptop.png``."""
    stem = page.removesuffix(".html").removeprefix("chapters/").replace("/", "-")
    return f"{stem}-{viewport}.png"


@dataclass
class Visit:
    page: str
    viewport: str
    url: str = ""
    console_errors: list = field(default_factory=list)     # (text, url of the source)
    page_errors: list = field(default_factory=list)        # uncaught exceptions
    bad_responses: list = field(default_factory=list)      # (status, url) on this site
    external_requests: list = field(default_factory=list)  # aborted: to another host
    probe: dict = field(default_factory=dict)              # what the page's DOM showed
    solutions: list = field(default_factory=list)
    animations: list = field(default_factory=list)
    overflow_px: int = 0
    maths_ready: bool = False
    scrolling_maths: list = field(default_factory=list)    # phone: wide maths and their cue
    sliders: list = field(default_factory=list)            # frame sliders moved
    print_view: dict = field(default_factory=dict)         # what print (PDF) shows


# Everything that is read from the page's DOM in one go, after MathJax and
# the widgets have finished. Text inside code, typeset maths and scripts is
# left out of the raw-TeX scan.
_PROBE_JS = r"""
() => {
  const article = document.querySelector("article") || document.body;
  const skip = "pre, code, script, style, textarea, mjx-container, .highlight, .jupyter-widgets";
  const texts = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && !node.parentElement.closest(skip) && node.textContent.trim()) {
      texts.push(node.textContent);
    }
  }
  const maths = Array.from(document.querySelectorAll(".math"));
  const imgs = Array.from(document.querySelectorAll("img")).map((img) => {
    const fig = img.closest("figure");
    const section = img.closest("section[id]");
    return {
      src: (img.getAttribute("src") || "").slice(0, 40),
      where: (img.closest(".animation") ? "animation player in " : "") + "#" + (section ? section.id : "?"),
      loaded: img.complete && img.naturalWidth > 0,
      alt: (img.getAttribute("alt") || "").trim(),
      in_article: article.contains(img),
      in_widget: !!img.closest(".jupyter-widgets"),
      caption: fig && fig.querySelector("figcaption") ? fig.querySelector("figcaption").textContent.trim() : null,
    };
  });
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const widgets = views.map((script) => {
    const area = script.previousElementSibling;
    const root = area && area.classList.contains("widget-subarea") ? area.querySelector(".jupyter-widgets") : null;
    const box = root ? root.getBoundingClientRect() : null;
    const fig = script.closest("figure");
    return {
      model_id: JSON.parse(script.textContent).model_id,
      rendered: !!root,
      width: box ? box.width : 0,
      height: box ? box.height : 0,
      controls: root ? root.querySelectorAll(".widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-checkbox, .widget-button, .widget-text, .widget-radio").length : 0,
      caption: fig && fig.querySelector("figcaption") ? fig.querySelector("figcaption").textContent.trim() : null,
    };
  });
  const figures = Array.from(article.querySelectorAll("figure")).map((fig) => ({
    id: fig.id || "",
    caption: fig.querySelector("figcaption") ? fig.querySelector("figcaption").textContent.trim() : "",
  }));
  const animations = Array.from(article.querySelectorAll(".animation")).map((a) => {
    const fig = a.closest("figure");
    return fig && fig.querySelector("figcaption") ? fig.querySelector("figcaption").textContent.trim() : null;
  });
  // Display maths wider than its column (cut off, or scrolling, on a laptop).
  const wide_maths = Array.from(article.querySelectorAll("div.math"))
    .filter((m) => m.scrollWidth > m.clientWidth + 1)
    .map((m) => `${m.scrollWidth - m.clientWidth} px: ${m.textContent.trim().slice(0, 70)}`);
  // Code in exercises and solutions that scrolls sideways.
  const wide_code = Array.from(article.querySelectorAll(".exercise pre, .solution pre"))
    .filter((p) => p.scrollWidth > p.clientWidth + 1)
    .map((p) => `${p.scrollWidth - p.clientWidth} px: ${p.textContent.trim().slice(0, 60)}`);
  const seen_ids = {};
  document.querySelectorAll("[id]").forEach((el) => { seen_ids[el.id] = (seen_ids[el.id] || 0) + 1; });
  const duplicate_ids = Object.keys(seen_ids).filter((id) => seen_ids[id] > 1);
  // Controls a screen reader cannot name: inputs, buttons, things acting as buttons.
  const nameOf = (el) => {
    const by = el.getAttribute("aria-labelledby");
    const labelled = by ? by.split(/\s+/).map((i) => (document.getElementById(i) || {}).textContent || "").join(" ") : "";
    return (el.getAttribute("aria-label") || labelled || (el.labels && el.labels.length ? el.labels[0].textContent : "")
            || el.getAttribute("title") || (el.tagName === "INPUT" ? "" : el.textContent) || "").trim();
  };
  const unnamed_controls = Array.from(article.querySelectorAll(
      "input:not([type=hidden]), button, select, textarea, [role=button], [role=slider]"))
    .filter((el) => !nameOf(el))
    .map((el) => el.outerHTML.slice(0, 120));
  // Numbers the code quotes in the text ({eval}) look like the text around
  // them: no bolder than their parent (a table header may be bold, a number
  // in a sentence may not).
  const weight = (el) => Number(getComputedStyle(el).fontWeight);
  const bold_quotes = Array.from(article.querySelectorAll("span.output.text_plain"))
    .filter((el) => !el.closest(".cell_output") && weight(el) > weight(el.parentElement))
    .map((el) => el.textContent);
  const frame_sliders = Array.from(article.querySelectorAll(".bptt-frames")).map((f) => {
    const fig = f.closest("figure");
    const img = f.querySelector("img.bptt-frame");
    return {
      caption: fig && fig.querySelector("figcaption") ? fig.querySelector("figcaption").textContent.trim() : null,
      alt: img ? (img.getAttribute("alt") || "").trim() : "",
      n_inputs: f.querySelectorAll("input.bptt-slider").length,
      note: (f.querySelector(".bptt-live-note") || {}).textContent || "",
    };
  });
  const here = location.origin;
  const links = Array.from(document.querySelectorAll("a[href]"))
    .map((a) => a.href)
    .filter((h) => h.startsWith(here + "/"));
  const href = (sel) => { const a = document.querySelector(sel); return a ? a.href : null; };
  const launch = Array.from(document.querySelectorAll(".dropdown-launch-buttons a, .dropdown-download-buttons a"))
    .map((a) => ({ text: a.textContent.trim(), href: a.href }));
  const icon = document.querySelector('link[rel~="icon"]');
  const logo = document.querySelector("img.logo__image");
  return {
    title: document.title,
    favicon: icon ? icon.href : null,
    logo: logo ? { src: logo.src, loaded: logo.complete && logo.naturalWidth > 0, alt: logo.alt } : null,
    texts,
    maths: maths.length,
    maths_typeset: maths.filter((m) => m.querySelector("mjx-container")).length,
    math_errors: document.querySelectorAll("mjx-merror").length,
    imgs, widgets, figures, animations, links, launch,
    wide_maths, wide_code, duplicate_ids, unnamed_controls, bold_quotes, frame_sliders,
    prev: href(".prev-next-area a.left-prev"),
    next: href(".prev-next-area a.right-next"),
    sidebar: Array.from(document.querySelectorAll("nav.bd-docs-nav a.reference.internal")).map((a) => a.href),
    sidebar_titles: Array.from(document.querySelectorAll("nav.bd-docs-nav a.reference.internal"))
      .map((a) => [a.href, a.textContent.trim()]),
    h1s: Array.from(article.querySelectorAll("h1")).map((h) => h.textContent.replace(/#$/, "").trim()),
  };
}
"""


class Visitor:
    """Loads pages in fresh browser contexts, once per (page, viewport), and caches the visits."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self._visits: dict[tuple[str, str], Visit] = {}

    def visit(self, page: str, viewport: str = "laptop") -> Visit:
        if (page, viewport) not in self._visits:
            try:
                for v in self._visit_both(page):
                    self._visits[(page, v.viewport)] = v
            except Exception as exc:   # one failure, reported by every test of the page
                for v in VIEWPORTS:
                    self._visits[(page, v)] = exc
        found = self._visits[(page, viewport)]
        if isinstance(found, Exception):
            raise RuntimeError(f"visiting {page} failed: {found}") from found
        return found

    def new_page(self, viewport: str, record: Visit):
        """A page in a fresh context: requests to other hosts aborted, errors recorded."""
        context = self.browser.new_context(**VIEWPORTS[viewport])
        context.set_default_timeout(20_000)
        local = self.base_url + "/"

        def route(r):
            if r.request.url.startswith(local):
                r.continue_()
            else:
                record.external_requests.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and record.console_errors.append(
            (m.text, m.location.get("url", ""))))
        page.on("pageerror", lambda e: record.page_errors.append(str(e)))
        page.on("response", lambda r: r.status >= 400 and record.bad_responses.append(
            (r.status, r.url)))
        return context, page

    def _visit_both(self, path: str) -> list[Visit]:
        """Load the page at both widths at once (each renderer gets a core), probe the laptop one."""
        url = f"{self.base_url}/{path}"
        laptop, phone = Visit(path, "laptop", url=url), Visit(path, "phone", url=url)
        opened = [self.new_page("laptop", laptop), self.new_page("phone", phone)]
        (_, lpage), (_, ppage) = opened
        try:
            # The phone page goes on loading (and MathJax typesetting) while
            # the laptop page is probed.
            ppage.goto(url, wait_until="commit")
            lpage.goto(url, wait_until="load")
            _settle(lpage, laptop)
            laptop.probe = lpage.evaluate(_PROBE_JS)
            laptop.solutions = _click_solutions(lpage)
            laptop.animations = _play_animations(lpage)
            laptop.sliders = _move_sliders(lpage)
            laptop.print_view = _print_view(lpage)
            ppage.wait_for_load_state("load")
            _settle(ppage, phone)
            phone.scrolling_maths = ppage.evaluate(_SCROLLING_MATHS_JS)
        finally:
            for context, _ in opened:
                context.close()
        return [laptop, phone]


def _settle(page, record: Visit) -> None:
    """Wait for maths and widgets, measure the overflow, take the screenshot (before any click)."""
    record.maths_ready = _wait_for_maths(page)
    _wait_for_widgets(page)
    record.overflow_px = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(SHOTS / shot_name(record.page, record.viewport)), full_page=True)


def _wait_for_maths(page) -> bool:
    """Wait until MathJax has typeset the page; False if it never started.

    Pages without maths do not load MathJax. The maths test reports a page
    whose MathJax did not start (say, because it came from a CDN).
    """
    try:
        page.wait_for_function(
            "() => !document.querySelector('.math') || (window.MathJax && MathJax.startup"
            " && MathJax.startup.promise)", timeout=10_000)
    except Exception:
        return False
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => 1) : 0")
    return True


def _wait_for_widgets(page) -> None:
    """Wait until every widget view has been rendered in its place (or time out, and let the test say)."""
    n_views = page.locator(f'script[type="{WIDGET_VIEW}"]').count()
    if n_views:
        try:
            page.wait_for_function(
                "n => document.querySelectorAll('.widget-subarea .jupyter-widgets').length >= n",
                arg=n_views, timeout=15_000)
        except Exception:   # the widgets test reports which ones are missing
            pass


_SOLUTIONS_SHOWN_JS = """
() => Array.from(document.querySelectorAll(".solution")).map((sol) => ({
  id: sol.id, classes: sol.className,
  n_children: sol.querySelectorAll(":scope > :not(.admonition-title)").length,
  shown: Array.from(sol.querySelectorAll(":scope > :not(.admonition-title)"))
    .some((el) => el.checkVisibility() && el.getBoundingClientRect().height > 0),
}))
"""


def _click_solutions(page) -> list[dict]:
    """Each solution's content: shown before a click on its button? After it?"""
    before = page.evaluate(_SOLUTIONS_SHOWN_JS)
    buttons = page.locator(".solution > .admonition-title .toggle-button")
    # The chevron button, as a reader clicks it (sphinx-togglebutton's handler on
    # the title throws when the click lands on the link inside the title).
    for i in range(buttons.count()):
        buttons.nth(i).click()
    after = page.evaluate(_SOLUTIONS_SHOWN_JS)
    return [dict(id=b["id"], classes=b["classes"], n_children=b["n_children"],
                 n_buttons=buttons.count(), hidden_before=not b["shown"], shown_after=a["shown"])
            for b, a in zip(before, after)]


def _play_animations(page) -> list[dict]:
    """Press each animation player's play button: does the frame change? Are the icons drawn?"""
    out = []
    players = page.locator("div.animation")
    for i in range(players.count()):
        player = players.nth(i)
        player.scroll_into_view_if_needed()
        img = player.locator("img").first
        before = img.get_attribute("src") or ""
        buttons = player.locator("button")
        # Font Awesome turns each <i class="fa ..."> into an inline SVG icon.
        icons = page.evaluate(
            "el => Array.from(el.querySelectorAll('button')).map(b => {"
            " const s = b.querySelector('svg'); return s ? s.getBoundingClientRect().width : 0; })",
            player.element_handle())
        player.locator('button[onclick$="play_animation()"]').first.click()
        changed = True
        try:
            page.wait_for_function("([el, src]) => el.getAttribute('src') !== src",
                                   arg=[img.element_handle(), before], timeout=5_000)
        except Exception:
            changed = False
        after = img.get_attribute("src") or ""
        pause = player.locator('button[onclick$="pause_animation()"]')
        if pause.count():
            pause.first.click()
        out.append(dict(index=i, frame_changed=changed and after != before, n_buttons=buttons.count(),
                        icon_widths=icons))
    return out


# On a phone, display maths that is wider than the screen scrolls inside its
# box; the box must show that it does (book.css draws shadows at its edges).
_SCROLLING_MATHS_JS = """
() => Array.from(document.querySelectorAll("article div.math"))
  .filter((m) => m.scrollWidth > m.clientWidth + 1)
  .map((m) => ({text: m.textContent.trim().slice(0, 60),
                overflow_x: getComputedStyle(m).overflowX,
                cue: getComputedStyle(m).backgroundImage.includes("gradient")}))
"""


def _move_sliders(page) -> list[dict]:
    """Move each frame slider to its other end: does the image change, and its value label?"""
    out = []
    sliders = page.locator(".bptt-frames input.bptt-slider")
    for i in range(sliders.count()):
        slider = sliders.nth(i)
        slider.scroll_into_view_if_needed()
        img = slider.locator("xpath=ancestor::div[contains(@class, 'bptt-frames')]//img").first
        label = slider.locator("xpath=following-sibling::output").first
        before, label_before = img.get_attribute("src"), label.text_content()
        end = slider.get_attribute("max") if slider.input_value() != slider.get_attribute("max") else "0"
        slider.fill(end)            # a range input: sets the value and fires "input"
        out.append(dict(index=i, frame_changed=img.get_attribute("src") != before,
                        label_changed=label.text_content() != label_before,
                        label=label.text_content()))
    return out


_PRINT_JS = """
() => {
  const shown = (el) => el.checkVisibility() && el.getBoundingClientRect().width > 0;
  const controls = Array.from(document.querySelectorAll(
      ".anim-buttons, .anim-state, .anim-slider, .bptt-controls, .bptt-live-note, .jupyter-widgets"));
  const stills = Array.from(document.querySelectorAll(".animation img, .bptt-frames img"));
  return {controls_shown: controls.filter(shown).length, stills: stills.length,
          stills_shown: stills.filter(shown).length};
}
"""


def _print_view(page) -> dict:
    """What the page shows when printed: stills, no players or sliders."""
    page.emulate_media(media="print")
    try:
        return page.evaluate(_PRINT_JS)
    finally:
        page.emulate_media(media="screen")


_TEX = re.compile(r"\\[A-Za-z]{2,}|\\[()\[\]]|\$\$|(?<![\w$])\$[^$\s][^$]*?\$(?![\w$])")


def raw_tex(texts: list[str]) -> list[str]:
    """Pieces of text that look like TeX MathJax did not typeset."""
    found = []
    for text in texts:
        for m in _TEX.finditer(text):
            found.append(text[max(0, m.start() - 30):m.end() + 30].strip())
    return found
