"""Agreements printed to PDF by another producer: Debian's headless Chromium (justified serif
text, HTML tables, typographic quotes) instead of fpdf2.  Extraction must be as good and cite
the same pages."""

from __future__ import annotations

import re
import shutil

import pytest

from dso_analytics.extract import extract_file, read_document
from dso_analytics.reporting.browser import CHROMIUM
from tests.support.agreement_docs import AGREEMENTS_DIR, parse_source, write_chromium_pdf
from tests.support.extract_eval import Score, read_truth, score_one

pytestmark = [pytest.mark.slow, pytest.mark.browser]

STEMS = ("a07-long-eight-pages", "a09-schedule-table-capped-hourly")


def test_chromium_printed_agreements(tmp_path) -> None:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    truth = read_truth()
    score = Score()
    for stem in STEMS:
        pages = parse_source((AGREEMENTS_DIR / f"{stem}.txt").read_text(encoding="ascii"))
        pdf = write_chromium_pdf(pages, tmp_path / f"{stem}.pdf", CHROMIUM)
        doc = read_document(pdf)
        assert len(doc.pages) == len(pages), stem
        result = extract_file(pdf).to_dict()
        score_one(result, truth[stem], f"{stem}.pdf", score)
        for col, page in (truth[stem].get("pages") or {}).items():
            assert result["agreement"][col]["page"] == page, (stem, col)
        for t in [v for v in result["agreement"].values() if v]:
            squash = re.sub(r"\s+", "", t["evidence"])
            page_text = re.sub(r"\s+", "", doc.pages[t["page"] - 1].replace("\u201c", '"')
                               .replace("\u201d", '"').replace("\u2019", "'"))  # fmt: skip
            assert squash in page_text, (stem, t["evidence"])
    print("\n" + score.table())
    precision, recall, *_ = score.totals()
    assert precision >= 0.95 and recall >= 0.85, score.errors
