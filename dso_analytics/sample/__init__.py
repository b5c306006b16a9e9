"""Deterministic sample data: the committed sample portfolio and scaled DSOs for benchmarks.

Two writers, both called by ``dso-analytics sample``:

- :func:`write_sample_portfolio` writes three DSOs that together exercise every
  column, code and metric of the data contract (``data/sample/`` is its output,
  committed; a test checks it equals a fresh generation).
- :func:`write_scaled_dso` writes one DSO of N locations x M months (benchmarks).

The sample portfolio is a spec shipped as package data in ``dso_analytics/sample_spec/``
(edit it, then ``make sample``; this package is the small generator that reads it):

- ``portfolio.yaml``: end date, the DSOs in order, which DSO ships the special files;
- ``wording.yaml``: invoice wording per provider style, credit wording, hardware prices;
- per DSO folder: ``dso.yaml`` (written as is), ``locations.csv``, ``agreements.yaml``
  (agreements, services and documentation sheets), ``billing.yaml`` (invoice rules,
  vocabulary in ``_billing._Biller.rule`` and ``_billing._Biller.line``; file layout),
  and optionally ``scenarios.yaml`` and ``negotiation.yaml``.

A cell or value ``a..b`` is a draw from the DSO's seeded
:class:`numpy.random.Generator`: no wall clock, workbook metadata fixed, so the same
seed gives the same bytes.  Invoice wording imitates several MSPs' styles
(ConnectWise-, Autotask-, Syncro- and HaloPSA-like exports);
:data:`DESCRIPTION_TEMPLATES` lists every template by the service code it should
classify to.

Modules: ``_spec`` (reading the spec, constants, description objects), ``_billing``
(billing rules -> invoice lines and files), ``_files`` (writing workbooks, CSV, PDF),
``_scaled`` (the benchmarks' scaled DSO).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dso_analytics.sample._billing import _build_dso
from dso_analytics.sample._files import (
    SAMPLE_SCENARIOS,
    _prepare_out,
    _write_dso,
    _write_negotiation_log,
    _write_scenarios,
    _write_specimen_pdf,
)
from dso_analytics.sample._scaled import write_scaled_dso
from dso_analytics.sample._spec import (
    CREDIT_TEMPLATES,
    DESCRIPTION_TEMPLATES,
    END_DATE,
    NEGOTIATION_DSO,
    PROVIDER_EXPORT_DSO,
    PROVIDER_EXPORT_FILE,
    PROVIDER_EXPORT_LOCATION,
    SAMPLE_DSOS,
    SCALED_LINES_PER_LOCATION_MONTH,
    SCALED_ORG_LINES_PER_MONTH,
    SPECIMEN_DSO,
    _spec_file,
    example_descriptions,
)

__all__ = [
    "CREDIT_TEMPLATES",
    "DESCRIPTION_TEMPLATES",
    "END_DATE",
    "NEGOTIATION_DSO",
    "PROVIDER_EXPORT_DSO",
    "PROVIDER_EXPORT_FILE",
    "PROVIDER_EXPORT_LOCATION",
    "SAMPLE_DSOS",
    "SAMPLE_SCENARIOS",
    "SCALED_LINES_PER_LOCATION_MONTH",
    "SCALED_ORG_LINES_PER_MONTH",
    "SPECIMEN_DSO",
    "example_descriptions",
    "write_sample_portfolio",
    "write_scaled_dso",
]


def write_sample_portfolio(out: Path, seed: int = 7, force: bool = False) -> list[Path]:
    """Write the sample portfolio: one folder per DSO, plus a README.

    Parameters
    ----------
    out : Path
        Portfolio folder (created).  Must be empty or absent unless ``force``.
    seed : int
        Seed of the random generator (``data/sample`` uses 7).
    force : bool
        Replace the DSO folders (and README) this function writes; other
        content of ``out`` is left alone.

    Returns
    -------
    list of Path
        Every file written.

    Raises
    ------
    DsoError
        When ``out`` is a non-empty folder and ``force`` is false.
    """
    out = Path(out)
    _prepare_out(out, (*SAMPLE_DSOS, "README.md"), force)
    written: list[Path] = []
    rows = []
    for k, slug in enumerate(SAMPLE_DSOS):
        dso = _build_dso(slug, np.random.default_rng([seed, k]))
        written += _write_dso(out, dso)
        if dso.slug == SPECIMEN_DSO:
            written += _write_specimen_pdf(out / dso.slug)
        written += _write_scenarios(out / dso.slug)
        if dso.negotiation:
            written.append(_write_negotiation_log(out / dso.slug, dso.negotiation))
        rows.append(
            f"| `{dso.slug}` | {len(dso.locations)} | {len(dso.agreements)} | "
            f"{dso.meta['notes'].removeprefix('Sample DSO (generated). ')} |"
        )
    readme = out / "README.md"
    readme.write_text(
        _spec_file("portfolio-readme.md")
        .read_text(encoding="utf-8")
        .format(
            end=END_DATE.isoformat(),
            rows="\n".join(rows),
            export_dso=PROVIDER_EXPORT_DSO,
            export_file=PROVIDER_EXPORT_FILE,
            export_loc=PROVIDER_EXPORT_LOCATION,
            negotiation_dso=NEGOTIATION_DSO,
        ),
        "utf-8",
    )
    written.append(readme)
    return written
