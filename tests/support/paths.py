"""Fixed locations of the repository the tests read (sample portfolio, notebooks, benchmarks)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
SAMPLE = ROOT / "data" / "sample"
DATA = TESTS / "data"
BENCH = ROOT / "benchmarks"
#: the DSO folders of the committed sample portfolio
SAMPLE_DSOS = tuple(sorted(p.name for p in SAMPLE.iterdir() if p.is_dir()))
