"""``dso-analytics extract``: JSON output, the reviewable draft (read back with openpyxl),
``--accept`` (conflicts, --force, backup, validation before and after) and refusals.

Most merges inject a validator that records its calls (the real one runs Great Expectations);
one end-to-end merge runs the real validation through ``cli.main``.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from dso_analytics.cli import main
from dso_analytics.extract import extract_file
from dso_analytics.extract.draft import (
    DRAFT_NAME,
    AcceptRefused,
    accept_draft,
    write_draft,
)
from tests.support.agreement_docs import render_all
from tests.support.builders import make_dso

pytestmark = pytest.mark.xdist_group("gx-validation")

NAMES = ["a01-keystone-location", "a02-summit-organization", "a10-no-baa-quarterly"]


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> dict[str, dict[str, Path]]:
    return render_all(tmp_path_factory.mktemp("docs"), names=NAMES)


def _sheet(path: Path, name: str) -> list[dict]:
    wb = openpyxl.load_workbook(path)
    ws = wb[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def _mark_reviewed(path: Path, edits: dict[int, dict[str, object]]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["agreements"]
    head = [c.value for c in ws[1]]
    for row, values in edits.items():
        for col, v in {"reviewed": "yes", **values}.items():
            ws.cell(row=row, column=head.index(col) + 1).value = v
    wb.save(path)


class Recorder:
    """A validator stand-in: returns the given problem lines, call by call."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, dso_dir: Path) -> list[str]:
        self.calls += 1
        return self.answers.pop(0) if self.answers else []


# ---------------------------------------------------------------------------
def test_json_output_one_file(docs, capsys) -> None:
    assert main(["extract", str(docs["a01-keystone-location"]["pdf"])]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["file"].endswith("a01-keystone-location.pdf") and out["pages"] == 2
    assert out["agreement"]["monthly_rate"]["value"] == 145.0
    assert out["agreement"]["monthly_rate"]["page"] == 2
    assert out["agreement"]["new_location_terms"] is None  # not stated: null
    assert out["services"]["after_hours_support"] == {
        "coverage": "add_on", "page": 1,
        "evidence": "1.3 After-hours support is billed separately at $175.00 per hour.",
        "confidence": 0.9, "add_on_rate": 175.0, "add_on_unit": "per_hour",
    }  # fmt: skip
    assert out["documentation"] == {}


def test_draft_sheets_values_highlights_and_citations(docs, tmp_path) -> None:
    exs = [extract_file(docs[n]["docx"]) for n in NAMES]
    path = write_draft(exs, tmp_path / DRAFT_NAME)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["agreements", "services", "documentation", "evidence"]
    ag = _sheet(path, "agreements")
    assert [r["agreement_id"] for r in ag] == NAMES
    a02 = ag[1]
    assert a02["provider"] == "Apex Clinical Technology Group, Inc."
    assert (a02["monthly_rate"], a02["pricing_basis"], a02["notice_days"]) == (38500, "flat", 90)
    assert a02["start_date"].date().isoformat() == "2023-01-15"
    assert a02["reviewed"] is None and a02["location_ids"] is None
    ws = wb["agreements"]
    head = [c.value for c in ws[1]]
    cell = ws.cell(row=3, column=head.index("notice_days") + 1)
    assert cell.comment.text.startswith("p. 2: 3.2 Thereafter, this Agreement will automatically")
    assert cell.fill.fgColor.rgb.endswith("D9EAD3")  # confident: green
    # a01 does not state new_location_terms (required): red, blank
    red = ws.cell(row=2, column=head.index("new_location_terms") + 1)
    assert red.value is None and red.fill.fgColor.rgb.endswith("F4CCCC")
    # a01 is scope=location: location_ids must be typed by the analyst (red)
    assert ws.cell(row=2, column=head.index("location_ids") + 1).fill.fgColor.rgb.endswith("F4CCCC")
    sv = _sheet(path, "services")
    row = next(
        r for r in sv if r["agreement_id"] == NAMES[0] and r["service"] == "after_hours_support"
    )
    assert (row["coverage"], row["add_on_rate"], row["add_on_unit"], row["page"]) == (
        "add_on", 175, "per_hour", 1)  # fmt: skip
    doc = _sheet(path, "documentation")
    assert sorted(r["deliverable"] for r in doc if r["agreement_id"] == NAMES[1])[0] == (
        "access_control_logs")  # fmt: skip
    ev = _sheet(path, "evidence")
    baa = next(r for r in ev if r["agreement_id"] == NAMES[2] and r["column"] == "baa")
    assert (baa["value"], baa["page"]) == ("none", 2) and "business associate" in baa["evidence"]
    unstated = next(r for r in ev if r["agreement_id"] == NAMES[2] and r["column"] == "reporting")
    assert unstated["value"] is None and unstated["evidence"] == "(not stated in the agreement)"


def test_draft_text_is_never_a_formula(tmp_path) -> None:
    src = tmp_path / "hostile.txt"
    src.write_text(
        'This IT Agreement is made between Acme Dental ("Client") and Fixit LLC ("Provider").\n\n'
        '=HYPERLINK("http://x") Provider shall deliver a monthly report automatically.\n',
        encoding="utf-8",
    )
    path = write_draft([extract_file(src)], tmp_path / DRAFT_NAME)
    wb = openpyxl.load_workbook(path)
    ws = wb["evidence"]
    cells = [c for row in ws.iter_rows() for c in row if str(c.value or "").startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_extract_refusals_exit_2_and_write_nothing(docs, tmp_path, capsys) -> None:
    dso = make_dso(tmp_path, fmt="xlsx")
    recipe = tmp_path / "recipe.txt"
    recipe.write_text("Banana bread. Mash bananas and bake.\n")
    rc = main(
        ["extract", str(docs["a01-keystone-location"]["pdf"]), str(recipe), "--dso", str(dso)]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0 and "recipe.txt: does not read as an agreement" in err
    assert not (dso / DRAFT_NAME).exists()
    assert main(["extract", str(recipe), "--format", "xlsx"]) == 2  # no --dso
    assert main(["extract", str(tmp_path / "missing.pdf")]) == 2
    assert main(["extract", "--accept", str(tmp_path / "nope.xlsx")]) == 2  # no --dso
    capsys.readouterr()
    # a draft is never overwritten without --force (it may hold review work)
    a01 = str(docs["a01-keystone-location"]["pdf"])
    assert main(["extract", a01, "--dso", str(dso)]) == 0
    assert main(["extract", a01, "--dso", str(dso)]) == 2
    assert "a draft already exists" in capsys.readouterr().err
    assert main(["extract", a01, "--dso", str(dso), "--force", "--agreement-id", "KEY-1"]) == 0
    assert _sheet(dso / DRAFT_NAME, "agreements")[0]["agreement_id"] == "KEY-1"


def test_accept_merges_reviewed_rows_keeps_backup_and_refuses_conflicts(docs, tmp_path) -> None:
    dso = make_dso(tmp_path, fmt="xlsx")
    before = openpyxl.load_workbook(dso / "agreements.xlsx")["agreements"].max_row
    exs = [extract_file(docs[n]["pdf"]) for n in NAMES[:2]]
    draft = write_draft(exs, dso / DRAFT_NAME)
    with pytest.raises(AcceptRefused, match="no agreement row is marked reviewed"):
        accept_draft(draft, dso, validate=Recorder())
    # only row 2 (a01) reviewed, with a bad code and its required blank left: located lines
    _mark_reviewed(draft, {2: {"location_ids": "LOC-001", "baa": "per_planet"}})
    with pytest.raises(AcceptRefused) as exc:
        accept_draft(draft, dso, validate=Recorder())
    assert exc.value.problems == [
        "agreements.draft.xlsx, sheet agreements, row 2, new_location_terms: is blank (required)",
        "agreements.draft.xlsx, sheet agreements, row 2, baa: is not one of per_location, "
        "organization, none ('per_planet')",
    ]
    _mark_reviewed(draft, {2: {"new_location_terms": "amendment", "baa": "per_location"}})
    v = Recorder()
    res = accept_draft(draft, dso, validate=v)
    assert v.calls == 2  # before and after
    assert res.added == [NAMES[0]] and res.backup is not None and res.backup.is_file()
    ag = _sheet(dso / "agreements.xlsx", "agreements")
    assert len(ag) == before  # max_row was header + AG-1; now AG-1 + a01 data rows
    new = ag[-1]
    assert (new["agreement_id"], new["monthly_rate"], new["notice_method"]) == (
        NAMES[0], 145, "certified mail")  # fmt: skip
    today = __import__("datetime").date.today().isoformat()
    assert new["terms_source"] == f"extracted from {NAMES[0]}.pdf, reviewed {today}"
    assert ag[0]["terms_source"] is None  # typed by hand
    assert ag[0]["agreement_id"] == "AG-1"  # the existing row is untouched
    sv = [r for r in _sheet(dso / "agreements.xlsx", "services") if r["agreement_id"] == NAMES[0]]
    assert {r["service"] for r in sv} >= {"helpdesk", "after_hours_support", "hardware"}
    assert "page" not in sv[0] and "evidence" not in sv[0]  # draft-only columns are dropped
    # the same draft again: nothing to do
    res = accept_draft(draft, dso, validate=Recorder())
    assert res.unchanged == [NAMES[0]] and res.backup is None
    # a changed value is a conflict: refused, listed, unless --force
    _mark_reviewed(draft, {2: {"monthly_rate": 139}})
    with pytest.raises(AcceptRefused) as exc:
        accept_draft(draft, dso, validate=Recorder())
    assert exc.value.problems == [
        f"agreements.xlsx, agreement {NAMES[0]}: monthly_rate: 145 in agreements.xlsx, "
        "139 in the draft"
    ]
    res = accept_draft(draft, dso, force=True, validate=Recorder())
    assert res.replaced == [NAMES[0]]
    rows = [
        r for r in _sheet(dso / "agreements.xlsx", "agreements") if r["agreement_id"] == NAMES[0]
    ]
    assert len(rows) == 1 and rows[0]["monthly_rate"] == 139


def test_accept_puts_the_backup_back_when_validation_fails_after(docs, tmp_path) -> None:
    dso = make_dso(tmp_path, fmt="xlsx")
    original = (dso / "agreements.xlsx").read_bytes()
    draft = write_draft([extract_file(docs["a02-summit-organization"]["txt"])], dso / DRAFT_NAME)
    _mark_reviewed(draft, {2: {}})
    v = Recorder(["old problem"], ["old problem", "agreements.xlsx, row 3: a new problem"])
    with pytest.raises(AcceptRefused) as exc:
        accept_draft(draft, dso, validate=v)
    assert exc.value.problems == ["agreements.xlsx, row 3: a new problem"]
    assert (dso / "agreements.xlsx").read_bytes() == original


def test_accept_refuses_a_csv_dso(docs, tmp_path) -> None:
    dso = make_dso(tmp_path, fmt="csv")
    draft = write_draft([extract_file(docs["a02-summit-organization"]["txt"])], tmp_path / "d.xlsx")
    with pytest.raises(Exception, match="keeps its agreements as CSV"):
        accept_draft(draft, dso, validate=Recorder())


@pytest.mark.slow
def test_accept_end_to_end_with_real_validation(docs, tmp_path, capsys) -> None:
    dso = make_dso(tmp_path, fmt="xlsx")
    assert main(["extract", str(docs["a02-summit-organization"]["docx"]), "--dso", str(dso)]) == 0
    _mark_reviewed(dso / DRAFT_NAME, {2: {}})
    capsys.readouterr()
    assert main(["extract", "--accept", str(dso / DRAFT_NAME), "--dso", str(dso)]) == 0
    out = capsys.readouterr().out
    assert f"added {NAMES[1]}" in out and "validation: no new problem (0 before the merge)" in out
    rows = _sheet(dso / "agreements.xlsx", "agreements")
    assert [r["agreement_id"] for r in rows] == ["AG-1", NAMES[1]]


def test_agreement_and_its_amendment_in_two_files(tmp_path, capsys) -> None:
    from tests.support.agreement_docs import AGREEMENTS_DIR, parse_source, write_docx, write_pdf

    pages = parse_source((AGREEMENTS_DIR / "a04-amended-workstation.txt").read_text())
    base = write_pdf(pages[:3], tmp_path / "msa.pdf")
    amendment = write_docx(pages[3:], tmp_path / "amendment-1.docx")
    # without --agreement-id: two agreements; with it: one, the amendment winning
    assert main(["extract", str(base), str(amendment)]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["extract", str(base), str(amendment), "--agreement-id", "AG-RB"]) == 0
    out = json.loads(capsys.readouterr().out)
    ag = out["agreement"]
    assert out["pages"] == 4 and out["file"] == f"{base} + {amendment}"
    assert ag["monthly_rate"] == {
        "value": 118.0, "file": "amendment-1.docx", "page": 1,
        "evidence": "1. Section 4.2 of the Agreement is deleted and replaced with the following: "
                    '"Client shall pay $118.00 per workstation per month for the Services."',  # quotes straightened
        "confidence": 0.95,
    }  # fmt: skip
    assert (ag["notice_days"]["value"], ag["notice_days"]["file"]) == (90, "amendment-1.docx")
    assert (ag["term_months"]["value"], ag["term_months"]["file"]) == (24, "msa.pdf")
    assert ag["start_date"]["value"] == "2023-04-01"
    dso = make_dso(tmp_path, fmt="xlsx")
    assert main(["extract", str(base), str(amendment), "--agreement-id", "AG-RB", "--dso",
                 str(dso)]) == 0  # fmt: skip
    wb = openpyxl.load_workbook(dso / DRAFT_NAME)
    ws = wb["agreements"]
    head = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=1).value == "AG-RB"
    note = ws.cell(row=2, column=head.index("monthly_rate") + 1).comment.text
    assert note.startswith("amendment-1.docx, p. 1: 1. Section 4.2")


def test_accept_writes_text_as_text_never_a_formula(docs, tmp_path) -> None:
    dso = make_dso(tmp_path, fmt="xlsx")
    draft = write_draft([extract_file(docs["a02-summit-organization"]["txt"])], dso / DRAFT_NAME)
    _mark_reviewed(draft, {2: {}})
    wb = openpyxl.load_workbook(draft)
    cell = wb["agreements"]["B2"]
    cell.value = '=HYPERLINK("http://x","Apex")'
    cell.data_type = "s"  # typed as text ('=... in Excel)
    wb.save(draft)
    accept_draft(draft, dso, validate=Recorder())
    wb = openpyxl.load_workbook(dso / "agreements.xlsx")
    ws = wb["agreements"]
    cell = next(c for c in ws["B"] if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"
