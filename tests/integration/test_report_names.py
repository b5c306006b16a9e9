"""Dated output names and their fixed-name aliases, published as one unit.

Two runs at two as-of dates leave both dated sets and the aliases point at the
last; a rerun at the same date replaces its set; a failed run (a notebook that
failed, or a DSO that failed validation) leaves the previous set and the aliases
as they were and adds only the failed notebook.  The real publishing code runs
(:func:`dso_analytics.stages._move_into_place` and :func:`_keep_failed` over
:func:`dso_analytics.runguard.publish_files`), on small stand-in files.
"""

from __future__ import annotations

import os
from pathlib import Path

from dso_analytics.report_names import dso_report_names, portfolio_report_names
from dso_analytics.stages import (
    DSO_REPORT,
    PORTFOLIO_REPORT,
    _keep_failed,
    _move_into_place,
    clear_outputs,
)

DSO = "bright-smiles"
ALIASES = ["renewal-brief.pdf", "renewal-leverage.html", "renewal-leverage.ipynb",
           "renewal-leverage.xlsx"]  # fmt: skip


def _render(tmp_path: Path, folder: Path, as_of: str, text: str, template=DSO_REPORT) -> object:
    """Publish a finished set (a stand-in file per kind, holding ``text``), with the
    calendar and (for a DSO) the letters folder."""
    work = tmp_path / f"work-{as_of}-{text.replace(' ', '-')}"
    work.mkdir()
    staged = {}
    for kind in ("ipynb", "xlsx", "html", "pdf", "ics"):
        staged[kind] = work / f"report.{kind}"
        staged[kind].write_text(f"{text} {kind}", encoding="utf-8")
    if template.letters:
        staged["letters"] = work / "letters"
        staged["letters"].mkdir()
        (staged["letters"] / "claim.docx").write_text(f"{text} letter", encoding="utf-8")
    return _move_into_place(folder, template, template.names(DSO, as_of), staged)


def _listing(folder: Path) -> dict[str, str]:
    """name -> link target (for a link) or "file"."""
    return {
        p.name: (os.readlink(p) if p.is_symlink() else "file") for p in sorted(folder.iterdir())
    }


def test_names_say_whose_report_and_which_date():
    n = dso_report_names(DSO, "2026-10-31")
    assert n.dated == {
        "html": "bright-smiles-renewal-leverage-2026-10-31.html",
        "xlsx": "bright-smiles-renewal-leverage-2026-10-31.xlsx",
        "ipynb": "bright-smiles-renewal-leverage-2026-10-31.ipynb",
        "pdf": "bright-smiles-renewal-leverage-2026-10-31.pdf",
    }
    assert sorted(n.alias.values()) == ALIASES
    p = portfolio_report_names("2026-10-31")
    assert p.dated["xlsx"] == "portfolio-overview-2026-10-31.xlsx"
    assert p.alias["html"] == "portfolio-overview.html" and p.alias["pdf"] == "renewal-brief.pdf"


def test_two_as_of_dates_keep_both_sets_and_the_aliases_follow_the_last(tmp_path):
    folder = tmp_path / "out" / DSO
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")  # not the report's: kept
    _render(tmp_path, folder, "2026-06-30", "june")
    art = _render(tmp_path, folder, "2026-10-31", "october")
    june = dso_report_names(DSO, "2026-06-30").dated
    october = dso_report_names(DSO, "2026-10-31").dated
    assert _listing(folder) == {
        **{name: "file" for name in (*june.values(), *october.values())},
        "renewal-brief.pdf": october["pdf"],
        "renewal-leverage.html": october["html"],
        "renewal-leverage.ipynb": october["ipynb"],
        "renewal-leverage.xlsx": october["xlsx"],
        "renewal-deadlines.ics": "file",  # fixed names: the calendar and the letters
        "letters": "file",
        "notes.txt": "file",
    }
    assert (folder / "renewal-deadlines.ics").read_text() == "october ics"
    assert (folder / "letters" / "claim.docx").read_text() == "october letter"
    # relative links in the folder: the alias reads the newest run's file
    assert (folder / "renewal-leverage.xlsx").read_text() == "october xlsx"
    assert (folder / june["html"]).read_text() == "june html"
    assert art.html == folder / october["html"] and art.pdf == folder / october["pdf"]
    # a rerun at the same date replaces that date's set; the June set stays
    _render(tmp_path, folder, "2026-10-31", "october again")
    assert (folder / "renewal-leverage.html").read_text() == "october again html"
    assert (folder / october["pdf"]).read_text() == "october again pdf"
    assert (folder / june["pdf"]).read_text() == "june pdf"
    # back to June: the aliases follow the last run, the October set stays
    _render(tmp_path, folder, "2026-06-30", "june again")
    assert os.readlink(folder / "renewal-leverage.html") == june["html"]
    assert (folder / october["html"]).read_text() == "october again html"


def test_a_failed_run_leaves_the_previous_set_and_aliases(tmp_path):
    folder = tmp_path / "out" / DSO
    _render(tmp_path, folder, "2026-06-30", "june")
    before = _listing(folder)
    executed = tmp_path / "executed.ipynb"
    executed.write_text("failed notebook", encoding="utf-8")
    kept = _keep_failed(folder, DSO_REPORT, executed)  # a cell failed in a later run
    assert kept == folder / "renewal-leverage.failed.ipynb"
    assert _listing(folder) == {**before, "renewal-leverage.failed.ipynb": "file"}
    assert (folder / "renewal-leverage.html").read_text() == "june html"
    assert (folder / "letters" / "claim.docx").read_text() == "june letter"
    # a DSO that then fails validation: nothing rendered, the previous set stays
    clear_outputs(folder, DSO_REPORT)
    assert _listing(folder) == before  # the stale failed notebook went
    # the next good run removes nothing of the June set
    _render(tmp_path, folder, "2026-07-31", "july")
    assert (folder / dso_report_names(DSO, "2026-06-30").dated["xlsx"]).read_text() == "june xlsx"


def test_portfolio_names_carry_no_dso(tmp_path):
    folder = tmp_path / "out" / "portfolio"
    _render(tmp_path, folder, "2026-10-31", "portfolio", template=PORTFOLIO_REPORT)
    assert _listing(folder) == {
        "portfolio-overview-2026-10-31.html": "file",
        "portfolio-overview-2026-10-31.ipynb": "file",
        "portfolio-overview-2026-10-31.pdf": "file",
        "portfolio-overview-2026-10-31.xlsx": "file",
        "portfolio-overview.html": "portfolio-overview-2026-10-31.html",
        "portfolio-overview.ipynb": "portfolio-overview-2026-10-31.ipynb",
        "portfolio-overview.xlsx": "portfolio-overview-2026-10-31.xlsx",
        "renewal-brief.pdf": "portfolio-overview-2026-10-31.pdf",
        "renewal-deadlines.ics": "file",
    }
