"""Classification: labelled set accuracy (>= 95%), rules file handling, explicit wins."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dso_analytics import schema
from dso_analytics.classify import classify_lines, read_rules
from dso_analytics.errors import DsoError
from tests.support import paths

DATA = paths.DATA / "labelled_descriptions.csv"


def test_labelled_set_accuracy_and_confusion() -> None:
    truth = pd.read_csv(DATA, dtype="str")
    assert len(truth) >= 150
    out = classify_lines(truth.rename(columns={"service": "truth"}))
    right = out[schema.SERVICE_RESOLVED] == out["truth"]
    acc = right.mean()
    confusion = pd.crosstab(out["truth"], out[schema.SERVICE_RESOLVED])
    print(f"\nclassifier accuracy on {len(truth)} labelled descriptions: {acc:.1%}")
    print(confusion.to_string())
    wrong = out.loc[~right, ["description", "truth", schema.SERVICE_RESOLVED]]
    if len(wrong):
        print("misclassified:\n" + wrong.to_string())
    assert acc >= 0.95


def test_explicit_service_wins_and_unmatched_is_unclassified() -> None:
    lines = pd.DataFrame(
        {
            "description": ["Helpdesk ticket #1", "Helpdesk ticket #2", "zzz", None],
            "service": pd.array([None, "project_work", None, None], dtype="str"),
        }
    )
    out = classify_lines(lines)
    assert list(out[schema.SERVICE_RESOLVED]) == [
        "helpdesk", "project_work", "unclassified", "unclassified"
    ]  # fmt: skip
    assert list(out[schema.CLASSIFIED_BY]) == [
        "helpdesk",
        "explicit",
        "unclassified",
        "unclassified",
    ]
    assert "service_resolved" not in lines  # not mutated


def test_many_lines_few_descriptions_map_back() -> None:
    desc = ["Dell OptiPlex 7010", "Multi-site outage", "Managed services"] * 1000
    out = classify_lines(pd.DataFrame({"description": desc}))
    # every third line has the same class as the first three
    assert (out[schema.SERVICE_RESOLVED].iloc[::3] == "hardware").all()
    assert (out[schema.SERVICE_RESOLVED].iloc[1::3] == "cross_location_incidents").all()
    assert (out[schema.SERVICE_RESOLVED].iloc[2::3] == "managed_services").all()


def test_dso_override_rules(tmp_path: Path) -> None:
    (tmp_path / "classification.yaml").write_text(
        "rules:\n  - id: zzz\n    service: hardware\n    patterns: ['zzz']\n"
        "    exclude: ['zzzz']\n",
        encoding="utf-8",
    )
    rules = read_rules(dso_dir=tmp_path)
    out = classify_lines(pd.DataFrame({"description": ["a zzz", "zzzz", "Helpdesk"]}), rules)
    # the DSO file replaces the shipped rules: "Helpdesk" no longer matches anything
    assert list(out[schema.SERVICE_RESOLVED]) == ["hardware", "unclassified", "unclassified"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("rules:\n  - id: a\n    service: nonsense\n    patterns: ['x']\n", "unknown service"),
        ("rules:\n  - id: a\n    service: hardware\n    patterns: ['(']\n", "invalid pattern"),
        ("rules: [", "not valid YAML"),
        ("hello: 1\n", "not a classification rules file"),
    ],
)
def test_bad_rules_file_is_a_plain_error(tmp_path: Path, text: str, words: str) -> None:
    p = tmp_path / "rules.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DsoError, match=words) as exc:
        read_rules(path=p)
    assert "rules.yaml" in str(exc.value)


def test_sample_description_templates_classify_as_intended() -> None:
    sample = pytest.importorskip("dso_analytics.sample")
    templates = getattr(sample, "DESCRIPTION_TEMPLATES", None)
    if templates is None:
        pytest.skip("sample.DESCRIPTION_TEMPLATES not available")
    rows = []
    for service, texts in dict(templates).items():
        for t in texts:
            rows.append({"description": str(t).format_map(_Blank()), "truth": service})
    out = classify_lines(pd.DataFrame(rows))
    wrong = out[out[schema.SERVICE_RESOLVED] != out["truth"]]
    print(wrong.to_string())
    assert wrong.empty


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "1042" if "num" in key or "ticket" in key else "Elm"
