"""The billing rules of a sample DSO (``billing.yaml``) turned into invoice lines and files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from dso_analytics import schema as S
from dso_analytics.errors import DsoError
from dso_analytics.sample._spec import (
    _HARDWARE_PRICES,
    _PORTFOLIO,
    _WORDING,
    _WORDING_SPEC,
    END_DATE,
    PROVIDER_EXPORT_DSO,
    PROVIDER_EXPORT_FILE,
    PROVIDER_EXPORT_LOCATION,
    _BillingFile,
    _ctx_defaults,
    _draw,
    _Dso,
    _Loc,
    _money,
    _month_end,
    _month_ends,
    _num,
    _read_agreements,
    _read_locations,
    _read_yaml,
    _spec_file,
    _uplifted,
)


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


def _billing_files(lines: list[dict[str, Any]], spec: dict, slug: str) -> list[_BillingFile]:
    """Split the lines into files as ``files:`` of billing.yaml says (and the provider export
    of portfolio.yaml)."""
    omit = spec.get("omit_location_id", [])
    org = spec["organization"]
    files = _split_billing(
        lines, csv_locations=set(spec.get("csv", [])),
        omit_location_id=True if omit == "all" else set(omit), org_file=org["name"],
        org_date_style=org["dates"], org_money_style=org.get("money", "number"),
    )  # fmt: skip
    if slug == PROVIDER_EXPORT_DSO:
        name, site = f"{PROVIDER_EXPORT_LOCATION}.xlsx", _PORTFOLIO["provider_export"]["site"]
        files = [_halopsa_export(f, site) if f.name == name else f for f in files]
    return files


def _build_dso(slug: str, rng: np.random.Generator) -> _Dso:
    """The DSO ``slug`` of the sample portfolio, from its spec (``sample_spec/<slug>/``)."""
    locs = _read_locations(slug, rng)
    agreements, services, docs = _read_agreements(slug)
    billing = _read_yaml(slug, "billing.yaml")
    lines = _bill(billing, _Biller(rng, agreements), locs)
    negotiation = _spec_file(slug, "negotiation.yaml")
    return _Dso(
        slug=slug,
        meta=_read_yaml(slug, "dso.yaml"),
        locations=locs,
        agreements=agreements,
        services=services,
        documentation=docs,
        billing=_billing_files(lines, billing["files"], slug),
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
