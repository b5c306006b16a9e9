"""The leadership workbook (xlsx) of one DSO, and of a portfolio.

Written with xlsxwriter: real numbers with currency / percent / date formats,
one Excel table (bold header, filter buttons) per sheet, frozen header rows,
readable widths and native Excel charts.  Every number is the metrics value
(already rounded to the cent by the metrics layer; rounded again to 2
decimals here so the workbook equals ``metrics_to_dict``).

Text from the data (descriptions, names, providers) is untrusted: it is
written with ``write_string`` (never a formula, even when it starts with
``=``), with ``strings_to_formulas`` / ``strings_to_urls`` off, and control
characters other than tab and newline removed.

The file is written to a temporary name next to ``path`` and renamed into
place only when complete.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from dso_analytics import __version__
from dso_analytics.atomic import replacing
from dso_analytics.metrics.headline import HEADLINE_MONEY, LABELS, headline
from dso_analytics.metrics.portfolio import compute_portfolio, portfolio_totals
from dso_analytics.metrics.result import SCORECARD_CHECKS, DsoMetrics
from dso_analytics.reporting._missing import is_missing as _missing
from dso_analytics.reporting.cells import (
    BOOL,
    DATE,
    INT,
    MONEY,
    NUM,
    PCT,
    TEXT,
    clean_text,
)
from dso_analytics.reporting.excel_leadership import (
    finish_table,
    print_setup,
    write_summary_sheet,
)
from dso_analytics.reporting.labels import terms_provenance
from dso_analytics.words import plural

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str) -> str:
    """Return a valid sheet name: no ``[]:*?/\\``, at most 31 characters."""
    s = _SHEET_BAD.sub("-", clean_text(name)).strip("'") or "Sheet"
    return s[:31]


class _Book:
    """Small wrapper holding the workbook and its formats."""

    def __init__(self, path: Path, currency: str) -> None:
        self.currency = currency
        self.wb = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        sym = "$" if currency == "USD" else ""
        money = f"{sym}#,##0.00;[Red]-{sym}#,##0.00;{sym}0.00"
        self.f = {
            MONEY: self.wb.add_format({"num_format": money}),
            PCT: self.wb.add_format({"num_format": "0.0%"}),
            DATE: self.wb.add_format({"num_format": "yyyy-mm-dd"}),
            INT: self.wb.add_format({"num_format": "0"}),
            NUM: self.wb.add_format({"num_format": "#,##0.00"}),
            TEXT: self.wb.add_format({"text_wrap": False}),
            BOOL: None,
            "bold": self.wb.add_format({"bold": True}),
            "title": self.wb.add_format({"bold": True, "font_size": 16}),
            "label": self.wb.add_format({"bold": True, "valign": "top"}),
            "wrap": self.wb.add_format({"text_wrap": True, "valign": "top"}),
            "header": self.wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        }

    def write(self, ws: Any, row: int, col: int, value: object, kind: str) -> int:
        """Write one typed cell; return the display width of what was written."""
        if _missing(value):
            ws.write_blank(row, col, None)
            return 0
        if kind == MONEY:
            ws.write_number(row, col, round(float(value), 2), self.f[MONEY])
            return 14
        if kind == PCT:
            ws.write_number(row, col, float(value), self.f[PCT])
            return 8
        if kind == NUM:
            ws.write_number(row, col, float(value), self.f[NUM])
            return 12
        if kind == INT:
            ws.write_number(row, col, int(value), self.f[INT])
            return 8
        if kind == DATE:
            ts = pd.Timestamp(value)
            ws.write_datetime(row, col, ts.to_pydatetime().replace(tzinfo=None), self.f[DATE])
            return 11
        if kind == BOOL:
            ws.write_boolean(row, col, bool(value))
            return 6
        s = clean_text(value)
        ws.write_string(row, col, s)
        return min(len(s), 60)


def _kind_of(series: pd.Series, name: str, money: Iterable[str], pct: Iterable[str]) -> str:
    if name in set(money):
        return MONEY
    if name in set(pct):
        return PCT
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATE
    if pd.api.types.is_integer_dtype(dtype):
        return INT
    if pd.api.types.is_float_dtype(dtype):
        return NUM
    return TEXT


def _write_table(
    book: _Book,
    title: str,
    df: pd.DataFrame,
    *,
    money: Sequence[str] = (),
    pct: Sequence[str] = (),
    kinds: Mapping[str, str] | None = None,
    note: str | None = None,
) -> tuple[Any, int, int]:
    """Write ``df`` as an Excel table on a new sheet; return (sheet, first data row, n rows)."""
    ws = book.wb.add_worksheet(sheet_name(title))
    top = 0
    if note:
        ws.write_string(0, 0, clean_text(note), book.f["bold"])
        top = 2
    cols = list(df.columns)
    widths = [max(10, len(str(c)) + 4) for c in cols]
    kinds = dict(kinds or {})
    col_kinds = [kinds.get(c) or _kind_of(df[c], c, money, pct) for c in cols]
    for j, col in enumerate(cols):
        values = df[col].tolist()
        for i, v in enumerate(values):
            w = book.write(ws, top + 1 + i, j, v, col_kinds[j])
            widths[j] = max(widths[j], w + 2)
    n = len(df)
    if cols:
        ws.add_table(
            top,
            0,
            top + max(n, 1),
            len(cols) - 1,
            {
                "name": re.sub(r"[^A-Za-z0-9_]", "_", "t_" + title)[:200],
                "columns": [
                    {"header": h, "header_format": book.f["header"]} for h in _headers(cols)
                ],
                "style": "Table Style Light 9",
                "autofilter": True,
            },
        )
        for j, w in enumerate(widths):
            ws.set_column(j, j, min(w, 62))
        finish_table(book, ws, title, df, top, col_kinds)
    ws.freeze_panes(top + 1, 0)
    return ws, top + 1, n


def _headers(cols: Sequence[object]) -> list[str]:
    """Readable, unique table headers (:func:`dso_analytics.reporting.labels.label`)."""
    from dso_analytics.reporting.labels import label

    out: list[str] = []
    for c in cols:
        h = clean_text(label(c))
        base, k = h, 2
        while h.lower() in {o.lower() for o in out}:
            h, k = f"{base} ({k})", k + 1
        out.append(h)
    return out


def _col_letter(j: int) -> str:
    return xlsxwriter.utility.xl_col_to_name(j)


def _add_bar_chart(
    book: _Book,
    ws: Any,
    sheet: str,
    first_row: int,
    n: int,
    cat_col: int,
    val_cols: Sequence[tuple[int, str]],
    title: str,
    anchor: str,
    *,
    horizontal: bool = False,
    stacked: bool = False,
) -> None:
    if n == 0:
        return
    opts: dict[str, Any] = {"type": "bar" if horizontal else "column"}
    if stacked:
        opts["subtype"] = "stacked"
    chart = book.wb.add_chart(opts)
    for col, name in val_cols:
        chart.add_series(
            {
                "name": name,
                "categories": [sheet, first_row, cat_col, first_row + n - 1, cat_col],
                "values": [sheet, first_row, col, first_row + n - 1, col],
            }
        )
    chart.set_title({"name": title})
    chart.set_legend({"position": "bottom"})
    sym = "$" if book.currency == "USD" else ""
    money_axis = {"num_format": f"{sym}#,##0", "major_gridlines": {"visible": True}}
    if horizontal:
        chart.set_y_axis({"reverse": True})
        chart.set_x_axis(money_axis)
    else:
        chart.set_y_axis(money_axis)
    chart.set_size({"width": 720, "height": 380})
    ws.insert_chart(anchor, chart)


def _cover(
    book: _Book,
    m: DsoMetrics,
    validation_summary: object,
    sources: Sequence[object] | None,
) -> None:
    ws = book.wb.add_worksheet("Cover")
    f = book.f
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    ws.write_string(0, 0, "Renewal leverage report", f["title"])
    rows: list[tuple[str, object, str]] = [
        ("DSO", m.dso, TEXT),
        ("Display name", m.display_name, TEXT),
        ("Currency", m.currency, TEXT),
        ("As-of date", m.as_of, DATE),
        ("T12M window starts after", m.t12m_start, DATE),
    ]
    params = m.params.to_dict()
    params.pop("as_of", None)
    param_sources = params.pop("sources", {})
    for key, value in params.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        kind = (
            MONEY if key == "target_onboarding_cap" else (TEXT if isinstance(value, str) else NUM)
        )
        if key == "target_onboarding_sla_business_days":
            kind = INT
        rows.append((f"Parameter: {key}", value, kind))
    for key, source in param_sources.items():
        rows.append((f"Parameter source: {key}", source, TEXT))
    for aid, how in terms_provenance(getattr(m, "terms_sources", None) or {}):
        rows.append((clean_text(f"Agreement terms: {aid}"), how, TEXT))
    status, detail = _validation_text(validation_summary)
    rows.append(("Validation status", status, TEXT))
    if detail:
        rows.append(("Validation detail", detail, TEXT))
    rows.append(("Generated at", dt.datetime.now().replace(microsecond=0), DATE))
    rows.append(("Generated by", f"dso-analytics {__version__}", TEXT))
    r = 2
    for label, value, kind in rows:
        ws.write_string(r, 0, label, f["label"])
        if label == "Generated at":
            ws.write_datetime(r, 1, value, book.wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
        else:
            book.write(ws, r, 1, value, kind)
        r += 1
    r += 1
    ws.write_string(r, 0, "Source files", f["label"])
    src = list(sources or [])
    if not src:
        ws.write_string(r, 1, "(not recorded)")
        r += 1
    for s in src:
        if hasattr(s, "path"):
            text = f"{s.path} ({getattr(s, 'table', '')}, {getattr(s, 'rows', '?')} rows)"
            sha = getattr(s, "sha256", "")
            if sha:
                text += f" sha256 {sha[:12]}"
        else:
            text = str(s)
        ws.write_string(r, 1, clean_text(text))
        r += 1
    if m.notes:
        r += 1
        ws.write_string(r, 0, "Notes", f["label"])
        for note in m.notes:
            ws.write_string(r, 1, clean_text(note), f["wrap"])
            r += 1
    ws.activate()


def _validation_text(summary: object) -> tuple[str, str]:
    if summary is None:
        return "validated (details not recorded)", ""
    if isinstance(summary, str):
        return summary, ""
    d = summary.to_dict() if hasattr(summary, "to_dict") else summary
    if isinstance(d, Mapping):
        ok = d.get("ok")
        status = "passed" if ok else ("failed" if ok is not None else "unknown")
        n_err = d.get("errors", d.get("error_count"))
        n_warn = d.get("warnings", d.get("warning_count"))
        bits = []
        if isinstance(n_err, int | list):
            bits.append(plural(n_err if isinstance(n_err, int) else len(n_err), "error"))
        if isinstance(n_warn, int | list):
            bits.append(plural(n_warn if isinstance(n_warn, int) else len(n_warn), "warning"))
        return status, ", ".join(bits)
    return str(summary), ""


def kpi_rows(m: DsoMetrics) -> list[tuple[str, object, str]]:
    """Return the headline figures as ``(label, value, kind)`` rows (kind: money/pct/date/text).

    The first rows are :func:`dso_analytics.metrics.headline` (same labels and
    values as the HTML header and the metrics JSON), then the detail rows.
    """
    kinds = {"money": MONEY, "pct": PCT, "date": DATE, "number": NUM}
    rows: list[tuple[str, object, str]] = [
        (h["label"], h["value"], kinds[h["kind"]]) for h in headline(m)
    ]
    s = m.addon_summary
    return rows + [
        ("Nearest notice deadline: agreement", m.kpis.get("nearest_notice_agreement"), TEXT),
        ("Billed despite included (T12M)",
         s.get("billed_despite_included", {}).get("t12m"), MONEY),
        ("Contractual add-ons (T12M)", s.get("contractual_add_on", {}).get("t12m"), MONEY),
        ("Overage over a plan limit (T12M)", s.get("overage", {}).get("t12m"), MONEY),
        ("One-off recoveries in the asks (all-time to as-of)",
         m.kpis.get("asks_recovery_all_time"), MONEY),
        ("Terms to fix (no dollars of their own)", m.kpis.get("terms_to_fix_count"), INT),
        ("Contractual breaches found", m.kpis.get("findings_count"), INT),
        ("Benchmark band per workstation per month",
         "{:,.2f} - {:,.2f}".format(*m.params.benchmark_workstation_monthly), TEXT),
        ("Benchmark band provenance", m.params.benchmark_provenance(), TEXT),
        ("Unclassified lines", len(m.unclassified), INT),
        ("Lines without a governing agreement", len(m.ungoverned), INT),
    ]  # fmt: skip


def _kpi_sheet(book: _Book, m: DsoMetrics) -> None:
    ws = book.wb.add_worksheet("KPI summary")
    ws.write_string(0, 0, "Metric", book.f["header"])
    ws.write_string(0, 1, "Value", book.f["header"])
    for i, (label, value, kind) in enumerate(kpi_rows(m), start=1):
        ws.write_string(i, 0, label)
        if _missing(value):
            ws.write_string(i, 1, "unknown")
        else:
            book.write(ws, i, 1, value, kind)
    ws.set_column(0, 0, 56)
    ws.set_column(1, 1, 18)
    ws.freeze_panes(1, 0)


def _data_issues(m: DsoMetrics) -> pd.DataFrame:
    cols = [
        "source_file", "source_sheet", "source_row", "invoice_number", "invoice_date",
        "location_id", "description", "service_resolved", "governing_agreement_id", "amount",
    ]  # fmt: skip
    parts = []
    for issue, df in (
        ("unclassified line", m.unclassified),
        ("no governing agreement", m.ungoverned),
    ):
        if len(df):
            part = df.reindex(columns=cols).copy()
            part.insert(0, "issue", issue)
            parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["issue", *cols])
    return pd.concat(parts, ignore_index=True)


def write_dso_workbook(
    m: DsoMetrics,
    path: str | Path,
    *,
    validation_summary: object = None,
    sources: Sequence[object] | None = None,
    scenarios: object = None,
) -> Path:
    """Write the leadership workbook of one DSO.

    Sheets, in order: Cover, KPI summary, Negotiation asks, Terms to fix,
    Credits to claim (every line claimed, with its source), Findings, Add-ons by service
    (with a native chart), Add-on lines (each traced to ``source_file`` /
    ``source_row``), Onboarding, Onboarding pipeline, Clause scorecard,
    Renewal calendar, Deadlines (the events of the calendar file, when the
    metrics carry them), Leverage, Spend by month (chart), Data issues.

    Parameters
    ----------
    m : DsoMetrics
        Computed metrics.
    path : str or Path
        Target ``.xlsx`` (written atomically: temp file, then rename).
    validation_summary : object, optional
        A validation report (``.to_dict()`` with ``ok``), a dict, or a status text.
    sources : sequence, optional
        Source files (``SourceFile`` records or text) listed on the cover.
    scenarios : ScenarioComparison, optional
        M8: adds the live "Scenarios" sheet (:mod:`.excel_scenarios`).

    Returns
    -------
    Path
        The workbook written.
    """
    final = Path(path)
    with replacing(final) as tmp:
        book = _Book(tmp, m.currency)
        summary = write_summary_sheet(book, m)  # first sheet: one landscape page
        _cover(book, m, validation_summary, sources)
        _kpi_sheet(book, m)
        ws, r0, n = _write_table(
            book, "Negotiation asks", m.asks, money=list(ASK_MONEY), kinds={"rank": INT}
        )
        ci = list(m.asks.columns).index
        _add_bar_chart(
            book, ws, "Negotiation asks", r0, n, ci("ask"),
            [(ci("impact_12m"), "Next 12 months"),
             (ci("recovery_all_time"), "One-off recovery (all-time to as-of)")],
            "Negotiation asks: next-12-month impact and one-off recovery", f"A{r0 + n + 3}",
            horizontal=True, stacked=True,
        )  # fmt: skip
        _write_table(book, "Terms to fix", m.terms_to_fix)
        _write_table(book, "Credits to claim", m.credits, money=["amount", "claim"],
                     kinds={"source_row": INT})  # fmt: skip
        _write_table(book, "Findings", m.findings)
        ws, r0, n = _write_table(
            book, "Add-ons by service", m.addon_by_service, money=["t12m", "all_time"]
        )
        _add_bar_chart(
            book, ws, "Add-ons by service", r0, n, 0, [(2, "T12M"), (3, "All time")],
            "Add-on charges by service", "G2", horizontal=True,
        )  # fmt: skip
        _write_table(book, "Add-on lines", m.addon_lines, money=["amount"],
                     kinds={"source_row": INT, "in_t12m": BOOL})  # fmt: skip
        _write_table(
            book, "Onboarding", m.onboarding,
            money=["billed", "contractual_allowance", "contractual_overspend", "target_cap",
                   "target_overspend"],
            kinds={"business_days": INT, "sla_business_days": INT, "sla_breached": BOOL},
        )  # fmt: skip
        _write_table(book, "Onboarding pipeline", m.pipeline,
                     money=["expected_cost_current", "expected_cost_target", "expected_saving"])  # fmt: skip
        _write_table(book, "Clause scorecard", m.scorecard, pct=["clause_score"],
                     kinds={"passed": INT, "checked": INT,
                            **{c: TEXT for c in SCORECARD_CHECKS}})  # fmt: skip
        _write_table(book, "Renewal calendar", m.renewals,
                     kinds={"term_months": INT, "renewal_term_months": INT, "notice_days": INT,
                            "days_to_notice_deadline": INT, "days_to_expiry": INT,
                            "auto_renew": BOOL,
                            "notice_window_missed": BOOL})  # fmt: skip
        if m.deadlines is not None:  # the events of the calendar file and the letters
            from dso_analytics.reporting.actions import deadline_money_columns, deadlines_view

            _write_table(book, "Deadlines", deadlines_view(m),
                         money=list(deadline_money_columns(m)),
                         kinds={"Days from as-of": INT})  # fmt: skip
        _write_table(
            book, "Leverage", m.leverage,
            money=["spend_t12m", "addon_t12m", "billed_despite_included_t12m",
                   "onboarding_contractual_overspend", "onboarding_target_overspend",
                   "managed_services_t12m", "base_fee_next_12m", "effective_workstation_monthly",
                   "benchmark_low",
                   "benchmark_high"],
            pct=["growth", "clause_score"],
            kinds={"locations_at_start": INT, "locations_now": INT, "workstations_now": INT},
        )  # fmt: skip
        ws, r0, n = _write_table(book, "Spend by month", m.spend_by_month, money=["amount"])
        _add_bar_chart(book, ws, "Spend by month", r0, n, 0, [(1, "Spend")], "Spend by month", "D2")
        _write_table(book, "Data issues", _data_issues(m), money=["amount"],
                     kinds={"source_row": INT})  # fmt: skip
        if scenarios is not None:
            from dso_analytics.reporting.excel_scenarios import write_scenarios_sheet

            write_scenarios_sheet(book.wb, scenarios, m.currency)  # type: ignore[arg-type]
        for sheet in book.wb.worksheets():
            if sheet.name in ("Cover", "KPI summary"):
                print_setup(sheet)
        summary.activate()
        summary.set_first_sheet()
        book.wb.close()
    return final


ASK_MONEY = ("impact_12m", "impact_12m_low", "impact_12m_high", "recovery_all_time")
_PORTFOLIO_MONEY = [*HEADLINE_MONEY, "top_ask_impact_12m", "top_ask_recovery_all_time",
                    *ASK_MONEY]  # fmt: skip


def write_portfolio_workbook(results: Sequence[DsoMetrics], roll: object, path: str | Path) -> Path:
    """Write the portfolio workbook: cover, DSOs side by side (with totals and a chart), all asks.

    Parameters
    ----------
    results : sequence of DsoMetrics
        One per DSO.
    roll : object
        The portfolio roll-up from ``compute_portfolio`` (anything else: it is
        computed from ``results``).  The side-by-side sheet is that roll-up
        plus a "Portfolio total" row (:func:`portfolio_totals`).
    path : str or Path
        Target ``.xlsx`` (written atomically).

    Returns
    -------
    Path
    """
    final = Path(path)
    with replacing(final) as tmp:
        currency = results[0].currency if results else "USD"
        book = _Book(tmp, currency)
        ws = book.wb.add_worksheet("Cover")
        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, 60)
        ws.write_string(0, 0, "Portfolio overview", book.f["title"])
        ws.write_string(2, 0, "DSOs", book.f["label"])
        ws.write_number(2, 1, len(results))
        ws.write_string(3, 0, "Generated at", book.f["label"])
        ws.write_datetime(
            3, 1, dt.datetime.now().replace(microsecond=0),
            book.wb.add_format({"num_format": "yyyy-mm-dd hh:mm", "align": "left"}),
        )  # fmt: skip
        ws.write_string(4, 0, "Generated by", book.f["label"])
        ws.write_string(4, 1, f"dso-analytics {__version__}")
        for i, m in enumerate(results):
            ws.write_string(6 + i, 0, clean_text(m.dso))
            ws.write_string(6 + i, 1, clean_text(f"{m.display_name} (as of {m.as_of:%Y-%m-%d})"))
            low, high = m.params.benchmark_workstation_monthly
            ws.write_string(6 + i, 2, clean_text(
                f"benchmark band {low:,.2f}-{high:,.2f} per workstation per month "
                f"({m.params.benchmark_provenance()})"))  # fmt: skip
        ws.activate()
        side = roll if isinstance(roll, pd.DataFrame) else compute_portfolio(results)
        tot = portfolio_totals(side)
        total_row = {"dso": "Portfolio total", "display_name": "Sum of the DSOs above", **tot}
        side = pd.concat([side, pd.DataFrame([total_row])], ignore_index=True)
        side = side.rename(columns={k: LABELS[k] for k in HEADLINE_MONEY})
        ws2, r0, n = _write_table(
            book, "DSOs side by side", side, money=[LABELS[k] for k in HEADLINE_MONEY]
            + _PORTFOLIO_MONEY, pct=["clause_score"], kinds={"unclassified_lines": INT},
        )  # fmt: skip
        ci = list(side.columns).index
        _add_bar_chart(
            book, ws2, "DSOs side by side", r0, n - 1, 0,
            [(ci(LABELS["spend_t12m"]), "Spend (T12M)"),
             (ci(LABELS["addon_t12m"]), "Add-ons (T12M)"),
             (ci(LABELS["credits_to_claim"]), "Credits to claim (all-time to as-of)")],
            "Spend and add-ons by DSO", f"A{r0 + n + 3}",
        )  # fmt: skip
        asks = [m.asks.assign(dso=m.dso) for m in results if len(m.asks)]
        all_asks = (
            pd.concat(asks, ignore_index=True)
            if asks
            else pd.DataFrame(columns=["dso", "rank", "ask_key", "ask", *ASK_MONEY])
        )
        all_asks = all_asks[["dso", *[c for c in all_asks.columns if c != "dso"]]]
        _write_table(book, "All negotiation asks", all_asks, money=list(ASK_MONEY),
                     kinds={"rank": INT})  # fmt: skip
        terms = [m.terms_to_fix.assign(dso=m.dso) for m in results if len(m.terms_to_fix)]
        if terms:
            t = pd.concat(terms, ignore_index=True)
            _write_table(
                book, "All terms to fix", t[["dso", *[c for c in t.columns if c != "dso"]]]
            )
        book.wb.close()
    return final
