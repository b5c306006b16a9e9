"""Issue 13 on the sample portfolio: the shipped negotiation log, figures worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from dso_analytics.actions import negotiation as N
from dso_analytics.ingest import read_dso
from dso_analytics.metrics import compute_metrics
from dso_analytics.standards import read_standard
from tests.support.paths import SAMPLE

SUMMIT = SAMPLE / "summit-dental-partners"


@pytest.fixture(scope="module")
def summit():
    ds = read_dso(SUMMIT)
    return compute_metrics(ds, read_standard(dso_dir=ds.root))


def test_sample_log_is_valid_against_the_current_asks(summit) -> None:
    log = N.read_log(SUMMIT)
    assert log.path == SUMMIT / "negotiation.xlsx"
    problems = N.validate_log(log, N.current_asks(summit))
    assert [str(p) for p in problems] == []
    assert list(log.frame["ask_key"]) == [
        "claim_included:AG-SDP-01", "claim_above_cap:AG-SDP-01", "volume_pricing:AG-SDP-01",
        "overage:AG-SDP-01:helpdesk", "onboarding_cap:AG-SDP-01",
    ]  # fmt: skip


def test_sample_log_totals_by_hand(summit) -> None:
    log = N.read_log(SUMMIT)
    per, tot, claims = N.compute_negotiation_status(log.frame, N.current_asks(summit), summit.as_of)
    # asked: 59,690.00 + 12,600.00 + 150,000.00 + 10,293.07 (the open ask has none)
    assert tot["asked"] == 232583.07
    assert tot["agreed"] == 40000.0 and tot["realised"] == 15000.0
    assert tot["items"] == 5
    # each estimate with its window, from the current asks (the sample log leaves them blank)
    w = per.set_index("ask_key")["estimate_window"]
    assert w["volume_pricing:AG-SDP-01"] == "next 12 months (from 2026-10-31)"
    assert w["claim_above_cap:AG-SDP-01"] == "all-time to 2026-10-31"
    # estimates come from the current asks: 59,690 + 12,600 (claims, all-time) +
    # 217,400.66 + 10,293.07 + 2,500.00 (asks, next 12 months)
    assert tot["estimate"] == round(59690 + 12600 + 217400.66 + 10293.07 + 2500, 2)
    by = tot["by_status"].set_index("status")
    assert by.loc["asked", "items"] == 2 and by.loc["asked", "asked"] == 162600.0
    assert by.loc["rejected", "asked"] == 10293.07
    # one open claim: above the cap, asked 2026-09-15, as-of 2026-10-31 -> 15 + 31 = 46 days
    assert list(claims["ask_key"]) == ["claim_above_cap:AG-SDP-01"]
    assert claims.loc[0, "age_days"] == 46
    assert pd.Timestamp(summit.as_of) == pd.Timestamp("2026-10-31")


def test_prepare_computes_the_deadlines_once(summit) -> None:
    from dso_analytics.actions.deadlines import compute_deadlines, deadlines_of
    from dso_analytics.stages import prepare
    from dso_analytics.standards import resolve_params

    p = prepare(SUMMIT, resolve_params(SUMMIT), use_cache=False)
    dl = deadlines_of(p.metrics)
    ds = read_dso(SUMMIT)
    pd.testing.assert_frame_equal(dl, compute_deadlines(summit, ds.agreements, ds.locations))
    # AG-SDP-01 renewed to 2027-05-01; notice 120 days before it: 2027-01-01
    assert [d.date().isoformat() for d in dl["date"]] == ["2027-01-01", "2027-05-01"]
    # dollars at stake: credits 59,690.00 + 12,600.00; asks 217,400.66 + 10,293.07 + 7,452.00
    # + 2,500.00 (claims carry no 12-month impact)
    assert set(dl["credits_to_claim"]) == {72290.0}
    assert set(dl["asks_12m"]) == {round(217400.66 + 10293.07 + 7452.00 + 2500.00, 2)}


def test_publish_replaces_the_calendar_and_letters_as_one_set(tmp_path) -> None:
    from dso_analytics.report_names import dso_report_names
    from dso_analytics.stages import (
        CALENDAR_FILE,
        DSO_REPORT,
        LETTERS_DIR,
        _move_into_place,
        clear_outputs,
    )

    out = tmp_path / "out" / "dso"
    out.mkdir(parents=True)
    (out / LETTERS_DIR).mkdir()
    (out / LETTERS_DIR / "notice-letter-old.docx").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    names = dso_report_names("dso", "2026-10-31")

    def publish(letter: str) -> object:
        work = tmp_path / f"work-{letter}"
        (work / LETTERS_DIR).mkdir(parents=True)
        staged = {}
        for k in ("html", "xlsx", "ipynb"):
            staged[k] = work / names.dated[k]
            staged[k].write_text(k)
        staged["ics"] = work / CALENDAR_FILE
        staged["ics"].write_text(f"ics {letter}")
        (work / LETTERS_DIR / letter).write_bytes(b"new")
        staged["letters"] = work / LETTERS_DIR
        return _move_into_place(out, DSO_REPORT, names, staged)

    art = publish("claim-letter-x.docx")
    assert art.ics == out / CALENDAR_FILE
    assert (out / CALENDAR_FILE).read_text() == "ics claim-letter-x.docx"
    assert art.letters == (out / LETTERS_DIR / "claim-letter-x.docx",)
    # the letters folder is replaced whole: a letter of the previous run does not linger
    assert sorted(p.name for p in (out / LETTERS_DIR).iterdir()) == ["claim-letter-x.docx"]
    art = publish("claim-letter-y.docx")
    assert sorted(p.name for p in (out / LETTERS_DIR).iterdir()) == ["claim-letter-y.docx"]
    assert (out / CALENDAR_FILE).read_text() == "ics claim-letter-y.docx"
    # a DSO that fails later keeps the previous set (calendar and letters included); the
    # analyst's own file stays
    before = sorted(p.name for p in out.iterdir())
    clear_outputs(out, DSO_REPORT)
    assert sorted(p.name for p in out.iterdir()) == before
    assert "notes.txt" in before and CALENDAR_FILE in before


def test_prepare_reads_the_log_once_and_the_kernel_shows_what_it_read(tmp_path, summit) -> None:
    import pickle
    import shutil

    from dso_analytics.reporting.actions import negotiation_rollup
    from dso_analytics.reporting.notebook import (
        load_negotiation,
        load_portfolio_negotiation,
        write_prepared,
    )
    from dso_analytics.stages import prepare
    from dso_analytics.standards import resolve_params

    dso = tmp_path / "in" / SUMMIT.name
    shutil.copytree(SUMMIT, dso)
    p = prepare(dso, resolve_params(dso), use_cache=False)
    st = p.negotiation
    # the figures of test_sample_log_totals_by_hand: asked 59,690.00 + 12,600.00 + 150,000.00
    # + 10,293.07; agreed 40,000.00; realised 15,000.00; the claim above the cap open 46 days
    assert st is not None and st.state == "ok" and st.problems == ()
    t = st.totals
    assert (t.items, t.asked, t.agreed, t.realised) == (5, 232583.07, 40000.0, 15000.0)
    assert list(st.open_claims["ask_key"]) == ["claim_above_cap:AG-SDP-01"]
    assert st.open_claims.loc[0, "age_days"] == 46
    # the runners carry Prepared pickled (process pool, Dask)
    assert pickle.loads(pickle.dumps(p)).negotiation.totals.asked == 232583.07
    # the log goes bad after prepare: read now, it could not be; the kernel never reads it
    (dso / "negotiation.xlsx").write_bytes(b"not a workbook any more")
    assert N.negotiation_status_of(dso, p.metrics).state == "unreadable"
    handoff = str(write_prepared(tmp_path, metrics=p.metrics, negotiation=st))
    assert load_negotiation(dso, p.metrics, prepared=handoff).totals.asked == 232583.07
    both = load_portfolio_negotiation(tmp_path / "in", [p.metrics], prepared={p.dso: handoff})
    row = negotiation_rollup([p.metrics], both).iloc[0]
    assert row[["log", "items", "asked", "agreed", "realised", "open_claims"]].tolist() == [
        "ok", 5, 232583.07, 40000.0, 15000.0, 1
    ]  # fmt: skip
