"""Leadership formatting of the DSO workbook: the one-page Summary and print-ready sheets.

:mod:`dso_analytics.reporting.excel` writes the data sheets; this module adds

* :func:`write_summary_sheet` -- the first sheet, "Summary", that prints on
  one landscape page: the DSO, the as-of date, the headline figures with their
  window (:func:`dso_analytics.metrics.headline.headline`: the negotiable
  total is counted once there), the top asks, the credits to claim and the
  notice deadlines (coloured by bucket);
* :func:`finish_table` -- called for every data table: a totals row with our
  own ``SUBTOTAL`` formulas under the money columns, pass/fail/unknown and
  deadline-bucket conditional formatting, print titles and fit-to-width
  landscape printing.

No formula is ever built from input text: formulas reference cell ranges only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import xlsxwriter.utility as xlu

from dso_analytics.metrics.result import DsoMetrics
from dso_analytics.reporting.cells import MONEY, clean_text

SUMMARY = "Summary"
#: Renewal buckets -> fill colour (the HTML timeline uses the same colours).
BUCKET_COLORS = {
    "missed": "#F4B6B4", "expired": "#F4B6B4", "<=30": "#F9D7A5", "31-90": "#FBEFB0",
    ">90": "#C6E5CF",
}  # fmt: skip
OUTCOME_COLORS = {"pass": "#C6E5CF", "fail": "#F4B6B4", "unknown": "#E3E3E3"}
#: Sheet -> the money columns that get a totals row.  Asks have none: their
#: negotiable total counts some asks once only (the Summary shows it).
TOTALS = {
    "Credits to claim": ("claim",),
    "Add-ons by service": ("t12m", "all_time"),
    "Add-on lines": ("amount",),
    "Onboarding": ("billed", "contractual_overspend", "target_overspend"),
    "Onboarding pipeline": ("expected_cost_current", "expected_cost_target", "expected_saving"),
}
TOP_ASKS = 6
DEADLINES = 8
#: The Summary sheet's formats (cached as ``s_<name>``).
_SUMMARY_FORMATS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("title", {"bold": True, "font_size": 16, "font_color": "#1F4E79"}),
    ("section", {"bold": True, "font_size": 12, "bottom": 1, "font_color": "#1F4E79"}),
    (
        "head",
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"},
    ),
    ("wrap", {"text_wrap": True, "valign": "top"}),
    ("date", {"num_format": "yyyy-mm-dd", "align": "left"}),
    ("pct", {"num_format": "0%", "align": "right"}),
    ("num", {"num_format": "0", "align": "right"}),
)


def _fmt(book: Any, key: str, spec: dict[str, Any]) -> Any:
    cache = book.f.setdefault("_leadership", {})
    if key not in cache:
        cache[key] = book.wb.add_format(spec)
    return cache[key]


def _money_fmt(book: Any, bold: bool = False) -> Any:
    sym = "$" if book.currency == "USD" else ""
    spec: dict[str, Any] = {"num_format": f"{sym}#,##0;[Red]-{sym}#,##0;{sym}0"}
    if bold:
        spec.update(bold=True, top=1)
    return _fmt(book, f"money0{bold}", spec)


def print_setup(ws: Any, header_row: int | None = None, one_page: bool = False) -> None:
    """Landscape Letter, fit to one page wide (and tall with ``one_page``), print titles."""
    ws.set_landscape()
    ws.set_paper(1)  # Letter
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 1 if one_page else 0)
    if header_row is not None and not one_page:
        ws.repeat_rows(header_row)
    ws.set_footer("&L&A&RPage &P of &N")


def finish_table(
    book: Any,
    ws: Any,
    title: str,
    df: pd.DataFrame,
    header_row: int,
    kinds: Sequence[str],
) -> None:
    """Totals row, conditional formatting and print setup of one data table.

    Parameters
    ----------
    book : excel._Book
        The workbook wrapper (formats, currency).
    ws : Worksheet
        The sheet holding the table.
    title : str
        The sheet title.
    df : DataFrame
        The frame written (its column order is the table's).
    header_row : int
        0-based row of the table header; data starts on the next row.
    kinds : sequence of str
        The cell kind of every column (``cells.MONEY`` for money).
    """
    from dso_analytics.metrics.result import SCORECARD_CHECKS

    print_setup(ws, header_row)
    n = len(df)
    first, last = header_row + 1, header_row + max(n, 1)
    cols = list(df.columns)
    totals = TOTALS.get(title, ())
    money = [j for j, (c, k) in enumerate(zip(cols, kinds, strict=True)) if k == MONEY]
    summed = [j for j in money if cols[j] in totals]
    if n and summed:
        total_row = last + 1
        label_col = next((j for j in range(len(cols)) if j not in money), None)
        if label_col is not None:
            ws.write_string(total_row, label_col, "Total", book.f["bold"])
        for j in summed:
            rng = xlu.xl_range(first, j, last, j)
            value = float(pd.to_numeric(df.iloc[:, j], errors="coerce").fillna(0).sum())
            ws.write_formula(
                total_row, j, f"=SUBTOTAL(109,{rng})", _money_fmt(book, True), round(value, 2)
            )
    if not n:
        return
    for j, c in enumerate(cols):
        rng = xlu.xl_range(first, j, last, j)
        if c in SCORECARD_CHECKS:
            for outcome, color in OUTCOME_COLORS.items():
                ws.conditional_format(
                    rng,
                    {"type": "cell", "criteria": "==", "value": f'"{outcome}"',
                     "format": _fmt(book, f"o{outcome}", {"bg_color": color})},
                )  # fmt: skip
        elif c == "bucket":
            for bucket, color in BUCKET_COLORS.items():
                ws.conditional_format(
                    rng,
                    {"type": "cell", "criteria": "==", "value": f'"{bucket}"',
                     "format": _fmt(book, f"b{bucket}", {"bg_color": color})},
                )  # fmt: skip


def _money_value(book: Any, ws: Any, r: int, c: int, value: object, bold: bool = False) -> None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        ws.write_string(r, c, "unknown")
    else:
        ws.write_number(r, c, round(float(value), 2), _money_fmt(book, bold))


def write_summary_sheet(book: Any, m: DsoMetrics) -> Any:
    """Write the one-page "Summary" sheet (call it first: it becomes the first sheet).

    Parameters
    ----------
    book : excel._Book
        The workbook wrapper.
    m : DsoMetrics
        The DSO's metrics; every figure comes from
        :func:`dso_analytics.metrics.headline.headline` or from ``m``'s frames,
        never recomputed here.

    Returns
    -------
    Worksheet
    """
    ws = book.wb.add_worksheet(SUMMARY)
    fm = _summary_formats(book)
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 52)
    ws.set_column(2, 2, 16)
    ws.set_column(3, 4, 17)
    ws.set_column(5, 5, 30)
    ws.write_string(0, 0, clean_text(f"Renewal leverage: {m.display_name}"), fm["title"])
    ws.write_string(1, 0, f"As of {m.as_of:%Y-%m-%d} · DSO {clean_text(m.dso)} · {m.currency}")
    r = _summary_headline(book, ws, fm, m, 3)
    r = _summary_asks(book, ws, fm, m, r)
    r = _summary_credits(book, ws, fm, m, r)
    r = _summary_deadlines(book, ws, fm, m, r)
    ws.write_string(r + 1, 0, "Generated by dso-analytics; figures match the HTML report.")
    print_setup(ws, one_page=True)
    ws.print_area(0, 0, r + 1, 5)
    return ws


def _summary_formats(book: Any) -> dict[str, Any]:
    """The Summary sheet's own formats, by name (made once per workbook, in this order)."""
    return {name: _fmt(book, f"s_{name}", spec) for name, spec in _SUMMARY_FORMATS}


def _summary_headline(book: Any, ws: Any, fm: dict[str, Any], m: DsoMetrics, r: int) -> int:
    """The headline figures from row ``r``, two columns of label/value pairs; the next row."""
    from dso_analytics.metrics.headline import headline

    ws.write_string(r, 0, "Headline figures (each with its window)", fm["section"])
    r += 1
    figures = headline(m)
    half = (len(figures) + 1) // 2
    for i, h in enumerate(figures):
        row, col = r + (i % half), (0 if i < half else 3)
        label_col = 1 if col == 0 else 3
        value_col = 2 if col == 0 else 5
        ws.write_string(row, label_col, h["label"], book.f["label"])
        v = h["value"]
        missing = v is None or (not isinstance(v, str) and pd.isna(v))
        if h["kind"] == "money":
            _money_value(book, ws, row, value_col, v, bold=h["key"] == "asks_impact_12m")
        elif missing:
            ws.write_string(row, value_col, "unknown")
        elif h["kind"] == "pct":
            ws.write_number(row, value_col, float(v), fm["pct"])
        elif h["kind"] == "date":
            ws.write_datetime(row, value_col, pd.Timestamp(v).to_pydatetime(), fm["date"])
        else:
            ws.write_number(row, value_col, float(v), fm["num"])
    return r + half + 1


def _summary_asks(book: Any, ws: Any, fm: dict[str, Any], m: DsoMetrics, r: int) -> int:
    """The top asks (by the DSO's rank) from row ``r``; the next row."""
    from dso_analytics.reporting.labels import humanize

    asks = m.asks.sort_values("rank").head(TOP_ASKS) if not m.asks.empty else m.asks
    ws.write_string(r, 0, f"Top {len(asks)} negotiation asks (of {len(m.asks)})", fm["section"])
    r += 1
    for j, h in enumerate(
        ("#", "Ask", "Agreement", "Next 12 months", "One-off recovery (all-time)")
    ):
        ws.write_string(r, j, h, fm["head"])
    ws.write_string(r, 5, "Evidence", fm["head"])
    r += 1
    for _, a in asks.iterrows():
        ws.set_row(r, 30)
        ws.write_number(r, 0, int(a["rank"]), fm["num"])
        ws.write_string(r, 1, clean_text(humanize(str(a["ask"]))), fm["wrap"])
        ws.write_string(r, 2, clean_text(a["agreement_id"]), fm["wrap"])
        _money_value(book, ws, r, 3, a.get("impact_12m"))
        _money_value(book, ws, r, 4, a.get("recovery_all_time"))
        ev = clean_text(a.get("evidence", ""))
        ws.write_string(r, 5, ev if len(ev) <= 90 else ev[:89] + "…", fm["wrap"])
        r += 1
    return r + 1


def _summary_credits(book: Any, ws: Any, fm: dict[str, Any], m: DsoMetrics, r: int) -> int:
    """The credits to claim from row ``r``: how many lines, and their total; the next row."""
    n_lines = len(m.credits)
    ws.write_string(r, 0, "Credits to claim", fm["section"])
    r += 1
    ws.write_string(
        r, 1,
        f"{n_lines} billing line{'s' if n_lines != 1 else ''} billed for services the "
        "agreement includes; every line is listed with its source on “Credits to claim”.",
        fm["wrap"],
    )  # fmt: skip
    ws.set_row(r, 30)
    _money_value(book, ws, r, 3, m.kpis.get("credits_to_claim"), bold=True)
    return r + 2


def _summary_deadlines(book: Any, ws: Any, fm: dict[str, Any], m: DsoMetrics, r: int) -> int:
    """The nearest notice deadlines from row ``r``, coloured by bucket; the row after them."""
    ren = m.renewals
    if not ren.empty:
        key = ren["next_notice_deadline"].fillna(ren["notice_deadline"])
        if "expiry" in ren:
            key = key.fillna(ren["expiry"])
        ren = ren.assign(_k=pd.to_datetime(key)).sort_values("_k").head(DEADLINES)
    ws.write_string(r, 0, "Notice deadlines", fm["section"])
    r += 1
    hdr = ("", "Agreement (provider)", "Notice deadline", "Days left", "Term ends", "Status")
    for j, h in enumerate(hdr):
        ws.write_string(r, j, h, fm["head"])
    r += 1
    first = r
    words = {"missed": "missed", "expired": "expired", "<=30": "30 days or less",
             "31-90": "31 to 90 days", ">90": "more than 90 days"}  # fmt: skip
    for _, x in ren.iterrows():
        ws.write_string(r, 1, clean_text(f"{x['agreement_id']} ({x['provider']})"))
        nd = x["notice_deadline"]
        if pd.notna(nd):
            ws.write_datetime(r, 2, pd.Timestamp(nd).to_pydatetime(), fm["date"])
        days = x.get("days_to_notice_deadline")
        if days is not None and pd.notna(days):
            ws.write_number(r, 3, int(days), fm["num"])
        end = x.get("current_term_end")
        if end is not None and pd.notna(end):
            ws.write_datetime(r, 4, pd.Timestamp(end).to_pydatetime(), fm["date"])
        bucket = "" if pd.isna(x.get("bucket")) else str(x.get("bucket"))
        ws.write_string(r, 5, words.get(bucket, bucket))
        ws.write_string(r, 0, bucket)
        r += 1
    if r > first:
        for bucket, color in BUCKET_COLORS.items():
            ws.conditional_format(
                first, 0, r - 1, 5,
                {"type": "formula", "criteria": f'=$A{first + 1}="{bucket}"',
                 "format": _fmt(book, f"sb{bucket}", {"bg_color": color})},
            )  # fmt: skip
    return r
