"""Shared pytest setup: make ``tests/`` importable (builders), quiet GX."""

from __future__ import annotations

import os
import sys
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
SAMPLE = ROOT / "data" / "sample"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
