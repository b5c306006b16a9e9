"""The hand-worked M8 fixture shared by the scenario tests (see test_scenarios.py)."""

from __future__ import annotations

from dso_analytics.dataset import DsoDataset
from tests.support.metrics_factory import agreement, line, location, make_ds

AS_OF = "2026-06-30"


def scenario_ds() -> DsoDataset:
    """2 active locations (16 workstations), 1 planned; AG-1 per workstation at 80.00 +5%/yr."""
    locs = [
        location("LOC-1", "2020-01-01", workstations=10),
        location("LOC-2", "2024-03-04", join_type="acquisition", go_live_date="2024-03-20",
                 workstations=6),
        location("LOC-3", "2027-03-10", join_type="acquisition", workstations=4,
                 status="planned"),
    ]  # fmt: skip
    ags = [agreement("AG-1", "2023-01-01", monthly_rate=80.0, annual_uplift_pct=5.0)]
    services = [
        {"agreement_id": "AG-1", "service": "helpdesk", "coverage": "included"},
        {"agreement_id": "AG-1", "service": "cross_location_incidents", "coverage": "add_on"},
    ]
    billing = [
        line("2026-06-30", 1280.0),
        line("2025-09-30", 960.0, "Multi-site outage", service="cross_location_incidents"),
        line("2026-03-31", 960.0, "Multi-site outage", service="cross_location_incidents"),
        line("2024-03-31", 6000.0, "Setup", service="new_location_onboarding",
             location_id="LOC-2"),
    ]  # fmt: skip
    return make_ds(locs, ags, services, [], billing)
