"""dso_analytics.lazyimports: jsonschema imported without building the RFC 3987 grammar,
whose format checks still answer as before (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from dso_analytics.lazyimports import defer_iri_grammar
assert defer_iri_grammar() is True
assert defer_iri_grammar() is True  # idempotent
import jsonschema
assert "rfc3987_syntax.syntax_helpers" not in sys.modules, "grammar built at import"
checker = jsonschema.FormatChecker()
assert "iri" in checker.checkers
assert checker.conforms("https://example.com/a?b=c", "iri")
assert not checker.conforms("ht tp://x y", "iri")
assert checker.conforms("../a/b", "iri-reference")
assert "rfc3987_syntax.syntax_helpers" in sys.modules  # built on first use
print("ok")
"""


def fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its stdout, stripped (fails on a non-zero exit)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_grammar_deferred_and_iri_checks_unchanged():
    assert fresh(CHECK) == "ok"


def test_report_stages_defer_the_grammar():
    code = (
        "import sys, dso_analytics.stages, jsonschema; "
        "print('rfc3987_syntax.syntax_helpers' in sys.modules)"
    )
    assert fresh(code) == "False"


SCIPY_CHECK = """
import math, sys
from dso_analytics.lazyimports import defer_scipy_stats
assert defer_scipy_stats() is True
assert defer_scipy_stats() is True  # idempotent while not loaded
import great_expectations, great_expectations.expectations  # does `from scipy import stats`
assert "scipy.stats._stats_py" not in sys.modules, "scipy.stats loaded at GX import"
from scipy import stats
# KL divergence of (0.5, 0.5) from (0.9, 0.1): 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1)
expected = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
assert abs(stats.entropy([0.5, 0.5], [0.9, 0.1]) - expected) < 1e-12
assert "scipy.stats._stats_py" in sys.modules  # the real module, loaded on first use
import scipy.stats
assert scipy.stats is stats
assert defer_scipy_stats() is False  # already imported for real
print("ok")
"""


def test_scipy_stats_deferred_until_used():
    assert fresh(SCIPY_CHECK) == "ok"


def test_validation_never_loads_scipy_stats(sample_dir):
    code = (
        "import sys\n"
        "from dso_analytics.validation import validate_dso\n"
        f"r = validate_dso({str(sample_dir / 'coastal-family-dental')!r}, use_cache=False)\n"
        "assert r.ok, r\n"
        "print('scipy.stats._stats_py' in sys.modules)\n"
    )
    assert fresh(code) == "False"
