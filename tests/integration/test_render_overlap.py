"""stages.render writes the workbook and the brief while the kernel runs the notebook:
the outputs are the same set, and a failure still names its stage in the order
notebook, html, workbook, brief, with nothing of the failed run published.

The kernel is replaced by a stub that writes a one-cell notebook (this is about the
orchestration around it; tests/e2e/test_pipeline.py runs real kernels)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nbformat
import pytest

from dso_analytics import stages
from dso_analytics.reporting import brief, excel
from dso_analytics.standards import Params
from tests.support.report_factory import make_metrics

#: the DSO report without the calendar and letters (they need the deadlines that
#: tests/support/report_factory.py does not build; they run on the render's own thread)
TEMPLATE = dataclasses.replace(stages.DSO_REPORT, calendar=False, letters=False)


def _prepared(tmp_path: Path) -> stages.Prepared:
    return stages.Prepared(
        dso="test-dso",
        dso_dir=tmp_path / "test-dso",
        params=Params(),
        metrics=make_metrics(),
        validation=stages.ValidationSummary(ok=True, errors=0, warnings=0),
        sources=(),
    )


@pytest.fixture
def no_kernel(monkeypatch):
    """execute_notebook writes a one-cell notebook (or fails, when told to)."""
    state = {"fail": False}

    def fake_execute(template, output, parameters, cell_timeout, km=None):
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell("# report"))
        nbformat.write(nb, str(output))
        if state["fail"]:
            raise RuntimeError("cell 3: ValueError: boom")
        return nb

    monkeypatch.setattr(stages, "_take_kernel", lambda: None)
    monkeypatch.setattr(stages, "execute_notebook", fake_execute)
    return state


def _boom(*args, **kwargs):
    raise RuntimeError("disk full")


def test_render_publishes_notebook_html_workbook_and_brief(tmp_path, no_kernel):
    out = tmp_path / "out"
    art = stages.render(_prepared(tmp_path), TEMPLATE, out)
    assert art.html.is_file() and art.ipynb.is_file()
    assert art.pdf is not None and art.pdf.read_bytes().startswith(b"%PDF")
    assert art.xlsx.read_bytes().startswith(b"PK")
    assert not [p for p in out.iterdir() if "failed" in p.name or p.name.startswith(".")]


@pytest.mark.parametrize(
    ("notebook_fails", "workbook_fails", "brief_fails", "stage"),
    [
        (False, True, False, "workbook"),
        (False, False, True, "brief"),
        (False, True, True, "workbook"),  # the workbook comes first, as when run in turn
        (True, True, True, "notebook"),  # the notebook's failure wins over both
    ],
)
def test_a_failure_names_its_stage_keeps_the_previous_set_and_the_failed_notebook(
    tmp_path, monkeypatch, no_kernel, notebook_fails, workbook_fails, brief_fails, stage
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "renewal-leverage.html").write_text("last run", encoding="utf-8")
    no_kernel["fail"] = notebook_fails
    if workbook_fails:
        monkeypatch.setattr(excel, "write_dso_workbook", _boom)
    if brief_fails:
        monkeypatch.setattr(brief, "write_brief", _boom)
    with pytest.raises(stages.StageFailed) as info:
        stages.render(_prepared(tmp_path), TEMPLATE, out)
    assert info.value.stage == stage
    error = (
        "RuntimeError: cell 3: ValueError: boom" if notebook_fails else "RuntimeError: disk full"
    )
    assert info.value.error == error
    # nothing of this run is published but the executed notebook, kept for debugging
    assert sorted(p.name for p in out.iterdir()) == [
        "renewal-leverage.failed.ipynb",
        "renewal-leverage.html",
    ]
    assert (out / "renewal-leverage.html").read_text(encoding="utf-8") == "last run"
