"""Charts for every data shape, drawn by headless Chromium: the scorecard heatmap has
n_agreements x n_checks cells, the onboarding and price charts one bar (with its value
label) per location / agreement, every category label drawn and none overlapping."""

from __future__ import annotations

import shutil

import pytest

from dso_analytics.metrics.result import SCORECARD_CHECKS
from dso_analytics.reporting.browser import CHROMIUM, chart_marks
from tests.support.chart_shapes import write_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SIZES = (1, 2, 12, 60)


@pytest.fixture(scope="module")
def marks(tmp_path_factory):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    page = write_page(tmp_path_factory.mktemp("shapes") / "shapes.html", SIZES)
    found = chart_marks(page)
    assert len(found) == 3 * len(SIZES)
    return {n: found[3 * i : 3 * i + 3] for i, n in enumerate(SIZES)}


@pytest.mark.parametrize("n", SIZES)
def test_scorecard_draws_every_cell_with_a_legend(marks, n):
    heat = marks[n][0]
    assert heat["title"] == "Clause scorecard"
    assert heat["heatmap_images"] == 1
    assert heat["heatmap_cells"] == n * len(SCORECARD_CHECKS)
    assert heat["legend_items"] == 3  # pass / fail / unknown
    assert heat["yticks"] == n and heat["ytick_overlaps"] == 0
    assert heat["xticks"] == len(SCORECARD_CHECKS)  # every check labelled


@pytest.mark.parametrize("n", SIZES)
def test_onboarding_draws_only_locations_under_an_agreement(marks, n):
    ob = marks[n][1]
    # the fixture adds 3 locations that joined before the agreement: not drawn
    assert ob["bars"] == n and ob["bar_texts"] == n
    assert ob["yticks"] == n and ob["ytick_overlaps"] == 0
    assert ob["points"] >= n  # target-cap markers (allowance markers where known)


@pytest.mark.parametrize("n", SIZES)
def test_price_chart_has_value_labels_and_band_lines(marks, n):
    price = marks[n][2]
    assert price["bars"] == n and price["bar_texts"] == n
    assert price["lines"] >= 2  # market band low and high (plus the shaded band)
    ticks = "yticks" if n > 8 else "xticks"
    assert price[ticks] == n
    assert price["xtick_overlaps"] == 0 and price["ytick_overlaps"] == 0
