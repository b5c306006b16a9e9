"""Stage names: one enum (``stages.Stage``), the same words in users' error lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dso_analytics
from dso_analytics.pipeline import DsoResult
from dso_analytics.stages import Stage, StageFailed

PACKAGE_DIR = Path(dso_analytics.__file__).resolve().parent


def test_stage_words_users_see() -> None:
    assert [s.value for s in Stage] == [
        "output path", "validation", "metrics", "notebook", "html", "workbook",
        "calendar and letters", "brief", "publish", "portfolio", "worker",
    ]  # fmt: skip
    assert f"{Stage.OUTPUT_PATH}" == "output path" and str(Stage.HTML) == "html"
    assert str(StageFailed(Stage.METRICS, "bad number")) == "metrics: bad number"


@pytest.mark.parametrize(
    ("exc", "stage", "line"),
    [
        (StageFailed(Stage.WORKBOOK, "disk full"), Stage.WORKBOOK,
         "acme: FAILED (workbook): disk full"),
        (RuntimeError("lost"), Stage.WORKER, "acme: FAILED (worker): RuntimeError: lost"),
    ],
)  # fmt: skip
def test_failed_result_line(exc: BaseException, stage: Stage, line: str) -> None:
    res = DsoResult("acme", ok=False).failed(exc)
    assert res.stage is stage
    assert res.line() == line


def test_a_result_without_stage_names_none() -> None:
    res = DsoResult("acme", ok=False, error="no DSO rendered")
    assert res.stage is None
    assert res.line() == "acme: FAILED: no DSO rendered"


def _stage_literals(path: Path) -> list[str]:
    """Places in ``path`` that give a stage as a string literal instead of a ``Stage``."""
    found: list[int] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        values: list[ast.expr] = []
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "StageFailed":
            values = node.args[:1] + [k.value for k in node.keywords if k.arg == "stage"]
        elif isinstance(node, ast.Call):
            values = [k.value for k in node.keywords if k.arg == "stage"]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                elts = target.elts if isinstance(target, ast.Tuple) else [target]
                vals = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                for t, v in zip(elts, vals, strict=False):
                    named = (isinstance(t, ast.Attribute) and t.attr == "stage") or (
                        isinstance(t, ast.Subscript) and ast.unparse(t.slice) == "'stage'"
                    )
                    if named:
                        values.append(v)
        found += [
            v.lineno for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
    return [f"{path.name}:{line}" for line in sorted(found)]


def test_no_stage_is_a_free_string(tmp_path: Path) -> None:
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    assert not [place for path in files for place in _stage_literals(path)]
    # the check sees each form of a free string
    probe = tmp_path / "probe.py"
    probe.write_text(
        'StageFailed("html", "x")\nres.stage, res.error = "worker", "y"\n'
        'state["stage"] = "publish"\nDsoResult("p", ok=False, stage="portfolio")\n',
        encoding="utf-8",
    )
    assert _stage_literals(probe) == ["probe.py:1", "probe.py:2", "probe.py:3", "probe.py:4"]
