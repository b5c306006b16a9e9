"""Report sections that turn findings into actions (HTML fragments, escaped).

- :func:`negotiation_status_html`: the DSO's negotiation log -- asked vs
  agreed vs realised per ask and in total (each ask key counted once), open
  credit claims and their age; its problems instead of figures when the log
  has errors (a wrong figure is never shown as valid).  It shows the
  :class:`~dso_analytics.actions.negotiation.NegotiationStatus` that ``prepare``
  computed (as does :func:`negotiation_rollup`): nothing here reads the log;
- :func:`calendar_link_html`: the link to the ``.ics`` file written beside the report;
- :func:`portfolio_calendar_html`, :func:`portfolio_asks_html`,
  :func:`provider_spend_html`: the portfolio overview's renewal calendar
  (bucket colours), ranked asks (counted once) and spend per provider.

Every value from the data goes through :func:`html.escape` (via
:func:`dso_analytics.reporting.notebook.table_html`); colours come from
:mod:`dso_analytics.actions.portfolio` constants, never from the data.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from dso_analytics.actions import CALENDAR_FILE
from dso_analytics.actions.portfolio import (
    compute_portfolio_asks,
    compute_portfolio_calendar,
    compute_provider_spend,
)
from dso_analytics.metrics.result import DsoMetrics
from dso_analytics.reporting.labels import plural
from dso_analytics.reporting.notebook import fmt_money, table_html

if TYPE_CHECKING:
    from dso_analytics.actions.negotiation import NegotiationStatus


def _p(text: str, cls: str = "dso-say") -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


def negotiation_status_html(status: NegotiationStatus, m: DsoMetrics) -> str:
    """The "Negotiation status" section of one DSO.

    Parameters
    ----------
    status : NegotiationStatus
        The DSO's log read, checked and computed once
        (:func:`dso_analytics.actions.negotiation.negotiation_status_of`, run by
        ``prepare``): this section never reads the log itself.
    m : DsoMetrics
        Its metrics (as-of, currency).

    Returns
    -------
    str
        HTML: a sentence, then tables (totals by status, per ask, open claims),
        or the log's problems when it has errors.
    """
    cur = m.currency
    if status.state == "none":
        return _p(
            "No negotiation log yet: `dso-analytics log init DSO_DIR` writes negotiation.xlsx "
            "pre-filled with the asks below, to record what was asked, agreed and realised."
        )
    if status.state == "unreadable":
        return _p(f"The negotiation log could not be read: {status.reason}")
    problems = status.problems
    if status.state == "errors":
        items = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems[:50])
        return (
            _p(
                f"The negotiation log has {plural(len(status.errors), 'error')}; its figures "
                "are not shown until "
                "they are fixed (`dso-analytics log check`):"
            )
            + f'<ul class="dso-problems">{items}</ul>'
        )
    per, tot, claims = status.per_ask, status.totals, status.open_claims
    assert per is not None and tot is not None and claims is not None  # state "ok"
    as_of = pd.Timestamp(m.as_of).date().isoformat()
    parts = [
        _p(
            f"{plural(tot.items, 'ask or claim', 'asks and claims')} in the log, each "
            "counted once: asked "
            f"{fmt_money(tot.asked, cur, cents=True)}, agreed "
            f"{fmt_money(tot.agreed, cur, cents=True)}, realised "
            f"{fmt_money(tot.realised, cur, cents=True)} (amounts as recorded in the log). "
            f"Estimates: claims all-time to {as_of}, asks the next 12 months."
        )
    ]
    # totals by status; the estimates stay per ask (claims and asks have different windows)
    money = ["asked", "agreed", "realised"]
    parts.append(table_html(tot.by_status.drop(columns="estimate"), money=money, currency=cur))
    view = per[["ask_key", "type", "ask", "status", "estimate", "estimate_window", "amount_asked",
                "amount_agreed", "amount_realised", "date_asked", "date_realised",
                "owner"]]  # fmt: skip
    parts.append(
        table_html(
            view,
            money=["estimate", "amount_asked", "amount_agreed", "amount_realised"],
            currency=cur,
        )
    )
    if len(claims):
        n = len(claims)
        parts.append(
            _p(f"{plural(n, 'credit claim')} still open; age in days since asked (at {as_of}):")
        )
        claims = claims.assign(age_days=claims["age_days"].round().astype("Int64"))
        parts.append(table_html(claims, money=["amount_asked"], currency=cur))
    if problems:
        items = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems[:50])
        parts.append(f'<ul class="dso-problems">{items}</ul>')
    return "".join(parts)


def deadlines_view(m: DsoMetrics) -> pd.DataFrame:
    """The DSO's deadlines to act on as a reader sees them (HTML report and workbook).

    Parameters
    ----------
    m : DsoMetrics
        Prepared metrics (:func:`dso_analytics.actions.deadlines.deadlines_of`).

    Returns
    -------
    DataFrame
        One row per event of the calendar file, in date order, with readable
        column names; the money columns are :func:`deadline_money_columns`.
    """
    from dso_analytics.actions.deadlines import NOTICE, deadlines_of

    dl = deadlines_of(m)
    asks, credits = deadline_money_columns(m)[1:]
    return pd.DataFrame(
        {
            "Date": dl["date"],
            "Event": ["Notice deadline" if k == NOTICE else "Term end" for k in dl["kind"]],
            "Days from as-of": dl["days_from_as_of"].astype("int64"),
            "Agreement": dl["agreement_id"].astype("str"),
            "Provider": dl["provider"].astype("str"),
            "Term end": dl["term_end"],
            "Notice method": dl["notice_method"].astype("str"),
            "Window missed": ["yes" if bool(x) else "no" for x in dl["window_missed"]],
            "Spend (T12M)": dl["spend_t12m"].astype(float),
            asks: dl["asks_12m"].astype(float),
            credits: dl["credits_to_claim"].astype(float),
        }
    )


def deadline_money_columns(m: DsoMetrics) -> tuple[str, str, str]:
    """The money columns of :func:`deadlines_view`, each with its window."""
    as_of = pd.Timestamp(m.as_of).date().isoformat()
    return (
        "Spend (T12M)",
        "Asks, next 12 months (counted once)",
        f"Credits to claim (all-time to {as_of})",
    )


def deadlines_html(m: DsoMetrics, href: str = CALENDAR_FILE) -> str:
    """The renewal report's "Deadlines to act on": the calendar link and its events.

    Parameters
    ----------
    m : DsoMetrics
        Prepared metrics (the same deadlines the calendar and the letters hold).
    href : str
        Relative link to the calendar file.

    Returns
    -------
    str
    """
    view = deadlines_view(m)
    if view.empty:
        return _p("No notice deadline or term end ahead of the as-of date.")
    head = calendar_link_html(len(view), href) + _p(
        "The claim and notice letters (Word, to edit and send) are in the letters folder "
        "beside this report."
    )
    return head + table_html(view, money=deadline_money_columns(m), currency=m.currency)


def portfolio_deadlines_html(results: Sequence[DsoMetrics], href: str = CALENDAR_FILE) -> str:
    """The portfolio overview's calendar link and renewal calendar across DSOs.

    Parameters
    ----------
    results : sequence of DsoMetrics
        Prepared metrics.
    href : str
        Relative link to the portfolio calendar file.

    Returns
    -------
    str
    """
    from dso_analytics.actions.deadlines import deadlines_of

    n = sum(len(deadlines_of(m)) for m in results)
    return calendar_link_html(n, href) + portfolio_calendar_html(results)


def calendar_link_html(n_events: int | None = None, href: str = CALENDAR_FILE) -> str:
    """A link to the calendar file written beside the report.

    Parameters
    ----------
    n_events : int, optional
        Events in the file (shown when given).
    href : str
        Relative link (a constant file name, never built from data).

    Returns
    -------
    str
    """
    what = plural(n_events, "deadline") if n_events is not None else "the deadlines"
    return (
        f'<p class="dso-say"><a href="{html.escape(href, quote=True)}" download>'
        f"Add {html.escape(what)} to your calendar ({html.escape(href)})</a>: notice deadlines "
        "and term ends with reminders, for Outlook, Google or Apple Calendar.</p>"
    )


def portfolio_calendar_html(results: Sequence[DsoMetrics]) -> str:
    """One renewal calendar across DSOs, sorted by the date to act on, bucket colours.

    Parameters
    ----------
    results : sequence of DsoMetrics

    Returns
    -------
    str
        An HTML table (escaped) with a colour swatch per bucket.
    """
    cal = compute_portfolio_calendar(results)
    if cal.empty:
        return _p("No agreement has a deadline ahead.")
    rows = []
    for r in cal.itertuples():
        swatch = (
            f'<span style="display:inline-block;width:0.8em;height:0.8em;'
            f'background:{r.colour};border-radius:2px;margin-right:0.4em"></span>'
        )
        cells = [
            html.escape(str(r.display_name)), html.escape(str(r.agreement_id)),
            html.escape(str(r.provider)), f"{r.act_by:%Y-%m-%d}", html.escape(r.what),
            str(r.days), f"{r.current_term_end:%Y-%m-%d}", swatch + html.escape(str(r.bucket)),
        ]  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ["DSO", "Agreement", "Provider", "Act by", "What", "Days", "Current term end", "Bucket"]
    return (
        '<table class="dso-table" border="0"><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def portfolio_asks_html(results: Sequence[DsoMetrics], top: int = 25) -> str:
    """The ranked asks across the portfolio (counted once) with their total.

    Parameters
    ----------
    results : sequence of DsoMetrics
    top : int
        Rows shown (the total covers every ask).

    Returns
    -------
    str
    """
    asks = compute_portfolio_asks(results)
    if asks.empty:
        return _p("No ask with dollars across the portfolio.")
    cur = results[0].currency if results else "USD"
    total = round(float(asks["impact_12m"].sum()), 2)
    rec = round(float(asks["recovery_all_time"].sum()), 2)
    head = _p(
        f"{plural(len(asks), 'ask')} across {plural(len(results), 'DSO')}, each counted once: "
        f"{fmt_money(total, cur, cents=True)} over the next 12 months plus "
        f"{fmt_money(rec, cur, cents=True)} of one-off recoveries (credit claims, all-time to "
        "as-of)."
    )
    cols = ["rank", "display_name", "ask_key", "ask", "agreement_id", "impact_12m",
            "recovery_all_time"]  # fmt: skip
    return head + table_html(
        asks[cols], money=["impact_12m", "recovery_all_time"], currency=cur, max_rows=top
    )


def provider_spend_html(results: Sequence[DsoMetrics]) -> str:
    """T12M spend per provider across DSOs (providers serving several DSOs first noted).

    Parameters
    ----------
    results : sequence of DsoMetrics

    Returns
    -------
    str
    """
    sp = compute_provider_spend(results)
    if sp.empty:
        return _p("No provider spend.")
    cur = results[0].currency if results else "USD"
    multi = sp[sp["dsos"] > 1]
    text = (
        f"{plural(len(multi), 'provider')} {'serves' if len(multi) == 1 else 'serve'} several "
        "DSOs: a volume-pricing lever of their own "
        f"({', '.join(multi['provider'].astype(str))})."
        if len(multi)
        else "No provider serves more than one DSO of this portfolio."
    )
    return _p(text) + table_html(sp, money=["spend_t12m"], currency=cur)


def show_html(fragment: str) -> None:
    """Display an HTML fragment built by this module in a notebook."""
    from IPython.display import display

    display({"text/html": fragment, "text/plain": html.unescape(fragment)}, raw=True)


def negotiation_rollup(
    results: Sequence[DsoMetrics], statuses: Mapping[str, NegotiationStatus]
) -> pd.DataFrame:
    """Negotiation status of every DSO side by side (the portfolio roll-up).

    Parameters
    ----------
    results : sequence of DsoMetrics
    statuses : mapping
        ``dso slug -> NegotiationStatus`` (computed by ``prepare``); a DSO
        missing from it shows as having no log.

    Returns
    -------
    DataFrame
        One row per DSO: ``dso``, ``log`` (``none`` / ``errors`` / ``ok``; an
        unreadable log counts as ``errors``), ``items``, ``asked``, ``agreed``,
        ``realised``, ``open_claims``; a DSO whose log has errors shows no
        figures (NaN).
    """
    rows = []
    for m in results:
        st = statuses.get(m.dso)
        row: dict[str, object] = {"dso": m.display_name, "log": "none", "items": 0,
                                  "asked": float("nan"), "agreed": float("nan"),
                                  "realised": float("nan"), "open_claims": 0}  # fmt: skip
        if st is not None and st.state in ("unreadable", "errors"):
            row["log"] = "errors"  # listed by `validate` / `log check`
        elif st is not None and st.state == "ok" and st.totals is not None:
            tot, claims = st.totals, st.open_claims
            row.update(log="ok", items=tot.items, asked=tot.asked, agreed=tot.agreed,
                       realised=tot.realised,
                       open_claims=0 if claims is None else len(claims))  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=["dso", "log", "items", "asked", "agreed", "realised",
                                       "open_claims"])  # fmt: skip


def negotiation_rollup_html(
    results: Sequence[DsoMetrics], statuses: Mapping[str, NegotiationStatus]
) -> str:
    """:func:`negotiation_rollup` as a sentence and an escaped table, with the portfolio total.

    Parameters
    ----------
    results : sequence of DsoMetrics
    statuses : mapping
        ``dso slug -> NegotiationStatus``, as for :func:`negotiation_rollup`.

    Returns
    -------
    str
    """
    roll = negotiation_rollup(results, statuses)
    ok = roll[roll["log"] == "ok"]
    if ok.empty:
        return _p(
            "No DSO has a usable negotiation log yet (`dso-analytics log init DSO_DIR`)."
        ) + table_html(roll[["dso", "log"]])
    cur = results[0].currency if results else "USD"
    text = (
        f"{len(ok)} of {plural(len(roll), 'DSO')} {'keeps' if len(ok) == 1 else 'keep'} a "
        "negotiation log: asked "
        f"{fmt_money(ok['asked'].sum(), cur, cents=True)}, agreed "
        f"{fmt_money(ok['agreed'].sum(), cur, cents=True)}, realised "
        f"{fmt_money(ok['realised'].sum(), cur, cents=True)} across them (each ask counted once)."
    )
    return _p(text) + table_html(roll, money=["asked", "agreed", "realised"], currency=cur)


# ---------------------------------------------------------------------------
# Notebook sections (the report templates call these)
# ---------------------------------------------------------------------------
def show_deadlines(m: DsoMetrics) -> None:
    """The calendar link and the deadlines to act on (the events of the ``.ics``)."""
    show_html(deadlines_html(m))


def show_negotiation_status(status: NegotiationStatus, m: DsoMetrics) -> None:
    """The DSO's negotiation log: asked vs agreed vs realised, open claims (or how to start).

    ``status`` comes from :func:`dso_analytics.reporting.notebook.load_negotiation`
    (what ``prepare`` computed).
    """
    show_html(negotiation_status_html(status, m))


def show_portfolio_deadlines(results: Sequence[DsoMetrics]) -> None:
    """The portfolio calendar link and one renewal calendar across DSOs (bucket colours)."""
    show_html(portfolio_deadlines_html(results))


def show_portfolio_asks(results: Sequence[DsoMetrics]) -> None:
    """One ranked list of asks across the portfolio, each counted once."""
    show_html(portfolio_asks_html(results))


def show_provider_spend(results: Sequence[DsoMetrics]) -> None:
    """T12M spend per provider across DSOs (a volume-pricing lever)."""
    show_html(provider_spend_html(results))


def show_portfolio_negotiation(
    results: Sequence[DsoMetrics], statuses: Mapping[str, NegotiationStatus]
) -> None:
    """The negotiation status of every DSO side by side, with the portfolio total.

    ``statuses`` comes from :func:`dso_analytics.reporting.notebook.load_portfolio_negotiation`.
    """
    show_html(negotiation_rollup_html(results, statuses))
