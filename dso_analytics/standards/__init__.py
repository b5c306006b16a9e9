"""The DSO-grade standard: should-be-base services and default metric parameters.

The standard is an editable YAML file shipped with the package
(``dso_analytics/standards/dso_grade.yaml``).  A DSO folder may carry its own
``standard.yaml``; every CLI command and notebook can override single
parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dso_analytics import schema
from dso_analytics.errors import DsoError
from dso_analytics.money import EXACT_AMOUNT_LIMIT, MAX_LINE_AMOUNT

DEFAULT_STANDARD_FILE = "dso_grade.yaml"
DSO_STANDARD_FILE = "standard.yaml"


@dataclass(frozen=True)
class Params:
    """Metric parameters (see ``docs/metrics.md``).

    Attributes
    ----------
    as_of : pandas.Timestamp or None
        As-of date; ``None`` means the latest invoice_date of the DSO.
    target_onboarding_cap : float
        Flat per-location onboarding fee a DSO-grade agreement should cap at.
    target_onboarding_sla_business_days : int
        Onboarding SLA a DSO-grade agreement should promise.
    benchmark_workstation_monthly : tuple of float
        (low, high) market band of managed-IT price per workstation per month.
    alert_windows_days : tuple of int
        Renewal notice buckets, e.g. (30, 90).
    benchmark_source, benchmark_date, benchmark_note : str
        Provenance of the benchmark band (where it comes from, when, caveats);
        shown next to every figure that uses the band.
    should_be_base : tuple of str
        Service codes a DSO-grade agreement includes in the base fee.
    standard_base, dso_grade_base : tuple of str
        The two groups that make up ``should_be_base``.
    max_line_amount : float
        Validation: the largest absolute value a money cell may hold (a line
        over it is a located error; keeps integer-cent sums exact).
    """

    as_of: pd.Timestamp | None = None
    target_onboarding_cap: float = 5000.0
    target_onboarding_sla_business_days: int = 10
    benchmark_workstation_monthly: tuple[float, float] = (100.0, 200.0)
    alert_windows_days: tuple[int, ...] = (30, 90)
    benchmark_source: str = "not given"
    benchmark_date: str = "undated"
    benchmark_note: str = ""
    implausible_years_after_as_of: int = 10
    earliest_plausible_date: pd.Timestamp = field(
        default_factory=lambda: pd.Timestamp("2000-01-01")
    )
    standard_base: tuple[str, ...] = schema.STANDARD_BASE
    dso_grade_base: tuple[str, ...] = schema.DSO_GRADE_BASE
    should_be_base: tuple[str, ...] = schema.STANDARD_BASE + schema.DSO_GRADE_BASE
    max_line_amount: float = MAX_LINE_AMOUNT
    source: str = "built-in"

    def with_overrides(self, **overrides: Any) -> Params:
        """Return a copy with the given non-``None`` parameters replaced.

        ``as_of`` may be given as text (``YYYY-MM-DD``) or a Timestamp.
        """
        clean = {k: v for k, v in overrides.items() if v is not None}
        if "as_of" in clean:
            clean["as_of"] = parse_as_of(clean["as_of"])
        for key in ("benchmark_workstation_monthly", "alert_windows_days"):
            if key in clean:
                clean[key] = tuple(clean[key])
        if "benchmark_workstation_monthly" in clean and "benchmark_source" not in clean:
            band = tuple(float(x) for x in clean["benchmark_workstation_monthly"])
            if band != tuple(self.benchmark_workstation_monthly):
                clean.update(benchmark_source="parameter override", benchmark_date="as run",
                             benchmark_note="band given when the report was run")  # fmt: skip
        unknown = set(clean) - set(self.__dataclass_fields__)
        if unknown:
            raise DsoError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        return replace(self, **clean)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready values (dates ISO)."""
        return {
            "as_of": None if self.as_of is None else self.as_of.date().isoformat(),
            "target_onboarding_cap": self.target_onboarding_cap,
            "target_onboarding_sla_business_days": self.target_onboarding_sla_business_days,
            "benchmark_workstation_monthly": list(self.benchmark_workstation_monthly),
            "alert_windows_days": list(self.alert_windows_days),
            "benchmark_provenance": {
                "source": self.benchmark_source,
                "date": self.benchmark_date,
                "note": self.benchmark_note,
            },
            "max_line_amount": self.max_line_amount,
            "standard": self.source,
        }

    def benchmark_provenance(self) -> str:
        """The band's provenance as one line: ``source: ...; date: ...; note: ...``."""
        text = f"source: {self.benchmark_source}; date: {self.benchmark_date}"
        return text + (f"; note: {self.benchmark_note}" if self.benchmark_note else "")


def parse_as_of(value: object) -> pd.Timestamp:
    """Parse an as-of date given as ``YYYY-MM-DD`` text, date or Timestamp.

    Raises
    ------
    DsoError
        When the text is not a valid ISO date.
    """
    if isinstance(value, pd.Timestamp):
        return value.normalize()
    try:
        ts = pd.Timestamp(str(value)) if not hasattr(value, "year") else pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DsoError(f"as-of date {value!r} is not a date (use YYYY-MM-DD)") from None
    if pd.isna(ts):
        raise DsoError(f"as-of date {value!r} is not a date (use YYYY-MM-DD)")
    return ts.normalize()


def read_standard(path: str | Path | None = None, dso_dir: str | Path | None = None) -> Params:
    """Read the DSO-grade standard into :class:`Params`.

    Parameters
    ----------
    path : str or Path, optional
        An explicit standard file; wins over everything else.
    dso_dir : str or Path, optional
        A DSO folder; its ``standard.yaml`` is used when present.

    Returns
    -------
    Params

    Raises
    ------
    DsoError
        When the file is missing or malformed.
    """
    if path is None and dso_dir is not None and (Path(dso_dir) / DSO_STANDARD_FILE).is_file():
        path = Path(dso_dir) / DSO_STANDARD_FILE
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_STANDARD_FILE).read_text("utf-8")
        source = "built-in dso_grade.yaml"
    else:
        p = Path(path)
        if not p.is_file():
            raise DsoError(f"{p}: standard file not found")
        text = p.read_text("utf-8")
        source = str(p)
    try:
        data = yaml.safe_load(text) or {}
        return _params_from_dict(data, source)
    except (yaml.YAMLError, TypeError, ValueError, KeyError) as exc:
        raise DsoError(f"{source}: not a valid standard file ({exc})") from None


def _params_from_dict(data: dict[str, Any], source: str) -> Params:
    p = data.get("parameters", {}) or {}
    groups = data.get("service_groups", {}) or {}
    std = tuple(groups.get("standard_base", schema.STANDARD_BASE))
    dso = tuple(groups.get("dso_grade_base", schema.DSO_GRADE_BASE))
    named = {"standard_base": std, "dso_grade_base": dso}
    sbb: list[str] = []
    for g in data.get("should_be_base", ["standard_base", "dso_grade_base"]):
        sbb.extend(named.get(g, groups.get(g, [g])))
    for code in sbb:
        if code not in schema.SERVICE_CODES:
            raise ValueError(f"unknown service code {code!r} in should_be_base")
    low, high = p.get("benchmark_workstation_monthly", (100, 200))
    prov = p.get("benchmark_provenance", {}) or {}
    if not isinstance(prov, dict):
        raise ValueError("benchmark_provenance must be a mapping of source, date, note")
    bound = float(p.get("max_line_amount", MAX_LINE_AMOUNT))
    if not 0 < bound <= EXACT_AMOUNT_LIMIT / 1000:
        raise ValueError(f"max_line_amount must be between 0 and {EXACT_AMOUNT_LIMIT / 1000:,.0f}")
    return Params(
        target_onboarding_cap=float(p.get("target_onboarding_cap", 5000)),
        target_onboarding_sla_business_days=int(p.get("target_onboarding_sla_business_days", 10)),
        benchmark_workstation_monthly=(float(low), float(high)),
        alert_windows_days=tuple(int(x) for x in p.get("alert_windows_days", (30, 90))),
        benchmark_source=str(prov.get("source") or "not given"),
        benchmark_date=str(prov.get("date") or "undated"),
        benchmark_note=str(prov.get("note") or ""),
        implausible_years_after_as_of=int(p.get("implausible_years_after_as_of", 10)),
        earliest_plausible_date=pd.Timestamp(p.get("earliest_plausible_date", "2000-01-01")),
        max_line_amount=bound,
        standard_base=std,
        dso_grade_base=dso,
        should_be_base=tuple(dict.fromkeys(sbb)),
        source=source,
    )
