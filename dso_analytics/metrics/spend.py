"""M1 spend and M2 add-on charges (pure functions on the enriched lines frame)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.classify import Rules, classify_lines
from dso_analytics.metrics import result as R
from dso_analytics.metrics._util import (
    NONE_KEY,
    ORG_KEY,
    as_text,
    factorize,
    from_cents,
    group_sums,
    one_chunk,
    t12m_mask,
    to_cents,
)
from dso_analytics.metrics.governing import governing_agreement
from dso_analytics.standards import Params

BILLED_DESPITE_INCLUDED = "billed_despite_included"
CONTRACTUAL_ADD_ON = "contractual_add_on"
OVERAGE = "overage"
COVERAGE_UNKNOWN = "coverage_unknown"
ADDON_KINDS = (BILLED_DESPITE_INCLUDED, CONTRACTUAL_ADD_ON, OVERAGE)
_KIND_LABELS = pd.Series(
    pd.array(
        [None, CONTRACTUAL_ADD_ON, BILLED_DESPITE_INCLUDED, OVERAGE, COVERAGE_UNKNOWN], dtype="str"
    )
)
#: usage billed over a plan's limit (help desk overage, tickets over plan, billable onsite visits)
OVERAGE_PATTERN = r"\boverage\b|\bover (?:the )?plan\b|\bon-?site (?:support )?visit"


def addon_services(params: Params) -> tuple[str, ...]:
    """Should-be-base services counted by M2 (without onboarding and the base fee)."""
    skip = {schema.ONBOARDING_SERVICE, schema.MANAGED_SERVICES}
    return tuple(s for s in params.should_be_base if s not in skip)


def _month_labels(dates: pd.Series) -> pd.Series:
    """``YYYY-MM`` text per date, built on the unique months only."""
    d = pd.to_datetime(dates).to_numpy(dtype="datetime64[M]")
    codes, uniq = pd.factorize(d)
    labels = [str(u)[:7] if not pd.isna(u) else None for u in uniq] + [None]
    take = np.where(codes < 0, len(labels) - 1, codes)
    return pd.Series(pd.array(labels, dtype="str")).take(take).set_axis(dates.index)


def _addon_kinds(
    lines: pd.DataFrame, services: pd.DataFrame, params: Params, services_known: bool
) -> np.ndarray:
    """M2 add-on kind of every line, as codes into ``_KIND_LABELS`` (0: not an add-on)."""
    # codes of the resolved service and governing agreement (memoised: the spend
    # and leverage groupings reuse them); per-line tests run on the few uniques
    s_codes, s_uniq = factorize(lines[schema.SERVICE_RESOLVED])
    s_addon = np.append(
        pd.Series(np.asarray(s_uniq, dtype=object)).isin(addon_services(params)), False
    )
    is_addon = s_addon[s_codes]  # code -1 (missing service) -> the trailing False
    # kind as small integer codes into _KIND_LABELS (0 = none): building a str
    # column from a 1M-entry object array is far slower than a take of 3 labels
    kind = np.zeros(len(lines), dtype=np.intp)
    kind[is_addon] = 1 if services_known else 4
    if services_known and is_addon.any() and len(services):
        inc = services[(as_text(services["coverage"]) == "included").to_numpy(bool)]
        pair_key = as_text(inc["agreement_id"]).fillna("") + "\x00" + as_text(inc["service"])
        wanted = set(pair_key)
        unl = inc["unlimited"] if "unlimited" in inc else pd.Series(False, index=inc.index)
        unlimited = set(pair_key[unl.astype("boolean").fillna(False).to_numpy(bool)])
        g_codes, g_uniq = factorize(lines[schema.GOVERNING_AGREEMENT])
        g_lab = np.append(np.asarray(g_uniq, dtype=object), None)  # code -1 -> missing
        s_lab = np.asarray(s_uniq, dtype=object)
        pos = np.flatnonzero(is_addon)  # add-on lines have a service (code >= 0)
        g_pos = np.where(g_codes[pos] < 0, len(g_lab) - 1, g_codes[pos]).astype(np.int64)
        pair = g_pos * len(s_lab) + s_codes[pos]
        p_codes, p_uniq = pd.factorize(pair)
        g_i = np.asarray(p_uniq) // len(s_lab)
        s_i = np.asarray(p_uniq) % len(s_lab)
        p_hit = np.array(
            [f"{'' if pd.isna(g_lab[g]) else g_lab[g]}\x00{s_lab[j]}" in wanted
             for g, j in zip(g_i, s_i, strict=True)],
            dtype=bool,
        )  # fmt: skip
        kind[pos[p_hit[p_codes]]] = 2
        # usage over a plan limit on an included service is legitimate (leverage,
        # not a credit) unless the agreement says the service is unlimited
        p_unl = np.array(
            [f"{'' if pd.isna(g_lab[g]) else g_lab[g]}\x00{s_lab[j]}" in unlimited
             for g, j in zip(g_i, s_i, strict=True)],
            dtype=bool,
        )  # fmt: skip
        bdi = pos[p_hit[p_codes] & ~p_unl[p_codes]]
        if len(bdi):
            desc = lines["description"].take(bdi).fillna("")
            over = desc.str.contains(OVERAGE_PATTERN, case=False, regex=True).to_numpy(bool)
            kind[bdi[over]] = 3
    return kind


def compute_lines(
    billing: pd.DataFrame,
    agreements: pd.DataFrame,
    services: pd.DataFrame,
    as_of: pd.Timestamp,
    params: Params,
    rules: Rules | None = None,
    services_known: bool = True,
) -> pd.DataFrame:
    """Enrich billing lines: service, governing agreement, month, T12M, add-on kind.

    Lines dated after ``as_of`` are dropped (they did not exist at the as-of date).

    Parameters
    ----------
    billing : DataFrame
        Typed billing lines (``invoice_date``, ``location_id``, ``agreement_id``,
        ``description``, ``service``, ``amount`` and provenance columns).
    agreements, services : DataFrame
        Typed agreement and services tables.
    as_of : Timestamp
    params : Params
    rules : Rules, optional
        Classification rules (default: the shipped rules).
    services_known : bool
        ``False`` when the services table is missing: no line can then be
        ``billed_despite_included`` and every add-on line is ``contractual_add_on``
        (the summary reports the split as unknown).

    Returns
    -------
    DataFrame
        :data:`result.LINES_COLUMNS` (plus ``amount_cents``, ``int64``).
    """
    b = billing
    if "invoice_date" in b:
        later = (pd.to_datetime(b["invoice_date"]) > as_of).to_numpy(dtype=bool)
        if later.any():  # a filter copies every column: only when needed
            b = b[~later]
    # one contiguous chunk per text column: later takes/filters do not re-concatenate
    text = [c for c in b.columns if isinstance(b[c].dtype, pd.StringDtype)]
    b = b.assign(**{c: one_chunk(b[c]) for c in text})
    b = classify_lines(b, rules).reset_index(drop=True)
    n = len(b)

    def col(name: str, dtype: str = "str") -> pd.Series:
        if name in b:
            return b[name].reset_index(drop=True)
        return pd.Series(pd.array([pd.NA] * n, dtype=dtype))

    inv_date = pd.to_datetime(col("invoice_date", "datetime64[ns]"))
    loc = as_text(col("location_id"))
    own = as_text(col("agreement_id"))
    has_own = own.notna().to_numpy(bool)
    if has_own.all():  # every line names its agreement: nothing to resolve
        gov = own
    else:
        resolved = governing_agreement(loc, inv_date, agreements, as_series=True)
        # a where copies every line: only when some lines name their own agreement
        gov = own.where(has_own, resolved) if has_own.any() else resolved
    cents = to_cents(col("amount", "float64"))
    lines = pd.DataFrame(
        {
            "source_file": col("source_file").astype("str"),
            "source_sheet": col("source_sheet").astype("str"),
            "source_row": col("source_row", "Int64").astype("Int64"),
            "invoice_number": col("invoice_number").astype("str"),
            "invoice_date": inv_date,
            "month": _month_labels(inv_date),
            "location_id": loc,
            "agreement_id": own,
            schema.GOVERNING_AGREEMENT: gov.astype("str"),
            "description": col("description").astype("str"),
            "service": col("service").astype("str"),
            schema.SERVICE_RESOLVED: b[schema.SERVICE_RESOLVED],
            schema.CLASSIFIED_BY: b[schema.CLASSIFIED_BY],
            "amount": from_cents(cents),
            "in_t12m": t12m_mask(inv_date, as_of),
        }
    )
    kind = _addon_kinds(lines, services, params, services_known)
    lines["addon_kind"] = _KIND_LABELS.take(kind).set_axis(lines.index)
    lines["amount_cents"] = cents
    return lines


def compute_spend(lines: pd.DataFrame) -> dict[str, Any]:
    """M1: total spend T12M and all-time, by location, service, agreement and month.

    Parameters
    ----------
    lines : DataFrame
        From :func:`compute_lines` (needs ``amount_cents``, ``in_t12m``,
        ``location_id``, ``service_resolved``, ``governing_agreement_id``, ``month``).

    Returns
    -------
    dict
        ``total`` ({"t12m", "all_time"}), ``by_location``, ``by_service``,
        ``by_agreement`` (:data:`result.SPEND_BY_COLUMNS`), ``by_month``
        (:data:`result.SPEND_BY_MONTH_COLUMNS`).
    """
    c = lines["amount_cents"].to_numpy(np.int64)
    t = np.where(lines["in_t12m"].to_numpy(bool), c, 0)

    def by(key: pd.Series, fill: str) -> pd.DataFrame:
        (lab,), (st, sa) = group_sums([key], [fill], [t, c])
        g = pd.DataFrame(
            {"key": pd.array(lab, dtype="str"), "t12m": from_cents(st), "all_time": from_cents(sa)}
        )
        g = g.sort_values(["t12m", "all_time", "key"], ascending=[False, False, True])
        return g.reset_index(drop=True)[list(R.SPEND_BY_COLUMNS)]

    (mlab,), (msum,) = group_sums([lines["month"]], [""], [c])
    by_month = pd.DataFrame({"month": pd.array(mlab, dtype="str"), "amount": from_cents(msum)})
    by_month = by_month[by_month["month"] != ""].reset_index(drop=True)
    return {
        "total": {"t12m": from_cents(t.sum()), "all_time": from_cents(c.sum())},
        "by_location": by(lines["location_id"], ORG_KEY),
        "by_service": by(lines[schema.SERVICE_RESOLVED], schema.UNCLASSIFIED),
        "by_agreement": by(lines[schema.GOVERNING_AGREEMENT], NONE_KEY),
        "by_month": by_month,
    }


def compute_addons(lines: pd.DataFrame, services_known: bool = True) -> dict[str, Any]:
    """M2: add-on charges split into billed-despite-included and contractual add-ons.

    Parameters
    ----------
    lines : DataFrame
        From :func:`compute_lines` (``addon_kind`` set on add-on lines).
    services_known : bool
        ``False`` when the services table is missing: the
        ``billed_despite_included`` figures are then unknown (``None``).

    Returns
    -------
    dict
        ``summary`` ({kind: {"t12m", "all_time"}}), ``lines``
        (:data:`result.ADDON_LINE_COLUMNS`), ``by_service``, ``by_location``,
        ``by_month`` (see the column constants in :mod:`result`).
    """
    # only the columns used below: a boolean filter copies every column it keeps
    a = lines.loc[
        lines["addon_kind"].notna().to_numpy(bool), [*R.ADDON_LINE_COLUMNS, "amount_cents"]
    ]
    c = a["amount_cents"].to_numpy(np.int64)
    t = np.where(a["in_t12m"].to_numpy(bool), c, 0)
    summary: dict[str, dict[str, float | None]] = {}
    for k in ADDON_KINDS:
        sel = (a["addon_kind"] == k).to_numpy(bool, na_value=False)
        summary[k] = {"t12m": from_cents(t[sel].sum()), "all_time": from_cents(c[sel].sum())}
    if not services_known:  # coverage unknown: no split is known (never a silent 0)
        summary = {k: {"t12m": None, "all_time": None} for k in ADDON_KINDS}

    kind_s = a["addon_kind"]

    def by(key_col: str, fill: str, name: str) -> pd.DataFrame:
        (lab, kl), (st, sa) = group_sums([a[key_col], kind_s], [fill, ""], [t, c])
        g = pd.DataFrame(
            {
                name: pd.array(lab, dtype="str"),
                "addon_kind": pd.array(kl, dtype="str"),
                "t12m": from_cents(st),
                "all_time": from_cents(sa),
            }
        )
        return g.sort_values(["t12m", name], ascending=[False, True]).reset_index(drop=True)

    (ml, sl, kl), (ms,) = group_sums(
        [a["month"], a[schema.SERVICE_RESOLVED], kind_s], ["", schema.UNCLASSIFIED, ""], [c]
    )
    by_month = pd.DataFrame(
        {
            "month": pd.array(ml, dtype="str"),
            "service": pd.array(sl, dtype="str"),
            "addon_kind": pd.array(kl, dtype="str"),
            "amount": from_cents(ms),
        }
    )
    return {
        "summary": summary,
        "lines": a[list(R.ADDON_LINE_COLUMNS)].reset_index(drop=True),
        "by_service": by(schema.SERVICE_RESOLVED, schema.UNCLASSIFIED, "service")[
            list(R.ADDON_BY_SERVICE_COLUMNS)
        ],
        "by_location": by("location_id", ORG_KEY, "location_id")[list(R.ADDON_BY_LOCATION_COLUMNS)],
        "by_month": by_month[list(R.ADDON_BY_MONTH_COLUMNS)],
    }
