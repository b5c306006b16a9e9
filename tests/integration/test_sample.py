"""The sample generator: deterministic, committed output up to date, sizes, scaling, no overwrite."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from dso_analytics import schema as S
from dso_analytics.errors import DsoError
from dso_analytics.sample import (
    CREDIT_TEMPLATES,
    DESCRIPTION_TEMPLATES,
    SAMPLE_DSOS,
    SCALED_LINES_PER_LOCATION_MONTH,
    SCALED_ORG_LINES_PER_MONTH,
    example_descriptions,
    write_sample_portfolio,
    write_scaled_dso,
)
from tests.support.paths import SAMPLE

MB = 1024 * 1024


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path (dotfiles such as .gitattributes excluded)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "portfolio"
    write_sample_portfolio(out)
    return out


def test_generation_is_deterministic(fresh: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_sample_portfolio(again)
    a, b = _files(fresh), _files(again)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == []


def test_seed_changes_the_data(tmp_path: Path) -> None:
    a = write_scaled_dso(tmp_path / "a", locations=3, months=2, seed=7, file_format="csv")
    a2 = write_scaled_dso(tmp_path / "a2", locations=3, months=2, seed=7, file_format="csv")
    b = write_scaled_dso(tmp_path / "b", locations=3, months=2, seed=8, file_format="csv")
    assert _files(a) == _files(a2)
    assert _files(a)["billing/LOC-0001.csv"] != _files(b)["billing/LOC-0001.csv"]


def test_committed_sample_equals_fresh_generation(fresh: Path) -> None:
    """data/sample is generator output: regenerate with
    `dso-analytics sample data/sample --force`, never edit by hand."""
    committed, new = _files(SAMPLE), _files(fresh)
    assert sorted(committed) == sorted(new)
    stale = [name for name in new if committed[name] != new[name]]
    assert stale == [], "data/sample is stale: run `dso-analytics sample data/sample --force`"


def test_sample_layout_and_size(fresh: Path) -> None:
    total = sum(p.stat().st_size for p in fresh.rglob("*") if p.is_file())
    assert total < 5 * MB
    assert sorted(p.name for p in fresh.iterdir() if p.is_dir()) == sorted(SAMPLE_DSOS)
    for slug in SAMPLE_DSOS:
        d = fresh / slug
        assert S.is_slug(slug)
        for name in ("dso.yaml", "locations.xlsx", "agreements.xlsx", "billing/organization.csv"):
            assert (d / name).is_file(), f"{slug}/{name}"
        assert len(list((d / "billing").glob("LOC-*.xlsx"))) >= 3
    # at least one per-location CSV billing file, and files that omit location_id
    assert list(fresh.glob("*/billing/LOC-*.csv"))
    with (fresh / "bright-smiles" / "billing" / "LOC-011.csv").open(newline="") as fh:
        header = next(csv.reader(fh))
    assert "location_id" not in header and "amount" in header


def test_templates_cover_every_service_code() -> None:
    assert set(DESCRIPTION_TEMPLATES) == set(S.SERVICE_CODES)
    for code, templates in DESCRIPTION_TEMPLATES.items():
        assert templates, code
        # wording, not service codes such as "cross_location_incidents"
        assert not [t for t in templates for c in S.SERVICE_CODES if "_" in c and c in t]
    pairs = example_descriptions()
    assert len(pairs) == sum(len(v) for v in DESCRIPTION_TEMPLATES.values())
    assert all("{" not in text and "}" not in text for text, _ in pairs)
    assert all("{description}" in t or "{ticket}" in t for t in CREDIT_TEMPLATES)


@pytest.mark.parametrize(
    "rule",
    [
        {"service": "helpdesk", "chanse": 0.1, "amount": 85.0},  # a typo in a key
        {"service": "helpdesk", "amount": -85.0, "credit": "dupe"},  # no such credit wording
        {"service": "helpdesk", "amount": 85.0, "when": {"month": [1]}},  # no such condition
    ],
)
def test_spec_mistakes_are_refused(rule: dict) -> None:
    """A mistyped billing.yaml rule stops the generator instead of being ignored."""
    import numpy as np

    from dso_analytics.sample import END_DATE
    from dso_analytics.sample._billing import _At, _Biller

    b = _Biller(np.random.default_rng(0), [])
    at = _At(END_DATE, None, "INV-1")
    with pytest.raises(DsoError, match="sample spec"):
        b.rule(rule, at, "dentalnet")
    assert b.lines == []


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "p"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DsoError, match="not empty"):
        write_sample_portfolio(out)
    with pytest.raises(DsoError, match="not empty"):
        write_scaled_dso(out, locations=2, months=2)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_force_replaces_only_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "p"
    write_scaled_dso(out, locations=2, months=2, file_format="csv")
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    stray = out / "scaled-2x2" / "billing" / "stray.csv"
    stray.write_text("x", encoding="utf-8")
    write_scaled_dso(out, locations=2, months=2, file_format="csv", force=True)
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert not stray.exists()  # the DSO folder it wrote was replaced as a whole


def test_not_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(DsoError, match="not a folder"):
        write_sample_portfolio(f, force=True)


@pytest.mark.parametrize("kw", [{"locations": 0}, {"months": 0}, {"file_format": "xls"}])
def test_scaled_rejects_bad_arguments(tmp_path: Path, kw: dict) -> None:
    args = {"locations": 2, "months": 2, **kw}
    with pytest.raises(DsoError):
        write_scaled_dso(tmp_path / "x", **args)


def _csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def test_scaled_line_count(tmp_path: Path) -> None:
    dso = write_scaled_dso(tmp_path / "big", locations=20, months=12, file_format="csv")
    assert dso == tmp_path / "big" / "scaled-20x12"
    files = sorted((dso / "billing").glob("*.csv"))
    assert len(files) == 21  # one per location + organization.csv
    lines = sum(_csv_rows(f) for f in files)
    # By hand: 20 locations, 10% = 2 acquired inside the 12-month window at month offsets
    # 0*12//2 = 0 and 1*12//2 = 6, so billed 12 and 6 months; the other 18 every month.
    # 14 lines per billed location-month, 2 onboarding lines per in-window acquisition,
    # 3 organization lines a month:
    # 18*12*14 + (12+6)*14 + 2*2 + 12*3 = 3024 + 252 + 4 + 36 = 3316
    assert SCALED_LINES_PER_LOCATION_MONTH == 14 and SCALED_ORG_LINES_PER_MONTH == 3
    assert lines == 3316
    # and roughly locations x months x lines-per-month (20*12*14 = 3360)
    assert abs(lines - 3360) / 3360 < 0.05


def _digest(root: Path) -> str:
    """sha256 over every file under ``root``: relative path and bytes, in path order."""
    h = hashlib.sha256()
    for name, data in _files(root).items():
        h.update(name.encode() + b"\0" + data)
    return h.hexdigest()


@pytest.mark.parametrize(
    ("file_format", "expected"),
    [
        ("xlsx", "00166a0abed55e8150264579381d746f43691ae086efcc325f9d46ea7ab134ff"),
        ("csv", "1688b51c3130e8d51b064e8593e5d25bf473e88cf2216f90b21e73cdaef4119b"),
    ],
)
def test_scaled_dso_bytes_are_pinned(tmp_path: Path, file_format: str, expected: str) -> None:
    """The benchmarks' scaled DSO stays byte-for-byte what it was (hashes taken before the
    generator was rewritten from a spec): benchmark history stays comparable."""
    dso = write_scaled_dso(tmp_path, locations=12, months=14, file_format=file_format)
    assert _digest(dso) == expected


def test_scaled_xlsx_has_per_location_workbooks(tmp_path: Path) -> None:
    dso = write_scaled_dso(tmp_path / "x", locations=3, months=2)
    names = sorted(p.name for p in (dso / "billing").iterdir())
    assert names == ["LOC-0001.xlsx", "LOC-0002.xlsx", "LOC-0003.xlsx", "organization.xlsx"]
    assert (dso / "locations.xlsx").is_file() and (dso / "agreements.xlsx").is_file()


# ---------------------------------------------------------------------------
# The committed sample exercises the whole contract (read with the real ingest)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_sets() -> dict:
    ingest = pytest.importorskip("dso_analytics.ingest")
    return {slug: ingest.read_dso(SAMPLE / slug) for slug in SAMPLE_DSOS}


def test_sample_reads_without_problems(sample_sets: dict) -> None:
    for slug, ds in sample_sets.items():
        assert [str(p) for p in ds.read_problems] == [], slug
        for table in S.TABLES:
            frame = getattr(ds, table)
            bad = [
                c for c in frame.columns if c.endswith(S.INVALID_SUFFIX) and frame[c].notna().any()
            ]
            assert bad == [], f"{slug} {table}: unparsed cells in {bad}"


@pytest.mark.skipif(
    importlib.util.find_spec("dso_analytics.validation") is None, reason="validation not built yet"
)
@pytest.mark.parametrize("slug", SAMPLE_DSOS)
def test_sample_validates_clean(slug: str) -> None:
    from dso_analytics.validation import validate_dso

    report = validate_dso(SAMPLE / slug)
    # no errors, and no warnings either (e.g. duplicate lines): the sample is clean
    assert [f"{p.severity}: {p}" for p in report.problems] == []


def test_sample_uses_every_code_and_column(sample_sets: dict) -> None:
    import pandas as pd

    frames = {t: pd.concat([getattr(ds, t) for ds in sample_sets.values()]) for t in S.TABLES}
    for table, columns in S.TABLE_COLUMNS.items():
        frame = frames[table]
        for col in columns:
            assert col.name in frame.columns, f"{table}.{col.name} missing"
            assert frame[col.name].notna().any(), f"{table}.{col.name} never filled"
            if col.kind == "code" and col.name != "service":
                used = set(frame[col.name].dropna())
                assert set(col.codes) <= used, f"{table}.{col.name}: unused {set(col.codes) - used}"
        # optional columns are also left blank somewhere (blank = documented default/meaning)
    for col in ("go_live_date", "aliases"):
        assert frames[S.LOCATIONS][col].isna().any()
    agreements = frames[S.AGREEMENTS]
    for col in ("location_ids", "notice_days", "onboarding_cap", "p1_response_minutes"):
        assert agreements[col].isna().any(), col
    assert set(agreements["auto_renew"].dropna()) == {True, False}
    assert set(frames[S.DOCUMENTATION]["specified"].dropna()) == {True, False}
    # services sheets list every service code a line can carry
    assert set(frames[S.SERVICES]["service"]) == set(S.SERVICE_CODES) - {S.UNCLASSIFIED} - {
        S.MANAGED_SERVICES
    }


def test_sample_billing_story(sample_sets: dict) -> None:
    import pandas as pd

    classify = pytest.importorskip("dso_analytics.classify")
    resolved = set()
    for slug, ds in sample_sets.items():
        b = classify.classify_lines(ds.billing)
        dates = pd.to_datetime(b["invoice_date"])
        assert dates.max() == pd.Timestamp("2026-10-31"), slug  # as-of = latest invoice
        months = dates.dt.to_period("M").nunique()
        assert 24 <= months <= 36, slug
        assert (b["amount"] < 0).any(), f"{slug}: no credits"
        assert b["location_id"].isna().any(), f"{slug}: no organization-level lines"
        explicit = b["service"].notna()
        assert 0 < explicit.sum() < len(b) / 4, f"{slug}: some, not most, lines carry a service"
        unclassified = b[S.SERVICE_RESOLVED] == S.UNCLASSIFIED
        assert 1 <= unclassified.sum() <= 5, f"{slug}: unclassified list small, non-empty"
        # wording, never codes, in descriptions
        assert not b["description"].isin(S.SERVICE_CODES).any()
        resolved |= set(b[S.SERVICE_RESOLVED])
    assert resolved == set(S.SERVICE_CODES)


def test_sample_locations_story(sample_sets: dict) -> None:
    import pandas as pd

    sizes = {slug: len(ds.locations) for slug, ds in sample_sets.items()}
    assert sizes == {"bright-smiles": 12, "summit-dental-partners": 40, "coastal-family-dental": 6}
    coastal = sample_sets["coastal-family-dental"].locations
    planned = coastal[coastal["status"] == "planned"]
    assert len(planned) == 2 and (planned["join_date"] > pd.Timestamp("2026-10-31")).all()
    summit = sample_sets["summit-dental-partners"].locations
    recent = summit[
        (summit["join_date"] > pd.Timestamp("2026-01-01")) & (summit["status"] == "active")
    ]
    assert recent["go_live_date"].isna().sum() == 1  # one acquisition not live yet
    for ds in sample_sets.values():
        loc = ds.locations
        live = loc["go_live_date"].notna()
        assert (loc.loc[live, "join_date"] <= loc.loc[live, "go_live_date"]).all()


# ---------------------------------------------------------------------------
# The sample shows every metric (expected values derived by hand from the
# agreements of dso_analytics/sample_spec/<dso>/agreements.yaml)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_metrics(sample_sets: dict) -> dict:
    metrics = pytest.importorskip("dso_analytics.metrics")
    return {
        slug: metrics.metrics_to_dict(metrics.compute_metrics(ds))
        for slug, ds in sample_sets.items()
    }


def test_sample_shows_every_metric(sample_metrics: dict) -> None:
    for slug, m in sample_metrics.items():
        assert m["as_of"] == "2026-10-31", slug
        assert m["addon"]["billed_despite_included"]["t12m"] > 0, slug  # credits to claim
        assert m["addon"]["contractual_add_on"]["all_time"] > 0, slug
        assert any((o["target_overspend"] or 0) > 0 for o in m["onboarding"]), slug
        assert any(a["clause_score"] < 1 for a in m["agreements"]), slug
        assert any(a["notice_deadline"] for a in m["agreements"]), slug
        assert 1 <= m["unclassified_lines"] <= 5, slug
        assert m["negotiation_asks"], slug


def _by(rows: list[dict], key: str) -> dict:
    return {r[key]: r for r in rows}


def test_sample_bright_smiles_renewals(sample_metrics: dict) -> None:
    ags = _by(sample_metrics["bright-smiles"]["agreements"], "agreement_id")
    # AG-BS-005: 2022-02-01 + 36 months, no auto-renew -> expired 2025-02-01
    # (637 days before the as-of 2026-10-31: 2025-02-01 -> 2026-02-01 is 365, -> 2026-10-31 272)
    assert ags["AG-BS-005"]["current_term_end"] == "2025-02-01"
    assert ags["AG-BS-005"]["notice_deadline"] is None
    assert ags["AG-BS-005"]["expiry"] == "2025-02-01"
    assert ags["AG-BS-005"]["days_to_expiry"] == -637
    assert ags["AG-BS-005"]["bucket"] == "expired"
    # AG-BS-006: 2024-01-08 + 24 -> 2026-01-08 (<= as-of) + 12 -> 2027-01-08; -90 days ->
    # 2026-10-10 < as-of: missed; next = 2028-01-08 - 90 days = 2027-10-10
    assert ags["AG-BS-006"]["current_term_end"] == "2027-01-08"
    assert ags["AG-BS-006"]["notice_window_missed"] is True
    assert ags["AG-BS-006"]["next_notice_deadline"] == "2027-10-10"
    onb = _by(sample_metrics["bright-smiles"]["onboarding"], "location_id")
    assert onb["LOC-007"]["contractual_allowance"] is None  # hourly: no ceiling


def test_sample_bright_smiles_t12m_at_a_february_month_end(sample_sets: dict) -> None:
    # issue 17: the sample invoices at month ends.  As of 2025-02-28 (last day of
    # February) T12M = (2024-02-29, 2025-02-28]: the 27 lines dated 2024-02-29
    # (19,630.13 together) are outside.  (as_of - 12 months, as_of] =
    # (2024-02-28, 2025-02-28] counted them: 241,244.70 = 221,614.57 + 19,630.13,
    # thirteen monthly invoices.
    metrics = pytest.importorskip("dso_analytics.metrics")
    from dso_analytics.standards import Params

    ds = sample_sets["bright-smiles"]
    m = metrics.compute_metrics(ds, Params().with_overrides(as_of="2025-02-28"))
    assert str(m.t12m_start.date()) == "2024-02-29"
    leap = m.lines[(m.lines["invoice_date"] == "2024-02-29").to_numpy(bool)]
    assert len(leap) == 27 and round(float(leap["amount"].sum()), 2) == 19630.13
    assert not leap["in_t12m"].any()
    assert m.spend_total["t12m"] == 221614.57
    assert m.kpis["spend_t12m"] == 221614.57 == m.leverage_total["spend_t12m"]


def test_sample_bright_smiles_growth_baseline(sample_metrics: dict) -> None:
    # one growth baseline: AG-BS-ORG (start 2023-01-02, terms amended 2025-01-02)
    # governed no location on its baseline date 2025-01-02 (every location then had
    # its own agreement, or had not joined) -> 0;
    # the DSO total sums the 11 agreements in force at 2026-10-31 (AG-BS-005
    # expired): AG-BS-001 lists 2 locations, the other nine location agreements 1
    # each, AG-BS-ORG 0 -> 11 at the baseline; now they govern 2 + 9 + 0 = 11.
    # (Before issue 17 the total counted the locations joined by the earliest
    # start, 2020-09-01: LOC-001 and LOC-002 -> 2, against 0 for the agreement.)
    m = sample_metrics["bright-smiles"]
    ags = _by(m["agreements"], "agreement_id")
    assert ags["AG-BS-ORG"]["locations_at_start"] == 0
    assert ags["AG-BS-ORG"]["baseline_date"] == "2025-01-02"
    t = m["leverage_total"]
    assert (t["locations_at_start"], t["locations_now"], t["growth"]) == (11, 11, 0.0)
    assert t["baseline"] == (
        "each of the 11 agreements in force at the date its current terms were set, "
        "2020-09-01 to 2026-06-01"
    )


def test_sample_summit_onboarding(sample_metrics: dict) -> None:
    onb = _by(sample_metrics["summit-dental-partners"]["onboarding"], "location_id")
    # LOC-029: capped fee 7,500 + 22 extra hours @ 175 = 7,500 + 3,850 = 11,350
    assert onb["LOC-029"]["billed"] == 11350.0
    assert onb["LOC-029"]["contractual_allowance"] == 7500.0
    assert onb["LOC-029"]["contractual_overspend"] == 3850.0
    assert onb["LOC-029"]["target_overspend"] == 6350.0  # 11,350 - 5,000
    assert onb["LOC-030"]["business_days"] == 27 and onb["LOC-030"]["sla_breached"] is True
    assert onb["LOC-039"]["business_days"] is None  # go-live blank


def test_sample_coastal_notice_and_legacy(sample_metrics: dict) -> None:
    m = sample_metrics["coastal-family-dental"]
    ags = _by(m["agreements"], "agreement_id")
    # 2024-02-05 + 36 months = 2027-02-05; - 60 days = 2026-12-07: 37 days after as-of
    assert ags["AG-CFD-01"]["notice_deadline"] == "2026-12-07"
    onb = _by(m["onboarding"], "location_id")
    assert onb["LOC-003"]["contractual_allowance"] is None  # legacy (quote) governs at join
    assert onb["LOC-004"]["contractual_allowance"] == 0.0  # organizational: included


def test_cli_sample_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dso_analytics.cli import main

    out = tmp_path / "bench"
    args = ["sample", str(out), "--locations", "2", "--months", "3", "--format", "csv"]
    assert main(args) == 0
    assert f"wrote {out / 'scaled-2x3'}" in capsys.readouterr().out
    # again without --force: a plain error, no traceback, non-zero exit
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and "Traceback" not in err
    assert main([*args, "--force"]) == 0


@pytest.mark.skipif(
    importlib.util.find_spec("dso_analytics.validation") is None, reason="validation not built yet"
)
def test_scaled_dso_validates_clean(tmp_path: Path) -> None:
    from dso_analytics.validation import validate_dso

    dso = write_scaled_dso(tmp_path / "s", locations=10, months=6, file_format="csv")
    report = validate_dso(dso)
    assert [f"{p.severity}: {p}" for p in report.problems] == []
    # 9*6*14 + 1 acquisition at offset 0 (6 months)*14 + 2 onboarding + 6*3 = 756+84+2+18
    assert report.summary()["billing_lines"] == 860


def test_specimen_pdf_extracts_to_its_agreements_row() -> None:
    """The agreement PDF shipped next to bright-smiles/agreements.xlsx (generator output,
    needs fpdf2) reads back with `dso-analytics extract` to that row's values."""
    from dso_analytics.extract import EXTRACTED_COLUMNS, extract_file
    from dso_analytics.ingest import read_dso
    from dso_analytics.sample import SPECIMEN_DSO

    pdfs = sorted((SAMPLE / SPECIMEN_DSO).glob("*.pdf"))
    assert [p.name for p in pdfs] == ["AG-BS-001.pdf"]
    assert pdfs[0].stat().st_size < 50 * 1024
    row = read_dso(SAMPLE / SPECIMEN_DSO).agreements.iloc[0].to_dict()
    assert row["agreement_id"] == "AG-BS-001"
    got = extract_file(pdfs[0]).to_dict()["agreement"]
    values = {k: (None if v is None else v["value"]) for k, v in got.items()}
    assert sorted(values) == sorted(EXTRACTED_COLUMNS)
    for key in EXTRACTED_COLUMNS:
        want = row.get(key)
        if want is None or (not isinstance(want, str) and pd.isna(want)):
            want = None
        elif hasattr(want, "date"):
            want = want.date().isoformat()
        elif hasattr(want, "item"):
            want = want.item()
        if key == "terms_effective_date":  # an amendment's date: not in a specimen
            want = None
        if key == "onboarding_hourly_rate" and row["onboarding_terms"] not in ("hourly", "capped"):
            want = None
        if key == "renewal_term_months" and row["auto_renew"] is False:
            want = None
        assert values[key] == want, key


def test_sample_ships_a_provider_export_read_through_its_profile() -> None:
    """summit-dental-partners' LOC-039 billing is a HaloPSA export as it comes: the
    profile recognises it and its lines are read like the generator's contract lines."""
    from decimal import Decimal

    import numpy as np

    from dso_analytics import sample
    from dso_analytics.ingest import read_dso
    from dso_analytics.sample._billing import _build_dso

    file = f"billing/{sample.PROVIDER_EXPORT_FILE}"
    d = SAMPLE / sample.PROVIDER_EXPORT_DSO
    assert (d / file).is_file() and not (d / "billing" / "LOC-039.xlsx").exists()
    # the generator's lines (seed 7, summit is the second DSO of sample_spec/portfolio.yaml)
    gen = _build_dso(sample.PROVIDER_EXPORT_DSO, np.random.default_rng([7, 1]))
    (exported,) = [f for f in gen.billing if f.name == sample.PROVIDER_EXPORT_FILE]
    gen_total = sum(Decimal(r["net_amount"]) for r in exported.rows)
    assert (len(exported.rows), gen_total) == (
        5,
        Decimal("12394.26"),
    )  # 2 x 2051.13 + 2 x 396 + 7500

    ds = read_dso(d)
    assert [p for p in ds.read_problems if p.severity == "error"] == []
    assert {s.path: s.profile for s in ds.sources}[file] == "halopsa-invoice-lines"
    lines = ds.billing[ds.billing["source_file"] == file]
    assert len(lines) == len(exported.rows)
    assert set(lines["location_id"]) == {sample.PROVIDER_EXPORT_LOCATION}
    assert sum(Decimal(str(a)).quantize(Decimal("0.01")) for a in lines["amount"]) == gen_total
    assert list(lines["invoice_number"]) == [r["invoicenumber"] for r in exported.rows]
