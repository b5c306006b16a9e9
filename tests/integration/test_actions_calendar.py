"""The renewal-deadline calendar: hand-worked deadlines, parsed back by two parsers."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pandas as pd
import pytest
import vobject

from dso_analytics.actions.calendar import event_uid, parse_remind, write_calendar
from dso_analytics.actions.deadlines import NOTICE_METHOD_FALLBACK, compute_deadlines
from dso_analytics.cli import main
from dso_analytics.metrics import compute_metrics
from tests.support.metrics_factory import agreement, line, location, make_ds, params
from tests.support.paths import SAMPLE

AS_OF = "2024-12-31"
HOSTILE = "Evil, Inc;\r\nBEGIN:VEVENT\x07\\n<b>x</b>"


def _loaded():
    ags = [
        # tacit renewals: current term ends 2025-01-15; deadline 2024-11-16 missed ->
        # next: 2026-01-15 - 60 days = 2025-11-16
        agreement("TACIT", "2022-01-15", term_months=12, notice_days=60),
        # monthly renewals with 45 days' notice: 2025-01-01 - 45 = 2024-11-17 missed,
        # next 2025-02-01 - 45 = 2024-12-18 is past too -> 2025-03-01 - 45 = 2025-01-15
        agreement("LONG", "2022-01-01", term_months=12, renewal_term_months=1, notice_days=45),
        # ended 2024-01-01: no event at all
        agreement("GONE", "2022-01-01", term_months=24, auto_renew=False, notice_days=None),
        # initial term to 2025-03-01, 30 days' notice -> 2025-01-30
        agreement(
            "SOON",
            "2024-03-01",
            term_months=12,
            notice_days=30,
            provider=HOSTILE,
            scope="location",
            location_ids="LOC-2",
        ),  # fmt: skip
        # does not renew; its notice date 2024-12-01 is past: term end only
        agreement("NOREN", "2024-03-01", term_months=12, auto_renew=False, notice_days=90),
    ]
    ds = make_ds(
        locations=[location("LOC-1"), location("LOC-2", location_name="Main; St, <Suite>")],
        agreements=ags,
        services=[
            {"agreement_id": "SOON", "service": "cross_location_incidents", "coverage": "included"}
        ],  # fmt: skip
        billing=[
            line("2024-06-01", 1000.0, agreement_id="SOON", location_id="LOC-2"),
            line(
                "2024-06-02",
                250.0,
                "Cross-location incident",
                agreement_id="SOON",
                location_id="LOC-2",
                service="cross_location_incidents",
            ),  # fmt: skip
            line(AS_OF, 10.0),
        ],
    )
    ds.agreements["notice_method"] = [None, "", None, "Certified mail to: Legal; 1 Main St", None]
    m = compute_metrics(ds, params(AS_OF))
    return ds, m


EXPECTED = {  # (agreement, kind) -> (date, term_end)
    ("TACIT", "term_end"): ("2025-01-15", "2025-01-15"),
    ("TACIT", "notice_deadline"): ("2025-11-16", "2026-01-15"),
    ("LONG", "term_end"): ("2025-01-01", "2025-01-01"),
    ("LONG", "notice_deadline"): ("2025-01-15", "2025-03-01"),
    ("SOON", "notice_deadline"): ("2025-01-30", "2025-03-01"),
    ("SOON", "term_end"): ("2025-03-01", "2025-03-01"),
    ("NOREN", "term_end"): ("2025-03-01", "2025-03-01"),
}


def test_deadlines_hand_worked() -> None:
    ds, m = _loaded()
    dl = compute_deadlines(m, ds.agreements, ds.locations)
    got = {
        (r.agreement_id, r.kind): (r.date.date().isoformat(), r.term_end.date().isoformat())
        for r in dl.itertuples()
    }
    assert got == EXPECTED
    assert (dl["date"] >= pd.Timestamp(AS_OF)).all()  # never an event in the past
    t = dl.set_index(["agreement_id", "kind"])
    assert bool(t.loc[("TACIT", "notice_deadline"), "window_missed"])
    assert t.loc[("TACIT", "notice_deadline"), "missed_deadline"] == pd.Timestamp("2024-11-16")
    # the metrics' next_notice_deadline is the one shown when it is not past
    nxt = m.renewals.set_index("agreement_id").loc["TACIT", "next_notice_deadline"]
    assert t.loc[("TACIT", "notice_deadline"), "date"] == nxt
    soon = t.loc[("SOON", "notice_deadline")]
    assert soon["notice_method"] == "Certified mail to: Legal; 1 Main St"
    assert t.loc[("TACIT", "term_end"), "notice_method"] == NOTICE_METHOD_FALLBACK
    assert soon["spend_t12m"] == 1250.0 and soon["credits_to_claim"] == 250.0
    assert soon["locations"] == "LOC-2 Main; St, <Suite>"


def _by_uid_icalendar(data: bytes) -> dict[str, dict]:
    cal = icalendar.Calendar.from_ical(data)
    out = {}
    for ev in cal.walk("VEVENT"):
        out[str(ev["UID"])] = {
            "start": ev.decoded("DTSTART"),
            "end": ev.decoded("DTEND"),
            "summary": str(ev["SUMMARY"]),
            "description": str(ev["DESCRIPTION"]),
            "sequence": int(ev["SEQUENCE"]),
            "alarms": sorted(a.decoded("TRIGGER") for a in ev.walk("VALARM")),
            "actions": {str(a["ACTION"]) for a in ev.walk("VALARM")},
        }
    return out


def _by_uid_vobject(data: bytes) -> dict[str, dict]:
    cal = vobject.readOne(data.decode("utf-8"))
    out = {}
    for ev in cal.vevent_list:
        out[ev.uid.value] = {
            "start": ev.dtstart.value,
            "end": ev.dtend.value,
            "summary": ev.summary.value,
            "description": ev.description.value,
            "alarms": sorted(a.trigger.value for a in ev.contents.get("valarm", [])),
        }
    return out


def test_ics_parsed_back_by_two_parsers(tmp_path: Path) -> None:
    ds, m = _loaded()
    dl = compute_deadlines(m, ds.agreements, ds.locations)
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    path = write_calendar(dl, tmp_path / "d.ics", remind=(90, 30), now=now)
    data = path.read_bytes()
    assert b"\r\n" in data and all(len(x) <= 75 for x in data.split(b"\r\n"))  # RFC 5545 folding
    expected = {
        event_uid("test-dso", a, k): (date.fromisoformat(d), te)
        for (a, k), (d, te) in EXPECTED.items()
    }
    for parsed in (_by_uid_icalendar(data), _by_uid_vobject(data)):
        assert set(parsed) == set(expected)  # one event per deadline, UIDs as documented
        for uid, ev in parsed.items():
            day, term_end = expected[uid]
            assert ev["start"] == day and not isinstance(ev["start"], datetime)  # all-day
            assert ev["end"] == day + timedelta(days=1)
            assert ev["alarms"] == [timedelta(days=-90), timedelta(days=-30)]
            assert f"Term end: {term_end}" in ev["description"]
            assert "Figures as of: 2024-12-31" in ev["description"]
    ical = _by_uid_icalendar(data)
    soon = ical[event_uid("test-dso", "SOON", "notice_deadline")]
    # hostile text comes back literally (control character removed), one event only
    assert "Evil, Inc;\nBEGIN:VEVENT\\n<b>x</b>" in soon["summary"]
    assert "Notice must be received by: 2025-01-30" in soon["description"]
    assert "Notice method: Certified mail to: Legal; 1 Main St" in soon["description"]
    assert "Credits to claim (all-time to 2024-12-31): USD 250.00" in soon["description"]
    assert "Spend on this agreement (T12M): USD 1,250.00" in soon["description"]
    assert data.split(b"\r\n").count(b"BEGIN:VEVENT") == len(expected)  # no injected event
    tacit = ical[event_uid("test-dso", "TACIT", "notice_deadline")]
    assert (
        "the notice deadline 2024-11-16 has passed; the agreement renews to 2026-01-15"
        in (tacit["description"])
    )
    assert soon["actions"] == {"DISPLAY"}
    # stable UIDs, rising SEQUENCE: a later file updates the same events
    later = write_calendar(dl, tmp_path / "e.ics", remind=(90, 30), now=now + timedelta(hours=1))
    again = _by_uid_icalendar(later.read_bytes())
    assert set(again) == set(ical)
    assert all(again[u]["sequence"] == ical[u]["sequence"] + 60 for u in ical)


def test_parse_remind() -> None:
    assert parse_remind("30, 120,90,30") == (120, 90, 30)
    assert parse_remind(None) == (120, 90, 60, 30)
    with pytest.raises(ValueError, match="'x'"):
        parse_remind("30,x")
    with pytest.raises(ValueError, match="between 0 and 3650"):
        parse_remind("-5")


def test_cli_calendar_portfolio_matches_metrics(tmp_path: Path, capsys) -> None:
    out = tmp_path / "all.ics"
    portfolio = tmp_path / "portfolio"  # two DSOs (the smallest sample DSO twice): fast
    for name in ("coastal-family-dental", "coastal-two"):
        shutil.copytree(SAMPLE / "coastal-family-dental", portfolio / name)
    assert main(["calendar", "--all", str(portfolio), "--out", str(out), "--remind", "60,14"]) == 0
    assert "wrote" in capsys.readouterr().out
    data = out.read_bytes()
    ical, vob = _by_uid_icalendar(data), _by_uid_vobject(data)
    assert set(ical) == set(vob)
    from dso_analytics.standards import read_standard
    from dso_analytics.validation import load_dso

    expected = {}
    for d in sorted(p for p in portfolio.iterdir() if p.is_dir()):
        m = compute_metrics(load_dso(d), read_standard(dso_dir=d))
        for r in m.renewals.itertuples():
            if r.status == "expired":
                continue
            nd = r.next_notice_deadline if r.notice_window_missed else r.notice_deadline
            expected[event_uid(d.name, r.agreement_id, "notice_deadline")] = nd.date()
            expected[event_uid(d.name, r.agreement_id, "term_end")] = r.current_term_end.date()
            assert nd >= m.as_of
    assert {u: ev["start"] for u, ev in ical.items()} == expected
    assert {u: ev["start"] for u, ev in vob.items()} == expected
    assert len(expected) == 4  # 2 DSOs x (notice deadline + term end) of the renewing agreement
    assert all(ev["alarms"] == [timedelta(days=-60), timedelta(days=-14)] for ev in vob.values())


def test_cli_calendar_bad_remind(tmp_path: Path, capsys) -> None:
    rc = main(["calendar", str(SAMPLE / "coastal-family-dental"), "--out",
               str(tmp_path / "x.ics"), "--remind", "90,soon"])  # fmt: skip
    assert rc == 2
    assert (
        capsys.readouterr().err.strip() == "error: --remind: 'soon' is not a whole number of days"
    )
    assert not (tmp_path / "x.ics").exists()
