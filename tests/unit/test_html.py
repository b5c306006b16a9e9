"""The HTML reports: self-contained (no remote reference, plotly.js once, no require.js or
MathJax), no code cells, KPI header, escaped data text; plus the offline checker itself."""

from __future__ import annotations

import dataclasses

from dso_analytics.reporting import notebook as rn
from dso_analytics.reporting.html import check_offline
from tests.support.report_factory import SCRIPT, make_metrics


def test_check_offline_flags_cdn_requirejs_mathjax_and_double_plotly():
    assert check_offline("<p>ok</p>") == []
    assert "external <script src>" in check_offline('<script src="https://cdn.x/p.js"></script>')
    assert "remote src/href reference" in check_offline('<img src="//cdn.x/i.png">')
    assert "remote src/href reference" in check_offline('<link href="http://x/a.css">')
    assert "require.js" in check_offline("<script>load('require.min.js')</script>")
    assert "MathJax loader" in check_offline('<script>x="tex-svg/MathJax.js"</script>')
    twice = (
        f"<script>{'window.PlotlyConfig = {MathJaxConfig: ' + chr(39) + 'local' + chr(39) + '};'}</script>"
        * 2
    )
    assert "plotly.js inlined more than once" in check_offline(twice)
    # a URL inside a script body is not a fetch (plotly.js holds such strings)
    assert check_offline("<script>var a = '<a href=\"https://plotly.com\">';</script>") == []


def test_kpi_header_and_sentences_escape_data_text():
    m = make_metrics(display_name=SCRIPT)
    html = rn.kpi_header_html(m)
    assert "<script" not in html and "&lt;script&gt;" in html
    # spend T12M 3175.49 -> "$3,175"; clause score 8/33 = 24%
    assert "$3,175" in html and "24%" in html and "2026-10-03 (AG-1)" in html
    table = rn.table_html(m.addon_lines, money=["amount"])
    assert "<script" not in table and "&lt;script&gt;" in table
    assert "$125.50" in table
    assert rn.md_escape("<b>*x*</b>") == "&lt;b&gt;\\*x\\*&lt;/b&gt;"


def test_interpretation_sentences_computed_from_data():
    m = make_metrics()
    # add-ons T12M: 300 + 250 + 125.50 = 675.50; largest compliance_documentation 300 (44%)
    assert rn.interpret_addons(m) == (
        "Add-on charges came to $676 in the last twelve months across 3 services; "
        "Compliance documentation is the largest at $300 (44%)."
    )
    # onboarding: LOC-002 target overspend 2000, LOC-003 0; one hourly (unknown allowance)
    assert rn.interpret_onboarding(m) == (
        "1 of 2 locations onboarded under an agreement cost more than the $5,000 target cap, "
        "$2,000 in total; for 1 location the agreement sets no ceiling (hourly or quote terms)."
    )
    df = m.onboarding.copy()
    df.loc[df.index[0], "governing_agreement_id"] = None  # joined before any agreement
    m2 = dataclasses.replace(m, onboarding=df)
    assert rn.interpret_onboarding(m2).endswith(
        "1 location joined before any agreement and is left out."
    )
    # AG-2 missed its notice window; nearest deadline 2026-10-03 is 95 days after 2026-06-30
    assert "95 days" in rn.interpret_renewals(m) and "1 agreement already missed" in (
        rn.interpret_renewals(m)
    )
    # next 12 months: 2500 + 550 = 3050; one-off recovery (all-time): 125.50
    assert rn.interpret_asks(m).startswith(
        "3 negotiation asks worth $3,050.00 over the next twelve months plus $125.50 of "
        "one-off recoveries (all-time to as-of)"
    )


def test_tables_show_reader_labels_and_escape_data() -> None:
    import pandas as pd

    from dso_analytics.reporting.notebook import column_label, table_html

    assert column_label("addon_t12m") == "Add-on charges (T12M)"
    assert column_label("notice_days") == "Notice days"
    assert column_label("nearest_notice_deadline") == "Nearest notice deadline"
    assert column_label("location_id") == "Location ID"
    out = table_html(
        pd.DataFrame({"description": ["<b>x</b>"], "impact_12m": [1234.5]}), money=["impact_12m"]
    )
    assert "<th>Description</th>" in out and "<th>Impact, next 12 months</th>" in out
    # code names in cells become labels; data text (descriptions) stays as it was
    coded = table_html(
        pd.DataFrame({"service": ["cross_location_incidents"], "description": ["after_hours x"],
                      "ask": ["Move organizational_reporting into the base fee"]})
    )  # fmt: skip
    assert "<td>Cross-location incidents</td>" in coded and "after_hours x" in coded
    assert "Move organization-wide reporting into the base fee" in coded
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "<b>x</b>" not in out
    assert "$1,234.50" in out


def test_page_check_with_our_bundle_scanned_once_finds_what_the_full_scan_finds():
    from dso_analytics.reporting.html import _check_page, plotlyjs_head

    head = plotlyjs_head()
    page = f"<html><head>{head}</head><body><p>ok</p></body></html>"
    assert check_offline(page) == _check_page(page, head) == []
    cases = [
        page.replace("<p>ok</p>", '<img src="//cdn.x/i.png">'),
        page.replace("<p>ok</p>", "<script>load('require.min.js')</script>"),
        page.replace("<p>ok</p>", f"<div>{head}</div>"),  # the bundle twice: scanned whole
        page.replace(
            "<p>ok</p>", "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        ),
        page.replace(head, ""),  # no bundle: the full scan
    ]
    expected = [
        ["remote src/href reference"],
        ["require.js"],
        ["plotly.js inlined more than once"],
        ["plotly.js inlined more than once"],
        [],
    ]
    for case, want in zip(cases, expected, strict=True):
        assert _check_page(case, head) == check_offline(case) == want


def test_portfolio_table_view_is_a_table_of_figures_that_fits():
    from dso_analytics.metrics import compute_portfolio

    a = make_metrics("dso-a", "Alpha")
    b = make_metrics("dso-b", "Beta")
    t, note = rn.portfolio_table_view(compute_portfolio([a, b]))
    # one as-of date (2026-06-30): said once above the table, not a column
    assert note == "Every DSO's figures are as of 2026-06-30."
    assert list(t.columns) == [
        "DSO", "Spend (T12M)", "Spend (all-time to as-of)", "Add-on charges (T12M)",
        "Credits to claim (all-time to as-of)",
        "Onboarding billed above contract (all-time to as-of)",
        "Onboarding overspend vs target cap (all-time to as-of)",
        "Negotiation asks (next 12 months)", "clause_score", "leverage_score",
        "nearest_notice_deadline",
    ]  # fmt: skip
    assert list(t["DSO"]) == ["Alpha", "Beta", "Portfolio total"]
    # make_metrics: asks 3,050 (next 12 months) per DSO -> 6,100 in the total row
    assert t["Negotiation asks (next 12 months)"].iloc[-1] == 6100.0
    assert list(t["clause_score"]) == ["24%", "24%", ""]  # 8 of 33 checks passed; no total
    html = rn.table_html(t, money=["Negotiation asks (next 12 months)"], fit=True)
    assert 'class="dataframe dso-table dso-fit"' in html and "$6,100.00" in html
    assert list(t["nearest_notice_deadline"]) == ["2026-10-03, AG-1", "2026-10-03, AG-1", ""]
    # two as-of dates: the column is back, no sentence
    later = dataclasses.replace(b, as_of=b.as_of.replace(month=7))
    t2, note2 = rn.portfolio_table_view(compute_portfolio([a, later]))
    assert note2 is None and "as_of" not in t2.columns  # each DSO's name says its date
    assert list(t2["DSO"][:2]) == ["Alpha, as of 2026-06-30", "Beta, as of 2026-07-30"]


def test_ask_keys_are_shown_exactly_for_copying_and_stay_inert():
    import pandas as pd

    from dso_analytics.reporting.notebook import table_html
    from tests.support.code_names import identifiers_in, visible_text

    keys = ["addon_into_base:AG-1:backup_monitoring", "claim_above_cap:<b>AG</b>&2", None]
    out = table_html(pd.DataFrame({"ask_key": keys, "service": ["backup_monitoring"] * 3}))
    # the exact key in a <code> (not relabelled "Backup monitoring"), hostile text escaped
    assert '<code class="dso-key">addon_into_base:AG-1:backup_monitoring</code>' in out
    assert "&lt;b&gt;AG&lt;/b&gt;&amp;2" in out and "<b>AG</b>" not in out
    assert identifiers_in(out) == [*keys[:2], ""]
    # the other columns are still words for people
    assert "<td>Backup monitoring</td>" in out
    assert "backup_monitoring" not in visible_text(out)
    # a mark smuggled in input text can only come out as escaped text
    sneaky = table_html(pd.DataFrame({"ask_key": ["k", "\x00dso-key-0\x00<i>"]}))
    assert "<i>" not in sneaky and identifiers_in(sneaky)[1].endswith("<i>")
