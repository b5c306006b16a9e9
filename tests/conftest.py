"""Shared pytest setup: make ``tests/`` importable (builders), quiet GX."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
SAMPLE = ROOT / "data" / "sample"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# validated snapshots of this test session go to a private folder, never ~/.cache
os.environ["DSO_ANALYTICS_CACHE"] = tempfile.mkdtemp(prefix="dso-analytics-test-cache-")
