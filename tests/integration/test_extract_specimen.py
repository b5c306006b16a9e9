"""Round trip: every agreement of the committed sample portfolio, written as a contract would
state it (``extract.specimen``) and printed as a PDF, is extracted back to the very values of
its ``agreements.xlsx`` row, services and documentation (typed by the real ingest)."""

from __future__ import annotations

import pandas as pd
import pytest

from dso_analytics.extract import EXTRACTED_COLUMNS, extract_file
from dso_analytics.extract.specimen import compose_agreement, write_agreement_pdf
from dso_analytics.ingest import read_dso
from tests.support.paths import SAMPLE, SAMPLE_DSOS


def _plain(v: object) -> object:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if hasattr(v, "item"):
        v = v.item()
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


def _records(frame: pd.DataFrame, aid: str) -> list[dict]:
    rows = frame[frame["agreement_id"] == aid]
    return [{k: _plain(v) for k, v in r.items()} for r in rows.to_dict("records")]


@pytest.mark.parametrize("slug", SAMPLE_DSOS)
def test_sample_agreements_round_trip_through_pdf(slug: str, tmp_path) -> None:
    ds = read_dso(SAMPLE / slug)
    names = dict(zip(ds.locations["location_id"], ds.locations["location_name"], strict=True))
    checked = 0
    for row in ds.agreements.to_dict("records"):
        aid = row["agreement_id"]
        want = {k: _plain(row.get(k)) for k in EXTRACTED_COLUMNS}
        services = _records(ds.services, aid)
        docs = _records(ds.documentation, aid)
        locs = "; ".join(names.get(x.strip(), x) for x in str(row["location_ids"] or "").split(";")
                         if x.strip())  # fmt: skip
        pages = compose_agreement(row | want, services, docs, client=ds.display_name,
                                  locations=locs)  # fmt: skip
        pdf = write_agreement_pdf(pages, tmp_path / f"{aid}.pdf")
        got = extract_file(pdf).to_dict()
        values = {k: (None if v is None else v["value"]) for k, v in got["agreement"].items()}
        want["terms_effective_date"] = None  # an amendment's date: not in a specimen
        if want["auto_renew"] is False:  # ingest's default of 12 means nothing then
            want["renewal_term_months"] = None
        if want["onboarding_terms"] not in ("hourly", "capped"):  # the specimen quotes no rate
            want["onboarding_hourly_rate"] = None
        assert {k: _plain(v) for k, v in values.items()} == want, aid
        expected = {s["service"]: s["coverage"] for s in services}
        got_services = {k: v["coverage"] for k, v in got["services"].items()}
        if want["onboarding_terms"] is not None:  # read from the onboarding clause
            derived = "included" if want["onboarding_terms"] == "included" else "add_on"
            assert got_services.pop("new_location_onboarding") == derived, aid
            # (the sample's legacy agreement files quoted onboarding as "excluded")
            expected.pop("new_location_onboarding", None)
        assert got_services == expected, aid
        assert {k: v["specified"] for k, v in got["documentation"].items()} == {
            d["deliverable"]: d["specified"] for d in docs
        }, aid
        checked += 1
    assert checked == len(ds.agreements) > 0


def test_specimen_pdf_bytes_are_deterministic(tmp_path) -> None:
    pages = compose_agreement({"provider": "Fixit LLC", "term_months": 12}, client="Acme Dental")
    a = write_agreement_pdf(pages, tmp_path / "a.pdf").read_bytes()
    b = write_agreement_pdf(pages, tmp_path / "b.pdf").read_bytes()
    assert a == b
