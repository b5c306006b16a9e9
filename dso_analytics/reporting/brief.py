"""The one-page renewal brief (``renewal-brief.pdf``): what a CFO puts on the table.

:func:`brief_html` lays the brief of one DSO out as one static HTML page (no
script, no remote reference, every data text escaped): the headline with its
window, the ranked asks counted once, the notice deadlines and the clause gaps.
:func:`portfolio_brief_html` does the same for a portfolio: the portfolio
totals, the DSOs by negotiable total, every DSO's asks in one ranking, the
nearest deadlines and the most frequent clause gaps, each list capped
("and N more") so the page holds any number of DSOs.  Both pages are built
from the same named pieces (:func:`_figures`, :func:`_asks_section`,
:func:`_deadlines_section`, :func:`_gaps_section`).
:func:`print_pdf` prints a page with Debian's headless Chromium
(``--print-to-pdf``) on one Letter page; :func:`write_brief` and
:func:`write_portfolio_brief` do both.

Figures come from :data:`dso_analytics.metrics.headline.HEADLINE` labels, a
DSO's ``kpis`` and :func:`dso_analytics.metrics.portfolio.portfolio_totals`,
formatted like the HTML reports and the workbooks, so the negotiable total
reads the same in all three.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from dso_analytics.metrics.result import SCORECARD_CHECKS, DsoMetrics
from dso_analytics.report_names import BRIEF_ALIAS

CHROMIUM = "/usr/bin/chromium"
BRIEF_NAME = BRIEF_ALIAS  # the work file; published names: dso_analytics.report_names
TOP_ASKS = 8
DEADLINES = 5
GAPS = 6
PORTFOLIO_DSOS = 6  # the portfolio brief's DSO table
PORTFOLIO_ASKS = 6

_CSS = """
@page { size: Letter; margin: 12mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #1d2733; margin: 0; }
h1 { font-size: 17pt; margin: 0 0 2px; color: #1f4e79; }
.sub { color: #555; margin-bottom: 10px; }
.head { display: grid; grid-template-columns: 1.4fr 1fr 1fr; gap: 8px; margin-bottom: 10px; }
.fig { border: 1px solid #d5dde6; border-radius: 6px; padding: 7px 10px; background: #f4f7fb; }
.fig .v { font-size: 15pt; font-weight: bold; color: #1f4e79; }
.fig.main .v { font-size: 19pt; color: #1e6b40; }
.fig .l { font-size: 8.5pt; color: #444; }
h2 { font-size: 11.5pt; margin: 10px 0 4px; border-bottom: 2px solid #dde3ea; color: #1f4e79; }
table { border-collapse: collapse; width: 100%; font-size: 8.8pt; }
th { background: #dde3ea; text-align: left; padding: 3px 5px; }
td { border-top: 1px solid #e6e9ee; padding: 3px 5px; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; }
td.d { white-space: nowrap; }
.note { font-size: 8pt; color: #666; margin-top: 3px; }
.b-missed, .b-expired { background: #f4b6b4; } .b-le30 { background: #f9d7a5; }
.b-31-90 { background: #fbefb0; } .b-gt90 { background: #c6e5cf; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.c1, .c2 { display: -webkit-box; -webkit-box-orient: vertical; overflow: hidden; }
th.who { width: 22%; }
.c1 { -webkit-line-clamp: 1; } .c2 { -webkit-line-clamp: 2; }
"""

_SUB = "figures from dso-analytics; every dollar is counted once; each figure names its window."

_BUCKET_CLASS = {"missed": "b-missed", "expired": "b-expired", "<=30": "b-le30",
                 "31-90": "b-31-90", ">90": "b-gt90"}  # fmt: skip
_BUCKET_WORDS = {"missed": "missed", "expired": "expired", "<=30": "30 days or less",
                 "31-90": "31 to 90 days", ">90": "more than 90 days"}  # fmt: skip


def _e(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _page(title: str, body: Sequence[str]) -> str:
    """A complete static page: ``title`` (escaped here), the brief's CSS, ``body`` (HTML)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body>{chr(10).join(body)}</body></html>"
    )


def _clip(value: object, lines: int = 2) -> str:
    """Escaped text cut to ``lines`` lines on the page (an ellipsis marks the cut), so a
    row's height is bounded whatever the data holds; the workbooks keep the full text."""
    return f'<div class="c{lines}">{_e(value)}</div>'


def _more(n: int, noun: str, where: str) -> str:
    """The note under a capped list: ``and 3 more asks in the workbook.`` (nothing when 0)."""
    from dso_analytics.reporting.labels import plural

    return f'<div class="note">and {_e(plural(n, f"more {noun}"))} {_e(where)}.</div>' if n else ""


def _figures(cards: Sequence[tuple[str, str]]) -> str:
    """The headline cards ``(formatted value, label)``; the first is the negotiable total."""
    out = ['<div class="head">']
    for i, (value, text) in enumerate(cards):
        cls = "fig main" if i == 0 else "fig"
        out.append(f'<div class="{cls}"><div class="v">{_e(value)}</div>'
                   f'<div class="l">{_e(text)}</div></div>')  # fmt: skip
    out.append("</div>")
    return "\n".join(out)


def _headline_cards(k: Mapping[str, object], currency: str) -> list[tuple[str, str]]:
    """The three brief figures from a KPI mapping (a DSO's ``kpis`` or the portfolio totals)."""
    from dso_analytics.metrics.headline import LABELS
    from dso_analytics.reporting.notebook import fmt_money

    return [
        (fmt_money(k.get("asks_impact_12m"), currency),
         f"{LABELS['asks_impact_12m']}: negotiable total"),
        (fmt_money(k.get("credits_to_claim"), currency), LABELS["credits_to_claim"]),
        (fmt_money(k.get("spend_t12m"), currency), LABELS["spend_t12m"]),
    ]  # fmt: skip


def _asks_section(asks: pd.DataFrame, currency: str, *, cap: int, where: str,
                  title: str, by_dso: bool = False) -> str:  # fmt: skip
    """The ranked asks table (first ``cap`` rows of ``asks``, already in ``rank`` order; with
    ``by_dso``, :func:`~dso_analytics.actions.portfolio.compute_portfolio_asks`)."""
    from dso_analytics.reporting.labels import humanize
    from dso_analytics.reporting.notebook import fmt_money

    dso_th = '<th class="who">DSO</th>' if by_dso else ""
    out = [f"<h2>{_e(title)}</h2>",
           f"<table><tr><th>#</th>{dso_th}<th>Ask</th><th>Agreement</th>"
           "<th>Next 12 months</th><th>One-off recovery</th></tr>"]  # fmt: skip
    for _, a in asks.head(cap).iterrows():
        rec = a.get("recovery_all_time")
        dso_td = f"<td>{_clip(a['display_name'])}</td>" if by_dso else ""
        out.append(
            f"<tr><td>{int(a['rank'])}</td>{dso_td}"
            f"<td>{_clip(humanize(str(a['ask'])))}</td><td>{_clip(a['agreement_id'])}</td>"
            f'<td class="n">{_e(fmt_money(a.get("impact_12m"), currency))}</td>'
            f'<td class="n">{_e(fmt_money(rec, currency)) if rec is not None else ""}</td></tr>'
        )
    out.append("</table>")
    out.append(_more(len(asks) - min(cap, len(asks)), "ask", where))
    return "\n".join(out)


def _deadlines_section(ren: pd.DataFrame, *, cap: int, where: str, by_dso: bool = False) -> str:
    """The nearest notice deadlines (soonest first), coloured by bucket."""
    from dso_analytics.reporting.notebook import fmt_date

    out = ["<h2>Deadlines</h2>"]
    if ren.empty:
        out.append("<p>No agreements.</p>")
        return "\n".join(out)
    key = ren["next_notice_deadline"].fillna(ren["notice_deadline"])
    ren = ren.assign(_k=pd.to_datetime(key)).sort_values("_k", kind="stable")
    out.append("<table><tr><th>Agreement</th><th>Notice by</th><th>When</th></tr>")
    for _, r in ren.head(cap).iterrows():
        b = "" if pd.isna(r.get("bucket")) else str(r.get("bucket"))
        what = f"{r['agreement_id']} ({r['provider']})"
        who = _clip(r["dso_name"], 1) + _clip(what, 1) if by_dso else _clip(what)
        out.append(
            f'<tr class="{_BUCKET_CLASS.get(b, "")}"><td>{who}</td>'
            f'<td class="d">{_e(fmt_date(r["notice_deadline"]))}</td>'
            f'<td class="d">{_e(_BUCKET_WORDS.get(b, b))}</td></tr>'
        )
    out.append("</table>")
    out.append(_more(len(ren) - min(cap, len(ren)), "agreement", where))
    return "\n".join(out)


def _gaps_section(sc: pd.DataFrame, title: str, *, cap: int, where: str) -> str:
    """The clause checks failed most often, with how many agreements fail each."""
    from dso_analytics.reporting.labels import label

    out = [f"<h2>{_e(title)}</h2>"]
    checks = [c for c in SCORECARD_CHECKS if c in sc.columns]
    fails = (sc[checks] == "fail").sum() if len(sc) else pd.Series(dtype="int64")
    fails = fails[fails > 0].sort_values(ascending=False, kind="stable")
    if fails.empty:
        out.append("<p>No failed clause check.</p>")
        return "\n".join(out)
    out.append("<table><tr><th>Missing from the agreement</th><th>Agreements</th></tr>")
    for check, n in fails.head(cap).items():
        out.append(
            f'<tr><td>{_clip(label(check))}</td><td class="n">{int(n)} of {len(sc)}</td></tr>'
        )
    out.append("</table>")
    out.append(_more(len(fails) - min(cap, len(fails)), "clause check", where))
    return "\n".join(out)


def _two_columns(left: str, right: str) -> str:
    return f'<div class="cols"><div>{left}</div><div>{right}</div></div>'


def brief_html(m: DsoMetrics) -> str:
    """Return the one-page brief of a DSO as a static, self-contained HTML page.

    Parameters
    ----------
    m : DsoMetrics
        The DSO's metrics.

    Returns
    -------
    str
        HTML without scripts or remote references; data text is escaped.
    """
    from dso_analytics.reporting.labels import plural
    from dso_analytics.reporting.notebook import fmt_pct

    asks = m.asks.sort_values("rank") if not m.asks.empty else m.asks
    where = "in the workbook"
    return _page(f"Renewal brief: {m.display_name}", [
        f"<h1>Renewal brief: {_e(m.display_name)}</h1>",
        f'<div class="sub">As of {m.as_of:%Y-%m-%d} · {_SUB}</div>',
        _figures(_headline_cards(m.kpis, m.currency)),
        _asks_section(asks, m.currency, cap=TOP_ASKS, where=where,
                      title=f"What to ask for ({plural(len(asks), 'ask')}, ranked)"),
        _two_columns(
            _deadlines_section(m.renewals, cap=DEADLINES, where=where),
            _gaps_section(m.scorecard, f"Clause gaps (clause score {fmt_pct(m.kpis.get('clause_score'))})",
                          cap=GAPS, where=where),
        ),
    ])  # fmt: skip


def _with_dso(frames: Sequence[pd.DataFrame], results: Sequence[DsoMetrics]) -> pd.DataFrame:
    """The DSOs' frames stacked, each row with its DSO's name (``dso_name``)."""
    parts = [f.assign(dso_name=m.display_name or m.dso) for f, m in zip(frames, results, strict=True)
             if len(f)]  # fmt: skip
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["dso_name"])


def _dso_table(roll: pd.DataFrame, currency: str, *, cap: int) -> str:
    """The DSOs by negotiable total: name, negotiable total, credits, clause score, deadline."""
    from dso_analytics.metrics.headline import LABELS
    from dso_analytics.reporting.notebook import fmt_date, fmt_money, fmt_pct

    rows = roll.sort_values("asks_impact_12m", ascending=False, kind="stable", na_position="last")
    out = ["<h2>DSOs by negotiable total</h2>",
           f"<table><tr><th>DSO</th><th>{_e(LABELS['asks_impact_12m'])}</th>"
           f"<th>{_e(LABELS['credits_to_claim'])}</th><th>Clause score</th>"
           "<th>Nearest notice deadline</th></tr>"]  # fmt: skip
    for _, r in rows.head(cap).iterrows():
        out.append(
            f"<tr><td>{_clip(r['display_name'] or r['dso'])}</td>"
            f'<td class="n">{_e(fmt_money(r["asks_impact_12m"], currency))}</td>'
            f'<td class="n">{_e(fmt_money(r["credits_to_claim"], currency))}</td>'
            f'<td class="n">{_e(fmt_pct(r["clause_score"]))}</td>'
            f'<td class="d">{_e(fmt_date(r["nearest_notice_deadline"]))}</td></tr>'
        )
    out.append("</table>")
    out.append(_more(len(rows) - min(cap, len(rows)), "DSO", "in the portfolio workbook"))
    return "\n".join(out)


def _as_of_text(roll: pd.DataFrame) -> str:
    dates = sorted({f"{d:%Y-%m-%d}" for d in roll["as_of"].dropna()})
    if not dates:
        return "As of: unknown"
    return f"As of {dates[0]}" if len(dates) == 1 else f"As of {dates[0]} to {dates[-1]}"


def portfolio_brief_html(results: Sequence[DsoMetrics]) -> str:
    """Return the one-page brief of a portfolio as a static, self-contained HTML page.

    The figures are :func:`~dso_analytics.metrics.portfolio.portfolio_totals` of
    :func:`~dso_analytics.metrics.portfolio.compute_portfolio` (the portfolio
    workbook's "Portfolio total" row and the overview HTML read the same), the
    asks are :func:`~dso_analytics.actions.portfolio.compute_portfolio_asks` (the
    portfolio overview's ranked asks); every list is capped ("and N more") so the
    page holds any number of DSOs.

    Parameters
    ----------
    results : sequence of DsoMetrics
        One per DSO.

    Returns
    -------
    str
        HTML without scripts or remote references; data text is escaped.
    """
    from dso_analytics.actions.portfolio import compute_portfolio_asks
    from dso_analytics.metrics.portfolio import compute_portfolio, portfolio_totals
    from dso_analytics.reporting.labels import plural

    roll = compute_portfolio(results)
    currencies = sorted(set(roll["currency"]))
    cur = currencies[0] if len(currencies) == 1 else "USD"
    asks = compute_portfolio_asks(results)
    sc = _with_dso([m.scorecard for m in results], results)
    where = "in the portfolio workbook"
    title = f"Portfolio brief: {plural(len(results), 'DSO')}"
    return _page(title, [
        f"<h1>{_e(title)}</h1>",
        f'<div class="sub">{_e(_as_of_text(roll))} · {_SUB}</div>',
        _figures(_headline_cards(portfolio_totals(roll), cur)),
        _dso_table(roll, cur, cap=PORTFOLIO_DSOS),
        _asks_section(asks, cur, cap=PORTFOLIO_ASKS, where=where, by_dso=True,
                      title=f"What to ask for ({plural(len(asks), 'ask')} across the "
                            "portfolio, ranked)"),
        _two_columns(
            _deadlines_section(_with_dso([m.renewals for m in results], results),
                               cap=DEADLINES, where=where, by_dso=True),
            _gaps_section(sc, f"Clause gaps ({plural(len(sc), 'agreement')})", cap=GAPS,
                          where=where),
        ),
    ])  # fmt: skip


def brief_available() -> bool:
    """Return True when Chromium is installed (the brief is printed with it)."""
    return bool(shutil.which(CHROMIUM) or shutil.which("chromium"))


def print_pdf(html_path: str | Path, pdf_path: str | Path, timeout: int = 90) -> Path:
    """Print an HTML file to PDF with headless Chromium (no header/footer, offline).

    Raises
    ------
    RuntimeError
        When Chromium is missing or fails.
    """
    exe = shutil.which(CHROMIUM) or shutil.which("chromium")
    if not exe:
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package")
    out = Path(pdf_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="dso-brief-")
    try:
        proc = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             f"--user-data-dir={profile}", "--no-pdf-header-footer",
             f"--print-to-pdf={out}", Path(html_path).resolve().as_uri()],
            capture_output=True, timeout=timeout, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"chromium could not print {html_path} (exit {proc.returncode})")
    return out


def _write_page(page_html: str, pdf_path: str | Path) -> Path:
    """Print ``page_html`` to ``pdf_path`` (work files in a temporary folder next to it,
    the PDF renamed into place)."""
    final = Path(pdf_path)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".brief-", dir=final.parent))
    try:
        page = work / "brief.html"
        page.write_text(page_html, encoding="utf-8")
        pdf = print_pdf(page, work / "brief.pdf")
        os.replace(pdf, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def write_brief(m: DsoMetrics, pdf_path: str | Path) -> Path:
    """Write the one-page brief of one DSO (:func:`brief_html` printed by Chromium).

    Parameters
    ----------
    m : DsoMetrics
    pdf_path : str or Path
        The PDF to write (written to a temporary name, then renamed into place).

    Returns
    -------
    Path
    """
    return _write_page(brief_html(m), pdf_path)


def write_portfolio_brief(results: Sequence[DsoMetrics], pdf_path: str | Path) -> Path:
    """Write the one-page brief of a portfolio (:func:`portfolio_brief_html` printed by Chromium).

    Parameters
    ----------
    results : sequence of DsoMetrics
        One per DSO.
    pdf_path : str or Path
        The PDF to write (written to a temporary name, then renamed into place).

    Returns
    -------
    Path
    """
    return _write_page(portfolio_brief_html(results), pdf_path)
