"""`report` writes the calendar and the letters beside each report, and the action sections.

Checked in the readers' clients: the ``.ics`` parsed back with icalendar and with
vobject (an independent parser), the letters opened with python-docx, the sections
read in the rendered HTML, the workbook read back; the figures worked out by hand
from the sample (``data/sample``, as-of 2026-10-31).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
import icalendar
import pandas as pd
import pytest
import vobject

from dso_analytics.actions.calendar import event_uid
from tests.support.code_names import visible_text

pytestmark = pytest.mark.xdist_group("render")

SUMMIT = "summit-dental-partners"
COASTAL = "coastal-family-dental"
# AG-SDP-01: 2023-05-01 + 36 months = 2026-05-01, renewed 12 months to 2027-05-01;
# notice 120 days before: 2027-05-01 - (30 + 31 + 28 + 31) days = 2027-01-01.
# AG-CFD-01: 2024-02-05 + 36 months = 2027-02-05; 60 days before: 2026-12-07.
# AG-CFD-LEG expired on 2026-04-01 (no event).
EVENTS = {
    SUMMIT: {("AG-SDP-01", "notice_deadline"): date(2027, 1, 1),
             ("AG-SDP-01", "term_end"): date(2027, 5, 1)},
    COASTAL: {("AG-CFD-01", "notice_deadline"): date(2026, 12, 7),
              ("AG-CFD-01", "term_end"): date(2027, 2, 5)},
}  # fmt: skip


@pytest.fixture(scope="module")
def run(rendered):
    return rendered


def _icalendar(path: Path) -> dict[str, date]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(ev["UID"]): ev.decoded("DTSTART") for ev in cal.walk("VEVENT")}


def _vobject(path: Path) -> dict[str, date]:
    cal = vobject.readOne(path.read_text("utf-8"))
    return {ev.uid.value: ev.dtstart.value for ev in cal.vevent_list}


def _text(path: Path) -> str:
    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


@pytest.mark.parametrize("dso", [SUMMIT, COASTAL])
def test_calendar_beside_the_report_two_parsers(run, dso) -> None:
    ics = run.out / dso / "renewal-deadlines.ics"
    want = {event_uid(dso, a, k): d for (a, k), d in EVENTS[dso].items()}
    assert _icalendar(ics) == want
    assert _vobject(ics) == want
    # the same dates in the HTML section and the workbook's Deadlines sheet
    page = visible_text((run.out / dso / "renewal-leverage.html").read_text("utf-8"))
    assert "Deadlines to act on" in page and "Add 2 deadlines to your calendar" in page
    sheet = pd.read_excel(run.out / dso / "renewal-leverage.xlsx", sheet_name="Deadlines",
                          engine="calamine")  # fmt: skip
    assert sorted(pd.to_datetime(sheet["Date"]).dt.date) == sorted(want.values())
    for d in want.values():
        assert d.isoformat() in page


def test_report_links_the_calendar_offline(run) -> None:
    for folder in (run.out / SUMMIT, run.out / "portfolio"):
        html = next(folder.glob("*.html")).read_text("utf-8")
        assert 'href="renewal-deadlines.ics"' in html  # relative: works from the folder
        assert (folder / "renewal-deadlines.ics").is_file()


def test_letters_beside_the_report_python_docx(run) -> None:
    letters = run.out / SUMMIT / "letters"
    assert sorted(p.name for p in letters.iterdir()) == [
        "claim-letter-keystone-managed-it.docx", "notice-letter-ag-sdp-01.docx",
    ]  # fmt: skip
    claim = _text(letters / "claim-letter-keystone-managed-it.docx")
    # credits to claim: 59,690.00 billed despite included + 12,600.00 above the cap
    assert "net of credits already issued): USD 72,290.00" in claim
    notice = _text(letters / "notice-letter-ag-sdp-01.docx")
    assert "2027-01-01" in notice and "Summit" in notice
    # the deadlines table of the HTML shows the same dollars at stake on AG-SDP-01
    page = visible_text((run.out / SUMMIT / "renewal-leverage.html").read_text("utf-8"))
    assert "$72,290.00" in page


def test_negotiation_status_section(run) -> None:
    page = visible_text((run.out / SUMMIT / "renewal-leverage.html").read_text("utf-8"))
    sec = page[page.index("Negotiation status") :]
    # the sample log: asked 59,690.00 + 12,600.00 + 150,000.00 + 10,293.07; agreed 40,000.00
    assert (
        "5 asks and claims in the log, each counted once: asked $232,583.07, agreed "
        "$40,000.00, realised $15,000.00" in " ".join(sec.split())
    )
    assert "1 credit claim still open" in sec
    # asked 2026-09-15, as-of 2026-10-31: 15 + 31 = 46 days; the ask key is shown exactly as
    # the log and the workbook hold it, so the analyst can copy it
    html_page = (run.out / SUMMIT / "renewal-leverage.html").read_text("utf-8")
    full = visible_text(html_page, identifiers=True)
    row = " ".join(full[full.index("1 credit claim still open") :].split())
    assert "claim_above_cap:AG-SDP-01 AG-SDP-01 asked $12,600.00 2026-09-15 46" in row
    other = visible_text((run.out / COASTAL / "renewal-leverage.html").read_text("utf-8"))
    assert "No negotiation log yet: `dso-analytics log init DSO_DIR`" in other


def test_portfolio_sections(run) -> None:
    page = visible_text((run.out / "portfolio" / "portfolio-overview.html").read_text("utf-8"))
    for heading in ("Renewal calendar across DSOs", "Negotiation asks across the portfolio",
                    "Spend per provider across DSOs", "Negotiation status across DSOs"):  # fmt: skip
        assert heading in page
    flat = " ".join(page.split())
    assert (
        "1 of 4 DSOs keeps a negotiation log: asked $232,583.07, agreed $40,000.00, realised "
        "$15,000.00" in flat
    )
    # the portfolio calendar holds every rendered DSO's events, with the same UIDs and dates
    both = _icalendar(run.out / "portfolio" / "renewal-deadlines.ics")
    assert both == _vobject(run.out / "portfolio" / "renewal-deadlines.ics")
    each: dict[str, date] = {}
    for d in run.out.iterdir():
        if d.name != "portfolio" and (d / "renewal-deadlines.ics").is_file():
            each.update(_icalendar(d / "renewal-deadlines.ics"))
    assert both == each
    for dso, events in EVENTS.items():
        for (a, k), d in events.items():
            assert both[event_uid(dso, a, k)] == d


def test_failed_dso_leaves_no_calendar_or_letters(run) -> None:
    broken = run.out / "broken-dso"
    assert not (broken / "renewal-deadlines.ics").exists()
    assert not (broken / "letters").exists()


@pytest.mark.browser
def test_in_chromium_link_resolves_and_buckets_are_coloured(run) -> None:
    """Debian's Chromium, offline: the calendar link opens the file beside the page and the
    portfolio calendar's rows carry their bucket colour."""
    import shutil
    import tempfile

    from playwright.sync_api import sync_playwright

    from dso_analytics.reporting.browser import CHROMIUM, CHROMIUM_ARGS

    page_path = run.out / "portfolio" / "portfolio-overview.html"
    profile = tempfile.mkdtemp(prefix="dso-chromium-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS),
                offline=True,
            )  # fmt: skip
            try:
                page = ctx.new_page()
                page.goto(page_path.resolve().as_uri(), wait_until="load")
                href = page.eval_on_selector('a[href="renewal-deadlines.ics"]', "a => a.href")
                assert href == (run.out / "portfolio" / "renewal-deadlines.ics").resolve().as_uri()
                rows = page.eval_on_selector_all(
                    "tr",
                    "rs => rs.filter(r => r.querySelector('td span')).map(r => ["
                    "r.cells[1].innerText, r.cells[7].innerText.trim(),"
                    "getComputedStyle(r.querySelector('td span')).backgroundColor])",
                )
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    colour = {a: (bucket, rgb) for a, bucket, rgb in rows}
    # AG-CFD-01: 2026-12-07 is 37 days after 2026-10-31; AG-SDP-01: 2027-01-01, 62 days:
    # both in "31-90", the middle alert window: #ca8a04
    assert colour["AG-CFD-01"] == ("31-90", "rgb(202, 138, 4)")
    assert colour["AG-SDP-01"] == ("31-90", "rgb(202, 138, 4)")
    # sorted by the date to act on
    order = [a for a, _, _ in rows]
    assert order.index("AG-CFD-01") < order.index("AG-SDP-01")
