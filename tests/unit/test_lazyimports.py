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


def test_grammar_deferred_and_iri_checks_unchanged():
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_report_stages_defer_the_grammar():
    code = (
        "import sys, dso_analytics.stages, jsonschema; "
        "print('rfc3987_syntax.syntax_helpers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
