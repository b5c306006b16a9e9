"""One DSO, one set of figures: the CLI, the report template run by papermill with its
defaults, and the same template executed in-process agree, also for a DSO whose own
standard sets ``target_onboarding_cap: 8000`` (the notebook used to pass its literal 5000)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from dso_analytics.cli import main
from dso_analytics.metrics import metrics_to_dict
from dso_analytics.stages import DSO_REPORT
from tests.support.paths import SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebooks")]

DUMP = (
    "import json\nfrom dso_analytics.metrics import metrics_to_dict\n"
    "print(json.dumps(metrics_to_dict(m)))"
)


@pytest.fixture(scope="module")
def dsos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("same-figures")
    plain = shutil.copytree(SAMPLE / "coastal-family-dental", root / "coastal-family-dental")
    own = shutil.copytree(SAMPLE / "coastal-family-dental", root / "own-standard-dental")
    (own / "standard.yaml").write_text("parameters:\n  target_onboarding_cap: 8000\n")
    return {"plain": plain, "own": own}


def _cli(d: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["metrics", str(d), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _papermill_defaults(d: Path, tmp_path: Path) -> dict:
    """The shipped template plus one cell printing the metrics, run with only ``dso_dir``."""
    import papermill as pm

    nb = nbformat.read(DSO_REPORT.path(), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(DUMP))
    src, out = tmp_path / "template.ipynb", tmp_path / "executed.ipynb"
    nbformat.write(nb, src)
    done = pm.execute_notebook(str(src), str(out), parameters={"dso_dir": str(d)},
                               kernel_name="python3", progress_bar=False)  # fmt: skip
    text = "".join(o.get("text", "") for o in done.cells[-1].outputs if o.output_type == "stream")
    return json.loads(text)


def _in_process(d: Path) -> dict:
    """The template's code cells executed here, ``dso_dir`` set after the parameters cell."""
    nb = nbformat.read(DSO_REPORT.path(), as_version=4)
    ns: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, "<notebook>", "exec"), ns)  # noqa: S102 - our own template
        if "parameters" in cell.metadata.get("tags", []):
            ns["dso_dir"] = str(d)
    return metrics_to_dict(ns["m"])


@pytest.mark.parametrize("which", ["plain", "own"])
def test_cli_papermill_defaults_and_in_process_give_identical_figures(
    dsos: dict[str, Path], which: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = dsos[which]
    cli = _cli(d, capsys)
    in_process = _in_process(d)
    capsys.readouterr()  # the display calls printed to stdout
    papermill = _papermill_defaults(d, tmp_path)
    assert papermill == cli
    assert in_process == cli
    cap, source = (8000.0, "DSO standard") if which == "own" else (5000.0, "default")
    assert cli["params"]["target_onboarding_cap"] == cap
    assert cli["params"]["sources"]["target_onboarding_cap"] == source
