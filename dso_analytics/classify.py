"""Classify billing lines into service codes from the MSP's own wording.

The rules live in an editable YAML file shipped with the package
(``dso_analytics/rules/classification.yaml``); a DSO folder may carry its own
``classification.yaml`` that replaces it for that DSO.  Rules are ordered: the
first rule whose patterns match (and whose exclusions do not) gives the
service code.  An explicit ``service`` on a line always wins.  A line that no
rule matches is ``unclassified``: it is listed, never guessed.

Classification works on the *unique* descriptions (one regex pass per rule
over them), then maps the result back to every line, so a million lines with a
few thousand distinct descriptions classify in well under a second.

Example
-------
>>> import pandas as pd
>>> lines = pd.DataFrame({"description": ["Multi-site outage #12", "Dell OptiPlex", "Misc"],
...                       "service": pd.Series([None, None, None], dtype="str")})
>>> classify_lines(lines)[["service_resolved", "classified_by"]].values.tolist()
[['cross_location_incidents', 'multi_site'], ['hardware', 'hardware'], ['unclassified', 'unclassified']]
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dso_analytics import schema
from dso_analytics.errors import DsoError

RULES_PACKAGE = "dso_analytics.rules"
DEFAULT_RULES_FILE = "classification.yaml"
DSO_RULES_FILE = "classification.yaml"
EXPLICIT = "explicit"


@dataclass(frozen=True)
class Rule:
    """One classification rule.

    Attributes
    ----------
    id : str
        Short identifier, written to ``classified_by``.
    service : str
        The service code it assigns (one of ``schema.SERVICE_CODES``).
    patterns : tuple of str
        Regular expressions, matched case-insensitively; any one matching is enough.
    exclude : tuple of str
        Regular expressions that veto the rule when they match.
    """

    id: str
    service: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @property
    def pattern(self) -> str:
        """The patterns joined into one alternation."""
        return "|".join(f"(?:{p})" for p in self.patterns)

    @property
    def exclude_pattern(self) -> str | None:
        """The exclusions joined into one alternation (``None`` when there are none)."""
        return "|".join(f"(?:{p})" for p in self.exclude) if self.exclude else None


@dataclass(frozen=True)
class Rules:
    """An ordered list of :class:`Rule` and where it was read from."""

    rules: tuple[Rule, ...]
    source: str = "built-in classification.yaml"


def _parse_rules(data: Any, source: str) -> Rules:
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise DsoError(f"{source}: not a classification rules file (expected a 'rules:' list)")
    out: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(data["rules"], start=1):
        where = f"{source}, rule {i}"
        if not isinstance(item, dict):
            raise DsoError(f"{where}: each rule needs id, service and patterns")
        rid = str(item.get("id") or "").strip()
        service = str(item.get("service") or "").strip()
        pats = item.get("patterns") or []
        excl = item.get("exclude", item.get("exclusions")) or []
        if not rid:
            raise DsoError(f"{where}: the rule has no id")
        if rid in seen:
            raise DsoError(f"{where}: rule id {rid!r} is used twice")
        seen.add(rid)
        if service not in schema.SERVICE_CODES or service == schema.UNCLASSIFIED:
            raise DsoError(f"{where} ({rid}): unknown service code {service!r}")
        if isinstance(pats, str):
            pats = [pats]
        if isinstance(excl, str):
            excl = [excl]
        if not pats:
            raise DsoError(f"{where} ({rid}): the rule has no patterns")
        for p in [*pats, *excl]:
            try:
                re.compile(str(p))
            except re.error as exc:
                raise DsoError(f"{where} ({rid}): invalid pattern {p!r} ({exc})") from None
        out.append(Rule(rid, service, tuple(map(str, pats)), tuple(map(str, excl))))
    return Rules(tuple(out), source)


@lru_cache(maxsize=1)
def _shipped_rules() -> Rules:
    text = resources.files(RULES_PACKAGE).joinpath(DEFAULT_RULES_FILE).read_text("utf-8")
    return _parse_rules(
        _load_yaml(text, "built-in classification.yaml"), "built-in classification.yaml"
    )


def _load_yaml(text: str, source: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise DsoError(f"{source}: not valid YAML ({exc})") from None


def read_rules(dso_dir: str | Path | None = None, path: str | Path | None = None) -> Rules:
    """Read classification rules.

    Parameters
    ----------
    dso_dir : str or Path, optional
        A DSO folder; its ``classification.yaml`` replaces the shipped rules when present.
    path : str or Path, optional
        An explicit rules file; wins over everything else.

    Returns
    -------
    Rules

    Raises
    ------
    DsoError
        When the file is missing, is not valid YAML, names an unknown service
        code or holds an invalid regular expression (the message names the file
        and the rule).
    """
    if path is None and dso_dir is not None and (Path(dso_dir) / DSO_RULES_FILE).is_file():
        path = Path(dso_dir) / DSO_RULES_FILE
    if path is None:
        return _shipped_rules()
    else:
        p = Path(path)
        if not p.is_file():
            raise DsoError(f"{p}: classification rules file not found")
        text = p.read_text("utf-8")
        source = str(p)
    return _parse_rules(_load_yaml(text, source), source)


def _contains(texts: pd.Series, pattern: str) -> np.ndarray:
    with warnings.catch_warnings():
        # user patterns may hold groups: we only test for a match
        warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
        return np.array(texts.str.contains(pattern, regex=True, case=False), dtype=bool)


def classify_descriptions(
    descriptions: pd.Series | list[str], rules: Rules | None = None
) -> pd.DataFrame:
    """Classify descriptions (no explicit service) with the rules.

    Parameters
    ----------
    descriptions : Series or list of str
        Invoice descriptions.
    rules : Rules, optional
        Default: the shipped rules.

    Returns
    -------
    DataFrame
        ``service_resolved`` and ``classified_by`` (rule id or ``unclassified``),
        aligned with ``descriptions``.
    """
    rules = rules or read_rules()
    desc = pd.Series(descriptions, dtype="str")
    codes, uniques = pd.factorize(desc, use_na_sentinel=True)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype="str").fillna("")
    n = len(uniq)
    service = np.full(n, schema.UNCLASSIFIED, dtype=object)
    by = np.full(n, schema.UNCLASSIFIED, dtype=object)
    open_ = np.ones(n, dtype=bool)
    for rule in rules.rules:
        if not open_.any():
            break
        cand = uniq[open_]
        hit = _contains(cand, rule.pattern)
        if rule.exclude_pattern:
            hit = hit & ~_contains(cand, rule.exclude_pattern)
        idx = np.flatnonzero(open_)[hit]
        service[idx] = rule.service
        by[idx] = rule.id
        open_[idx] = False
    # missing descriptions (code -1) are unclassified; map back with an arrow take
    take = np.where(codes < 0, n, codes)
    svc_u = pd.Series(pd.array(np.append(service, schema.UNCLASSIFIED), dtype="str"))
    by_u = pd.Series(pd.array(np.append(by, schema.UNCLASSIFIED), dtype="str"))
    return pd.DataFrame(
        {
            schema.SERVICE_RESOLVED: svc_u.take(take).set_axis(desc.index),
            schema.CLASSIFIED_BY: by_u.take(take).set_axis(desc.index),
        }
    )


def classify_lines(billing: pd.DataFrame, rules: Rules | None = None) -> pd.DataFrame:
    """Add ``service_resolved`` and ``classified_by`` to billing lines.

    An explicit ``service`` wins (``classified_by="explicit"``); otherwise the
    first matching rule on ``description`` (``classified_by`` = rule id); lines
    no rule matches get ``unclassified``.  Does not mutate ``billing``.

    Parameters
    ----------
    billing : DataFrame
        Needs ``description``; ``service`` is optional (code text, may be missing).

        ====================  ===================  ========
        description           service              ...
        ====================  ===================  ========
        Managed services Jan  <NA>
        Setup - Elm           new_location_onboarding
        ====================  ===================  ========
    rules : Rules, optional
        Default: :func:`read_rules` (the shipped rules).

    Returns
    -------
    DataFrame
        A copy of ``billing`` with :data:`schema.SERVICE_RESOLVED` and
        :data:`schema.CLASSIFIED_BY` (both ``str``).
    """
    out = billing.copy(deep=False)  # new columns only: the input is left as it is
    desc = (
        out["description"]
        if "description" in out
        else pd.Series(pd.NA, index=out.index, dtype="str")
    )
    result = classify_descriptions(desc.astype("str"), rules)
    resolved = result[schema.SERVICE_RESOLVED]
    by = result[schema.CLASSIFIED_BY]
    if "service" in out:
        explicit = out["service"].astype("str")
        has = explicit.notna()
        if has.any():
            has = has & (explicit.str.strip() != "").fillna(False)
        if has.any():
            resolved = explicit.where(has, resolved)
            by = by.where(~has, EXPLICIT)
    out[schema.SERVICE_RESOLVED] = resolved.astype("str")
    out[schema.CLASSIFIED_BY] = by.astype("str")
    return out
