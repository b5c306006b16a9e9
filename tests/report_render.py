"""One shared render of the sample portfolio (plus a hostile and a broken DSO) for report tests.

Rendering costs a kernel run per DSO, so every report test (pipeline, HTML,
browser) shares this one batch: call :func:`rendered` from a session fixture.
Tests using it carry ``@pytest.mark.xdist_group("render")`` so they share a worker.
"""

from __future__ import annotations

import atexit
import copy
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from builders import base_tables, make_dso
from conftest import SAMPLE

SCRIPT = "<script>document.title='x'</script>"
FORMULA = '=HYPERLINK("http://x","y")'
SAMPLE_DSOS = ("bright-smiles", "coastal-family-dental", "summit-dental-partners")


@dataclass
class Rendered:
    portfolio: Path  # the input portfolio folder
    out: Path  # the report folder
    exit_code: int
    stderr: str


_CACHE: dict[str, Rendered] = {}


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


def rendered(capfd=None) -> Rendered:
    """Render the sample DSOs + ``hostile-dso`` + ``broken-dso`` with ``report --all`` once."""
    if "r" in _CACHE:
        return _CACHE["r"]
    from dso_analytics.cli import main

    root = Path(tempfile.mkdtemp(prefix="dso-report-test-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)  # reports hold (sample) client data
    portfolio = root / "portfolio-in"
    for name in SAMPLE_DSOS:
        shutil.copytree(SAMPLE / name, portfolio / name)
    make_dso(portfolio, "hostile-dso", hostile_tables())
    make_dso(portfolio, "broken-dso", broken_tables())
    out = root / "out"
    # a stale finished-looking report of the broken DSO must disappear
    (out / "broken-dso").mkdir(parents=True)
    (out / "broken-dso" / "renewal-leverage.html").write_text("stale", encoding="utf-8")
    (out / "broken-dso" / "renewal-leverage.xlsx").write_text("stale", encoding="utf-8")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", "--all", str(portfolio), "--out", str(out), "--jobs", "2",
                     "--no-cache"])  # fmt: skip
    _CACHE["r"] = Rendered(portfolio, out, code, err.getvalue())
    return _CACHE["r"]
