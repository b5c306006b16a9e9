"""HTML of the action sections: negotiation status, calendar link, portfolio views."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from dso_analytics.actions.deadlines import attach_deadlines
from dso_analytics.actions.negotiation import (
    current_asks,
    negotiation_status_of,
    write_new_log,
)
from dso_analytics.metrics import compute_metrics
from dso_analytics.reporting.actions import (
    calendar_link_html,
    negotiation_status_html,
    portfolio_asks_html,
    portfolio_calendar_html,
    provider_spend_html,
)
from tests.support.metrics_factory import agreement, line, location, make_ds, params

EVIL = '<script>alert("x")</script>'


def _metrics():
    ds = make_ds(
        locations=[location("L1")],
        agreements=[agreement("A1", "2024-03-01", term_months=12, notice_days=30, provider=EVIL)],
        services=[{"agreement_id": "A1", "service": "helpdesk", "coverage": "included"}],
        billing=[
            line("2024-05-01", 250.0, location_id="L1"),
            line("2024-05-02", 75.25, "Helpdesk", service="helpdesk", location_id="L1"),
        ],
    )
    return attach_deadlines(compute_metrics(ds, params("2024-12-31")), ds.agreements, ds.locations)


def test_portfolio_views_escape_and_colour() -> None:
    m = _metrics()
    cal = portfolio_calendar_html([m])
    assert "<script>" not in cal and "&lt;script&gt;" in cal
    # 2025-03-01 - 30 days = 2025-01-30, 30 days after as-of: "<=30", the nearest window colour
    assert "<td>2025-01-30</td>" in cal and "background:#ea580c" in cal
    asks = portfolio_asks_html([m])
    assert "$75.25 of one-off recoveries" in asks
    sp = provider_spend_html([m])
    assert "<script>" not in sp and "$325.25" in sp
    assert calendar_link_html(4).startswith('<p class="dso-say"><a href="renewal-deadlines.ics"')


def _section(dso_dir: Path, m) -> str:
    """The section as the report shows it: the status read once, then rendered."""
    return negotiation_status_html(negotiation_status_of(dso_dir, m), m)


def test_negotiation_status_sections(tmp_path: Path) -> None:
    m = _metrics()
    assert "No negotiation log yet" in _section(tmp_path, m)
    path = write_new_log(tmp_path, current_asks(m))
    wb = openpyxl.load_workbook(path)
    ws = wb["log"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(row=2, column=col["status"], value="agreed")
    ws.cell(row=2, column=col["amount_asked"], value=75.25)
    ws.cell(row=2, column=col["amount_agreed"], value=70)
    ws.cell(row=2, column=col["owner"]).value = EVIL
    wb.save(path)
    out = _section(tmp_path, m)
    assert "asked $75.25, agreed $70.00, realised $0.00" in out
    # no total mixes windows: each estimate is shown per ask with its window
    assert "<th>Estimate</th>" in out and out.count("<th>Estimate</th>") == 1
    assert "all-time to 2024-12-31" in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    ws.cell(row=2, column=col["amount_realised"], value=80)  # more than agreed: an error
    wb.save(path)
    out = _section(tmp_path, m)
    assert "figures are not shown" in out and "agreed $" not in out
    assert "amount_realised: is more than amount_agreed (70.00)" in out


def test_negotiation_rollup(tmp_path: Path) -> None:
    from dso_analytics.reporting.actions import negotiation_rollup, negotiation_rollup_html

    m = _metrics()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    path = write_new_log(a, current_asks(m))
    wb = openpyxl.load_workbook(path)
    ws = wb["log"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(row=2, column=col["status"], value="realised")
    ws.cell(row=2, column=col["amount_asked"], value=75.25)
    ws.cell(row=2, column=col["amount_agreed"], value=75.25)
    ws.cell(row=2, column=col["amount_realised"], value=60)
    wb.save(path)
    st = {"test-dso": negotiation_status_of(a, m)}
    roll = negotiation_rollup([m], st)
    assert roll.iloc[0][["log", "asked", "agreed", "realised"]].tolist() == [
        "ok", 75.25, 75.25, 60.0
    ]  # fmt: skip
    none = {"test-dso": negotiation_status_of(b, m)}
    assert negotiation_rollup([m], none).iloc[0]["log"] == "none"
    assert negotiation_rollup([m], {}).iloc[0]["log"] == "none"  # a DSO without a status
    assert "realised $60.00 across them" in negotiation_rollup_html([m], st)


def test_an_unreadable_log_is_a_state_not_a_failure(tmp_path: Path, monkeypatch) -> None:
    from dso_analytics.actions import negotiation as N
    from dso_analytics.reporting.actions import negotiation_rollup

    m = _metrics()
    (tmp_path / "negotiation.xlsx").write_bytes(b"not a workbook")
    st = negotiation_status_of(tmp_path, m)
    assert st.state == "unreadable" and st.totals is None and st.problems == ()
    # the wording the report has always shown
    assert _section(tmp_path, m) == (
        '<p class="dso-say">The negotiation log could not be read: negotiation.xlsx: is not an '
        "Excel .xlsx workbook (it looks like another kind of file)</p>"
    )
    # in the portfolio roll-up an unreadable log counts as a log with errors: no figures
    row = negotiation_rollup([m], {m.dso: st}).iloc[0]
    assert row["log"] == "errors" and row["items"] == 0 and row["asked"] != row["asked"]  # NaN

    # whatever the reader raises, the section shows it as escaped text
    def hostile(dso_dir):
        raise RuntimeError(EVIL)

    monkeypatch.setattr(N, "read_log", hostile)
    st = negotiation_status_of(tmp_path, m)
    assert (st.state, st.reason) == ("unreadable", EVIL)
    out = negotiation_status_html(st, m)
    assert "<script>" not in out and "could not be read: &lt;script&gt;alert(" in out
