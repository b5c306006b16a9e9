"""Two report runs at two as-of dates, then a failed run, through the real command:
both dated sets stay, the fixed-name aliases follow the last good run, and the
failed run leaves the previous set and its aliases as they were."""

from __future__ import annotations

import contextlib
import io
import os

import pytest

from dso_analytics.report_names import dso_report_names
from tests.e2e.conftest import broken_tables
from tests.support.builders import base_tables, make_dso

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _report(dso_dir, out, as_of):
    from dso_analytics.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", str(dso_dir), "--out", str(out), "--as-of", as_of, "--jobs", "1",
                     "--no-cache", "--quiet"])  # fmt: skip
    return code, err.getvalue()


def test_two_dates_keep_both_sets_and_a_failed_run_changes_nothing(tmp_path):
    dso = make_dso(tmp_path / "in", "acme-dental", base_tables())
    out = tmp_path / "out"
    assert _report(dso, out, "2025-01-31")[0] == 0
    assert _report(dso, out, "2025-02-28")[0] == 0
    folder = out / "acme-dental"
    jan = dso_report_names("acme-dental", "2025-01-31")
    feb = dso_report_names("acme-dental", "2025-02-28")
    for names in (jan, feb):
        for name in names.dated.values():
            assert (folder / name).is_file(), name
    for kind, alias in feb.alias.items():  # the aliases point at the last run
        assert os.readlink(folder / alias) == feb.dated[kind]
    import pypdf

    brief = pypdf.PdfReader(folder / "renewal-brief.pdf").pages[0].extract_text()
    assert "As of 2025-02-28" in brief
    before = {p.name: (os.readlink(p) if p.is_symlink() else p.stat().st_mtime_ns)
              for p in folder.iterdir()}  # fmt: skip
    # the input breaks: the next run fails validation and leaves everything as it was
    make_dso(tmp_path / "in", "acme-dental", broken_tables())
    code, err = _report(dso, out, "2025-03-31")
    assert code == 1 and "acme-dental: FAILED (validation)" in err
    after = {p.name: (os.readlink(p) if p.is_symlink() else p.stat().st_mtime_ns)
             for p in folder.iterdir()}  # fmt: skip
    assert after == before
