"""Shared pytest setup: quiet GX, a private snapshot cache, fixtures used across test kinds.

Layout: ``unit/`` (pure functions, in memory), ``integration/`` (files, GX validation,
the CLI in-process), ``e2e/`` (rendered reports, browser, Dask, benchmark scripts).
Helpers live in ``tests/support`` and are imported as ``tests.support.<module>``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support import paths

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# validated snapshots of this test session go to a private folder, never ~/.cache
os.environ["DSO_ANALYTICS_CACHE"] = tempfile.mkdtemp(prefix="dso-analytics-test-cache-")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout."""
    return paths.ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The committed sample portfolio (``data/sample``); read it, never write to it."""
    return paths.SAMPLE
