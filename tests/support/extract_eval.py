"""Score extraction against the labelled agreements' ground truth (tests and ``make bench``).

Precision: of the values extraction returned, the share that equal the truth.  Recall: of
the values the agreements state, the share extraction returned correctly.  A column, service
or deliverable the truth does not list is "not stated": a value returned for it counts against
precision.  Services count as one field ``services`` (coverage, plus rate and unit when the
truth gives them), deliverables as ``documentation``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import yaml

from tests.support.paths import DATA

TRUTH_FILE = DATA / "agreements" / "truth.yaml"


def read_truth() -> dict[str, Any]:
    """The ground truth, ``{agreement stem: {...}}``."""
    return yaml.safe_load(TRUTH_FILE.read_text(encoding="utf-8"))


def _norm(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return re.sub(r"\s+", " ", v).strip().casefold()
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return round(float(v), 2)
    return v


def _same(col: str, got: Any, want: Any) -> bool:
    if col == "notice_method" and isinstance(got, str) and isinstance(want, str):
        return {_norm(x) for x in got.split(";")} == {_norm(x) for x in want.split(";")}
    return _norm(got) == _norm(want)


@dataclass
class Score:
    """Per-field counts: ``tp`` right, ``wrong`` a different value, ``spurious`` a value where
    none is stated, ``missed`` a stated value not returned."""

    tp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wrong: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spurious: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)

    def add(self, fld: str, got: Any, want: Any, where: str) -> None:
        """Count one comparison (``None`` = not returned / not stated)."""
        if got is None and want is None:
            return
        if got is None:
            self.missed[fld] += 1
            self.errors.append(f"{where}: {fld} missed (want {want!r})")
        elif want is None:
            self.spurious[fld] += 1
            self.errors.append(f"{where}: {fld} spurious {got!r}")
        elif _same(fld, got, want):
            self.tp[fld] += 1
        else:
            self.wrong[fld] += 1
            self.errors.append(f"{where}: {fld} wrong {got!r} (want {want!r})")

    @property
    def fields(self) -> list[str]:
        """Every field seen."""
        keys = set(self.tp) | set(self.wrong) | set(self.spurious) | set(self.missed)
        return sorted(keys)

    def totals(self) -> tuple[float, float, int, int, int]:
        """``(precision, recall, right, returned, stated)`` over all fields."""
        tp = sum(self.tp.values())
        returned = tp + sum(self.wrong.values()) + sum(self.spurious.values())
        stated = tp + sum(self.wrong.values()) + sum(self.missed.values())
        return (tp / returned if returned else 1.0, tp / stated if stated else 1.0, tp,
                returned, stated)  # fmt: skip

    def table(self) -> str:
        """The per-field confusion as a text table."""
        lines = [f"{'field':34} {'right':>5} {'wrong':>5} {'spur.':>5} {'missed':>6} "
                 f"{'prec.':>6} {'recall':>6}"]  # fmt: skip
        for f in self.fields:
            tp, w, s, m = self.tp[f], self.wrong[f], self.spurious[f], self.missed[f]
            p = tp / (tp + w + s) if tp + w + s else 1.0
            r = tp / (tp + w + m) if tp + w + m else 1.0
            lines.append(f"{f:34} {tp:5d} {w:5d} {s:5d} {m:6d} {p:6.1%} {r:6.1%}")
        p, r, tp, ret, st = self.totals()
        lines.append(f"{'ALL FIELDS':34} {tp:5d} returned {ret}, stated {st}: "
                     f"precision {p:.1%}, recall {r:.1%}")  # fmt: skip
        return "\n".join(lines)


def score_one(result: dict[str, Any], truth: dict[str, Any], where: str, score: Score) -> None:
    """Add one extraction (``Extraction.to_dict()``) to ``score``."""
    from dso_analytics.extract import EXTRACTED_COLUMNS, EXTRACTED_SERVICES
    from dso_analytics.schema import DELIVERABLES

    want_ag = truth.get("agreement") or {}
    for col in EXTRACTED_COLUMNS:
        t = result["agreement"].get(col)
        got = None if t is None else t["value"]
        score.add(col, got, want_ag.get(col), where)
    want_sv = truth.get("services") or {}
    for code in EXTRACTED_SERVICES:
        t = result["services"].get(code)
        want = want_sv.get(code)
        if isinstance(want, list):
            got = None if t is None else [t["coverage"], t.get("add_on_rate"), t.get("add_on_unit")]
            if got is not None and got == [want[0], float(want[1]), want[2]]:
                got = want = "ok"
            elif got is not None:
                got = str(got)
                want = str(want)
        else:
            got = None if t is None else t["coverage"]
        score.add("services", got, want, f"{where} {code}")
    want_doc = truth.get("documentation") or {}
    for code in DELIVERABLES:
        t = result["documentation"].get(code)
        score.add("documentation", None if t is None else t["specified"], want_doc.get(code),
                  f"{where} {code}")  # fmt: skip
