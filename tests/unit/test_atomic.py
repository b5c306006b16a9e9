"""One way to write a file in place: all or nothing, with the user's permissions."""

from __future__ import annotations

import os
import stat

import pytest

from dso_analytics.atomic import replacing, umask


@pytest.fixture
def mask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_published_file_has_the_permissions_of_a_new_file(tmp_path, mask_022):
    target = tmp_path / "sub" / "report.xlsx"
    with replacing(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".report.")
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert umask() == 0o022
    assert _mode(target) == 0o644  # mkstemp alone leaves 0o600
    assert [p.name for p in target.parent.iterdir()] == ["report.xlsx"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "letter.docx"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["letter.docx"]


def test_no_overwrite_refuses_an_existing_file(tmp_path):
    target = tmp_path / "billing.csv"
    target.write_text("mine")
    with pytest.raises(FileExistsError), replacing(target, overwrite=False) as tmp:
        tmp.write_text("theirs")
    assert target.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["billing.csv"]
    fresh = tmp_path / "new.csv"
    with replacing(fresh, overwrite=False) as tmp:
        tmp.write_text("x")
    assert fresh.read_text() == "x"


def test_calendar_and_letters_are_readable_like_any_file(tmp_path, mask_022):
    """The writers of the report folder use it (a letter was 0o600 before)."""
    import pandas as pd

    from dso_analytics.actions.calendar import write_calendar

    path = write_calendar(pd.DataFrame(), tmp_path / "renewal-deadlines.ics")
    assert _mode(path) == 0o644
