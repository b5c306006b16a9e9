"""Great Expectations is imported only where validation runs (the batch's parent, once):
a render worker's warm-up and a report kernel's start never import it, and no report
template's code imports validation."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat

from dso_analytics.stages import DSO_REPORT, PORTFOLIO_REPORT

WORKER = """
import sys
from dso_analytics import pipeline, stages
stages.preload_render()  # what a render worker imports while the parent validates
exec(stages.KERNEL_PRELOAD)  # what a report kernel imports as it starts
heavy = [m for m in ("great_expectations", "altair", "rfc3987_syntax.syntax_helpers")
         if m in sys.modules]
print(heavy)
"""


def test_render_worker_and_kernel_start_import_no_great_expectations():
    done = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_report_templates_do_not_validate():
    for template in (DSO_REPORT, PORTFOLIO_REPORT):
        nb = nbformat.read(template.path(), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        imports = [ln for ln in code.splitlines() if re.match(r"\s*(from|import)\s", ln)]
        assert imports, template.notebook
        assert not [ln for ln in imports if "validation" in ln or "great_expectations" in ln]
        assert "prepared" in code  # reads the pipeline's hand-off (no re-validation)
