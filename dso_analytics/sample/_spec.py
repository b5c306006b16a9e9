"""The sample spec (``dso_analytics/sample_spec/``): reading it, its constants and wording,
the description objects of a DSO, and small helpers (dates: ``metrics._util``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import numpy as np
import yaml

from dso_analytics import schema as S


def _spec_file(*parts: str) -> Traversable:
    """A file of the sample spec (package data, read with importlib.resources)."""
    path = resources.files("dso_analytics") / "sample_spec"
    for part in parts:
        path = path / part
    return path


def _read_yaml(*parts: str) -> Any:
    return yaml.safe_load(_spec_file(*parts).read_text(encoding="utf-8"))


_PORTFOLIO: dict[str, Any] = _read_yaml("portfolio.yaml")
_WORDING_SPEC: dict[str, Any] = _read_yaml("wording.yaml")

#: Latest invoice date of every generated DSO (= the default as-of date).
END_DATE: date = _PORTFOLIO["end_date"]
#: Fixed workbook "created" property (no wall clock in the output).
_CREATED = datetime(2026, 11, 2, 9, 0, 0)
#: The DSO slugs written by :func:`write_sample_portfolio`, in order.
SAMPLE_DSOS: tuple[str, ...] = tuple(_PORTFOLIO["dsos"])
#: The sample DSO that ships its first agreement as a PDF (to try ``dso-analytics extract``).
SPECIMEN_DSO: str = _PORTFOLIO["specimen_pdf"]
#: The sample file that is a provider export as it comes (summit-dental-partners):
#: one location's lines as a HaloPSA invoice-lines CSV, read through its profile.
PROVIDER_EXPORT_DSO: str = _PORTFOLIO["provider_export"]["dso"]
PROVIDER_EXPORT_LOCATION: str = _PORTFOLIO["provider_export"]["location"]
PROVIDER_EXPORT_FILE: str = _PORTFOLIO["provider_export"]["file"]
#: The sample DSO that ships a negotiation log (``negotiation.xlsx``), so the reports'
#: "Negotiation status" section has figures: an analyst's log a few months in.
NEGOTIATION_DSO: str = next(s for s in SAMPLE_DSOS if _spec_file(s, "negotiation.yaml").is_file())
#: Billing lines per location per month in :func:`write_scaled_dso`.
SCALED_LINES_PER_LOCATION_MONTH = 14
#: Organization-level lines per month in :func:`write_scaled_dso`.
SCALED_ORG_LINES_PER_MONTH = 3

#: Invoice wording, per provider style: style -> service code -> templates.  Fields:
#: {n} count (seats, devices, tickets), {rate} unit price, {hours}, {site} the provider's
#: name for the location, {month} "Mar 2026", {ticket}, {tdate}/{seq} Autotask-like
#: ticket numbers, {phase}, {quote}.
_WORDING: dict[str, dict[str, list[str]]] = _WORDING_SPEC["styles"]
#: Unit price of each hardware item the generator sells (``price: list``).
_HARDWARE_PRICES: dict[str, float] = _WORDING_SPEC["hardware_prices"]


def _merge_wording(styles: Iterable[dict[str, list[str]]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {code: [] for code in S.SERVICE_CODES}
    for style in styles:
        for code, templates in style.items():
            for t in templates:
                if t not in merged[code]:
                    merged[code].append(t)
    return merged


#: Every invoice-description template the generator uses, by the service code
#: a correct classifier assigns it (``unclassified``: wording no rule should
#: match).  Credits wrap a rendered description, see :data:`CREDIT_TEMPLATES`.
DESCRIPTION_TEMPLATES: dict[str, list[str]] = _merge_wording(_WORDING.values())

#: Credit wording.  ``{description}`` is the rendered description of the line
#: being credited, so a credit classifies to the service it reverses.  SLA
#: credits carry an explicit ``service`` (managed_services) in the data.
CREDIT_TEMPLATES: tuple[str, ...] = tuple(_WORDING_SPEC["credits"].values())


def example_descriptions() -> list[tuple[str, str]]:
    """Render every template once with fixed values.

    Returns
    -------
    list of (str, str)
        ``(description, service_code)`` pairs, in :data:`DESCRIPTION_TEMPLATES`
        order, for checking a classifier against the generator's wording.
    """
    ctx = _ctx_defaults()
    ctx.update(n=12, rate="145", hours="2.5", site="Site 07", month="Mar 2026", ticket=48213)
    out: list[tuple[str, str]] = []
    for code, templates in DESCRIPTION_TEMPLATES.items():
        out.extend((t.format(**ctx), code) for t in templates)
    return out


# ---------------------------------------------------------------------------
# Small helpers (dates: dso_analytics.metrics._util)
# ---------------------------------------------------------------------------
def _month_ends(last: date, months: int) -> list[date]:
    """Month-end dates of the ``months`` months ending with ``last``'s month, oldest first."""
    m = np.datetime64(last, "M")
    ends = (np.arange(m - months + 1, m + 1) + 1).astype("datetime64[D]") - 1
    return ends.tolist()


def _month_end(d: date, later: int = 0) -> date:
    """The last day of ``d``'s month, or of the month ``later`` months after it."""
    return ((np.datetime64(d, "M") + later + 1).astype("datetime64[D]") - 1).tolist()


def _busday(d: date, days: int = 0) -> date:
    """``d`` rolled forward to a business day, plus ``days`` business days."""
    from dso_analytics.metrics._util import add_business_days

    return add_business_days(np.array([d], dtype="datetime64[D]"), days)[0].tolist()


def _num(x: float) -> str:
    """Compact number text for descriptions: 145 / 149.35 / 2.5."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")


def _money(x: float) -> float:
    return round(float(x) + 0.0, 2)


def _ctx_defaults() -> dict[str, Any]:
    """The value of each wording field a line does not set."""
    return dict(_WORDING_SPEC["placeholders"])


def _uplifted(rate: float, pct: float, start: date, d: date) -> float:
    """Monthly rate at ``d`` after yearly uplifts on each anniversary of ``start``."""
    years = (d.year - start.year) - ((d.month, d.day) < (start.month, start.day))
    return _money(rate * (1 + pct / 100.0) ** max(0, years))


def _draw(rng: np.random.Generator, value: Any) -> int:
    """``value`` as an integer; text ``"a..b"`` draws one uniformly from a to b inclusive."""
    if isinstance(value, str) and ".." in value:
        lo, hi = value.split("..")
        return int(rng.integers(int(lo), int(hi) + 1))
    return int(value)


# ---------------------------------------------------------------------------
# DSO description objects
# ---------------------------------------------------------------------------
@dataclass
class _Loc:
    id: str
    name: str
    state: str
    join: date
    join_type: str
    go_live_bdays: int | None  # business days from join to go-live; None = not live yet
    ws: int
    servers: int
    status: str
    aliases: str = ""
    site: str = ""  # what the provider calls it in descriptions
    last_month: date | None = None  # billing stops after this month (closed)

    @property
    def go_live(self) -> date | None:
        if self.go_live_bdays is None:
            return None
        return _busday(self.join, self.go_live_bdays)

    def billed(self, d: date, months: Sequence[date]) -> bool:
        """Whether the location has an invoice at month end ``d`` of the window ``months``."""
        if self.status == "planned" or (self.last_month and d > self.last_month):
            return False
        return d >= max(_month_end(self.join), months[0])

    def row(self) -> dict[str, Any]:
        return {
            "location_id": self.id,
            "location_name": self.name,
            "state": self.state,
            "join_date": self.join,
            "join_type": self.join_type,
            "go_live_date": self.go_live,
            "workstations": self.ws,
            "servers": self.servers,
            "status": self.status,
            "aliases": self.aliases or None,
        }


@dataclass
class _BillingFile:
    name: str  # file name under billing/
    columns: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    date_style: str = "date"  # date (real Excel dates) | iso | us (text)
    money_style: str = "number"  # number | text ("$1,234.56", "(12.00)")


@dataclass
class _Dso:
    slug: str
    meta: dict[str, Any]
    locations: list[_Loc]
    agreements: list[dict[str, Any]]
    services: list[dict[str, Any]]
    documentation: list[dict[str, Any]]
    billing: list[_BillingFile]
    negotiation: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Reading the spec of one DSO
# ---------------------------------------------------------------------------
def _read_locations(slug: str, rng: np.random.Generator) -> list[_Loc]:
    """``locations.csv``: one row per location; ``a..b`` cells drawn row by row, left to right."""
    text = _spec_file(slug, "locations.csv").read_text(encoding="utf-8")
    locs = []
    for r in csv.DictReader(text.splitlines()):
        ws = _draw(rng, r["workstations"])
        servers = _draw(rng, r["servers"])
        gl = r["go_live_business_days"]
        locs.append(_Loc(
            r["location_id"], r["location_name"], r["state"],
            date.fromisoformat(r["join_date"]), r["join_type"],
            _draw(rng, gl) if gl else None, ws, servers, r["status"], r["aliases"], r["site"],
            date.fromisoformat(r["billed_until"]) if r["billed_until"] else None,
        ))  # fmt: skip
    return locs


def _agreement(**kw: Any) -> dict[str, Any]:
    row = dict.fromkeys(S.column_names(S.AGREEMENTS))
    for k, v in kw.items():
        if k not in row:
            raise KeyError(k)
        row[k] = v
    for k in ("auto_renew", "change_of_ownership_termination"):
        if isinstance(row[k], bool):
            row[k] = "yes" if row[k] else "no"
    return row


def _services(agreement: str, spec: dict[str, Sequence[Any]]) -> list[dict]:
    """Services rows of one agreement: service -> [coverage, add_on_rate, add_on_unit, unlimited]."""
    rows = []
    for svc, t in spec.items():
        coverage, rate, unit, unlimited = (*t, None, None, None)[:4]
        rows.append({
            "agreement_id": agreement, "service": svc, "coverage": coverage,
            "add_on_rate": rate, "add_on_unit": unit, "unlimited": "yes" if unlimited else None,
        })  # fmt: skip
    return rows


def _docs(agreement: str, spec: dict[str, bool]) -> list[dict]:
    return [
        {"agreement_id": agreement, "deliverable": k, "specified": "yes" if v else "no"}
        for k, v in spec.items()
    ]


def _read_agreements(slug: str) -> tuple[list[dict], list[dict], list[dict]]:
    """``agreements.yaml`` -> (agreements, services, documentation) sheet rows."""
    spec = _read_yaml(slug, "agreements.yaml")
    agreements = [_agreement(**a) for a in spec["agreements"]]
    services = [
        row
        for g in spec["services"]
        for aid in g["agreements"]
        for row in _services(aid, g["terms"])
    ]
    docs = [
        row
        for g in spec["documentation"]
        for aid in g["agreements"]
        for row in _docs(aid, g["deliverables"])
    ]
    return agreements, services, docs
