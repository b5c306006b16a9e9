"""Deterministic sample data: the committed sample portfolio and scaled DSOs for benchmarks.

Two writers, both called by ``dso-analytics sample``:

- :func:`write_sample_portfolio` writes three DSOs that together exercise every
  column, code and metric of the data contract (``data/sample/`` is its output,
  committed; a test checks it equals a fresh generation).
- :func:`write_scaled_dso` writes one DSO of N locations x M months (benchmarks).

The sample portfolio is a spec shipped as package data in ``dso_analytics/sample_spec/``
(edit it, then ``make sample``; this module is the small generator that reads it):

- ``portfolio.yaml``: end date, the DSOs in order, which DSO ships the special files;
- ``wording.yaml``: invoice wording per provider style, credit wording, hardware prices;
- per DSO folder: ``dso.yaml`` (written as is), ``locations.csv``, ``agreements.yaml``
  (agreements, services and documentation sheets), ``billing.yaml`` (invoice rules,
  vocabulary in :meth:`_Biller.rule` and :meth:`_Biller.line`; file layout), and
  optionally ``scenarios.yaml`` and ``negotiation.yaml``.

A cell or value ``a..b`` is a draw from the DSO's seeded
:class:`numpy.random.Generator`: no wall clock, workbook metadata fixed, so the same
seed gives the same bytes.  Invoice wording imitates several MSPs' styles
(ConnectWise-, Autotask-, Syncro- and HaloPSA-like exports);
:data:`DESCRIPTION_TEMPLATES` lists every template by the service code it should
classify to.
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dso_analytics import schema as S
from dso_analytics.errors import DsoError

__all__ = [
    "CREDIT_TEMPLATES",
    "DESCRIPTION_TEMPLATES",
    "END_DATE",
    "SAMPLE_DSOS",
    "SCALED_LINES_PER_LOCATION_MONTH",
    "SCALED_ORG_LINES_PER_MONTH",
    "example_descriptions",
    "write_sample_portfolio",
    "write_scaled_dso",
]


def _spec(*parts: str) -> Traversable:
    """A file of the sample spec (package data, read with importlib.resources)."""
    path = resources.files("dso_analytics") / "sample_spec"
    for part in parts:
        path = path / part
    return path


def _read_yaml(*parts: str) -> Any:
    return yaml.safe_load(_spec(*parts).read_text(encoding="utf-8"))


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
NEGOTIATION_DSO: str = _PORTFOLIO["negotiation_log"]
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
    text = _spec(slug, "locations.csv").read_text(encoding="utf-8")
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


# ---------------------------------------------------------------------------
# Billing: the rules of billing.yaml
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _At:
    """Where a line is billed: invoice date, location (None: organization), invoice number."""

    d: date
    loc: _Loc | None
    invoice: str


def _holds(cond: dict[str, Any] | None, at: _At) -> bool:
    """Whether every condition of a ``when`` mapping holds for a line billed ``at``.

    ``months: [1, 7]`` month of the year; ``periods: [2025-09]`` year-month;
    ``locations: [LOC-001]``; ``from: 2025-07-31`` on or after; ``before: 2026-04-01``;
    ``joined: true`` the location joined in the invoice's month.
    """
    loc, d = at.loc, at.d
    checks = {
        "months": lambda v: d.month in v,
        "periods": lambda v: f"{d:%Y-%m}" in v,
        "locations": lambda v: loc is not None and loc.id in v,
        "from": lambda v: d >= v,
        "before": lambda v: d < v,
        "joined": lambda v: (loc is not None and loc.join.strftime("%Y%m") == f"{d:%Y%m}") == v,
    }
    for key, value in (cond or {}).items():
        if key not in checks:
            raise DsoError(f"sample spec: unknown condition {key!r} (known: {', '.join(checks)})")
        if not checks[key](value):
            return False
    return True


#: The keys a billing.yaml rule may have (see :meth:`_Biller.rule`, :meth:`_Biller.line`).
_RULE_KEYS = frozenset({
    "service", "style", "when", "chance", "count", "next_month", "invoice", "date", "location",
    "amount", "qty", "price", "rate", "hours", "template", "n", "site", "explicit", "agreement",
    "credit",
})  # fmt: skip


class _Biller:
    """Collects the invoice lines of one DSO from its billing rules, drawing from ``rng``."""

    def __init__(self, rng: np.random.Generator, agreements: Sequence[dict[str, Any]]) -> None:
        self.rng = rng
        self.agreements = {a["agreement_id"]: a for a in agreements}
        self.lines: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str, float]] = set()

    def pick(self, style: str, service: str) -> str:
        options = _WORDING[style][service]
        return options[int(self.rng.integers(len(options)))]

    def add(
        self,
        *,
        style: str,
        service: str,
        invoice: str,
        d: date,
        loc: str | None,
        amount: float,
        quantity: float | None = None,
        unit_price: float | None = None,
        hours: float | None = None,
        ctx: dict[str, Any] | None = None,
        template: str | None = None,
        explicit: bool = False,
        agreement: str | None = None,
        credit: str | None = None,
    ) -> None:
        """Add one line.  ``credit`` wraps the description in a credit template."""
        c = _ctx_defaults()
        c.update(
            ticket=int(self.rng.integers(41000, 99000)),
            tdate=d.strftime("%Y%m%d"),
            seq=f"{int(self.rng.integers(1, 80)):04d}",
            month=d.strftime("%b %Y"),
            phase=int(self.rng.integers(1, 4)),
        )
        if quantity is not None and hours is None:
            c["n"] = _num(quantity)
        elif hours is not None:  # labour lines: {n} counts devices or offices, not hours
            c["n"] = int(self.rng.integers(3, 15))
        if unit_price is not None:
            c["rate"] = _num(unit_price)
        if hours is not None:
            c["hours"] = _num(hours)
        c.update(ctx or {})
        text = (template or self.pick(style, service)).format(**c)
        if credit is not None:
            text = credit.format(description=text, ticket=c["ticket"])
        line = {
            "invoice_number": invoice,
            "invoice_date": d,
            "location_id": loc,
            "agreement_id": agreement,
            "description": text,
            "service": service if explicit else None,
            "quantity": quantity,
            "unit_price": None if unit_price is None else _money(unit_price),
            "amount": _money(amount),
            "hours": hours,
        }
        key = (invoice, text, line["amount"])
        if key not in self._seen:  # never write the same line twice on one invoice
            self._seen.add(key)
            self.lines.append(line)

    def rule(self, rule: dict[str, Any], at: _At, style: str) -> None:
        """Bill one rule of billing.yaml at ``at`` (none, one or several lines).

        Keys: ``service``; ``style`` (wording, default the plan's); ``when`` (see
        :func:`_holds`); ``chance: p`` billed with probability p; ``count: m`` billed a
        Poisson(m) number of times; ``next_month`` dated at the next month end (not
        billed past the end date); ``invoice`` (``{invoice}`` = the plan's number);
        hours mapped by location (``hours: {LOC-006: 33}``) bill listed locations only.
        The line itself: see :meth:`line`.
        """
        unknown = sorted(set(rule) - _RULE_KEYS)
        if unknown or rule.get("credit", "duplicate") not in _WORDING_SPEC["credits"]:
            raise DsoError(f"sample spec: {rule}: unknown key {unknown} or credit wording")
        hours = rule.get("hours")
        if not _holds(rule.get("when"), at):
            return
        if isinstance(hours, dict) and (at.loc is None or at.loc.id not in hours):
            return
        if rule.get("next_month"):
            at = _At(_month_end(at.d, 1), at.loc, at.invoice)
            if at.d > END_DATE:
                return
        if "chance" in rule and not self.rng.random() < rule["chance"]:
            return
        times = int(self.rng.poisson(rule["count"])) if "count" in rule else 1
        for _ in range(times):
            self.line(rule, at, rule.get("style", style))

    def line(self, rule: dict[str, Any], at: _At, style: str) -> None:
        """Bill one line of ``rule``; its amount is one of

        ``amount: 85`` (no quantity); ``qty: ws+3, price: 22.0`` (qty: a number, ``ws``,
        ``servers`` plus an offset, or a draw ``6..19``; price: a number, ``list`` = the
        hardware item's list price, or ``{agreement_rate: AG-X}`` = that agreement's
        monthly rate after its yearly uplifts, ``own`` = the location's agreement);
        ``rate: 175, hours: 1..4`` (hours: a number, by location, or a draw in half hours).
        Also ``template`` (else drawn from the style's wording), ``n`` (a draw for
        ``{n}``), ``site``, ``explicit`` (true or a ``when`` mapping: the line carries
        its service), ``agreement`` (an id, or ``{id, when}``), ``credit`` (a credit
        wording of wording.yaml).
        """
        service, template, loc = rule["service"], rule.get("template"), at.loc
        ctx = {"site": rule.get("site", loc.site if loc else "")}
        qty = self._quantity(rule.get("qty"), loc)
        if "n" in rule:
            ctx["n"] = _draw(self.rng, rule["n"])
        price = rule.get("price")
        if price == "list":
            template = self.pick(style, service)
            qty, price = 1, _HARDWARE_PRICES[template]
        elif isinstance(price, dict):
            price = self._agreement_rate(price["agreement_rate"], at)
        hours = self._hours(rule.get("hours"), loc)
        if hours is not None:
            amount, qty, price = hours * rule["rate"], hours, rule["rate"]
        elif qty is not None:
            amount, qty = qty * price, float(qty)
        else:
            amount = rule["amount"]
        agreement = rule.get("agreement")
        if isinstance(agreement, dict):
            agreement = agreement["id"] if _holds(agreement.get("when"), at) else None
        explicit = rule.get("explicit", False)
        self.add(
            style=style, service=service, invoice=rule.get("invoice", "{invoice}").format(
                invoice=at.invoice), d=at.d, loc=loc.id if loc else None, amount=amount,
            quantity=qty, unit_price=price, hours=hours, ctx=ctx, template=template,
            explicit=explicit if isinstance(explicit, bool) else _holds(explicit, at),
            agreement=agreement, credit=_WORDING_SPEC["credits"].get(rule.get("credit")),
        )  # fmt: skip

    def _quantity(self, qty: Any, loc: _Loc | None) -> int | float | None:
        if isinstance(qty, str) and qty.startswith(("ws", "servers")) and loc is not None:
            base, _, offset = qty.partition("+")
            return (loc.ws if base == "ws" else loc.servers) + int(offset or 0)
        return None if qty is None else _draw(self.rng, qty) if isinstance(qty, str) else qty

    def _hours(self, hours: Any, loc: _Loc | None) -> float | None:
        if isinstance(hours, dict):
            return float(hours[loc.id])  # type: ignore[union-attr]
        if isinstance(hours, str):  # a draw in half hours
            lo, hi = (float(x) for x in hours.split(".."))
            return float(self.rng.integers(int(lo * 2), int(hi * 2) + 1)) / 2.0
        return None if hours is None else float(hours)

    def _agreement_rate(self, aid: str, at: _At) -> float:
        if aid == "own":
            (a,) = [
                a for a in self.agreements.values()
                if at.loc and at.loc.id in (a["location_ids"] or "").split(";")
            ]  # fmt: skip
        else:
            a = self.agreements[aid]
        return _uplifted(a["monthly_rate"], a["annual_uplift_pct"], a["start_date"], at.d)


def _location_invoices(b: _Biller, sec: dict, locs: Sequence[_Loc], months: list[date]) -> None:
    """One invoice per billed location and month; the first plan whose ``when`` holds bills it."""
    number = sec["first_number"]
    for d in months:
        for loc in locs:
            if not loc.billed(d, months):
                continue
            plan = next(p for p in sec["plans"] if _holds(p.get("when"), _At(d, loc, "")))
            invoice = plan["invoice"].format(number=number, date=d, site_code=loc.site[:3].upper())
            number += 1
            for rule in plan["lines"]:
                b.rule(rule, _At(d, loc, invoice), plan["style"])


def _organization_invoices(b: _Biller, sec: dict, months: list[date]) -> None:
    """One organization invoice a month (``invoice`` formatted with the month-end ``date``)."""
    for d in months:
        at = _At(d, None, sec["invoice"].format(date=d))
        for rule in sec["lines"]:
            b.rule(rule, at, sec["style"])


def _single_lines(b: _Biller, sec: dict, locs: Sequence[_Loc]) -> None:
    """Lines billed once: each names its ``invoice``, ``date`` and ``location`` (if any)."""
    by_id = {loc.id: loc for loc in locs}
    for rule in sec["lines"]:
        at = _At(rule["date"], by_id.get(rule.get("location", "")), rule["invoice"])
        b.rule(rule, at, sec["style"])


def _bill(spec: dict, b: _Biller, locs: Sequence[_Loc]) -> list[dict[str, Any]]:
    """Every invoice line of a DSO's billing.yaml, section by section."""
    months = _month_ends(END_DATE, spec["months"])
    for section in spec["sections"]:
        ((kind, sec),) = section.items()
        if kind == "location_invoices":
            _location_invoices(b, sec, locs, months)
        elif kind == "organization_invoices":
            _organization_invoices(b, sec, months)
        elif kind == "single_lines":
            _single_lines(b, sec, locs)
        else:
            raise DsoError(f"sample spec: unknown billing section {kind!r}")
    return b.lines


def _billing_files(lines: list[dict[str, Any]], spec: dict) -> list[_BillingFile]:
    """Split the lines into files as ``files:`` of billing.yaml says."""
    omit = spec.get("omit_location_id", [])
    org = spec["organization"]
    files = _split_billing(
        lines, csv_locations=set(spec.get("csv", [])),
        omit_location_id=True if omit == "all" else set(omit), org_file=org["name"],
        org_date_style=org["dates"], org_money_style=org.get("money", "number"),
    )  # fmt: skip
    export = spec.get("provider_export")
    if export:
        name = f"{export['location']}.xlsx"
        files = [_halopsa_export(f, export["site"]) if f.name == name else f for f in files]
    return files


def _build_dso(slug: str, rng: np.random.Generator) -> _Dso:
    """The DSO ``slug`` of the sample portfolio, from its spec (``sample_spec/<slug>/``)."""
    negotiation = _spec(slug, "negotiation.yaml")
    locs = _read_locations(slug, rng)
    agreements, services, docs = _read_agreements(slug)
    billing = _read_yaml(slug, "billing.yaml")
    lines = _bill(billing, _Biller(rng, agreements), locs)
    return _Dso(
        slug=slug,
        meta=_read_yaml(slug, "dso.yaml"),
        locations=locs,
        agreements=agreements,
        services=services,
        documentation=docs,
        billing=_billing_files(lines, billing["files"]),
        negotiation=_read_yaml(slug, "negotiation.yaml") if negotiation.is_file() else [],
    )


_HALOPSA_COLUMNS = ("invoicenumber", "invoice_date", "site", "item_shortdescription",
                    "qty_order", "unit_price", "net_amount")  # fmt: skip


def _halopsa_export(f: _BillingFile, site: str) -> _BillingFile:
    """The lines of a location's contract-form file as a HaloPSA invoice-lines export.

    Only for lines without agreement_id, service or hours (the export has none):
    the site is the location's alias ``site``, amounts are plain 2-decimal text.
    """
    for r in f.rows:
        if any(r.get(c) not in (None, "") for c in ("agreement_id", "service", "hours")):
            raise ValueError(f"{f.name}: a line the HaloPSA export cannot carry: {r}")
    rows = [
        {
            "invoicenumber": r["invoice_number"],
            "invoice_date": r["invoice_date"].isoformat(),
            "site": site,
            "item_shortdescription": r["description"],
            "qty_order": _num(float(r["quantity"])).replace(",", ""),
            "unit_price": f"{_money(r['unit_price']):.2f}",
            "net_amount": f"{_money(r['amount']):.2f}",
        }
        for r in f.rows
    ]
    return _BillingFile(PROVIDER_EXPORT_FILE, _HALOPSA_COLUMNS, rows, "iso")


def _split_billing(
    lines: list[dict[str, Any]],
    *,
    csv_locations: set[str] = frozenset(),  # type: ignore[assignment]
    omit_location_id: bool | set[str] = False,
    org_file: str = "organization.csv",
    org_date_style: str = "iso",
    org_money_style: str = "number",
) -> list[_BillingFile]:
    """One file per location (named after it) plus the organization file."""
    cols = S.column_names(S.BILLING)
    by_loc: dict[str | None, list[dict]] = {}
    for line in lines:
        by_loc.setdefault(line["location_id"], []).append(line)
    files = []
    for lid in sorted(k for k in by_loc if k is not None):
        omit = omit_location_id is True or (
            isinstance(omit_location_id, set) and lid in omit_location_id
        )
        c = tuple(x for x in cols if not (omit and x == "location_id"))
        ext = ".csv" if lid in csv_locations else ".xlsx"
        rows = sorted(by_loc[lid], key=lambda r: (r["invoice_date"], r["invoice_number"]))
        files.append(_BillingFile(f"{lid}{ext}", c, rows, "iso" if ext == ".csv" else "date"))
    org = sorted(by_loc.get(None, []), key=lambda r: (r["invoice_date"], r["invoice_number"]))
    files.append(_BillingFile(org_file, cols, org, org_date_style, org_money_style))
    return files


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
_MONEY_COLS = {"unit_price", "amount", "monthly_rate", "onboarding_cap", "onboarding_hourly_rate",
               "add_on_rate", "amount_asked", "amount_agreed", "amount_realised"}  # fmt: skip


def _write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[str], Sequence[dict]]]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True},
    )
    wb.set_properties(
        {"created": _CREATED, "author": "dso-analytics sample generator", "title": path.stem}
    )
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money_fmt = wb.add_format({"num_format": "#,##0.00"})
    for name, (columns, rows) in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, list(columns), bold)
        for r, row in enumerate(rows, start=1):
            for c, col in enumerate(columns):
                v = row.get(col)
                if v is None or v == "":
                    continue
                if isinstance(v, date):
                    ws.write_datetime(r, c, datetime(v.year, v.month, v.day), date_fmt)
                elif isinstance(v, bool):
                    ws.write_string(r, c, "yes" if v else "no")
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    fmt = money_fmt if col in _MONEY_COLS else None
                    ws.write_number(r, c, float(v), fmt)
                else:
                    ws.write_string(r, c, str(v))
        ws.freeze_panes(1, 0)
    wb.close()


def _csv_value(v: Any, col: str, date_style: str, money_style: str) -> str:
    if v is None:
        return ""
    if isinstance(v, date):
        return v.strftime("%m/%d/%Y") if date_style == "us" else v.isoformat()
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float, np.integer, np.floating)):
        if col in _MONEY_COLS and money_style == "text":
            x = float(v)
            return f"(${-x:,.2f})" if x < 0 else f"${x:,.2f}"
        if col in _MONEY_COLS:
            return f"{float(v):.2f}"
        return _num(float(v)).replace(",", "")
    return str(v)


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict], date_style: str = "iso",
               money_style: str = "number") -> None:  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([_csv_value(row.get(c), c, date_style, money_style) for c in columns])


def _write_billing(folder: Path, f: _BillingFile) -> Path:
    path = folder / f.name
    if path.suffix == ".csv":
        _write_csv(path, f.columns, f.rows, f.date_style, f.money_style)
    else:
        _write_xlsx(path, {"billing": (f.columns, f.rows)})
    return path


def _write_dso(root: Path, dso: _Dso) -> list[Path]:
    d = root / dso.slug
    (d / S.BILLING_DIR).mkdir(parents=True)
    written = []
    meta = d / S.DSO_META_FILE
    meta.write_text(yaml.safe_dump(dso.meta, sort_keys=False, width=88), encoding="utf-8")
    written.append(meta)
    p = d / f"{S.LOCATIONS_FILE_STEM}.xlsx"
    _write_xlsx(p, {S.LOCATIONS: (S.column_names(S.LOCATIONS), [x.row() for x in dso.locations])})
    written.append(p)
    p = d / f"{S.AGREEMENTS_FILE_STEM}.xlsx"
    _write_xlsx(
        p,
        {
            S.AGREEMENTS: (S.column_names(S.AGREEMENTS), dso.agreements),
            S.SERVICES: (S.column_names(S.SERVICES), dso.services),
            S.DOCUMENTATION: (S.column_names(S.DOCUMENTATION), dso.documentation),
        },
    )
    written.append(p)
    for f in dso.billing:
        written.append(_write_billing(d / S.BILLING_DIR, f))
    return written


def _prepare_out(out: Path, targets: Sequence[str], force: bool) -> None:
    """Refuse a non-empty ``out`` unless ``force``; with force remove only ``targets``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DsoError(f"{out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise DsoError(f"{out}: folder is not empty; pass --force to replace the sample in it")
        for name in targets:
            t = out / name
            if t.is_dir() and not t.is_symlink():
                shutil.rmtree(t)
            elif t.exists() or t.is_symlink():
                t.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _write_specimen_pdf(dso_dir: Path) -> list[Path]:
    """Write the DSO's first agreement as a contract would state it: ``<agreement_id>.pdf``.

    Composed from the written ``agreements.xlsx`` row, its services and documentation
    (:mod:`dso_analytics.extract.specimen`).  Printing needs fpdf2, a development
    dependency: without it no PDF is written (nothing else changes).
    """
    try:
        import fpdf  # noqa: F401
    except ImportError:
        print(
            f"note: {dso_dir.name}: fpdf2 is not installed, so the sample agreement PDF is not "
            "written (pip install fpdf2, or make sample, which installs the dev extras)",
            file=sys.stderr,
        )
        return []
    from dso_analytics.extract.specimen import compose_agreement, write_agreement_pdf
    from dso_analytics.ingest import read_dso

    ds = read_dso(dso_dir)
    row = ds.agreements.iloc[0].to_dict()
    aid = str(row["agreement_id"])
    names = dict(zip(ds.locations["location_id"], ds.locations["location_name"], strict=True))
    ids = [x.strip() for x in str(row.get("location_ids") or "").split(";") if x.strip()]

    def records(frame: Any) -> list[dict]:
        return frame[frame["agreement_id"] == aid].to_dict("records")

    pages = compose_agreement(
        row, records(ds.services), records(ds.documentation), client=ds.display_name,
        locations="; ".join(names.get(x, x) for x in ids),
    )  # fmt: skip
    return [write_agreement_pdf(pages, dso_dir / f"{aid}.pdf")]


# ---------------------------------------------------------------------------
# Negotiation scenarios (M8): each sample DSO ships its provider's counter-offer
# ---------------------------------------------------------------------------
#: The columns of the sample scenarios files (docs/data-contract.md "scenarios").
_SCENARIO_COLUMNS = (
    "scenario", "agreement_id", "monthly_rate", "base_fee_increase_pct", "annual_uplift_pct",
    "term_months", "onboarding_terms", "onboarding_cap", "onboarding_sla_business_days",
    "reporting", "included_services", "acquisitions_per_year", "workstations_per_new_location",
    "discount_rate_pct", "notes",
)  # fmt: skip

#: Per sample DSO: its scenarios file name and rows (``sample_spec/<dso>/scenarios.yaml``):
#: what a provider typically answers to the DSO-grade asks, plus the DSO's own planning
#: assumptions.
SAMPLE_SCENARIOS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    slug: (spec["file"], spec["scenarios"])
    for slug in SAMPLE_DSOS
    if _spec(slug, "scenarios.yaml").is_file()
    for spec in [_read_yaml(slug, "scenarios.yaml")]
}


def _write_scenarios(dso_dir: Path) -> list[Path]:
    """Write the DSO's :data:`SAMPLE_SCENARIOS` file (``scenarios.xlsx`` sheet ``scenarios``,
    or ``scenarios.yaml``); nothing for a DSO without one."""
    spec = SAMPLE_SCENARIOS.get(dso_dir.name)
    if spec is None:
        return []
    name, rows = spec
    path = dso_dir / name
    if path.suffix == ".yaml":
        ordered = [{c: r[c] for c in _SCENARIO_COLUMNS if c in r} for r in rows]
        text = yaml.safe_dump({"scenarios": ordered}, sort_keys=False, width=88)
        path.write_text(text, encoding="utf-8")
    else:
        _write_xlsx(path, {"scenarios": (_SCENARIO_COLUMNS, rows)})
    return [path]


def _write_negotiation_log(dso_dir: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write a sample ``negotiation.xlsx`` (sheet ``log``) from the spec's negotiation.yaml."""
    from dso_analytics.actions.negotiation import LOG_COLUMNS, LOG_FILE, LOG_SHEET

    path = dso_dir / LOG_FILE
    _write_xlsx(path, {LOG_SHEET: (LOG_COLUMNS, rows)})
    return path


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
        _spec("portfolio-readme.md")
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


# ---------------------------------------------------------------------------
# Scaled DSO for benchmarks
# ---------------------------------------------------------------------------
_SCALED_FIXED = ("managed_services", "third_party_licensing", "security_tools",
                 "backup_monitoring", "remote_monitoring")  # fmt: skip
_SCALED_USAGE = {  # service -> weight of the remaining slots
    "helpdesk": 0.30, "after_hours_support": 0.15, "hardware": 0.12, "project_work": 0.08,
    "patch_management": 0.10, "cross_location_incidents": 0.10, "third_party_licensing": 0.10,
    "compliance_documentation": 0.03, "unclassified": 0.02,
}  # fmt: skip
_SCALED_SEAT_PRICES = {"third_party_licensing": 22.0, "security_tools": 6.0,
                       "backup_monitoring": 4.0, "remote_monitoring": 4.0}  # fmt: skip
_SCALED_RATES = {"helpdesk": 150.0, "after_hours_support": 195.0, "project_work": 165.0,
                 "patch_management": 150.0, "cross_location_incidents": 175.0,
                 "compliance_documentation": 175.0}  # fmt: skip


def write_scaled_dso(
    out: Path,
    locations: int,
    months: int = 36,
    seed: int = 7,
    file_format: str = "xlsx",
    force: bool = False,
) -> Path:
    """Write one DSO of ``locations`` locations x ``months`` months of billing.

    Every location billed in a month has exactly
    :data:`SCALED_LINES_PER_LOCATION_MONTH` lines; the organization file has
    :data:`SCALED_ORG_LINES_PER_MONTH` lines a month.  Ten percent of the
    locations are acquired inside the window (billed from their join month,
    plus two onboarding lines); the others are billed every month.  150
    locations x 60 months give about 125,000 lines.

    Parameters
    ----------
    out : Path
        Portfolio folder; the DSO is written to ``out / f"scaled-{locations}x{months}"``.
        Must be empty or absent unless ``force``.
    locations : int
        Number of locations (>= 1).
    months : int
        Months of invoices, ending 2026-10-31 (1..240).
    seed : int
        Seed of the random generator.
    file_format : {"xlsx", "csv"}
        Format of the billing files (locations and agreements are always xlsx).
    force : bool
        Replace that DSO folder if ``out`` is not empty.

    Returns
    -------
    Path
        The DSO folder.

    Raises
    ------
    DsoError
        On a non-empty ``out`` without ``force``, or invalid arguments.
    """
    if file_format not in ("xlsx", "csv"):
        raise DsoError(f"--format must be xlsx or csv, not {file_format!r}")
    if not 1 <= locations <= 100_000:
        raise DsoError(f"--locations must be between 1 and 100000, not {locations}")
    if not 1 <= months <= 240:
        raise DsoError(f"--months must be between 1 and 240, not {months}")
    slug = f"scaled-{locations}x{months}"
    out = Path(out)
    _prepare_out(out, (slug,), force)
    rng = np.random.default_rng([seed, 1000 + locations, months])
    mlist = _month_ends(END_DATE, months)
    locs = _scaled_locations(rng, locations, mlist)
    agreements, services, docs = _read_agreements("scaled")
    lines = _scaled_lines(rng, locs, mlist, agreements[0])
    files = _split_billing(lines, csv_locations=(
        {x.id for x in locs} if file_format == "csv" else set()),
        omit_location_id=True,
        org_file=f"organization.{file_format}", org_date_style="iso")  # fmt: skip
    if file_format == "xlsx":
        files[-1].date_style = "date"
    dso = _Dso(
        slug=slug,
        meta={
            "display_name": f"Scaled DSO ({locations} locations x {months} months)",
            "currency": "USD",
            "notes": "Generated for benchmarks.",
        },  # fmt: skip
        locations=locs,
        agreements=agreements,
        services=services,
        documentation=docs,
        billing=files,
    )
    _write_dso(out, dso)
    return out / slug


def _scaled_locations(rng: np.random.Generator, locations: int, months: list[date]) -> list[_Loc]:
    """The scaled DSO's locations: the last tenth acquired inside the window, evenly spread."""
    window_start = date(months[0].year, months[0].month, 1)
    n_in_window = locations // 10
    locs: list[_Loc] = []
    for i in range(locations):
        ws = int(rng.integers(5, 18))
        if i >= locations - n_in_window:  # acquired inside the window, evenly spread
            offset = ((i - (locations - n_in_window)) * len(months)) // max(1, n_in_window)
            j = _busday(_month_end(window_start, offset - 1) + timedelta(days=1))
            gl = int(rng.integers(6, 30)) if j < date(2026, 9, 1) else None
            jt = "acquisition"
        else:
            j = _busday(date(max(2001, window_start.year - 1 - i % 18), 1 + i % 12, 1 + i % 27))
            jt = ("founding", "acquisition", "de_novo")[i % 3]
            gl = 0 if jt == "founding" else int(rng.integers(8, 40))
        locs.append(_Loc(f"LOC-{i + 1:04d}", f"Scaled Dental {i + 1}", "PA", j, jt, gl, ws,
                         int(rng.integers(0, 3)), "active", f"Site {i + 1}", f"Site {i + 1}"))  # fmt: skip
    return locs


def _scaled_lines(
    rng: np.random.Generator, locs: Sequence[_Loc], months: list[date], agreement: dict
) -> list[dict[str, Any]]:
    """Billing lines of the scaled DSO: fixed count per location-month, templates from all styles."""
    lines: list[dict[str, Any]] = []
    inv_no = 500000
    window_start = date(months[0].year, months[0].month, 1)
    for d in months:
        rate = _uplifted(agreement["monthly_rate"], agreement["annual_uplift_pct"],
                         agreement["start_date"], d)  # fmt: skip
        for loc in locs:
            if loc.billed(d, months):
                inv_no += 1
                lines += _scaled_invoice(rng, loc, d, f"SC-{inv_no}", rate)
        for loc in locs:  # onboarding lines of locations acquired this month
            if loc.join >= window_start and loc.join.strftime("%Y%m") == f"{d:%Y%m}":
                lines += _scaled_onboarding(loc, d)
        lines += _scaled_organization(rng, d, agreement["agreement_id"])
    return lines


def _scaled_line(inv: str, d: date, loc: str | None, text: str, qty: float | None,
                 unit: float | None, amount: float, hours: float | None = None,
                 agreement: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "invoice_number": inv, "invoice_date": d, "location_id": loc, "agreement_id": agreement,
        "description": text, "service": None, "quantity": qty, "unit_price": unit,
        "amount": _money(amount), "hours": hours,
    }  # fmt: skip


def _scaled_invoice(
    rng: np.random.Generator, loc: _Loc, d: date, inv: str, rate: float
) -> list[dict[str, Any]]:
    """One location's invoice of a month: :data:`SCALED_LINES_PER_LOCATION_MONTH` lines."""
    usage = list(_SCALED_USAGE)
    weights = np.array([_SCALED_USAGE[s] for s in usage])
    n_usage = SCALED_LINES_PER_LOCATION_MONTH - len(_SCALED_FIXED)
    svc = list(_SCALED_FIXED) + list(rng.choice(usage, size=n_usage, p=weights / weights.sum()))
    tix = rng.integers(41000, 99000, size=len(svc))
    hrs = rng.integers(2, 9, size=len(svc)) / 2.0
    picks = rng.integers(0, 1 << 30, size=len(svc))
    seen: set[tuple[str, float]] = set()  # no line repeated within an invoice
    lines = []
    for k, s in enumerate(svc):
        ctx = _ctx_defaults()
        ctx.update(ticket=int(tix[k]), tdate=f"{d:%Y%m%d}", seq=f"{k + 1:04d}",
                   month=f"{d:%b %Y}", site=loc.site, n=loc.ws)  # fmt: skip
        qty: float | None = None
        unit: float | None = None
        hours: float | None = None
        if k == 0:
            qty, unit = float(loc.ws), rate
            tpl = "Managed IT Services - Per Seat ({n} @ ${rate})"
        else:
            templates = DESCRIPTION_TEMPLATES[s]
            tpl = templates[int(picks[k]) % len(templates)]
        if s in _SCALED_RATES:
            hours, unit = float(hrs[k]), _SCALED_RATES[s]
            qty = hours
        elif qty is None and s in _SCALED_SEAT_PRICES:
            qty, unit = float(loc.ws), _SCALED_SEAT_PRICES[s]
        amount = qty * unit if qty is not None and unit is not None else float(picks[k] % 900 + 100)
        ctx.update(rate=_num(unit or 0), hours=_num(hours or 1))
        if qty is not None:
            ctx["n"] = _num(qty)
        text = tpl.format(**ctx)
        if (text, _money(amount)) in seen:
            text = f"{text} (line {k + 1})"
        seen.add((text, _money(amount)))
        lines.append(_scaled_line(inv, d, loc.id, text, qty, unit, amount, hours))
    return lines


def _scaled_onboarding(loc: _Loc, d: date) -> list[dict[str, Any]]:
    """The two onboarding lines of a location acquired in month ``d``."""
    return [
        _scaled_line(
            f"SC-OB-{loc.id}", d, loc.id, tpl.format(site=loc.site), 1.0, amount, amount, hours
        )  # fmt: skip
        for tpl, amount, hours in (
            ("Setup Fee - New Location Onboarding - {site}", 7500.0, None),
            ("Onboarding additional labor - {site} - 12 hrs @ $175", 2100.0, 12.0),
        )
    ]


def _scaled_organization(rng: np.random.Generator, d: date, aid: str) -> list[dict[str, Any]]:
    """The organization invoice of month ``d``: :data:`SCALED_ORG_LINES_PER_MONTH` lines."""
    org = (
        ("Quarterly exec IT report (on request)", 450.0),
        ("Multi-site outage - ticket #{ticket}", 350.0),
        ("HIPAA risk assessment documentation package", 1250.0),
    )
    return [
        _scaled_line(
            f"SC-ORG-{d:%Y%m}",
            d,
            None,
            tpl.format(ticket=int(rng.integers(41000, 99000))),
            1.0,
            amount,
            amount,
            agreement=aid if k == 0 else None,
        )  # fmt: skip
        for k, (tpl, amount) in enumerate(org[:SCALED_ORG_LINES_PER_MONTH])
    ]
