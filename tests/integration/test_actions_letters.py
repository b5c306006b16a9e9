"""Claim and notice letters, opened back with python-docx."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest

from dso_analytics.actions.deadlines import compute_deadlines, credit_lines
from dso_analytics.actions.letters import (
    notice_candidates,
    write_claim_letters,
    write_notice_letters,
)
from dso_analytics.cli import main
from dso_analytics.metrics import compute_metrics
from tests.support.metrics_factory import agreement, line, location, make_ds, params
from tests.support.paths import SAMPLE

AS_OF = "2025-06-30"
HOSTILE = '=HYPERLINK("http://evil")<w:t>{ DDEAUTO c:\\\\cmd.exe }</w:t>&amp;\x07'
HOSTILE_SHOWN = '=HYPERLINK("http://evil")<w:t>{ DDEAUTO c:\\\\cmd.exe }</w:t>&amp;'


def _metrics():
    ags = [
        # renews 2025-09-01 with 60 days' notice -> 2025-07-03 (3 days after as-of)
        agreement("AG-A", "2024-09-01", term_months=12, notice_days=60, provider="Acme IT"),
        # renews 2027-01-01 -> deadline 2026-10-03: not due, window open -> no notice letter
        agreement(
            "AG-B",
            "2024-01-01",
            term_months=36,
            notice_days=90,
            provider="Beta / MSP",
            scope="location",
            location_ids="LOC-2",
        ),  # fmt: skip
    ]
    inc = [
        {"agreement_id": a, "service": "helpdesk", "coverage": "included"} for a in ("AG-A", "AG-B")
    ]
    billing = [
        line("2025-01-10", 120.0, "Helpdesk ticket", invoice_number="A-1", location_id="LOC-1",
             service="helpdesk", agreement_id="AG-A", source_file="billing/a.csv", source_row=2),
        line("2025-02-10", 80.5, HOSTILE, invoice_number="A-2", location_id="LOC-1",
             service="helpdesk", agreement_id="AG-A", source_file="billing/a.csv", source_row=3),
        line("2025-03-10", -20.0, "Credit: helpdesk", invoice_number="A-3", location_id="LOC-1",
             service="helpdesk", agreement_id="AG-A", source_file="billing/a.csv", source_row=4),
        line("2025-04-10", 300.0, "Helpdesk", invoice_number="B-1", location_id="LOC-2",
             service="helpdesk", agreement_id="AG-B", source_file="billing/b.csv", source_row=2),
        line("2025-05-10", 900.0, "Managed services", invoice_number="B-2", location_id="LOC-2",
             agreement_id="AG-B", source_file="billing/b.csv", source_row=3),
    ]  # fmt: skip
    ds = make_ds(
        locations=[location("LOC-1"), location("LOC-2")],
        agreements=ags,
        services=inc,
        billing=billing,
        dso="smile-co",
    )
    return ds, compute_metrics(ds, params(AS_OF))


def _cells(doc) -> list[list[list[str]]]:
    return [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables]


def _all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    parts += [c for t in _cells(doc) for r in t for c in r]
    return "\n".join(parts)


def test_claim_letters_hand_worked(tmp_path: Path) -> None:
    ds, m = _metrics()
    # credits to claim: AG-A 120 + 80.50 - 20 = 180.50, AG-B 300 -> 480.50
    assert m.kpis["credits_to_claim"] == 480.5
    paths = write_claim_letters(m, tmp_path)
    assert [p.name for p in paths] == ["claim-letter-acme-it.docx", "claim-letter-beta-msp.docx"]
    totals = {}
    for p in paths:
        doc = docx.Document(str(p))
        text = _all_text(doc)
        assert "smile-co" in text and "[Signature]" in text and "[Date]" in text
        total_par = [x.text for x in doc.paragraphs if x.text.startswith("Total claimed")]
        assert len(total_par) == 1
        totals[p.name] = total_par[0].rsplit("USD ", 1)[1]
        appendix = _cells(doc)[-1]
        assert appendix[0][:6] == [
            "Invoice", "Date", "Location", "Description", "Billed", "Claimed"
        ]  # fmt: skip
        assert appendix[-1][0] == "Total" and appendix[-1][5] == "USD " + totals[p.name]
    assert totals == {"claim-letter-acme-it.docx": "180.50", "claim-letter-beta-msp.docx": "300.00"}
    acme = docx.Document(str(paths[0]))
    rows = _cells(acme)[-1][1:-1]
    assert [r[0] for r in rows] == ["A-1", "A-2", "A-3"]
    assert rows[2][4] == rows[2][5] == "-USD 20.00"
    assert rows[1][3] == HOSTILE_SHOWN  # literal text, control character removed
    assert rows[1][6] == "Agreement AG-A, services schedule: helpdesk included in the base fee"
    assert rows[1][7] == "billing/a.csv, row 3"
    # no field code, hyperlink or injected element: the text is escaped in the XML
    xml = zipfile.ZipFile(paths[0]).read("word/document.xml").decode("utf-8")
    assert "&lt;w:t&gt;{ DDEAUTO" in xml and "&amp;amp;" in xml
    for tag in ("<w:fldSimple", "<w:instrText", "<w:hyperlink", "<w:fldChar"):
        assert tag not in xml


def test_notice_letters_due_and_missed(tmp_path: Path) -> None:
    ds, m = _metrics()
    dl = compute_deadlines(m, ds.agreements, ds.locations)
    due = notice_candidates(dl, 120)
    assert due["agreement_id"].tolist() == ["AG-A"]
    paths = write_notice_letters(m, dl, tmp_path)
    assert [p.name for p in paths] == ["notice-letter-ag-a.docx"]
    doc = docx.Document(str(paths[0]))
    facts = dict((r[0], r[1]) for r in _cells(doc)[0])
    assert facts["Term end"] == "2025-09-01"
    assert facts["Notice must be received by"] == "2025-07-03"
    assert facts["Contractual notice period"] == "60 days before the term end"
    assert facts["Notice method"] == "as the agreement specifies"
    assert facts["Provider"] == "Acme IT"
    text = _all_text(doc)
    assert "Notice of non-renewal and intent to renegotiate" in text
    assert "[Signature]" in text and "[Name]" in text and "smile-co" in text
    # a horizon of 460 days takes AG-B too (its deadline 2026-10-03 is 460 days after as-of)
    assert notice_candidates(dl, 460)["agreement_id"].tolist() == ["AG-A", "AG-B"]


def test_cli_letters_sample_totals_equal_metrics(tmp_path: Path, capsys) -> None:
    dso = tmp_path / "coastal-family-dental"
    shutil.copytree(SAMPLE / "coastal-family-dental", dso)
    out = tmp_path / "letters"
    assert main(["letters", str(dso), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    from dso_analytics.standards import read_standard
    from dso_analytics.validation import load_dso

    m = compute_metrics(load_dso(dso), read_standard(dso_dir=dso))
    claimed = credit_lines(m)
    total, seen = 0.0, set()
    for p in sorted(out.glob("claim-letter-*.docx")):
        assert f"wrote {p}" in printed
        doc = docx.Document(str(p))
        par = next(x.text for x in doc.paragraphs if x.text.startswith("Total claimed"))
        total += float(par.rsplit("USD ", 1)[1].replace(",", ""))
        for r in _cells(doc)[-1][1:-1]:
            seen.add((r[0], r[1], r[7]))
    # 26 billed-despite-included lines net 3,800.00 + LOC-004 onboarding billed although
    # AG-CFD-01 includes onboarding: 2,400.00 + 990.00 = 3,390.00 -> 7,190.00
    assert round(total, 2) == m.kpis["credits_to_claim"] == 3800.0 + 2400.0 + 990.0
    want = {
        (r.invoice_number, r.invoice_date.date().isoformat(),
         f"{r.source_file}{', sheet ' + r.source_sheet if r.source_sheet else ''}, row {r.source_row}")
        for r in claimed.itertuples()
    }  # fmt: skip
    assert seen == want and len(want) == len(claimed) == 26 + 2
    notices = sorted(q.name for q in out.glob("notice-letter-*.docx"))
    # AG-CFD-01: notice deadline 2026-12-07, 37 days after as-of 2026-10-31; AG-CFD-LEG expired
    assert notices == ["notice-letter-ag-cfd-01.docx"]
    facts = dict((r[0], r[1]) for r in _cells(docx.Document(str(out / notices[0])))[0])
    assert facts["Notice must be received by"] == "2026-12-07"
    nd = m.renewals.set_index("agreement_id").loc["AG-CFD-01", "notice_deadline"]
    assert pd.Timestamp(facts["Notice must be received by"]) == nd


def test_write_report_actions_replaces_stale_letters(tmp_path: Path) -> None:
    from dso_analytics.actions.render import write_report_actions

    ds, m = _metrics()
    stale = tmp_path / "letters" / "notice-letter-old.docx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    from dso_analytics.actions.deadlines import attach_deadlines

    with pytest.raises(ValueError, match="deadlines were not computed"):
        write_report_actions(m, tmp_path)  # the deadlines come from prepare, never recomputed
    out = write_report_actions(attach_deadlines(m, ds.agreements, ds.locations), tmp_path)
    assert out["ics"] == (tmp_path / "renewal-deadlines.ics").resolve()
    assert out["events"] == len(out["deadlines"]) == 4  # AG-A and AG-B: notice + term end each
    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == [
        "claim-letter-acme-it.docx", "claim-letter-beta-msp.docx", "notice-letter-ag-a.docx",
    ]  # fmt: skip
