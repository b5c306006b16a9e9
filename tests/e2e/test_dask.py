"""``report --scheduler``: the per-DSO jobs on a real dask.distributed cluster on loopback.

The cluster is a real scheduler plus two worker processes (``LocalCluster``
with ``processes=True`` on 127.0.0.1): jobs, results and the prepared metrics
travel over TCP exactly as on a multi-machine cluster.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from dso_analytics import cli
from dso_analytics.errors import DsoError
from tests.support.paths import SAMPLE, SAMPLE_DSOS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]


distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("snapshots")


@pytest.fixture(scope="module")
def cluster(cache_dir: Path):  # noqa: ANN201
    """A scheduler and 2 single-threaded worker processes on 127.0.0.1."""
    mp = pytest.MonkeyPatch()
    # the workers inherit the environment: private snapshot cache, no GX telemetry
    mp.setenv("DSO_ANALYTICS_CACHE", str(cache_dir))
    mp.setenv("GX_ANALYTICS_ENABLED", "False")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as c:
        yield c
    mp.undo()


def _finished_tasks(cluster) -> set[str]:  # noqa: ANN001
    """Keys of the tasks the scheduler saw finish (reach memory) so far."""
    log = cluster.scheduler.transition_log
    return {str(e[0]) for e in log if e[2] == "memory"}


def _write_local_workbooks(out: Path) -> None:
    """What a local render writes into the workbooks, computed in this process.

    The same calls as the pipeline makes for the xlsx (``stages.prepare`` then the
    workbook writers), without executing notebooks: the HTML shows the figures of
    these same objects.
    """
    from dso_analytics.metrics import compute_portfolio
    from dso_analytics.reporting.excel import write_dso_workbook, write_portfolio_workbook
    from dso_analytics.stages import prepare
    from dso_analytics.standards import resolve_params

    results = []
    for slug in SAMPLE_DSOS:
        d = SAMPLE / slug
        p = prepare(d, resolve_params(d))
        results.append(p.metrics)
        (out / slug).mkdir(parents=True)
        write_dso_workbook(p.metrics, out / slug / "renewal-leverage.xlsx",
                           validation_summary=p.validation, sources=p.sources,
                           scenarios=p.scenarios)  # fmt: skip
    (out / "portfolio").mkdir(parents=True)
    write_portfolio_workbook(
        results, compute_portfolio(results), out / "portfolio" / "portfolio-overview.xlsx"
    )


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet of a workbook except the cover (which holds the generation time)."""
    book = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    return {name: df for name, df in book.items() if name.lower() != "cover"}


def _assert_same_workbook(a: Path, b: Path) -> None:
    sa, sb = _sheets(a), _sheets(b)
    assert sorted(sa) == sorted(sb), (a, sorted(sa), sorted(sb))
    assert len(sa) >= 3, f"{a}: expected the metric sheets, found {sorted(sa)}"
    for name in sa:
        pd.testing.assert_frame_equal(sa[name], sb[name], obj=f"{a.name}[{name}]")


def test_report_all_on_dask_matches_local_figures(
    cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    monkeypatch.setenv("DSO_ANALYTICS_CACHE", str(cache_dir))
    dask_out = tmp_path / "dask"
    local_out = tmp_path / "local"

    code = cli.main(["report", "--all", str(SAMPLE), "--out", str(dask_out),
                     "--scheduler", cluster.scheduler_address, "--quiet"])  # fmt: skip
    assert code == 0

    # the jobs really ran as tasks on the cluster's workers
    done = _finished_tasks(cluster)
    assert sum(k.startswith("run_render") for k in done) == len(SAMPLE_DSOS)
    assert sum(k.startswith("run_portfolio") for k in done) >= 1

    _write_local_workbooks(local_out)

    for slug in SAMPLE_DSOS:
        assert (dask_out / slug / "renewal-leverage.html").stat().st_size > 10_000
        _assert_same_workbook(
            dask_out / slug / "renewal-leverage.xlsx", local_out / slug / "renewal-leverage.xlsx"
        )
        html = (dask_out / slug / "renewal-leverage.html").read_text(encoding="utf-8")
        assert "Renewal leverage" in html
    assert (dask_out / "portfolio" / "portfolio-overview.html").stat().st_size > 10_000
    _assert_same_workbook(
        dask_out / "portfolio" / "portfolio-overview.xlsx",
        local_out / "portfolio" / "portfolio-overview.xlsx",
    )
    # no prepared-metrics folders or staging files left behind in OUT
    leftovers = [p for p in dask_out.rglob("*") if p.name.startswith(".") or "part" in p.suffix]
    assert leftovers == []


def test_dask_batch_isolates_a_failing_dso(cluster, tmp_path: Path, capsys) -> None:
    good = SAMPLE / "coastal-family-dental"
    broken = tmp_path / "broken-dso"
    broken.mkdir()
    (broken / "dso.yaml").write_text("display_name: Broken\n")  # no locations, no billing
    out = tmp_path / "out"

    code = cli.main(["report", str(broken), str(good), "--out", str(out),
                     "--scheduler", cluster.scheduler_address, "--quiet"])  # fmt: skip

    assert code == 1
    err = capsys.readouterr().err
    assert "1 report failed:" in err and "broken-dso: FAILED (validation)" in err
    assert not (out / "broken-dso" / "renewal-leverage.html").exists()
    assert (out / "coastal-family-dental" / "renewal-leverage.html").is_file()
    assert (out / "coastal-family-dental" / "renewal-leverage.xlsx").is_file()


def test_worker_crash_is_a_failed_result_not_an_exception(cluster) -> None:
    """A task whose worker dies surfaces through the Future, like a crashed pool worker."""
    from dso_analytics.distributed import DaskRunner
    from dso_analytics.runner import Runner

    with DaskRunner(cluster.scheduler_address) as runner:
        assert isinstance(runner, Runner) and runner.workers == 2
        fut = runner.submit(_raise_value_error, "boom")
        with pytest.raises(ValueError, match="boom"):
            fut.result(timeout=60)
        assert runner.submit(_add, 2, 3).result(timeout=60) == 5


def _raise_value_error(text: str) -> None:
    raise ValueError(text)


def _add(a: int, b: int) -> int:
    return a + b


def test_missing_dask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from dso_analytics import distributed as dd

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(DsoError, match=r"dso-analytics\[dask\]"):
        dd.connect("tcp://127.0.0.1:1")


def test_unreachable_scheduler_is_a_dso_error(tmp_path: Path) -> None:
    code = cli.main(["report", "--all", str(SAMPLE), "--out", str(tmp_path),
                     "--scheduler", "tcp://127.0.0.1:9", "--quiet"])  # fmt: skip
    assert code == 2
    assert not any((tmp_path / slug).exists() for slug in SAMPLE_DSOS)
