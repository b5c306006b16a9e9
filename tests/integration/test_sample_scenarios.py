"""Every sample DSO ships a scenarios file: its provider's counter-offer (M8).

The file is written by the sample generator (``SAMPLE_SCENARIOS``); the committed
copy is checked byte for byte by ``test_sample.py``.  Here: it reads without a
problem, and the counter-offer is a realistic one (rate up, an onboarding cap
above the DSO-grade target where it caps).
"""

from __future__ import annotations

import pytest

from dso_analytics.ingest.scenarios import dso_scenarios, find_scenarios_file
from dso_analytics.metrics import compute_metrics
from dso_analytics.sample import SAMPLE_DSOS, SAMPLE_SCENARIOS
from dso_analytics.standards import resolve_params
from dso_analytics.validation import load_dso
from tests.support.paths import SAMPLE


@pytest.mark.parametrize("dso", SAMPLE_DSOS)
def test_sample_dso_ships_a_counter_offer(dso: str) -> None:
    name, rows = SAMPLE_SCENARIOS[dso]
    assert find_scenarios_file(SAMPLE / dso) == SAMPLE / dso / name
    params = resolve_params(SAMPLE / dso)
    ds = load_dso(SAMPLE / dso, params=params)
    m = compute_metrics(ds, params)
    cmp, found = dso_scenarios(ds, m, problems_in_notes=False)
    assert found.ok, found.problems
    (counter,) = {r["scenario"] for r in rows}
    t = cmp.table.set_index("scenario")
    assert list(t.index) == ["current terms renewed", "DSO-grade target", counter]
    assert (t["status"] == "ok").all(), t["reason"].tolist()
    ag = cmp.by_agreement.set_index(["scenario", "agreement_id"])
    for r in rows:
        cur = ag.loc[("current terms renewed", r["agreement_id"])]
        new = ag.loc[(counter, r["agreement_id"])]
        assert new["rate_at_term_start"] > cur["rate_at_term_start"]  # the provider asks more
        # add-ons move into base
        assert set(filter(None, new["outside_base"].split(";"))) < set(
            filter(None, cur["outside_base"].split(";"))
        )
        if r.get("onboarding_terms") == "capped":
            assert r["onboarding_cap"] > params.target_onboarding_cap
