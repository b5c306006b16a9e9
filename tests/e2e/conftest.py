"""One shared render of the sample portfolio (plus a hostile and a broken DSO) for report tests.

Rendering costs a kernel run per DSO, so every report test (pipeline, HTML,
browser) shares this one batch through the session fixture :func:`rendered`.
Tests using it carry ``@pytest.mark.xdist_group("render")`` so they share a worker
(a session fixture lives once per xdist worker).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.builders import base_tables, make_dso
from tests.support.paths import BENCH, SAMPLE, SAMPLE_DSOS
from tests.support.report_factory import FORMULA, SCRIPT


@dataclass
class Rendered:
    portfolio: Path  # the input portfolio folder
    out: Path  # the report folder
    exit_code: int
    stderr: str


def hostile_tables() -> dict:
    """base_tables() with invoice descriptions that try script and formula injection."""
    t = copy.deepcopy(base_tables())
    org = t["billing"]["organization.csv"]
    org[1]["description"] = SCRIPT
    org.append(dict(org[1], description=FORMULA, amount="$100.00"))
    return t


def broken_tables() -> dict:
    """base_tables() with an amount that cannot be parsed: fails validation."""
    t = copy.deepcopy(base_tables())
    t["billing"]["organization.csv"][0]["amount"] = "not money"
    return t


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """The sample DSOs + ``hostile-dso`` + ``broken-dso`` rendered once with ``report --all``."""
    from dso_analytics.cli import main

    root = tmp_path_factory.mktemp("dso-report")
    portfolio = root / "portfolio-in"
    for name in SAMPLE_DSOS:
        shutil.copytree(SAMPLE / name, portfolio / name)
    make_dso(portfolio, "hostile-dso", hostile_tables())
    make_dso(portfolio, "broken-dso", broken_tables())
    out = root / "out"
    # files the broken DSO's folder held before the run: a failed run leaves them as they were
    (out / "broken-dso").mkdir(parents=True)
    (out / "broken-dso" / "renewal-leverage.html").write_text("stale", encoding="utf-8")
    (out / "broken-dso" / "renewal-leverage.xlsx").write_text("stale", encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", "--all", str(portfolio), "--out", str(out), "--jobs", "2",
                     "--no-cache"])  # fmt: skip
    yield Rendered(portfolio, out, code, err.getvalue())
    shutil.rmtree(root, ignore_errors=True)  # reports hold (sample) client data


@pytest.fixture(scope="session")
def bench_module() -> Callable[[str], ModuleType]:
    """Load a script of ``benchmarks/`` by file name (it is a folder of scripts, not a package)."""
    loaded: dict[str, ModuleType] = {}

    def load(name: str) -> ModuleType:
        if name not in loaded:
            spec = importlib.util.spec_from_file_location(
                f"benchmarks_{name}", BENCH / f"{name}.py"
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded[name] = module
        return loaded[name]

    return load
