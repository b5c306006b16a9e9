"""Letters the analyst can edit and send: credit claims and notices (Word, python-docx).

- **Credit claim** (``claim-letter-<provider>.docx``), one per provider with
  credits to claim: the total (all-time to as-of, net of credits already
  issued: the lines of :func:`~dso_analytics.actions.deadlines.credit_lines`)
  and an appendix table of every claimed line with its invoice number, date,
  location, description, amount, the agreement clause it contradicts and its
  source file and row.
- **Notice of non-renewal / intent to renegotiate**
  (``notice-letter-<agreement>.docx``), one per agreement whose notice
  deadline is within the horizon (default 120 days from as-of) or whose
  window for the current term was missed (the next window is open now); for
  an agreement that does not renew by itself, when it expires within the
  horizon.  It states the agreement, the term end, the notice period and
  method and the date by which the notice must be received (the figures of
  :func:`~dso_analytics.actions.deadlines.compute_deadlines`).

Both carry the DSO's name and bracketed placeholders (``[Date]``,
``[Signature]``, ``[Name]``, ``[Title]``, addresses) to fill in Word.  Invoice
text and every other value from the input is data: it is added as run text
(python-docx escapes it; no field code, no markup is ever created) with the
characters XML cannot hold removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dso_analytics.actions.deadlines import NOTICE, TERM_END, credit_lines
from dso_analytics.atomic import replacing
from dso_analytics.metrics.result import DsoMetrics
from dso_analytics.words import plural

DEFAULT_HORIZON_DAYS = 120
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SLUG_BAD = re.compile(r"[^a-z0-9]+")


def text(value: object) -> str:
    """Return ``value`` as text Word can hold (characters XML forbids removed)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return _XML_BAD.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n")


def file_slug(name: str, taken: set[str]) -> str:
    """A file-name slug of ``name``, unique among ``taken`` (which it joins)."""
    base = _SLUG_BAD.sub("-", name.lower()).strip("-")[:48].strip("-") or "unnamed"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _money(v: float, currency: str) -> str:
    return f"{currency} {v:,.2f}" if v >= 0 else f"-{currency} {-v:,.2f}"


def _day(v: Any) -> str:
    return pd.Timestamp(v).date().isoformat() if pd.notna(v) else ""


def _new_document(sender: str) -> Any:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    doc.add_paragraph(text(sender)).runs[0].bold = True
    doc.add_paragraph("[Sender address]")
    doc.add_paragraph("[Date]")
    return doc


def _recipient(doc: Any, provider: str) -> None:
    p = doc.add_paragraph()
    p.add_run(text(provider))
    p.add_run("\n[Provider contact name]\n[Provider address]")


def _table(
    doc: Any, header: Sequence[str] | None, rows: Sequence[Sequence[str]], right: set[int]
) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    ncols = len(header) if header else len(rows[0])
    t = doc.add_table(rows=1 if header else 0, cols=ncols)
    t.style = "Table Grid"
    for j, h in enumerate(header or ()):
        cell = t.rows[0].cells[j]
        cell.text = h
        cell.paragraphs[0].runs[0].bold = True
    for r in rows:
        cells = t.add_row().cells
        for j, v in enumerate(r):
            cells[j].text = text(v)
            if j in right:
                cells[j].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return t


def _signature(doc: Any, dso_name: str) -> None:
    doc.add_paragraph("Sincerely,")
    doc.add_paragraph("[Signature]\n\n[Name]\n[Title]")
    doc.add_paragraph(text(dso_name))


def _save(doc: Any, path: Path) -> Path:
    with replacing(path) as tmp:
        doc.save(tmp)
    return path


def _clause(row: pd.Series) -> str:
    if row.get("kind") == "billed_above_contract":
        return (
            f"Agreement {row['governing_agreement_id']}, onboarding terms: billed above the "
            "contractual allowance per location"
        )
    return (
        f"Agreement {row['governing_agreement_id']}, services schedule: "
        f"{_service(row['service_resolved'])} included in the base fee"
    )


def _service(code: object) -> str:
    return str(code).replace("_", " ")


def _source(row: pd.Series) -> str:
    sheet = row.get("source_sheet")
    where = f"{row['source_file']}"
    if isinstance(sheet, str) and sheet:
        where += f", sheet {sheet}"
    return f"{where}, row {row['source_row']}"


def claims_by_provider(m: DsoMetrics) -> list[tuple[str, pd.DataFrame, float]]:
    """Credit-claim lines per provider with a positive net total.

    Parameters
    ----------
    m : DsoMetrics

    Returns
    -------
    list of (provider, lines, total)
        ``lines`` sorted by date, invoice and source row; ``total`` is their
        sum in exact cents (all-time to as-of, net of credits already issued).
        Providers whose net is not positive have nothing to claim and are left out.
    """
    lines = credit_lines(m)
    out = []
    for prov, grp in lines.groupby("provider", sort=True):
        cents = int(round(grp["amount"].astype(float) * 100).sum())
        if cents > 0:
            g = grp.sort_values(["invoice_date", "invoice_number", "source_file", "source_row"])
            out.append((str(prov), g.reset_index(drop=True), cents / 100))
    return out


def write_claim_letters(m: DsoMetrics, out_dir: str | Path) -> list[Path]:
    """Write one credit-claim letter per provider with credits to claim.

    Parameters
    ----------
    m : DsoMetrics
        Computed metrics of one DSO.
    out_dir : str or Path
        Folder of the letters (created).

    Returns
    -------
    list of Path
        ``claim-letter-<provider-slug>.docx`` files written.
    """
    from docx.enum.text import WD_BREAK

    out = Path(out_dir)
    as_of = _day(m.as_of)
    taken: set[str] = set()
    written = []
    for provider, lines, total in claims_by_provider(m):
        doc = _new_document(m.display_name)
        _recipient(doc, provider)
        doc.add_heading("Credit claim: charges our agreement does not allow", 1)
        doc.add_paragraph("Dear [Provider contact name],")
        first, last = _day(lines["invoice_date"].min()), _day(lines["invoice_date"].max())
        n_agreements = lines["governing_agreement_id"].astype(str).nunique()
        kinds = set(lines["kind"].astype(str)) if "kind" in lines.columns else set()
        what = []
        if kinds - {"billed_above_contract"} or not kinds:
            what.append("services our agreement includes in the base fee, billed separately")
        if "billed_above_contract" in kinds:
            what.append("onboarding billed above the contractual allowance per location")
        doc.add_paragraph(
            text(
                f"Our review of your invoices to {m.display_name} up to {as_of} found "
                f"{plural(len(lines), 'invoice line')}, dated {first} to {last}, charged contrary "
                f"to our {'agreements' if n_agreements > 1 else 'agreement'} with you: "
                f"{' and '.join(what)}. We ask you to credit the amount "
                "below. The appendix lists every line, with the clause it contradicts."
            )
        )
        per = lines.groupby(["governing_agreement_id", "service_resolved"], sort=True)
        rows = [
            (str(a), _service(s), str(len(g)),
             _money(round(float(g["amount"].sum()), 2), m.currency))
            for (a, s), g in per
        ]  # fmt: skip
        _table(doc, ["Agreement", "Service", "Lines", "Claimed"], rows, right={2, 3})
        p = doc.add_paragraph()
        p.add_run(
            f"Total claimed (all-time to {as_of}, net of credits already issued): "
            f"{_money(total, m.currency)}"
        ).bold = True
        doc.add_paragraph(
            "Please confirm within 30 days how and when this credit will be issued "
            "[edit the terms as needed]."
        )
        _signature(doc, m.display_name)
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading("Appendix: every claimed line", 2)
        billed = lines["billed"] if "billed" in lines.columns else lines["amount"]
        rows = [
            (str(r["invoice_number"]), _day(r["invoice_date"]),
             "" if pd.isna(r["location_id"]) else str(r["location_id"]), r["description"],
             _money(float(b), m.currency), _money(float(r["amount"]), m.currency), _clause(r),
             _source(r))
            for (_, r), b in zip(lines.iterrows(), billed, strict=True)
        ]  # fmt: skip
        rows.append(("Total", "", "", "", "", _money(total, m.currency), "", ""))
        _table(
            doc,
            ["Invoice", "Date", "Location", "Description", "Billed", "Claimed",
             "Clause contradicted", "Source (file, row)"],
            rows,
            right={4, 5},
        )  # fmt: skip
        name = f"claim-letter-{file_slug(provider, taken)}.docx"
        written.append(_save(doc, out / name))
    return written


def _points(m: DsoMetrics, agreement_id: str) -> list[str]:
    """The asks (and terms to fix) on one agreement, as points to renegotiate."""
    frames = [m.asks]
    terms = getattr(m, "terms_to_fix", None)
    if isinstance(terms, pd.DataFrame) and len(terms):
        frames.append(terms)
    out: list[str] = []
    for f in frames:
        mine = f[(f["agreement_id"].astype("str") == agreement_id).to_numpy(bool)]
        mine = mine[~mine["clause"].isin(("notice", "expiry")).to_numpy(bool)]
        out += [str(x) for x in mine["ask"] if str(x) not in out]
    return out


def notice_candidates(
    deadlines: pd.DataFrame, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> pd.DataFrame:
    """The deadlines that call for a notice letter now.

    Parameters
    ----------
    deadlines : DataFrame
        One DSO's :func:`~dso_analytics.actions.deadlines.compute_deadlines`.
    horizon_days : int
        Days from as-of.

    Returns
    -------
    DataFrame
        One row per agreement: its notice deadline when that is within the
        horizon or its current window was missed; for an agreement that does
        not renew by itself, its term end (expiry) when within the horizon.
    """
    d = deadlines
    soon = d["days_from_as_of"].to_numpy() <= horizon_days
    notice = (d["kind"] == NOTICE).to_numpy(bool) & (
        soon | d["window_missed"].astype(bool).to_numpy()
    )
    expiry = (
        (d["kind"] == TERM_END).to_numpy(bool) & ~d["auto_renew"].astype(bool).to_numpy() & soon
    )
    return d[notice | expiry].reset_index(drop=True)


def write_notice_letters(
    m: DsoMetrics,
    deadlines: pd.DataFrame,
    out_dir: str | Path,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[Path]:
    """Write a notice of non-renewal / intent to renegotiate per agreement due.

    Parameters
    ----------
    m : DsoMetrics
        Computed metrics (asks listed as points to renegotiate).
    deadlines : DataFrame
        :func:`~dso_analytics.actions.deadlines.compute_deadlines` of the same DSO.
    out_dir : str or Path
        Folder of the letters (created).
    horizon_days : int
        See :func:`notice_candidates`.

    Returns
    -------
    list of Path
        ``notice-letter-<agreement-slug>.docx`` files written.
    """
    out = Path(out_dir)
    taken: set[str] = set()
    written = []
    for _, r in notice_candidates(deadlines, horizon_days).iterrows():
        a = str(r["agreement_id"])
        renewing = bool(r["auto_renew"])
        doc = _new_document(m.display_name)
        _recipient(doc, str(r["provider"]))
        title = (
            "Notice of non-renewal and intent to renegotiate"
            if renewing
            else "Notice of intent to renegotiate before expiry"
        )
        doc.add_heading(title, 1)
        doc.add_paragraph(text(f"Re: agreement {a} ({r['scope']} scope)"))
        doc.add_paragraph("Dear [Provider contact name],")
        term_end = _day(r["term_end"])
        if renewing:
            body = (
                f"In accordance with the notice provisions of agreement {a}, {m.display_name} "
                "hereby gives notice that it does not wish the agreement to renew automatically "
                f"on its current terms at the end of the term on {term_end}. We intend to "
                "renegotiate its terms before that date and are open to a renewal on revised terms."
            )
        else:
            body = (
                f"Agreement {a} between {m.display_name} and {r['provider']} ends on {term_end}. "
                "We intend to renegotiate its terms before that date."
            )
        doc.add_paragraph(text(body))
        nd = r["notice_days"]
        facts = [
            ("Agreement", a),
            ("Provider", str(r["provider"])),
            ("Locations covered", str(r["locations"]) or "[locations]"),
            ("Term end", term_end),
            ("Contractual notice period",
             f"{int(nd)} days before the term end" if nd is not None and pd.notna(nd) else "not stated"),
            ("Notice method", str(r["notice_method"])),
        ]  # fmt: skip
        if r["kind"] == NOTICE:
            facts.append(("Notice must be received by", _day(r["date"])))
        if bool(r["window_missed"]):
            facts.append(
                ("Note", f"the notice date {_day(r['missed_deadline'])} of the current term has "
                 f"passed and the agreement renews to {term_end}: this notice is for that term")
            )  # fmt: skip
        _table(doc, None, facts, right=set())
        points = _points(m, a)
        if points:
            doc.add_paragraph("The points we wish to renegotiate include:")
            for ask in points:
                doc.add_paragraph(text(ask), style="List Bullet")
        doc.add_paragraph("Please acknowledge receipt of this notice in writing.")
        _signature(doc, m.display_name)
        name = f"notice-letter-{file_slug(a, taken)}.docx"
        written.append(_save(doc, out / name))
    return written
