"""The package as users get it: a wheel (no ``-e``) in a fresh venv renders a report from a
folder outside the repository, with the templates it ships (``importlib.resources``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import ROOT, SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebooks")]


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_wheel_in_a_fresh_venv_renders_from_outside_the_repo(tmp_path: Path) -> None:
    # build from a copy of the sources (the build must not write into the checkout)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "dso_analytics", src / "dso_analytics",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)], tmp_path)
    wheel = next((tmp_path / "dist").glob("dso_analytics-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "dso_analytics/notebooks/renewal_leverage.ipynb" in names
    assert "dso_analytics/notebooks/portfolio_overview.ipynb" in names
    # the sample spec ships whole (every file under dso_analytics/sample_spec)
    spec = ROOT / "dso_analytics" / "sample_spec"
    shipped = sorted(n for n in names if n.startswith("dso_analytics/sample_spec/"))
    expected = sorted(
        f"dso_analytics/sample_spec/{p.relative_to(spec).as_posix()}"
        for p in spec.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert shipped == expected and len(expected) >= 15

    # a fresh venv with the wheel itself (no -e); the third-party dependencies come from the
    # test environment through a .pth file (installing them again would only re-test pip)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp_path)
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        tmp_path).strip())  # fmt: skip
    (purelib / "zz-test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    work = tmp_path / "elsewhere"
    shutil.copytree(SAMPLE / "coastal-family-dental", work / "portfolio" / "coastal-family-dental")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["DSO_ANALYTICS_CACHE"] = str(tmp_path / "cache")
    # the dependencies' data files (nbconvert's templates) live under the test env's prefix
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = _run([str(py), "-c", "import dso_analytics; print(dso_analytics.__file__)"], work, env)
    assert Path(where.strip()).is_relative_to(venv), where
    _run([str(venv / "bin" / "dso-analytics"), "report", "portfolio/coastal-family-dental",
          "--out", "out", "--quiet"], work, env)  # fmt: skip
    out = work / "out" / "coastal-family-dental"
    html = (out / "renewal-leverage.html").read_text(encoding="utf-8")
    assert "Renewal leverage" in html and 'class="dso-kpi-header"' in html
    assert (out / "renewal-leverage.xlsx").stat().st_size > 5_000

    # `dso-analytics sample` from the installed wheel writes the committed sample, byte for byte
    _run([str(venv / "bin" / "dso-analytics"), "sample", "sample"], work, env)
    fresh = {p.relative_to(work / "sample").as_posix(): p.read_bytes()
             for p in (work / "sample").rglob("*") if p.is_file()}  # fmt: skip
    committed = {p.relative_to(SAMPLE).as_posix(): p.read_bytes()
                 for p in SAMPLE.rglob("*") if p.is_file() and not p.name.startswith(".")}  # fmt: skip
    assert sorted(fresh) == sorted(committed)
    assert [n for n in committed if committed[n] != fresh[n]] == []
