"""Open a report in Debian's headless Chromium with the network off (tests, screenshots).

``python -m dso_analytics.reporting.browser REPORT.html [--screenshot PNG]``
prints how many charts rendered, any console/page errors, any table wider
than the page, and saves a full-page screenshot.  Needs ``/usr/bin/chromium`` and the ``playwright``
Python package (dev extra); playwright's own browser download is not used.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
)  # fmt: skip


@dataclass
class BrowserCheck:
    """What the browser saw."""

    title: str
    figures: int  # plotly graph divs in the page
    rendered: int  # of those, with a rendered SVG (``.js-plotly-plot .main-svg``)
    errors: list[str] = field(default_factory=list)  # console errors and page errors
    blocked: list[str] = field(default_factory=list)  # non-file requests that were aborted
    injected_scripts: int = 0  # <script> elements whose text sets document.title
    #: what does not fit the page width: ``"page"`` when the page scrolls sideways, and
    #: one entry per table wider than its column (its first header cells)
    overflow: list[str] = field(default_factory=list)


#: Tables wider than the content column they sit in, and a page wider than the window.
_OVERFLOW_JS = """
() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) out.push('page');
  const body = document.body.getBoundingClientRect();
  const right = body.right - parseFloat(getComputedStyle(document.body).paddingRight || '0');
  for (const t of document.querySelectorAll('table')) {
    const box = t.getBoundingClientRect();
    if (box.width > 0 && box.right > right + 1) {
      const heads = Array.from(t.querySelectorAll('th')).slice(0, 3).map(h => h.textContent.trim());
      out.push('table [' + heads.join(' | ') + ']: right edge ' + Math.round(box.right)
               + ' px, content ends at ' + Math.round(right) + ' px');
    }
  }
  return out;
}
"""


def check_in_browser(
    html_path: str | Path, screenshot: str | Path | None = None, width: int = 1280
) -> BrowserCheck:
    """Load ``html_path`` from ``file://`` with every non-file request aborted.

    Parameters
    ----------
    html_path : path
        The report.
    screenshot : path, optional
        Where to save a full-page PNG.
    width : int
        Viewport width in pixels.

    Returns
    -------
    BrowserCheck
    """
    from playwright.sync_api import sync_playwright

    url = Path(html_path).resolve().as_uri()
    profile = tempfile.mkdtemp(prefix="dso-chromium-")
    errors: list[str] = []
    blocked: list[str] = []
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=list(CHROMIUM_ARGS),
                viewport={"width": width, "height": 900},
                offline=True,
            )
            try:

                def _route(route: object) -> None:
                    req = route.request  # type: ignore[attr-defined]
                    if req.url.startswith(("file://", "data:", "blob:", "about:")):
                        route.continue_()  # type: ignore[attr-defined]
                    else:
                        blocked.append(req.url)
                        route.abort()  # type: ignore[attr-defined]

                ctx.route("**/*", _route)
                page = ctx.new_page()
                page.on(
                    "console",
                    lambda msg: (
                        errors.append(f"console: {msg.text}") if msg.type == "error" else None
                    ),
                )
                page.on("pageerror", lambda exc: errors.append(f"page: {exc}"))
                page.goto(url, wait_until="load")
                figures = page.locator(".plotly-graph-div").count()
                if figures:
                    page.wait_for_function(
                        "n => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                        ".filter(d => d.querySelector('.main-svg')).length >= n",
                        arg=figures,
                        timeout=20000,
                    )
                    page.wait_for_timeout(300)
                rendered = page.evaluate(
                    "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                    ".filter(d => d.querySelector('.main-svg')).length"
                )
                injected = page.evaluate(
                    "() => Array.from(document.querySelectorAll('script'))"
                    ".filter(s => s.textContent.includes(\"document.title='x'\")).length"
                )
                title = page.title()
                overflow = list(page.evaluate(_OVERFLOW_JS))
                if screenshot:
                    Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return BrowserCheck(title, figures, int(rendered), errors, blocked, int(injected), overflow)


#: Per figure: what it drew (counted in the page's SVG), and overlapping tick labels.
_MARKS_JS = """
() => {
  const overlaps = (els) => {
    const r = Array.from(els).map(e => e.getBoundingClientRect()).filter(b => b.width > 0);
    let n = 0;
    for (let i = 1; i < r.length; i++) {
      const a = r[i - 1], b = r[i];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) n++;
    }
    return n;
  };
  const sized = (els) => Array.from(els).filter(p => {
    const b = p.getBBox(); return b.width > 0 && b.height > 0; }).length;
  return Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => ({
    title: (d.querySelector('.gtitle') || {textContent: ''}).textContent,
    heatmap_cells: d.querySelectorAll('.heatmaplayer text').length,
    heatmap_images: sized(d.querySelectorAll('.heatmaplayer image')),
    bars: sized(d.querySelectorAll('.barlayer .point path')),
    bar_texts: d.querySelectorAll('.barlayer .bartext').length,
    points: d.querySelectorAll('.scatterlayer .point').length,
    xticks: d.querySelectorAll('.xaxislayer-above .xtick text').length,
    yticks: d.querySelectorAll('.yaxislayer-above .ytick text').length,
    lines: d.querySelectorAll('.shapelayer path').length,
    legend_items: d.querySelectorAll('.legend .traces').length,
    xtick_overlaps: overlaps(d.querySelectorAll('.xaxislayer-above .xtick text')),
    ytick_overlaps: overlaps(d.querySelectorAll('.yaxislayer-above .ytick text')),
  }));
}
"""


def chart_marks(
    html_path: str | Path, screenshot: str | Path | None = None, width: int = 1280
) -> list[dict[str, Any]]:
    """Open ``html_path`` offline and return what every plotly figure drew.

    Parameters
    ----------
    html_path : path
        A page with plotly figures (plotly.js inlined).
    screenshot : path, optional
        Where to save a full-page PNG.
    width : int
        Viewport width in pixels.

    Returns
    -------
    list of dict
        One per figure, in page order: ``title``, ``heatmap_cells`` (cell
        marks), ``heatmap_images``, ``bars`` (bars with a size), ``bar_texts``,
        ``points``, ``xticks``, ``yticks`` (tick labels drawn), ``lines`` (shapes), ``legend_items``, ``xtick_overlaps``,
        ``ytick_overlaps`` (neighbouring tick labels that overlap).
    """
    from playwright.sync_api import sync_playwright

    url = Path(html_path).resolve().as_uri()
    profile = tempfile.mkdtemp(prefix="dso-chromium-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS),
                viewport={"width": width, "height": 900}, offline=True,
            )  # fmt: skip
            try:
                page = ctx.new_page()
                page.goto(url, wait_until="load")
                n = page.locator(".plotly-graph-div").count()
                page.wait_for_function(
                    "n => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                    ".filter(d => d.querySelector('.main-svg')).length >= n",
                    arg=n,
                    timeout=20000,
                )
                page.wait_for_timeout(300)
                marks = page.evaluate(_MARKS_JS)
                if screenshot:
                    page.screenshot(path=str(screenshot), full_page=True)
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return list(marks)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: check a report, optionally save a screenshot."""
    p = argparse.ArgumentParser(prog="python -m dso_analytics.reporting.browser")
    p.add_argument("html")
    p.add_argument("--screenshot", metavar="PNG")
    p.add_argument("--width", type=int, default=1280)
    args = p.parse_args(argv)
    res = check_in_browser(args.html, args.screenshot, args.width)
    print(f"title: {res.title}")
    print(f"charts rendered: {res.rendered} of {res.figures}")
    for e in res.errors:
        print(f"error: {e}")
    for b in res.blocked:
        print(f"blocked: {b}")
    for o in res.overflow:
        print(f"wider than the page: {o}")
    ok = res.rendered == res.figures and not res.errors and not res.blocked and not res.overflow
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
