"""Agreement extraction: the labelled set (precision/recall per field), the reader's refusals,
and the rules on hand-written clauses (distractors, amendments, numbers in words).

The labelled agreements are ASCII texts in ``tests/data/agreements`` rendered here as PDF
(fpdf2), DOCX (python-docx) and TXT from the same text (``tests/support/agreement_docs.py``); their ground
truth is ``truth.yaml``.  Every file is read back by the real readers (pypdf, python-docx).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dso_analytics.errors import InputFileError
from dso_analytics.extract import Document, extract_document, extract_file, read_document
from dso_analytics.extract import document as document_mod
from dso_analytics.extract.text import normalise, split_sentences
from tests.support.agreement_docs import page_count, render_all
from tests.support.extract_eval import Score, read_truth, score_one
from tests.support.paths import DATA

FORMATS = ("pdf", "docx", "txt")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, Path]]:
    return render_all(tmp_path_factory.mktemp("agreements"))


@pytest.fixture(scope="module")
def results(rendered) -> dict[tuple[str, str], dict]:
    return {
        (stem, fmt): extract_file(paths[fmt]).to_dict()
        for stem, paths in rendered.items()
        for fmt in FORMATS
    }


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u201c", '"').replace("\u201d", '"')
                  .replace("\u2019", "'"))  # fmt: skip


def _values(result: dict):
    for col, t in result["agreement"].items():
        if t is not None:
            yield col, t
    for code, t in result["services"].items():
        yield f"services.{code}", t
    for code, t in result["documentation"].items():
        yield f"documentation.{code}", t


# ---------------------------------------------------------------------------
# The labelled set
# ---------------------------------------------------------------------------
def test_labelled_set_is_varied_and_rendered_page_for_page(rendered) -> None:
    truth = read_truth()
    assert len(truth) >= 12
    assert set(truth) == set(rendered)
    counts = set()
    for stem, paths in rendered.items():
        n = page_count(stem)
        counts.add(n)
        assert 2 <= n <= 8, stem
        # the PDF and the DOCX have exactly the pages of the source text
        assert len(read_document(paths["pdf"]).pages) == n, stem
        assert len(read_document(paths["docx"]).pages) == n, stem
    assert min(counts) == 2 and max(counts) == 8


@pytest.mark.parametrize("fmt", FORMATS)
def test_precision_and_recall_per_field(results, fmt, capsys) -> None:
    truth = read_truth()
    score = Score()
    for stem, want in truth.items():
        score_one(results[(stem, fmt)], want, f"{stem}.{fmt}", score)
    with capsys.disabled():
        print(f"\n--- extraction confusion per field, {fmt.upper()} ({len(truth)} agreements) ---")
        print(score.table())
        for line in score.errors:
            print("  ", line)
    precision, recall, *_ = score.totals()
    assert precision >= 0.95
    assert recall >= 0.85


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_value_cites_its_page_and_sentence(rendered, results, fmt) -> None:
    for stem, paths in rendered.items():
        doc = read_document(paths[fmt])
        for name, t in _values(results[(stem, fmt)]):
            assert isinstance(t["page"], int) and 1 <= t["page"] <= len(doc.pages), (stem, name)
            assert t["evidence"] and 0 < t["confidence"] <= 1, (stem, name)
            # the evidence sentence is on the cited page, as written
            assert _squash(t["evidence"]) in _squash(doc.pages[t["page"] - 1]), (stem, name)


def test_cited_pages_match_the_truth_and_agree_across_formats(results) -> None:
    truth = read_truth()
    for stem, want in truth.items():
        for col, page in (want.get("pages") or {}).items():
            for fmt in FORMATS:
                got = results[(stem, fmt)]["agreement"][col]
                assert got is not None and got["page"] == page, (stem, fmt, col)
        for col in results[(stem, "pdf")]["agreement"]:
            pages = {
                None if results[(stem, f)]["agreement"][col] is None
                else results[(stem, f)]["agreement"][col]["page"]
                for f in FORMATS
            }  # fmt: skip
            assert len(pages) == 1, (stem, col, pages)


def test_null_when_not_stated_and_null_with_evidence_for_cpi(results) -> None:
    short = results[("a08-short-flat", "pdf")]["agreement"]
    for col in ("auto_renew", "renewal_term_months", "notice_days", "notice_method", "baa",
                "reporting", "annual_uplift_pct", "p1_response_minutes"):  # fmt: skip
        assert short[col] is None, col
    cpi = results[("a03-evergreen-per-location", "docx")]["agreement"]["annual_uplift_pct"]
    assert cpi["value"] is None and cpi["page"] == 1 and "CPI plus 2%" in cpi["evidence"]


def test_amendments_win_and_distractors_are_ignored(results) -> None:
    a04 = results[("a04-amended-workstation", "pdf")]["agreement"]
    assert (a04["monthly_rate"]["value"], a04["monthly_rate"]["page"]) == (118.0, 4)
    assert a04["notice_days"]["value"] == 90
    assert a04["start_date"]["value"] == "2023-04-01"  # not the amendment's own date
    a12 = results[("a12-two-amendments", "txt")]["agreement"]
    assert (a12["term_months"]["value"], a12["notice_days"]["value"]) == (48, 90)
    assert (a12["onboarding_terms"]["value"], a12["onboarding_cap"]["value"]) == ("capped", 6000.0)
    a01 = results[("a01-keystone-location", "pdf")]["agreement"]
    assert a01["notice_days"]["value"] == 60  # not "due within thirty (30) days", not the warranty
    a02 = results[("a02-summit-organization", "docx")]["agreement"]
    assert a02["notice_days"]["value"] == 90  # not the 30-day cure notice nor the 60-day exit


# ---------------------------------------------------------------------------
# Rules on hand-written clauses
# ---------------------------------------------------------------------------
def _extract(*pages: str) -> dict:
    doc = Document(path=Path("clause.txt"), pages=tuple(pages), kind="txt")
    return extract_document(doc).to_dict()


def _v(result: dict, col: str) -> object:
    t = result["agreement"][col]
    return None if t is None else t["value"]


def test_numbers_in_words_and_durations() -> None:
    assert normalise("ninety (90) days") == "90 days"
    assert normalise("one hundred twenty (120) days") == "120 days"
    assert normalise("successive one-year terms") == "successive 1-year terms"
    assert normalise("two and one-half percent (2.5%)") == "2.5%"
    r = _extract(
        "This Services Agreement is entered into as of the 3rd day of June, 2024 between "
        'Smile Co ("Client") and Fixit LLC ("Provider").\n\n'
        "The initial term of this Agreement is three (3) years. This Agreement shall "
        "automatically renew for successive periods of eighteen months unless either party "
        "gives notice of non-renewal at least forty-five days before the end of the then-current "
        "term."
    )
    assert _v(r, "provider") == "Fixit LLC"
    assert _v(r, "start_date") == "2024-06-03"
    assert (_v(r, "term_months"), _v(r, "auto_renew")) == (36, True)
    assert (_v(r, "renewal_term_months"), _v(r, "notice_days")) == (18, 45)


def test_escalators_cap_cpi_and_fixed() -> None:
    def uplift(sentence: str) -> object:
        return _v(
            _extract("This Agreement sets the fees and services. " + sentence), "annual_uplift_pct"
        )

    assert uplift("Fees may increase each year by an amount not to exceed 5%.") == 5.0
    assert uplift("Each year the fees shall increase by CPI plus 2%.") is None
    assert uplift("Prices shall remain fixed for the term.") == 0.0
    assert uplift("Late payments bear interest at 1.5% per month.") is None
    r = _extract("This Agreement covers fees. Each year the fees shall increase by CPI plus 2%.")
    assert r["agreement"]["annual_uplift_pct"]["evidence"].startswith("Each year")


def test_definitions_payment_terms_warranty_and_retention_are_not_terms() -> None:
    r = _extract(
        'This Agreement governs services. "Renewal Term" has the meaning given in Section 3.\n\n'
        "Invoices are due within thirty (30) days. Hardware carries a ninety (90) day warranty. "
        "Provider shall retain records for six (6) years. Either party may terminate for breach "
        "on sixty (60) days' written notice."
    )
    for col in ("renewal_term_months", "notice_days", "term_months", "auto_renew"):
        assert _v(r, col) is None, col


def test_evergreen_no_renewal_and_notice_method() -> None:
    r = _extract(
        "The initial term of this Agreement is 12 months. Thereafter this Agreement continues "
        "month-to-month until either party gives thirty (30) days' notice of termination.\n\n"
        "Notices shall be sent by registered mail or by email to legal@msp.example."
    )
    assert (_v(r, "auto_renew"), _v(r, "renewal_term_months"), _v(r, "notice_days")) == (
        True,
        1,
        30,
    )
    assert _v(r, "notice_method") == "registered mail; email to legal@msp.example"
    r = _extract(
        "The term of this Agreement is 24 months. This Agreement shall not automatically renew."
    )
    assert (_v(r, "auto_renew"), _v(r, "renewal_term_months")) == (False, None)


def test_services_and_documentation_clauses() -> None:
    r = _extract(
        "This Agreement lists the services. The monthly fee includes help desk and patch "
        "management. After-hours support is billed at $150 per hour; hardware is excluded.\n\n"
        "Provider shall produce access control logs. Provider will enable multi-factor "
        "authentication on every account."
    )
    assert {k: v["coverage"] for k, v in r["services"].items()} == {
        "helpdesk": "included", "patch_management": "included",
        "after_hours_support": "add_on", "hardware": "excluded",
    }  # fmt: skip
    assert r["services"]["after_hours_support"]["add_on_rate"] == 150.0
    assert r["services"]["after_hours_support"]["add_on_unit"] == "per_hour"
    assert set(r["documentation"]) == {"access_control_logs"}  # enabling MFA is not documenting it
    r = _extract("This Agreement lists the services. The monthly fee includes unlimited help "
                 "desk support; patch management is included.")  # fmt: skip
    assert r["services"]["helpdesk"]["unlimited"] is True
    assert "unlimited" not in r["services"]["patch_management"]


def test_contradictory_p1_levels_are_dropped_not_guessed() -> None:
    r = _extract("This Agreement sets service levels. P1: response within 4 hours, resolution "
                 "within 2 hours.")  # fmt: skip
    assert (_v(r, "p1_response_minutes"), _v(r, "p1_resolution_hours")) == (None, None)


def test_sentence_splitting_keeps_company_abbreviations() -> None:
    assert split_sentences('Apex, Inc. (the "MSP") agrees. P.C. is fine. Next one.') == [
        'Apex, Inc. (the "MSP") agrees.', "P.C. is fine.", "Next one."]  # fmt: skip


# ---------------------------------------------------------------------------
# The reader's refusals (one line, naming the file)
# ---------------------------------------------------------------------------
def _pdf_bytes(text: str | None = None, pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        if text:
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 5, text)
        else:  # a "scan": drawn shapes, no text layer
            pdf.set_fill_color(40, 40, 40)
            for y in range(20, 260, 8):
                pdf.rect(20, y, 170, 3, style="F")
    return bytes(pdf.output())


CONTRACT = ("This Managed Services Agreement is entered into by Client and Provider. The term is "
            "12 months and the fees are payable monthly. Notice shall be given in writing.")  # fmt: skip


def _refusal(path: Path) -> str:
    with pytest.raises(InputFileError) as exc:
        read_document(path)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(path))
    return msg


def test_scanned_encrypted_corrupt_and_non_contract_are_refused(tmp_path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_pdf_bytes(None, pages=2))
    assert "no text layer" in _refusal(scan) and "OCR" in _refusal(scan)

    from pypdf import PdfReader, PdfWriter

    plain_pdf = tmp_path / "plain.pdf"
    plain_pdf.write_bytes(_pdf_bytes(CONTRACT))
    assert read_document(plain_pdf).pages[0].startswith("This Managed Services")
    writer = PdfWriter(clone_from=PdfReader(plain_pdf))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as fh:
        writer.write(fh)
    assert "encrypted" in _refusal(locked)

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    assert "corrupt" in _refusal(broken)
    renamed = tmp_path / "renamed.pdf"
    renamed.write_bytes(b"PK\x03\x04 not a pdf")
    assert "not a PDF" in _refusal(renamed)
    fake_docx = tmp_path / "old.docx"
    fake_docx.write_bytes(b"\xd0\xcf\x11\xe0 an old .doc renamed")
    assert "not a Word .docx" in _refusal(fake_docx)
    recipe = tmp_path / "recipe.txt"
    recipe.write_text("Banana bread\n\nMash three bananas, add flour and bake for an hour.\n")
    assert "does not read as an agreement" in _refusal(recipe)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert "is empty" in _refusal(empty)
    assert "not a supported" in _refusal(tmp_path / "contract.doc")


def test_size_and_page_limits(tmp_path, monkeypatch) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(_pdf_bytes(CONTRACT, pages=3))
    monkeypatch.setattr(document_mod, "MAX_PAGES", 2)
    assert "3 pages, more than the 2-page limit" in _refusal(big)
    monkeypatch.setattr(document_mod, "MAX_PAGES", 300)
    monkeypatch.setattr(document_mod, "MAX_TEXT_CHARS", 100)
    assert "characters of text, more than the 100 limit" in _refusal(big)
    monkeypatch.setattr(document_mod, "MAX_FILE_BYTES", 1024)
    assert "larger than the" in _refusal(big)


def test_docx_page_breaks_as_written(tmp_path) -> None:
    import docx
    from docx.enum.text import WD_BREAK

    d = docx.Document()
    d.add_paragraph(CONTRACT)
    d.add_page_break()
    d.add_paragraph("Second page starts here.").runs[0].add_break(WD_BREAK.PAGE)  # break after
    d.add_paragraph("Third page.")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Priority 1", "15 minutes"
    p = tmp_path / "breaks.docx"
    d.save(str(p))
    pages = read_document(p).pages
    assert [x.splitlines()[0] for x in pages] == [
        CONTRACT,
        "Second page starts here.",
        "Third page.",
    ]
    assert pages[2].splitlines()[1] == "Priority 1 | 15 minutes"


def test_extract_imports_no_heavy_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from dso_analytics.extract import extract_file; "
        f"extract_file({str(DATA / 'agreements' / 'a08-short-flat.txt')!r}); "
        "heavy = [m for m in ('great_expectations', 'papermill', 'plotly', 'pandas') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def _docx_with(tmp_path: Path, name: str, transform) -> Path:
    """A one-paragraph contract DOCX whose word/document.xml went through ``transform``."""
    import zipfile

    import docx

    src = tmp_path / f"src-{name}"
    d = docx.Document()
    d.add_paragraph(CONTRACT)
    d.add_paragraph("Second page as Word laid it out.")
    d.save(str(src))
    out = tmp_path / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = transform(data)
            zout.writestr(item, data)
    return out


def test_docx_pages_from_words_saved_layout_doctype_and_zip_limits(tmp_path, monkeypatch) -> None:
    # Word saves its own page layout as w:lastRenderedPageBreak: those marks are the pages
    rendered = _docx_with(
        tmp_path, "rendered.docx",
        lambda x: x.replace(b"<w:t>Second page", b"<w:lastRenderedPageBreak/><w:t>Second page", 1),
    )  # fmt: skip
    assert [p.splitlines()[0] for p in read_document(rendered).pages] == [
        CONTRACT, "Second page as Word laid it out."]  # fmt: skip
    doctype = _docx_with(
        tmp_path, "doctype.docx",
        lambda x: x.replace(b"?>", b'?><!DOCTYPE w [<!ENTITY a "aaaa">]>', 1),
    )  # fmt: skip
    assert "DOCTYPE/ENTITY" in _refusal(doctype)
    monkeypatch.setattr(document_mod, "MAX_DOCX_UNPACKED_BYTES", 1000)
    assert "unpacks to too much data" in _refusal(rendered)


def test_json_to_a_file(tmp_path, capsys) -> None:
    from dso_analytics.cli import main

    src = tmp_path / "contract.txt"
    src.write_text(CONTRACT + "\n\fPage two. Notices shall be sent by certified mail.\n")
    out = tmp_path / "terms.json"
    assert main(["extract", str(src), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    import json

    data = json.loads(out.read_text())
    assert data["pages"] == 2 and data["agreement"]["term_months"]["value"] == 12
    assert data["agreement"]["notice_method"] == {
        "value": "certified mail", "page": 2,
        "evidence": "Notices shall be sent by certified mail.", "confidence": 0.85,
    }  # fmt: skip
