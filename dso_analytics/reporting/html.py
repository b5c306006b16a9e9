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
import os
import re
import tempfile
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "dso_report"

_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>)(.*?)(</script>)", re.S | re.I)
_REMOTE = re.compile(r"""\b(?:src|href|action|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
_CSS_REMOTE = re.compile(r"""(?:@import|url\()\s*["']?\s*(?:https?:)?//""", re.I)
#: A marker that appears once per inlined plotly.js bundle.
PLOTLYJS_MARKER = "window.PlotlyConfig = {MathJaxConfig: 'local'};"


def _strip_scripts(text: str) -> str:
    return _SCRIPT_BODY.sub(lambda mt: mt.group(1) + mt.group(3), text)


def check_offline(text: str) -> list[str]:
    """Return problems that would make the HTML fetch something or fail offline.

    Checks: no remote ``src``/``href`` (outside script bodies), no remote CSS
    imports, no ``<script src=...>`` at all, no require.js, no MathJax loader,
    plotly.js inlined at most once.

    Parameters
    ----------
    text : str
        The HTML.

    Returns
    -------
    list of str
        Empty when the file is self-contained.
    """
    problems = []
    markup = _strip_scripts(text)
    if _REMOTE.search(markup):
        problems.append("remote src/href reference")
    if _CSS_REMOTE.search(markup):
        problems.append("remote CSS import")
    if re.search(r"<script\b[^>]*\bsrc\s*=", text, re.I):
        problems.append("external <script src>")
    if re.search(r"require(?:\.min)?\.js", text, re.I):
        problems.append("require.js")
    if re.search(r"mathjax[^\"'\s]*\.js|MathJax\.Hub\.Config\(\{\s*tex2jax", text, re.I):
        problems.append("MathJax loader")
    if count_plotlyjs(text) > 1:
        problems.append("plotly.js inlined more than once")
    return problems


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
    problems = check_offline(body)
    if problems:
        raise RuntimeError(f"HTML report would not work offline: {', '.join(problems)}")
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=".html.tmp", dir=final.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return final
