"""The DSO-grade standard and the one place metric parameters are resolved.

:func:`resolve_params` builds the :class:`Params` every consumer uses (CLI,
pipeline, report kernels, notebooks opened by hand), in this order, each layer
replacing only the values it sets:

1. the standard file: the built-in ``dso_analytics/standards/dso_grade.yaml``,
   or the file given with ``--standard FILE`` (source ``default`` / ``standard file``);
2. the DSO folder's own ``standard.yaml``, when present (source ``DSO standard``);
3. explicit overrides: CLI options or notebook parameters that are not ``None``
   (source ``override``).

``Params.sources`` records where each parameter came from; the report cover
shows it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
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

#: The parameters an analyst sets per run (CLI option, notebook parameter, cover row).
PARAMETERS = (
    "as_of",
    "target_onboarding_cap",
    "target_onboarding_sla_business_days",
    "benchmark_workstation_monthly",
    "alert_windows_days",
)
#: Where a parameter's value came from.
SOURCE_DEFAULT = "default"
SOURCE_STANDARD_FILE = "standard file"
SOURCE_DSO = "DSO standard"
SOURCE_OVERRIDE = "override"


class ParameterError(DsoError):
    """A parameter value that cannot be used (a usage error: exit code 2)."""

    exit_code = 2


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
    #: ``(parameter, source)`` for each of :data:`PARAMETERS` (see :func:`resolve_params`)
    sources: tuple[tuple[str, str], ...] = ()
    #: the standard file given instead of the built-in one (``--standard``), if any
    standard_file: str | None = None

    def source_of(self, name: str) -> str:
        """Where parameter ``name`` came from (``default``, ``standard file``,
        ``DSO standard`` or ``override``)."""
        return dict(self.sources).get(name, SOURCE_DEFAULT)

    def with_overrides(self, **overrides: Any) -> Params:
        """Return a copy with the given non-``None`` parameters replaced (checked, see
        :func:`check_overrides`); their source becomes ``override``."""
        clean = check_overrides(overrides)
        if "benchmark_workstation_monthly" in clean and "benchmark_source" not in clean:
            band = tuple(float(x) for x in clean["benchmark_workstation_monthly"])
            if band != tuple(self.benchmark_workstation_monthly):
                clean.update(benchmark_source="parameter override", benchmark_date="as run",
                             benchmark_note="band given when the report was run")  # fmt: skip
        unknown = set(clean) - set(self.__dataclass_fields__)
        if unknown:
            word = "parameter" if len(unknown) == 1 else "parameters"
            raise ParameterError(f"unknown {word}: {', '.join(sorted(unknown))}")
        sources = dict(self.sources) | {k: SOURCE_OVERRIDE for k in clean}
        return replace(self, **clean, sources=tuple(sources.items()))

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready values (dates ISO) with their sources."""
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
            "sources": {name: self.source_of(name) for name in PARAMETERS},
        }

    def benchmark_provenance(self) -> str:
        """The band's provenance as one line: ``source: ...; date: ...; note: ...``."""
        text = f"source: {self.benchmark_source}; date: {self.benchmark_date}"
        return text + (f"; note: {self.benchmark_note}" if self.benchmark_note else "")


def notebook_parameters(params: Params) -> dict[str, Any]:
    """The papermill parameters that make a report notebook resolve ``params`` again.

    Only the explicit overrides and the standard file: the notebook resolves the
    rest itself (:func:`resolve_params`), so an executed notebook re-run by hand
    in JupyterLab gives the same figures.  JSON-ready values.
    """
    out: dict[str, Any] = {"standard": params.standard_file}
    for name in PARAMETERS:
        if params.source_of(name) != SOURCE_OVERRIDE:
            continue
        value = getattr(params, name)
        if name == "as_of":
            value = value.date().isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


# ---------------------------------------------------------------------------
# Checking values (CLI options, notebook parameters, standard files)
# ---------------------------------------------------------------------------
_OPTION = {
    "as_of": "--as-of",
    "target_onboarding_cap": "--target-onboarding-cap",
    "target_onboarding_sla_business_days": "--target-onboarding-sla",
    "benchmark_workstation_monthly": "--benchmark-band",
    "alert_windows_days": "alert_windows_days",
}


def _money(name: str, value: object) -> float:
    """A money amount in any form the data accepts (``5000``, ``$5,000``, ``USD 5,000.00``)."""
    if isinstance(value, bool):
        raise ParameterError(f"{_OPTION[name]}: {value!r} is not an amount")
    if isinstance(value, int | float):
        amount = float(value)
    else:
        from dso_analytics.ingest.parse import parse_money

        parsed, _ = parse_money(pd.Series([str(value)], dtype="object"))
        amount = float(parsed.iloc[0])
    if math.isnan(amount) or math.isinf(amount):
        raise ParameterError(f"{_OPTION[name]}: {value!r} is not an amount (e.g. 5000 or $5,000)")
    if amount < 0:
        raise ParameterError(f"{_OPTION[name]}: {value!r} is negative; give an amount >= 0")
    return amount


def _whole(name: str, value: object) -> int:
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise ParameterError(f"{_OPTION[name]}: {value!r} is not a whole number >= 0") from None
    if isinstance(value, bool) or number != int(number) or number < 0:
        raise ParameterError(f"{_OPTION[name]}: {value!r} is not a whole number >= 0")
    return int(number)


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert explicit parameter values; drop the ``None`` ones.

    Money accepts what billing files accept (``$5,000``); the benchmark band is
    ``(low, high)`` with ``0 <= low <= high``; ``as_of`` is a ``YYYY-MM-DD`` date.

    Parameters
    ----------
    overrides : mapping
        Parameter name -> value (text as typed, or a number / date).

    Returns
    -------
    dict
        The non-``None`` values, typed as :class:`Params` holds them.

    Raises
    ------
    ParameterError
        One line naming the option and the value (exit code 2).
    """
    out: dict[str, Any] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        if name == "as_of":
            out[name] = parse_as_of(value)
        elif name == "target_onboarding_cap":
            out[name] = _money(name, value)
        elif name == "target_onboarding_sla_business_days":
            out[name] = _whole(name, value)
        elif name == "benchmark_workstation_monthly":
            out[name] = _band(name, value)
        elif name == "alert_windows_days":
            out[name] = tuple(sorted(_whole(name, v) for v in _items(name, value)))
        else:
            out[name] = value
    return out


def _items(name: str, value: object) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ParameterError(f"{_OPTION[name]}: {value!r} is not a list")
    return list(value)


def _band(name: str, value: object) -> tuple[float, float]:
    items = _items(name, value)
    if len(items) != 2:
        raise ParameterError(f"{_OPTION[name]}: give two amounts, LOW HIGH (got {value!r})")
    low, high = (_money(name, v) for v in items)
    if low > high:
        raise ParameterError(
            f"{_OPTION[name]}: LOW {low:g} is above HIGH {high:g}; give LOW HIGH, e.g. 100 200"
        )
    return (low, high)


def parse_as_of(value: object) -> pd.Timestamp:
    """Parse an as-of date given as ``YYYY-MM-DD`` text, date or Timestamp.

    Raises
    ------
    ParameterError
        When the text is not a valid ISO date.
    """
    if isinstance(value, pd.Timestamp):
        return value.normalize()
    try:
        # text must be ISO (30/06/2025 vs 06/30/2025 is ambiguous: refuse rather than guess)
        ts = pd.Timestamp(value if hasattr(value, "year") else dt.date.fromisoformat(str(value)))
    except (ValueError, TypeError):
        raise ParameterError(f"as-of date {value!r} is not a date (use YYYY-MM-DD)") from None
    if pd.isna(ts):
        raise ParameterError(f"as-of date {value!r} is not a date (use YYYY-MM-DD)")
    return ts.normalize()


# ---------------------------------------------------------------------------
# The as-of date
# ---------------------------------------------------------------------------
def default_as_of(
    invoice_dates: pd.Series | None, today: pd.Timestamp | None = None
) -> pd.Timestamp:
    """The as-of date when none is given: the latest invoice date, never later than today.

    One rule for validation and metrics (a mistyped future year cannot move the
    as-of date past today); no invoice dates at all gives today.
    """
    today = (today if today is not None else pd.Timestamp.today()).normalize()
    if invoice_dates is None:
        return today
    latest = pd.to_datetime(invoice_dates).max()
    if pd.isna(latest):
        return today
    return min(pd.Timestamp(latest).normalize(), today)


def as_of_warning(as_of: pd.Timestamp, invoice_dates: pd.Series | None) -> str | None:
    """A plain sentence when ``as_of`` lies outside the billed period, else ``None``.

    Before the first invoice every figure is zero; more than a month after the
    latest invoice the trailing twelve months miss recent bills.
    """
    if invoice_dates is None:
        return None
    dates = pd.to_datetime(invoice_dates).dropna()
    if dates.empty:
        return None
    first, last = dates.min().normalize(), dates.max().normalize()
    period = f"{first.date()} to {last.date()}"
    if as_of < first:
        return (
            f"as-of date {as_of.date()} is before the first invoice (billed period {period}): "
            "spend and add-on figures are zero"
        )
    if as_of > last + pd.DateOffset(months=1):
        return (
            f"as-of date {as_of.date()} is after the billed period ({period}): "
            "the trailing twelve months miss any later bills"
        )
    return None


# ---------------------------------------------------------------------------
# Reading standard files and resolving
# ---------------------------------------------------------------------------
def _load_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DsoError(f"{source}: not a valid standard file ({exc})") from None
    if not isinstance(data, dict):
        raise DsoError(f"{source}: not a valid standard file (expected a mapping)")
    return data


def _standard_file(path: str | Path | None) -> tuple[dict[str, Any], str]:
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_STANDARD_FILE).read_text("utf-8")
        return _load_yaml(text, "built-in dso_grade.yaml"), "built-in dso_grade.yaml"
    p = Path(path)
    if not p.is_file():
        raise DsoError(f"{p}: standard file not found")
    return _load_yaml(p.read_text("utf-8"), str(p)), str(p)


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer`` over ``base``: parameters and service groups key by key."""
    out = dict(base)
    for key in ("parameters", "service_groups"):
        out[key] = {**(base.get(key) or {}), **(layer.get(key) or {})}
    if "should_be_base" in layer:
        out["should_be_base"] = layer["should_be_base"]
    return out


def resolve_params(
    dso_dir: str | Path | None = None,
    *,
    standard: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Params:
    """Resolve the parameters of one DSO: standard file, then its own standard, then overrides.

    The one function every consumer calls (CLI, pipeline, report kernels,
    notebooks opened by hand), so one DSO gets one set of figures.

    Parameters
    ----------
    dso_dir : str or Path, optional
        The DSO folder; its ``standard.yaml`` (when present) replaces the values it sets.
    standard : str or Path, optional
        A standard file used instead of the built-in ``dso_grade.yaml``.
    overrides : mapping, optional
        Explicit values (``None`` = not given), checked by :func:`check_overrides`.

    Returns
    -------
    Params
        With ``sources`` naming the layer each parameter came from.

    Raises
    ------
    DsoError
        When a standard file is missing or malformed; :class:`ParameterError`
        (exit code 2) for a bad override.
    """
    checked = check_overrides(overrides or {})
    data, source = _standard_file(standard)
    base_source = SOURCE_DEFAULT if standard is None else SOURCE_STANDARD_FILE
    sources = {name: base_source for name in PARAMETERS if name != "as_of"}
    sources["as_of"] = SOURCE_DEFAULT
    dso_file = Path(dso_dir) / DSO_STANDARD_FILE if dso_dir is not None else None
    if dso_file is not None and dso_file.is_file():
        layer = _load_yaml(dso_file.read_text("utf-8"), str(dso_file))
        data = _merge(data, layer)
        source = f"{source} + {dso_file}"
        for name in layer.get("parameters") or {}:
            if name in sources:
                sources[name] = SOURCE_DSO
    try:
        params = _params_from_dict(data, source)
    except (TypeError, ValueError, KeyError) as exc:
        raise DsoError(f"{source}: not a valid standard file ({exc})") from None
    params = replace(
        params,
        sources=tuple(sources.items()),
        standard_file=None if standard is None else str(Path(standard).resolve()),
    )
    return params.with_overrides(**checked) if checked else params


def read_standard(path: str | Path | None = None, dso_dir: str | Path | None = None) -> Params:
    """Read the standard (and the DSO's own) into :class:`Params`, without overrides.

    Same as ``resolve_params(dso_dir, standard=path)``; kept for callers of the
    library API.
    """
    return resolve_params(dso_dir, standard=path)


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
    prov = p.get("benchmark_provenance", {}) or {}
    if not isinstance(prov, dict):
        raise ValueError("benchmark_provenance must be a mapping of source, date, note")
    bound = float(p.get("max_line_amount", MAX_LINE_AMOUNT))
    if not 0 < bound <= EXACT_AMOUNT_LIMIT / 1000:
        raise ValueError(f"max_line_amount must be between 0 and {EXACT_AMOUNT_LIMIT / 1000:,.0f}")
    try:
        checked = check_overrides(
            {
                "target_onboarding_cap": p.get("target_onboarding_cap", 5000),
                "target_onboarding_sla_business_days": p.get(
                    "target_onboarding_sla_business_days", 10
                ),
                "benchmark_workstation_monthly": p.get("benchmark_workstation_monthly", (100, 200)),
                "alert_windows_days": p.get("alert_windows_days", (30, 90)),
            }
        )
    except ParameterError as exc:
        raise ValueError(str(exc)) from None
    return Params(
        **checked,
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
