"""Helpers the report notebooks call: load, show, and explain in plain English.

The notebooks stay thin (one or two calls per section); everything with logic
lives here so both notebooks (and JupyterLab users) share it.

* :func:`load_metrics` / :func:`load_portfolio` -- read a DSO folder (or the
  dataset the pipeline already validated, see :func:`write_prepared`) and
  compute its metrics; :func:`load_negotiation` /
  :func:`load_portfolio_negotiation` -- the negotiation status ``prepare``
  computed (computed here only when the notebook runs by hand).
* :func:`show_figure`, :func:`show_table`, :func:`kpi_header`, :func:`say` --
  display helpers that emit self-contained, escaped HTML: plotly.js is inlined
  once per kernel (never from a CDN), no MathJax, no require.js.
* ``interpret_*`` -- one sentence computed from the data per section.

Text from the data is escaped for HTML (and markdown) here, never in the
notebook.
"""

from __future__ import annotations

import html
import os
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import pandas as pd

from dso_analytics.metrics.headline import LABELS, headline
from dso_analytics.metrics.portfolio import compute_portfolio, portfolio_totals
from dso_analytics.metrics.result import DsoMetrics
from dso_analytics.reporting._missing import is_missing as _missing

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from dso_analytics.actions.negotiation import NegotiationStatus
    from dso_analytics.dataset import DsoDataset
    from dso_analytics.metrics.scenarios import ScenarioComparison

PREPARED_FILE = "dataset.pkl"
_state = {"plotlyjs_sent": False}
#: Environment variable the pipeline sets for its report kernels.  ``external``:
#: figures never inline plotly.js, so the executed notebook stays small; the HTML
#: export (:func:`dso_analytics.reporting.html.export_html`) adds the one copy.
#: Unset (JupyterLab): the first figure of a kernel inlines it.
PLOTLYJS_ENV = "DSO_ANALYTICS_PLOTLYJS"


class PreparedData(TypedDict):
    """What :func:`write_prepared` stores for a report kernel (:func:`read_prepared`)."""

    dataset: DsoDataset | None
    metrics: DsoMetrics | None
    validation: dict[str, Any]  # ``ValidationSummary.to_dict()``
    scenarios: ScenarioComparison | None
    negotiation: NegotiationStatus | None  # the negotiation log, read and computed once


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def write_prepared(
    dest: str | Path,
    *,
    dataset: DsoDataset | None = None,
    metrics: DsoMetrics | None = None,
    validation: Mapping[str, Any] | None = None,
    scenarios: ScenarioComparison | None = None,
    negotiation: NegotiationStatus | None = None,
) -> Path:
    """Store what the pipeline already validated / computed for a report kernel.

    The kernel then neither re-validates (no Great Expectations) nor
    recomputes: the HTML shows exactly the figures the workbook shows.

    Parameters
    ----------
    dest : str or Path
        A private folder created by the caller (e.g. ``tempfile.mkdtemp``).
    dataset : DsoDataset, optional
        The validated dataset.
    metrics : DsoMetrics, optional
        The metrics computed from it.
    validation : mapping, optional
        The validation summary.
    scenarios : ScenarioComparison, optional
        The DSO's scenarios compared (M8), as the workbook shows them.
    negotiation : NegotiationStatus, optional
        The DSO's negotiation log read, checked and computed (``Prepared.negotiation``):
        the kernel shows it and never reads ``negotiation.xlsx``.

    Returns
    -------
    Path
        The file to pass to the notebook as its ``prepared`` parameter.
    """
    path = Path(dest) / PREPARED_FILE
    data: PreparedData = {
        "dataset": dataset,
        "metrics": metrics,
        "validation": dict(validation or {}),
        "scenarios": scenarios,
        "negotiation": negotiation,
    }
    with path.open("wb") as fh:
        pickle.dump(data, fh, protocol=5)
    return path


def read_prepared(path: str | Path) -> PreparedData:
    """Read what :func:`write_prepared` stored (keys ``dataset``, ``metrics``, ``validation``,
    ``scenarios``, ``negotiation``).

    Only pass paths the pipeline itself wrote (a pickle in its private
    temporary folder).
    """
    p = Path(path)
    if p.name != PREPARED_FILE:
        raise ValueError(f"{p}: not a prepared dataset written by the pipeline")
    with p.open("rb") as fh:
        return pickle.load(fh)  # noqa: S301 - our own file in our private temp dir


def load_metrics(
    dso_dir: str | Path,
    *,
    prepared: str | None = None,
    use_cache: bool = True,
    standard: str | None = None,
    **overrides: Any,
) -> DsoMetrics:
    """Load one DSO and compute its metrics.

    Parameters
    ----------
    dso_dir : str or Path
        The DSO folder.
    prepared : str, optional
        What the pipeline already validated and computed (:func:`write_prepared`);
        when given, the kernel neither validates (no Great Expectations) nor
        recomputes, and the parameters below are not used.
    use_cache : bool
        Let :func:`dso_analytics.validation.load_dso` use the snapshot cache.
    standard : str, optional
        A standard file instead of the built-in one.
    **overrides
        ``as_of``, ``target_onboarding_cap``, ``target_onboarding_sla_business_days``,
        ``benchmark_workstation_monthly``; ``None`` means the resolved value
        (:func:`dso_analytics.standards.resolve_params`: standard file, then the
        DSO's own standard).

    Returns
    -------
    DsoMetrics
    """
    if prepared:
        data = read_prepared(prepared)
        if data.get("metrics") is not None:
            return data["metrics"]
    from dso_analytics.metrics import compute_metrics
    from dso_analytics.standards import resolve_params

    p = resolve_params(dso_dir, standard=standard, overrides=overrides)
    if prepared and data.get("dataset") is not None:
        ds = data["dataset"]
    else:
        from dso_analytics.validation import load_dso

        ds = load_dso(dso_dir, params=p, use_cache=use_cache)
    from dso_analytics.actions.deadlines import attach_deadlines

    return attach_deadlines(compute_metrics(ds, p), ds.agreements, ds.locations)


def load_negotiation(
    dso_dir: str | Path | None, m: DsoMetrics, *, prepared: str | None = None
) -> NegotiationStatus:
    """The DSO's negotiation status: what ``prepare`` computed, or computed here.

    Parameters
    ----------
    dso_dir : str or Path, optional
        The DSO folder; read only when ``prepared`` carries no status (the
        notebook run by hand in JupyterLab).
    m : DsoMetrics
        Its metrics (from :func:`load_metrics`).
    prepared : str, optional
        The pipeline's hand-off (:func:`write_prepared`).

    Returns
    -------
    NegotiationStatus
        From the hand-off when it holds one; else
        :func:`dso_analytics.actions.negotiation.negotiation_status_of` (the one
        function that reads the log; it never raises for a bad log).
    """
    if prepared:
        status = read_prepared(prepared).get("negotiation")
        if status is not None:
            return status
    from dso_analytics.actions.negotiation import negotiation_status_of

    return negotiation_status_of(dso_dir, m)


def load_portfolio_negotiation(
    portfolio_dir: str | Path,
    results: Sequence[DsoMetrics],
    *,
    prepared: Mapping[str, str] | None = None,
) -> dict[str, NegotiationStatus]:
    """:func:`load_negotiation` of every DSO of :func:`load_portfolio`.

    Parameters
    ----------
    portfolio_dir : str or Path
        Folder with one sub-folder per DSO (``<portfolio_dir>/<dso>``).
    results : sequence of DsoMetrics
        From :func:`load_portfolio`.
    prepared : mapping, optional
        ``{slug: prepared dataset path}`` from the pipeline.

    Returns
    -------
    dict
        ``dso slug -> NegotiationStatus``.
    """
    root = Path(portfolio_dir)
    prepared = dict(prepared or {})
    return {m.dso: load_negotiation(root / m.dso, m, prepared=prepared.get(m.dso)) for m in results}


def load_portfolio(
    portfolio_dir: str | Path,
    *,
    prepared: Mapping[str, str] | None = None,
    dsos: Sequence[str] | None = None,
    use_cache: bool = True,
    **params: Any,
) -> list[DsoMetrics]:
    """Load every DSO of a portfolio and return their metrics.

    Parameters
    ----------
    portfolio_dir : str or Path
        Folder with one sub-folder per DSO.
    prepared : mapping, optional
        ``{slug: prepared dataset path}`` from the pipeline (no re-validation).
    dsos : sequence of str, optional
        Only these slugs (default: every DSO folder, or the keys of ``prepared``).
    **params
        ``standard`` and the overrides, as for :func:`load_metrics` (each DSO
        resolves its own parameters).
    """
    root = Path(portfolio_dir)
    prepared = dict(prepared or {})
    if dsos is None:
        if prepared:
            dsos = list(prepared)
        else:
            from dso_analytics.ingest import list_dso_dirs

            dsos = [d.name for d in list_dso_dirs(root)]
    return [
        load_metrics(root / s, prepared=prepared.get(s), use_cache=use_cache, **params)
        for s in dsos
    ]


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------
def fmt_money(value: object, currency: str = "USD", cents: bool = False) -> str:
    """Format an amount (``$12,345``); missing -> ``unknown``."""
    if _missing(value):
        return "unknown"
    v = float(value)
    body = f"{abs(v):,.2f}" if cents else f"{abs(v):,.0f}"
    sign = "-" if v < 0 else ""
    return f"{sign}${body}" if currency == "USD" else f"{sign}{body} {currency}"


def fmt_pct(value: object) -> str:
    """Format a 0..1 share as a percentage; missing -> ``unknown``."""
    return "unknown" if _missing(value) else f"{float(value):.0%}"


def fmt_date(value: object) -> str:
    """Format a date as ISO text; missing -> ``none``."""
    return "none" if _missing(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def md_escape(text: str) -> str:
    """Escape text for markdown: HTML-escaped, markdown punctuation backslashed."""
    return re.sub(r"([\\`*_{}\[\]()#+!|~>-])", r"\\\1", html.escape(text, quote=False))


def preload() -> None:
    """Warm a starting report kernel up: plotly's figure classes and HTML writer.

    The pipeline runs this while the kernel starts (``IPKernelApp.exec_lines``,
    see :data:`dso_analytics.stages.KERNEL_PRELOAD`), in parallel with its own
    validation, so the first chart cell does not pay plotly's lazy imports.
    Displays nothing and leaves plotly.js unsent.
    """
    import plotly.graph_objects as go

    fig = go.Figure([go.Bar(x=["a"], y=[1.0]), go.Scatter(x=["a"], y=[1.0]), go.Heatmap(z=[[1.0]])])
    fig.update_layout(title="warm-up", barmode="stack")
    fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False)


# ---------------------------------------------------------------------------
# Display (IPython imported lazily so the module imports anywhere)
# ---------------------------------------------------------------------------
def _display(bundle: dict[str, str]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def figure_html(fig: go.Figure) -> str:
    """Return a figure as an HTML fragment; plotly.js inlined only the first time.

    Never inlined when :data:`PLOTLYJS_ENV` is ``external`` (report kernels
    started by the pipeline).
    """
    first = not _state["plotlyjs_sent"] and os.environ.get(PLOTLYJS_ENV) != "external"
    out = fig.to_html(
        full_html=False,
        include_plotlyjs=bool(first),
        include_mathjax=False,
        config={"displaylogo": False, "responsive": True},
    )
    _state["plotlyjs_sent"] = True
    return out


def show_figure(fig: go.Figure) -> None:
    """Display a plotly figure as self-contained HTML (plotly.js once per kernel, offline)."""
    _display({"text/html": figure_html(fig), "text/plain": "<plotly figure>"})


def say(text: str) -> None:
    """Display a plain-English sentence (escaped) as a markdown / HTML paragraph."""
    _display(
        {
            "text/markdown": md_escape(text),
            "text/html": f'<p class="dso-say">{html.escape(text)}</p>',
            "text/plain": text,
        }
    )


def column_label(name: str) -> str:
    """A column name as a reader sees it: ``addon_t12m`` -> ``Add-on T12M``.

    The one label table is :mod:`dso_analytics.reporting.labels`.

    >>> column_label("nearest_notice_deadline")
    'Nearest notice deadline'
    """
    from dso_analytics.reporting.labels import label

    return label(name)


#: Columns shown exactly as the input had them (traceability: never relabelled).
_VERBATIM = frozenset(
    {"description", "source_file", "source_sheet", "location_name", "location_id", "provider",
     "agreement_id", "governing_agreement_id", "dso", "display_name", "file", "sheet"}
)  # fmt: skip


#: Identifiers the analyst copies (into ``negotiation.xlsx``): shown exactly, in a ``<code>``.
_IDENTIFIERS = frozenset({"ask_key"})
#: Marks an identifier cell between ``to_html`` and the ``<code>`` markup (a mark that came
#: with input text can only ever become escaped text: every key is escaped).
_KEY_MARK = "\x00dso-key-{}\x00"


def code_value(value: object) -> object:
    """A cell value as a reader sees it: known code names (services, checks) get their label."""
    from dso_analytics.reporting.labels import humanize

    return humanize(value) if isinstance(value, str) else value


def table_html(
    df: pd.DataFrame,
    *,
    money: Iterable[str] = (),
    pct: Iterable[str] = (),
    currency: str = "USD",
    max_rows: int = 60,
    fit: bool = False,
) -> str:
    """Return ``df`` as an escaped HTML table with money/percent/date columns formatted.

    ``fit``: a table of figures (class ``dso-fit``): every cell but the first of a row
    stays on one line, right-aligned, and the headers wrap, so a wide table of
    numbers fits the page instead of breaking dates and amounts.
    """
    view = df.head(max_rows).copy()
    money, pct = set(money), set(pct)
    keys: list[str] = []
    for c in view.columns:
        s = view[c]
        if c in _IDENTIFIERS:
            marks = []
            for v in s:
                keys.append("" if _missing(v) else str(v))
                marks.append(_KEY_MARK.format(len(keys) - 1))
            view[c] = marks
        elif c in money:
            view[c] = [fmt_money(v, currency, cents=True) for v in s]
        elif c in pct:
            view[c] = [fmt_pct(v) for v in s]
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            view[c] = [fmt_date(v) if not _missing(v) else "" for v in s]
        elif not pd.api.types.is_numeric_dtype(s.dtype) and c not in _VERBATIM:
            view[c] = [code_value(v) for v in s]  # service codes, check names -> labels
    view.columns = [column_label(str(c)) for c in view.columns]
    classes = "dso-table dso-fit" if fit else "dso-table"
    out = view.to_html(index=False, escape=True, na_rep="", classes=classes, border=0)
    for i, key in enumerate(keys):  # the exact key, escaped, copyable
        out = out.replace(_KEY_MARK.format(i), f'<code class="dso-key">{html.escape(key)}</code>')
    if len(df) > max_rows:
        out += f'<p class="dso-more">{len(df) - max_rows} more rows in the workbook.</p>'
    return out


def show_table(df: pd.DataFrame, **kwargs: Any) -> None:
    """Display a DataFrame as an escaped HTML table (see :func:`table_html`)."""
    if df.empty:
        say("Nothing to show.")
        return
    _display({"text/html": table_html(df, **kwargs), "text/plain": df.to_string()})


def fmt_headline(h: dict[str, Any], currency: str = "USD") -> str:
    """Format one :func:`dso_analytics.metrics.headline` figure (money to the cent)."""
    kind, v = h["kind"], h["value"]
    if kind == "money":
        return fmt_money(v, currency, cents=True)
    if kind == "pct":
        return fmt_pct(v)
    if kind == "date":
        return fmt_date(v)
    return "unknown" if _missing(v) else f"{float(v):.1f}"


def kpi_cards(m: DsoMetrics) -> list[tuple[str, str]]:
    """Return the KPI header as ``(label, formatted value)`` pairs.

    The figures and labels are :func:`dso_analytics.metrics.headline` (the same
    list the workbook KPI sheet and the metrics JSON carry).
    """
    cards = []
    for h in headline(m):
        text = fmt_headline(h, m.currency)
        agr = m.kpis.get("nearest_notice_agreement")
        if h["key"] == "nearest_notice_deadline" and not _missing(agr) and text != "none":
            text = f"{text} ({agr})"
        cards.append((h["label"], text))
    return cards


def kpi_header_html(m: DsoMetrics) -> str:
    """Return the KPI header (DSO name, as-of date, six cards) as escaped HTML."""
    cards = "".join(
        f'<div class="dso-kpi"><div class="dso-kpi-value">{html.escape(v)}</div>'
        f'<div class="dso-kpi-label">{html.escape(label)}</div></div>'
        for label, v in kpi_cards(m)
    )
    return (
        f'<div class="dso-kpi-header"><div class="dso-kpi-title">'
        f"{html.escape(m.display_name or m.dso)} &middot; as of {m.as_of:%Y-%m-%d}</div>"
        f'<div class="dso-kpis">{cards}</div></div>'
    )


def kpi_header(m: DsoMetrics) -> None:
    """Display the KPI header of one DSO."""
    text = "; ".join(f"{a}: {b}" for a, b in kpi_cards(m))
    _display({"text/html": kpi_header_html(m), "text/plain": text})


#: Cover rows: parameter -> label.
PARAMETER_LABELS = {
    "as_of": "As-of date",
    "target_onboarding_cap": "Target onboarding cap per location",
    "target_onboarding_sla_business_days": "Target onboarding SLA (business days)",
    "benchmark_workstation_monthly": "Market band per workstation per month",
    "alert_windows_days": "Renewal alert windows (days)",
}


def parameters_frame(m: DsoMetrics) -> pd.DataFrame:
    """The parameters behind the figures: ``parameter``, ``value``, ``source`` (one row each).

    ``source`` is where the value came from: ``default`` (the built-in standard),
    ``standard file`` (``--standard``), ``DSO standard`` (the DSO folder's
    ``standard.yaml``) or ``override`` (a CLI option or notebook parameter).
    """
    p, cur = m.params, m.currency
    low, high = p.benchmark_workstation_monthly
    as_of_source = p.source_of("as_of") if p.as_of is not None else "default (latest invoice)"
    values = {
        "as_of": (fmt_date(m.as_of), as_of_source),
        "target_onboarding_cap": (fmt_money(p.target_onboarding_cap, cur), None),
        "target_onboarding_sla_business_days": (str(p.target_onboarding_sla_business_days), None),
        "benchmark_workstation_monthly": (
            f"{fmt_money(low, cur)} to {fmt_money(high, cur)}",
            None,
        ),
        "alert_windows_days": (", ".join(str(d) for d in p.alert_windows_days), None),
    }
    rows = [
        {"parameter": PARAMETER_LABELS[name], "value": value, "source": src or p.source_of(name)}
        for name, (value, src) in values.items()
    ]
    return pd.DataFrame(rows, columns=["parameter", "value", "source"])


def parameters_html(m: DsoMetrics) -> str:
    """The cover's parameter table (escaped), preceded by the as-of warning if any."""
    warning = ""
    if m.as_of_warning:
        warning = (
            f'<p class="dso-warning"><strong>Warning:</strong> {html.escape(m.as_of_warning)}.</p>'
        )
    return warning + table_html(parameters_frame(m)) + table_html(terms_frame(m))


def terms_frame(m: DsoMetrics) -> pd.DataFrame:
    """Per agreement, how its terms were entered: ``agreement_id``, ``terms_entered``.

    ``typed`` or the ``terms_source`` text (:func:`~dso_analytics.reporting.labels.terms_provenance`,
    the same rows the workbook cover lists).
    """
    from dso_analytics.reporting.labels import terms_provenance

    rows = terms_provenance(getattr(m, "terms_sources", None) or {})
    return pd.DataFrame(rows, columns=["agreement_id", "terms_entered"])


def show_parameters(m: DsoMetrics) -> None:
    """Display the parameters behind the figures and where each came from."""
    text = "; ".join(
        f"{r.parameter}: {r.value} ({r.source})" for r in parameters_frame(m).itertuples()
    )
    terms = "; ".join(f"{r.agreement_id}: {r.terms_entered}" for r in terms_frame(m).itertuples())
    if terms:
        text += f". Agreement terms: {terms}"
    if m.as_of_warning:
        text = f"Warning: {m.as_of_warning}. {text}"
    _display({"text/html": parameters_html(m), "text/plain": text})


# ---------------------------------------------------------------------------
# Plain-English interpretation (computed from the frames)
# ---------------------------------------------------------------------------
def interpret_kpis(m: DsoMetrics) -> str:
    """One sentence summing up the headline figures."""
    k, cur = m.kpis, m.currency
    return (
        f"In the twelve months to {m.as_of:%Y-%m-%d}, {m.display_name or m.dso} spent "
        f"{fmt_money(k.get('spend_t12m'), cur, True)} with its managed-IT providers; "
        f"{fmt_money(k.get('addon_t12m'), cur, True)} of it was add-on charges for services a "
        f"DSO-grade agreement includes in the base fee. "
        f"{fmt_money(k.get('credits_to_claim'), cur, True)} (all-time to as-of) is owed back: "
        f"services billed although the agreement includes them and onboarding billed above "
        f"the contract (credits to claim)."
    )


def interpret_addons(m: DsoMetrics) -> str:
    """Which service drives add-on charges, T12M."""
    df = m.addon_by_service
    if df.empty or float(df["t12m"].sum()) == 0:
        return "No add-on charges for should-be-base services in the last twelve months."
    from dso_analytics.reporting.labels import label, plural

    by = df.groupby("service")["t12m"].sum().sort_values(ascending=False)
    total = float(by.sum())
    top, amount = str(by.index[0]), float(by.iloc[0])
    return (
        f"Add-on charges came to {fmt_money(total, m.currency)} in the last twelve months "
        f"across {plural(int((by > 0).sum()), 'service')}; {label(top)} is the largest at "
        f"{fmt_money(amount, m.currency)} ({amount / total:.0%})."
    )


def interpret_onboarding(m: DsoMetrics) -> str:
    """How onboarding fees compare with the contract and the target cap.

    Only locations onboarded under an agreement count (the chart's rows); the
    ones that joined before any agreement are named apart.
    """
    from dso_analytics.reporting.charts import onboarded_under_agreement
    from dso_analytics.reporting.labels import plural

    all_rows = m.onboarding
    df = onboarded_under_agreement(all_rows)
    before = len(all_rows) - len(df)
    left_out = (
        f" {plural(before, 'location')} joined before any agreement and "
        f"{'is' if before == 1 else 'are'} left out."
        if before
        else ""
    )
    if df.empty:
        return ("No location was onboarded under an agreement: no onboarding fees to compare."
                + left_out)  # fmt: skip
    over = df[df["target_overspend"].fillna(0) > 0]
    total = float(df["target_overspend"].fillna(0).sum())
    cap = m.params.target_onboarding_cap
    unknown = int(df["contractual_allowance"].isna().sum())
    s = (
        f"{len(over)} of {plural(len(df), 'location')} onboarded under an agreement cost more "
        f"than the {fmt_money(cap, m.currency)} target cap, {fmt_money(total, m.currency)} in total"
    )
    if unknown:
        s += (
            f"; for {plural(unknown, 'location')} the agreement sets no ceiling "
            "(hourly or quote terms)"
        )
    return s + "." + left_out


def interpret_scorecard(m: DsoMetrics) -> str:
    """The weakest agreement and the most common failed check."""
    df = m.scorecard
    if df.empty:
        return "No agreements to score."
    from dso_analytics.metrics.result import SCORECARD_CHECKS
    from dso_analytics.reporting.labels import label, plural

    checks = [c for c in SCORECARD_CHECKS if c in df.columns]
    fails = (df[checks] == "fail").sum().sort_values(ascending=False)
    worst = df.sort_values("clause_score").iloc[0]
    s = (
        f"Overall clause score is {fmt_pct(m.kpis.get('clause_score'))}; the weakest agreement "
        f"is {worst['agreement_id']} at {fmt_pct(worst['clause_score'])}"
    )
    if len(fails) and int(fails.iloc[0]) > 0:
        s += (
            f", and the most common gap is “{label(str(fails.index[0]))}” "
            f"(failed by {int(fails.iloc[0])} of {plural(len(df), 'agreement')})"
        )
    return s + "."


def interpret_renewals(m: DsoMetrics) -> str:
    """The next notice deadline, any missed windows and the next expiry."""
    df = m.renewals
    if df.empty:
        return "No agreements, so no renewal deadlines."
    from dso_analytics.reporting.labels import plural

    missed = int(df["notice_window_missed"].fillna(False).astype(bool).sum())
    nd = m.kpis.get("nearest_notice_deadline")
    if _missing(nd):
        s = "No upcoming notice deadline is known"
    else:
        days = (pd.Timestamp(nd) - m.as_of).days
        s = (
            f"The nearest notice deadline is {fmt_date(nd)} for "
            f"{m.kpis.get('nearest_notice_agreement')}, {plural(days, 'day')} after the as-of date"
        )
    if missed:
        s += f"; {plural(missed, 'agreement')} already missed this term's notice window"
    s += "."
    if "expiry" in df:  # non-renewing agreements expire: no notice is given, a deal is needed
        live = df[(df["expiry"].notna() & (df["status"] != "expired")).to_numpy(bool)]
        live = live.sort_values("expiry")
        if len(live):
            r = live.iloc[0]
            s += (
                f" {plural(len(live), 'agreement')} "
                f"{'does' if len(live) == 1 else 'do'} not auto-renew; the next expires on "
                f"{fmt_date(r['expiry'])} ({r['agreement_id']}, "
                f"{plural(int(r['days_to_expiry']), 'day')} left to agree a replacement)."
            )
    return s


def interpret_growth(m: DsoMetrics) -> str:
    """Location growth against its stated baseline (when the current terms were set)."""
    t = m.leverage_total
    before, now = t.get("locations_at_start"), t.get("locations_now")
    if _missing(before):
        return f"Location growth is unknown ({t.get('baseline', 'no baseline')})."
    return (
        f"Locations covered when the current terms were set: {before} "
        f"(baseline: {t.get('baseline')}); now: {now}."
    )


def interpret_asks(m: DsoMetrics) -> str:
    """The size of the ranked asks (each dollar counted once, windows named)."""
    df = m.asks
    if df.empty:
        return (
            "No negotiation asks with dollars: the agreements already meet the DSO-grade standard."
        )
    from dso_analytics.reporting.labels import humanize, plural

    top = df.sort_values("rank").iloc[0]
    k = m.kpis
    n_terms = len(m.terms_to_fix)
    return (
        f"{plural(len(df), 'negotiation ask')} worth "
        f"{fmt_money(k.get('asks_impact_12m'), m.currency, True)} "
        f"over the next twelve months plus "
        f"{fmt_money(k.get('asks_recovery_all_time'), m.currency, True)} of one-off recoveries "
        f"(all-time to as-of); each dollar is counted once. "
        f"The first is \u201c{humanize(str(top['ask']))}\u201d. "
        f"{plural(n_terms, 'term')} to fix "
        f"{'carries no dollars of its own' if n_terms == 1 else 'carry no dollars of their own'}."
    )


def interpret_data_quality(m: DsoMetrics) -> str:
    """Unclassified lines and lines without a governing agreement."""
    from dso_analytics.reporting.labels import plural

    u, g = m.unclassified, m.ungoverned
    if u.empty and g.empty:
        return "Every billing line was classified and has a governing agreement."
    u_amount = fmt_money(float(u["amount"].sum()) if len(u) else 0, m.currency, True)
    g_amount = fmt_money(float(g["amount"].sum()) if len(g) else 0, m.currency, True)
    return (
        f"{plural(len(u), 'billing line')} ({u_amount}) matched no classification rule and "
        f"{plural(len(g), 'line')} ({g_amount}) {'has' if len(g) == 1 else 'have'} no "
        f"governing agreement; review them before negotiating."
    )


def interpret_portfolio(roll: pd.DataFrame) -> str:
    """Which DSO carries the most add-on spend."""
    from dso_analytics.reporting.labels import plural

    if roll.empty:
        return "The portfolio has no DSOs."
    total = float(roll["addon_t12m"].fillna(0).sum())
    top = roll.sort_values("addon_t12m", ascending=False).iloc[0]
    return (
        f"Across {plural(len(roll), 'DSO')}, add-on charges came to {fmt_money(total)} in the "
        f"last twelve months; {top['display_name'] or top['dso']} carries the most "
        f"({fmt_money(top['addon_t12m'])})."
    )


# ---------------------------------------------------------------------------
# Section helpers
# ---------------------------------------------------------------------------
DATA_ISSUE_COLUMNS = (
    "source_file", "source_row", "invoice_number", "invoice_date", "location_id",
    "description", "service_resolved", "governing_agreement_id", "amount",
)  # fmt: skip


#: the credit-line columns shown in the report (the workbook has them all)
CREDIT_VIEW = ("ask_key", "location_id", "service", "source_file", "source_row", "invoice_date",
               "description", "claim")  # fmt: skip


def show_asks(m: DsoMetrics, top: int = 20) -> None:
    """Display the ranked asks, the terms to fix, the credit lines and the findings.

    The workbook lists every row; here the first ``top`` of each.
    """
    cols = ["rank", "ask_key", "ask", "agreement_id", "evidence", "basis", "impact_12m",
            "recovery_all_time"]  # fmt: skip
    cols = [c for c in cols if c in m.asks.columns]
    money = [c for c in ("impact_12m", "recovery_all_time") if c in cols]
    show_table(m.asks[cols], money=money, currency=m.currency, max_rows=top)
    say(
        f"Benchmark band {fmt_money(m.params.benchmark_workstation_monthly[0], m.currency, True)}"
        f" - {fmt_money(m.params.benchmark_workstation_monthly[1], m.currency, True)} per "
        f"workstation per month ({m.params.benchmark_provenance()})."
    )
    for title, df, money in (
        ("Terms to fix (no dollars of their own)", m.terms_to_fix, []),
        ("Credits to claim: every line, with its source (all-time to as-of)",
         m.credits[[c for c in CREDIT_VIEW if c in m.credits.columns]], ["claim"]),
        ("Contractual breaches", m.findings, []),
    ):  # fmt: skip
        if df.empty:
            continue
        _display({"text/html": f"<h3>{html.escape(title)} ({len(df)})</h3>", "text/plain": title})
        show_table(df, money=money, currency=m.currency, max_rows=top)


def show_data_quality(m: DsoMetrics) -> None:
    """Display unclassified lines and lines without a governing agreement (escaped tables)."""
    for title, df in (
        ("Unclassified lines", m.unclassified),
        ("Lines with no governing agreement", m.ungoverned),
    ):
        if df.empty:
            continue
        _display({"text/html": f"<h3>{html.escape(title)} ({len(df)})</h3>", "text/plain": title})
        cols = [c for c in DATA_ISSUE_COLUMNS if c in df.columns]
        show_table(df[cols], money=["amount"], currency=m.currency, max_rows=25)
    for note in m.notes:
        say(note)


def portfolio_table(results: Sequence[DsoMetrics]) -> pd.DataFrame:
    """One row per DSO with its headline figures (:func:`metrics.compute_portfolio`)."""
    return compute_portfolio(results)


PORTFOLIO_MONEY = (
    "spend_t12m", "spend_all_time", "addon_t12m", "credits_to_claim",
    "onboarding_contractual_overspend", "onboarding_target_overspend", "asks_impact_12m",
)  # fmt: skip

#: the money columns of the side-by-side table in the overview HTML (every headline money
#: figure: one figure everywhere; each DSO's top ask is in the asks section and the workbook)
PORTFOLIO_TABLE_MONEY = PORTFOLIO_MONEY


def portfolio_table_view(side: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The side-by-side table as the overview shows it, and the sentence above it.

    One row per DSO ("DSO" = its name), the money columns of
    :data:`PORTFOLIO_TABLE_MONEY` with their headline labels (each with its window),
    clause and leverage scores, the nearest notice deadline with its agreement, then
    the "Portfolio total" row (:func:`metrics.portfolio_totals`).  When every DSO has
    the same as-of date, the sentence states it; otherwise each DSO's name says it.

    Parameters
    ----------
    side : DataFrame
        From :func:`portfolio_table`.

    Returns
    -------
    (DataFrame, str or None)
    """
    dates = sorted({f"{d:%Y-%m-%d}" for d in side["as_of"].dropna()})
    one_date = len(dates) == 1
    cols = ["display_name", *PORTFOLIO_TABLE_MONEY, "clause_score", "leverage_score"]
    t = side[[c for c in cols if c in side.columns]].copy()
    if not one_date:
        t["display_name"] = [f"{n}, as of {fmt_date(d)}" for n, d in zip(side["display_name"],
                                                                      side["as_of"], strict=True)]  # fmt: skip
    t["nearest_notice_deadline"] = [
        "" if _missing(d) else fmt_date(d) + ("" if _missing(a) or not a else f", {a}")
        for d, a in zip(side["nearest_notice_deadline"], side["nearest_notice_agreement"],
                        strict=True)
    ]  # fmt: skip
    total = {"display_name": "Portfolio total"} | {
        k: v for k, v in portfolio_totals(side).items() if k in PORTFOLIO_TABLE_MONEY
    }
    t = pd.concat([t, pd.DataFrame([total])], ignore_index=True)
    # scores and deadlines are the DSOs' own: the total row leaves them blank (not "unknown")
    t["clause_score"] = [fmt_pct(v) for v in t["clause_score"][:-1]] + [""]
    t["leverage_score"] = [("" if _missing(v) else f"{float(v):.1f}") for v in t["leverage_score"]]
    t["nearest_notice_deadline"] = t["nearest_notice_deadline"].fillna("")
    t = t.rename(columns={"display_name": "DSO", **{c: LABELS[c] for c in PORTFOLIO_TABLE_MONEY}})
    note = f"Every DSO's figures are as of {dates[0]}." if one_date else None
    return t, note


def show_portfolio_table(side: pd.DataFrame) -> None:
    """Display the side-by-side table of :func:`portfolio_table` with its total row.

    Laid out by :func:`portfolio_table_view`; a table of figures that fits the page
    (``fit``: amounts and dates on one line, headers wrapped).
    """
    t, note = portfolio_table_view(side)
    if note:
        say(note)
    show_table(t, money=[LABELS[c] for c in PORTFOLIO_TABLE_MONEY], max_rows=len(t), fit=True)


def interpret_portfolio_scores(side: pd.DataFrame) -> str:
    """The DSO whose agreements are furthest from the standard."""
    if side.empty or side["clause_score"].isna().all():
        return "No clause scores are known."
    worst = side.sort_values("clause_score").iloc[0]
    return (
        f"Clause scores range from {fmt_pct(side['clause_score'].min())} to "
        f"{fmt_pct(side['clause_score'].max())}; {worst['display_name'] or worst['dso']} is "
        f"furthest from the DSO-grade standard."
    )


def top_asks(results: Sequence[DsoMetrics], per_dso: int = 3) -> pd.DataFrame:
    """The first ``per_dso`` ranked asks of every DSO, one table."""
    parts = [
        m.asks.sort_values("rank").head(per_dso).assign(dso=m.display_name or m.dso)
        for m in results
        if len(m.asks)
    ]
    cols = ["dso", "rank", "ask_key", "ask", "agreement_id", "impact_12m", "recovery_all_time"]
    if not parts:
        return pd.DataFrame(columns=cols)
    df = pd.concat(parts, ignore_index=True)
    return df[[c for c in cols if c in df.columns]]
