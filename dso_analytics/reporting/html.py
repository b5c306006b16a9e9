"""Export an executed report notebook to ONE self-contained, offline HTML file.

* No code: inputs and prompts are excluded; ``stderr`` streams are dropped.
* The ``dso_report`` nbconvert template (``templates/dso_report``) derives
  from ``lab`` but drops require.js, MathJax, mermaid and widget scripts, all
  of which would be fetched from a CDN.
* plotly.js is inlined exactly once: report kernels leave it out of the
  executed notebook (:data:`dso_analytics.reporting.notebook.PLOTLYJS_ENV`),
  and :func:`export_html` adds one copy to the page head when the notebook
  has figures but no bundle (a notebook run in JupyterLab carries its own).

:func:`check_offline` verifies the result and is used by the pipeline and the
tests.
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from dso_analytics.atomic import replacing

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "dso_report"

#: Attributes that make a browser fetch what they name.
_URL_ATTRS = frozenset(
    {"src", "href", "action", "data", "srcset", "poster", "formaction", "background",
     "xlink:href", "ping", "manifest", "codebase", "archive", "longdesc", "usemap"}
)  # fmt: skip
_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>)(.*?)(</script>)", re.S | re.I)
_REMOTE_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:)?//", re.I)
_CSS_REMOTE = re.compile(r"""(?:@import|url\()\s*["']?\s*(?:[a-z][a-z0-9+.\-]*:)?//""", re.I)
_REQUIRE_JS = re.compile(r"require(?:\.min)?\.js", re.I)
_MATHJAX = re.compile(r"mathjax[^\"'\s]*\.js|MathJax\.Hub\.Config\(\{\s*tex2jax", re.I)
#: A marker that appears once per inlined plotly.js bundle.
PLOTLYJS_MARKER = "window.PlotlyConfig = {MathJaxConfig: 'local'};"


def _strip_scripts(text: str) -> str:
    return _SCRIPT_BODY.sub(lambda mt: mt.group(1) + mt.group(3), text)


class _OfflineScan(HTMLParser):
    """Walk elements and attributes (never the page's text) for what would go online."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, None] = {}
        self.plotlyjs = 0
        self._in: str | None = None

    def _add(self, problem: str) -> None:
        self.found.setdefault(problem, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            v = value or ""
            if name in _URL_ATTRS and (_REMOTE_URL.search(v) or (name == "srcset" and "//" in v)):
                self._add("remote src/href reference")
            if name == "style" and _CSS_REMOTE.search(v):
                self._add("remote CSS import")
            if tag == "script" and name == "src":
                self._add("external <script src>")
                if _REQUIRE_JS.search(v):
                    self._add("require.js")
                if _MATHJAX.search(v):
                    self._add("MathJax loader")
            if tag == "link" and name == "href" and _REQUIRE_JS.search(v):
                self._add("require.js")
        self._in = tag if tag in ("script", "style") else None

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style" and _CSS_REMOTE.search(data):
            self._add("remote CSS import")
        elif self._in == "script":
            if _REQUIRE_JS.search(data):
                self._add("require.js")
            if _MATHJAX.search(data):
                self._add("MathJax loader")
            self.plotlyjs += data.count(PLOTLYJS_MARKER)


def check_offline(text: str) -> list[str]:
    """Return problems that would make the HTML fetch something or fail offline.

    The page is parsed (:class:`html.parser.HTMLParser`) and only its elements
    and attributes are checked, never its text: an invoice description such as
    ``tracking data=https://...`` is escaped text and cannot fetch anything.
    Checks: no remote URL in a fetching attribute (``src``, ``href``,
    ``action``, ``data``, ``srcset``...), no remote CSS import (``<style>`` or
    ``style=``), no ``<script src=...>`` at all, no require.js, no MathJax
    loader, plotly.js inlined at most once.

    Parameters
    ----------
    text : str
        The HTML.

    Returns
    -------
    list of str
        Empty when the file is self-contained; each problem named once.
    """
    scan = _OfflineScan()
    scan.feed(text)
    scan.close()
    if scan.plotlyjs > 1:
        scan._add("plotly.js inlined more than once")
    return list(scan.found)


def count_plotlyjs(text: str) -> int:
    """Return how many times the plotly.js bundle is inlined in ``text``."""
    return text.count(PLOTLYJS_MARKER)


_PLOTLYJS: list[str] = []


def plotlyjs_head() -> str:
    """Return the ``<script>`` tags that inline plotly.js once (cached per process)."""
    if not _PLOTLYJS:
        from plotly.offline import get_plotlyjs

        _PLOTLYJS.append(
            f'<script type="text/javascript">{PLOTLYJS_MARKER}</script>\n'
            f'<script type="text/javascript">{get_plotlyjs()}</script>'
        )
    return _PLOTLYJS[0]


def _has_figures(nb: Any) -> bool:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "plotly-graph-div" in str(out.get("data", {}).get("text/html", "")):
                return True
    return False


def _clean_notebook(nb: Any) -> Any:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
    return nb


_HEAD_PROBLEMS: dict[str, list[str]] = {}


def _check_page(body: str, head: str | None) -> list[str]:
    """:func:`check_offline` of a page into which we inlined ``head`` (plotly.js).

    The same result as ``check_offline(body)``: the bundle is scanned once per
    process (about 4.5 MB of script, most of a page's scan time) and, in the
    page, stands in as its marker script alone, so a second bundle is still
    counted; a page holding the bundle more than once is scanned whole.
    """
    if not head or body.count(head) != 1:
        return check_offline(body)
    if head not in _HEAD_PROBLEMS:
        _HEAD_PROBLEMS[head] = check_offline(head)
    marker = f'<script type="text/javascript">{PLOTLYJS_MARKER}</script>'
    found = dict.fromkeys(check_offline(body.replace(head, marker)))
    found.update(dict.fromkeys(_HEAD_PROBLEMS[head]))
    return list(found)


_EXPORTER: list[Any] = []


def _exporter() -> Any:
    """The process's one HTML exporter (template loading and setup paid once per process)."""
    if not _EXPORTER:
        from nbconvert import HTMLExporter

        _EXPORTER.append(
            HTMLExporter(
                template_name=TEMPLATE_NAME,
                extra_template_basedirs=[str(TEMPLATES)],
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
                embed_images=True,
            )
        )
    return _EXPORTER[0]


def warm_exporter() -> None:
    """Set the process's exporter up and render a one-cell notebook with it, and scan the
    plotly.js bundle (a worker does it while the parent validates: the first export then
    pays none of nbconvert's template loading)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("warm-up"))
    _exporter().from_notebook_node(nb, resources={"metadata": {"name": "warm-up"}})
    head = plotlyjs_head()
    _HEAD_PROBLEMS.setdefault(head, check_offline(head))


def export_html(nb: Any, path: str | Path, *, title: str | None = None) -> Path:
    """Write an executed notebook as one self-contained HTML report.

    Parameters
    ----------
    nb : NotebookNode or str or Path
        The executed notebook (or its path).
    path : str or Path
        Target ``.html``; written to a temporary name and renamed into place.
    title : str, optional
        The page title (escaped by the template).

    Returns
    -------
    Path

    Raises
    ------
    RuntimeError
        When the result would not work offline (see :func:`check_offline`).
    """
    import nbformat

    if isinstance(nb, str | Path):
        nb = nbformat.read(str(nb), as_version=4)
    nb = _clean_notebook(nb)
    if title:
        nb.metadata["title"] = title
    resources: dict[str, Any] = {"metadata": {"name": title or "report"}}
    if _has_figures(nb) and count_plotlyjs(json.dumps(nb)) == 0:
        resources["plotlyjs_head"] = plotlyjs_head()
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    problems = _check_page(body, resources.get("plotlyjs_head"))
    if problems:
        raise RuntimeError(f"HTML report would not work offline: {', '.join(problems)}")
    final = Path(path)
    with replacing(final) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return final
