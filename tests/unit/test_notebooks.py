"""The notebook templates: committed without outputs, thin, one literal parameters cell."""

from __future__ import annotations

import ast

import nbformat
import pytest

from tests.support.paths import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_both_templates_exist():
    assert {p.name for p in NOTEBOOKS} >= {"renewal_leverage.ipynb", "portfolio_overview.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_with_kernel_metadata(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["language_info"]["name"] == "python"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell_of_typed_commented_literals(path):
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    tree = ast.parse(params[0].source)
    for node, line in zip(tree.body, params[0].source.splitlines(), strict=True):
        assert isinstance(node, ast.AnnAssign), line  # typed
        ast.literal_eval(node.value)  # a literal
        assert "  # " in line  # commented
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_thin_no_logic_in_notebooks(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    imports = [c for c in code if "import" in c.source]
    assert len(imports) == 1
    for cell in code:
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.For | ast.While)
        if cell not in imports and "parameters" not in cell.metadata.get("tags", []):
            assert len(tree.body) <= 3, cell.source


def test_default_paths_resolve_from_notebooks_folder():
    nb = nbformat.read(ROOT / "notebooks" / "renewal_leverage.ipynb", as_version=4)
    src = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", [])).source
    default = ast.literal_eval(ast.parse(src).body[0].value)
    assert (ROOT / "notebooks" / default).resolve().is_dir()
