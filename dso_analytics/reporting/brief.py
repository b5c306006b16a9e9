"""The one-page renewal brief (``renewal-brief.pdf``): what a CFO puts on the table.

:func:`brief_html` lays the brief out as one static HTML page (no script, no
remote reference, every data text escaped): the headline with its window, the
ranked asks counted once, the notice deadlines and the clause gaps.
:func:`print_pdf` prints it with Debian's headless Chromium
(``--print-to-pdf``) on one Letter page; :func:`write_brief` does both.

Figures come from :func:`dso_analytics.metrics.headline.headline` and the
metrics frames, formatted like the HTML report and the workbook Summary, so
the negotiable total reads the same in all three.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from dso_analytics.metrics.result import SCORECARD_CHECKS, DsoMetrics

CHROMIUM = "/usr/bin/chromium"
BRIEF_NAME = "renewal-brief.pdf"
TOP_ASKS = 8
DEADLINES = 5
GAPS = 6

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
"""

_BUCKET_CLASS = {"missed": "b-missed", "expired": "b-expired", "<=30": "b-le30",
                 "31-90": "b-31-90", ">90": "b-gt90"}  # fmt: skip
_BUCKET_WORDS = {"missed": "missed", "expired": "expired", "<=30": "30 days or less",
                 "31-90": "31 to 90 days", ">90": "more than 90 days"}  # fmt: skip


def _e(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


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
    from dso_analytics.metrics.headline import LABELS
    from dso_analytics.reporting.labels import humanize, label, plural
    from dso_analytics.reporting.notebook import fmt_date, fmt_money, fmt_pct

    k = m.kpis
    cur = m.currency
    parts = [
        f"<h1>Renewal brief: {_e(m.display_name)}</h1>",
        f'<div class="sub">As of {m.as_of:%Y-%m-%d} · figures from dso-analytics; every '
        "dollar is counted once; each figure names its window.</div>",
        '<div class="head">',
        f'<div class="fig main"><div class="v">{_e(fmt_money(k.get("asks_impact_12m"), cur))}'
        f'</div><div class="l">{_e(LABELS["asks_impact_12m"])}: negotiable total</div></div>',
        f'<div class="fig"><div class="v">{_e(fmt_money(k.get("credits_to_claim"), cur))}</div>'
        f'<div class="l">{_e(LABELS["credits_to_claim"])}</div></div>',
        f'<div class="fig"><div class="v">{_e(fmt_money(k.get("spend_t12m"), cur))}</div>'
        f'<div class="l">{_e(LABELS["spend_t12m"])}</div></div>',
        "</div>",
    ]
    # the ranked asks
    asks = m.asks.sort_values("rank") if not m.asks.empty else m.asks
    shown = asks.head(TOP_ASKS)
    parts.append(f"<h2>What to ask for ({plural(len(asks), 'ask')}, ranked)</h2>")
    parts.append(
        "<table><tr><th>#</th><th>Ask</th><th>Agreement</th><th>Next 12 months</th>"
        "<th>One-off recovery</th></tr>"
    )
    for _, a in shown.iterrows():
        rec = a.get("recovery_all_time")
        parts.append(
            f"<tr><td>{int(a['rank'])}</td><td>{_e(humanize(str(a['ask'])))}</td>"
            f"<td>{_e(a['agreement_id'])}</td>"
            f'<td class="n">{_e(fmt_money(a.get("impact_12m"), cur))}</td>'
            f'<td class="n">{_e(fmt_money(rec, cur)) if rec is not None else ""}</td></tr>'
        )
    parts.append("</table>")
    if len(asks) > len(shown):
        parts.append(f'<div class="note">{len(asks) - len(shown)} more in the workbook.</div>')
    parts.append('<div class="cols"><div>')
    # deadlines
    parts.append("<h2>Deadlines</h2>")
    ren = m.renewals
    if ren.empty:
        parts.append("<p>No agreements.</p>")
    else:
        key = ren["next_notice_deadline"].fillna(ren["notice_deadline"])
        ren = ren.assign(_k=pd.to_datetime(key)).sort_values("_k").head(DEADLINES)
        parts.append("<table><tr><th>Agreement</th><th>Notice by</th><th>When</th></tr>")
        for _, r in ren.iterrows():
            b = "" if pd.isna(r.get("bucket")) else str(r.get("bucket"))
            parts.append(
                f'<tr class="{_BUCKET_CLASS.get(b, "")}"><td>{_e(r["agreement_id"])} '
                f'({_e(r["provider"])})</td><td class="d">{_e(fmt_date(r["notice_deadline"]))}</td>'
                f'<td class="d">{_e(_BUCKET_WORDS.get(b, b))}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</div><div>")
    # clause gaps
    parts.append(f"<h2>Clause gaps (clause score {_e(fmt_pct(k.get('clause_score')))})</h2>")
    sc = m.scorecard
    checks = [c for c in SCORECARD_CHECKS if c in sc.columns]
    fails = (sc[checks] == "fail").sum().sort_values(ascending=False) if len(sc) else None
    if fails is None or int(fails.max() if len(fails) else 0) == 0:
        parts.append("<p>No failed clause check.</p>")
    else:
        parts.append("<table><tr><th>Missing from the agreement</th><th>Agreements</th></tr>")
        for check, n in fails[fails > 0].head(GAPS).items():
            parts.append(
                f'<tr><td>{_e(label(check))}</td><td class="n">{int(n)} of {len(sc)}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</div></div>")
    body = "\n".join(parts)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Renewal brief: {_e(m.display_name)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


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


def write_brief(m: DsoMetrics, pdf_path: str | Path) -> Path:
    """Write ``renewal-brief.pdf`` of one DSO (HTML laid out, printed by Chromium).

    Parameters
    ----------
    m : DsoMetrics
    pdf_path : str or Path
        The PDF to write (written to a temporary name, then renamed into place).

    Returns
    -------
    Path
    """
    final = Path(pdf_path)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".brief-", dir=final.parent))
    try:
        page = work / "brief.html"
        page.write_text(brief_html(m), encoding="utf-8")
        pdf = print_pdf(page, work / "brief.pdf")
        os.replace(pdf, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final
